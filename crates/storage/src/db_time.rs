//! The conversion between wall-clock times and what both backends store: UTC `TIMESTAMP`
//! without zone. No text formatting here; the wire format of times is the server's
//! `wire_time` module.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Times are stored as UTC `TIMESTAMP` without zone in both backends.
pub fn to_db_time(t: OffsetDateTime) -> PrimitiveDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// The inverse of [`to_db_time`].
pub fn from_db_time(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}
