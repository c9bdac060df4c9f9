//! The KHEOPS domain (`shared/spec/kheops.md`): albums and their members, capability tokens
//! (scoped, expiring, revocable share secrets stored only as SHA-256 digests) and their
//! introspection. Plain functions over a connection, the acting principal and `now`.
//!
//! Capability secrets are resolved here, falling back to auth-core's resolver for user
//! credentials; no other family accepts them.

pub mod albums;
mod error;
pub mod params;
pub mod principal;
pub mod tokens;
pub mod users;

pub use error::KheopsError;

/// Clock-skew leeway of every validity check (kheops.md 5.2).
pub const LEEWAY: time::Duration = time::Duration::seconds(5);

/// `now` at the millisecond precision every stored time has (kheops.md 1.3).
pub fn truncate_ms(t: time::OffsetDateTime) -> time::OffsetDateTime {
    let ms = t.millisecond();
    t.replace_nanosecond(u32::from(ms) * 1_000_000).unwrap_or(t)
}
