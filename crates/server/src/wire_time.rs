//! The one wire format of times in responses, shared by the families: RFC 3339 UTC with
//! milliseconds and `Z` (keyrock.md 1.5, kheops.md 1.3). The conversion from the stored
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

/// A stored time (UTC, no zone) in the wire format.
pub fn ts_db(t: PrimitiveDateTime) -> String {
    ts(storage::from_db_time(t))
}
