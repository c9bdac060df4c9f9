//! easydb rights: sessions, the rights catalog, right presets and system rights
//! (`shared/spec/easydb-rights.md`).
//!
//! Built so far: the catalog and the validation of rights specifications ([`catalog`]);
//! stored and effective system rights ([`system`]); sessions ([`sessions`]); right presets ([`presets`]).
//! Sessions, presets, system rights and the wire family are the rest of issue 13.

pub mod catalog;
pub mod presets;
pub mod sessions;
pub mod system;
