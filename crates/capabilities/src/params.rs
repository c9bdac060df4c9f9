//! Form and query parameters as KHEOPS reads them (kheops.md 1.2): the first occurrence of
//! a name wins, an empty value counts as absent, booleans are `true`/`false` in any case,
//! times are RFC 3339 with an offset.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{truncate_ms, KheopsError};

/// Which kind of parameter failed, for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Form,
    Query,
}

impl Source {
    fn error(self, detail: String) -> KheopsError {
        match self {
            Source::Form => KheopsError::BadForm(detail),
            Source::Query => KheopsError::BadQuery(detail),
        }
    }
}

/// Decoded name/value pairs of a form body or a query string.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    source: Option<Source>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>, source: Source) -> Self {
        Params {
            pairs,
            source: Some(source),
        }
    }

    fn source(&self) -> Source {
        self.source.unwrap_or(Source::Form)
    }

    /// The first value given for `name`, unless it is empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter; absent is `None`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, KheopsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(self
                .source()
                .error(format!("Param '{name}' must be 'true' or 'false'"))),
        }
    }

    /// A non-negative base-10 integer; absent is `None`.
    pub fn non_negative(&self, name: &str) -> Result<Option<u64>, KheopsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                // Beyond u64 is still "a very large number": saturate rather than refuse.
                Ok(Some(v.parse::<u64>().unwrap_or(u64::MAX)))
            }
            Some(_) => Err(self
                .source()
                .error(format!("Param '{name}' must be a non-negative integer"))),
        }
    }

    /// `limit` (default 100, capped at 1000) and `offset` (default 0) of list endpoints.
    pub fn page(&self) -> Result<Page, KheopsError> {
        let limit = self.non_negative("limit")?.unwrap_or(100).min(1000);
        let offset = self.non_negative("offset")?.unwrap_or(0);
        Ok(Page {
            limit: limit as i64,
            offset: i64::try_from(offset).unwrap_or(i64::MAX),
        })
    }
}

/// A window of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
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

    #[test]
    fn booleans_and_empties() {
        let p = Params::new(
            vec![
                ("a".into(), "TRUE".into()),
                ("a".into(), "false".into()),
                ("b".into(), "".into()),
                ("c".into(), "yes".into()),
            ],
            Source::Form,
        );
        assert_eq!(p.bool("a").unwrap(), Some(true));
        assert_eq!(p.bool("b").unwrap(), None);
        assert!(matches!(p.bool("c"), Err(KheopsError::BadForm(_))));
    }
}
