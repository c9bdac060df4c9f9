//! KHEOPS capability tokens: albums, memberships, scoped share tokens and introspection.
//!
//! Not built yet: the crate exists so the workspace has the shape of
//! `shared/spec/architecture.md`. The family is specified in `shared/spec/kheops.md`
//! and tracked as its own issue.
