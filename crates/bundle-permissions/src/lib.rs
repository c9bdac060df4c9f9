//! Hexoskin bundle permissions: bundles, permission requests and their emailed tokens.
//!
//! Not built yet: the crate exists so the workspace has the shape of
//! `shared/spec/architecture.md`. The family is specified in `shared/spec/hexoskin-bundles.md`.
