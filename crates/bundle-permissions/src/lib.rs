//! Hexoskin bundle permissions (`shared/spec/hexoskin-bundles.md`): bundles, the bundle
//! permissions granted through them, the permission requests accepted through an e-mailed
//! single-use token, and the durable mail queue that carries those e-mails (§3).
//!
//! Plain functions over `&mut storage::DbConn`, the [`users::Caller`] and `now`; typed
//! commands in, typed outcomes and [`BundleError`] (named for outcomes) out. No HTTP here:
//! the edge parses URIs, JSON and query strings into these commands and maps the errors.
//!
//! - [`users`]: the caller, user references, the user object and who sees whom (§2.1, §2.2).
//! - [`bundles`]: list, get, create (admins) (§2.3).
//! - [`permissions`]: list, get, create (target or admin), delete (§2.4).
//! - [`requests`]: create with its queued e-mail, list, get, delete, and the token location:
//!   look up, redeem, decline (§2.5).
//! - [`mail`]: the e-mail's text and link (§3), the [`mail::Mailer`] trait and the queue.

pub mod bundles;
mod error;
mod input;
pub mod mail;
mod paging;
pub mod permissions;
pub mod requests;
pub mod users;

pub use error::{BundleError, FieldError};
pub use input::Field;
pub use paging::{Order, Page, Paging, DEFAULT_LIMIT, MAX_LIMIT};

#[cfg(test)]
mod test_support;
