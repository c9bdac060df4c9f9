//! easydb rights: sessions, the rights catalog, right presets and system rights.
//!
//! Not built yet: the crate exists so the workspace has the shape of
//! `shared/spec/architecture.md`. The family is specified in `shared/spec/easydb-rights.md`.
