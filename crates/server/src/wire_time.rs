//! The one wire format of times in responses, shared by the families: RFC 3339 UTC with
//! milliseconds and `Z` (keyrock.md 1.5, kheops.md 1.3); easydb's has seconds only. The conversion from the stored
//! `TIMESTAMP` is storage's (`storage::from_db_time`).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const TS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// RFC 3339 UTC with milliseconds and `Z`, e.g. `2018-03-20T09:31:07.104Z`.
pub fn ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TS)
        .unwrap_or_default()
}

const SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// RFC 3339 UTC with second precision and `Z`, e.g. `2025-03-01T09:15:02Z` (easydb).
pub fn rfc3339_seconds(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(SECONDS)
        .unwrap_or_default()
}

/// A stored time (UTC, no zone) in the wire format.
pub fn ts_db(t: PrimitiveDateTime) -> String {
    ts(storage::from_db_time(t))
}
