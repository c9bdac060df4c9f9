//! Request parameters as KHEOPS's rules see them (kheops.md 1.2): the family decodes form
//! and query pairs (first occurrence wins, empty is absent, booleans and integers by their
//! spelling) into [`Param`]s; times are read here, RFC 3339 with an offset.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{truncate_ms, KheopsError};

/// A typed request parameter as the family decoded it: absent, a value, or refused with
/// KHEOPS's message for its spelling ("must be 'true' or 'false'", ...). Commands carry
/// them unopened, so the domain raises a refusal at its place in KHEOPS's order.
pub type Param<T> = Result<Option<T>, KheopsError>;

/// A window of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// `limit` and `offset` of a list request, as given.
#[derive(Debug)]
pub struct PageParams {
    pub limit: Param<u64>,
    pub offset: Param<u64>,
}

impl Default for PageParams {
    fn default() -> Self {
        PageParams {
            limit: Ok(None),
            offset: Ok(None),
        }
    }
}

impl PageParams {
    /// `limit` (default 100, capped at 1000) and `offset` (default 0).
    pub fn page(self) -> Result<Page, KheopsError> {
        let limit = self.limit?.unwrap_or(100).min(1000);
        let offset = self.offset?.unwrap_or(0);
        Ok(Page {
            limit: limit as i64,
            offset: i64::try_from(offset).unwrap_or(i64::MAX),
        })
    }
}

/// A request time (kheops.md 1.2): RFC 3339 with an offset, or KHEOPS's form without
/// seconds (`2021-06-09T17:30Z`); converted to UTC and truncated to milliseconds. A time
/// whose UTC year falls outside 0000..=9999 is refused: RFC 3339 cannot write it, so it
/// could not be answered back.
pub fn parse_time(value: &str) -> Option<OffsetDateTime> {
    let parsed = OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .or_else(|| OffsetDateTime::parse(&with_seconds(value)?, &Rfc3339).ok())?;
    let utc = parsed.checked_to_offset(time::UtcOffset::UTC)?;
    (0..=9999).contains(&utc.year()).then(|| truncate_ms(utc))
}

/// `YYYY-MM-DDTHH:MM<offset>` becomes `YYYY-MM-DDTHH:MM:00<offset>`.
fn with_seconds(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let minutes_end = 16;
    if bytes.len() < minutes_end + 1 || !value.is_char_boundary(minutes_end) {
        return None;
    }
    let (head, offset) = value.split_at(minutes_end);
    let shape_ok = head.as_bytes()[10].eq_ignore_ascii_case(&b'T') && head.as_bytes()[13] == b':';
    let offset_ok = offset.eq_ignore_ascii_case("z")
        || (offset.len() == 6 && matches!(offset.as_bytes()[0], b'+' | b'-'));
    (shape_ok && offset_ok).then(|| format!("{head}:00{offset}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        for ok in [
            "2021-06-09T17:30:20Z",
            "2021-06-09T17:30:20.5+02:00",
            "2021-06-09T17:30Z",
            "2021-06-09T17:30+02:00",
        ] {
            assert!(parse_time(ok).is_some(), "{ok}");
        }
        for bad in [
            "1623259820",
            "2021-06-09T17:30:20",
            "2021-06-09",
            "2021-06-09T17:30:20+0200",
            "2021-06-09T17:30",
            "",
        ] {
            assert!(parse_time(bad).is_none(), "{bad}");
        }
        // Times whose UTC conversion leaves 0000..=9999.
        for out_of_range in [
            "9999-12-31T23:59:59-23:59",
            "9999-12-31T23:00:00-01:00",
            "0000-01-01T00:00:00+00:01",
            "0000-01-01T00:30+01:00",
        ] {
            assert!(parse_time(out_of_range).is_none(), "{out_of_range}");
        }
        for edge in [
            "9999-12-31T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59+01:00",
        ] {
            assert!(parse_time(edge).is_some(), "{edge}");
        }
        let t = parse_time("2021-06-09T17:30:20.123456+02:00").unwrap();
        assert_eq!(t.hour(), 15);
        assert_eq!(t.nanosecond(), 123_000_000);
    }
}
