//! easydb rights: sessions, the rights catalog, right presets and system rights
//! (`shared/spec/easydb-rights.md`).
//!
//! - [`catalog`]: the shipped catalog and the validation of rights specifications;
//! - [`system`]: stored and effective system rights and the check;
//! - [`holders`]: users and groups as holders of system rights (§10);
//! - [`sessions`]: easydb sessions and the authenticated principal;
//! - [`presets`]: right presets.
//!
//! Every function is plain: a connection, the caller where one is needed, typed
//! commands, and `now`. The HTTP family lives in the server crate.

pub mod catalog;
pub mod holders;
pub mod presets;
pub mod sessions;
pub mod system;
