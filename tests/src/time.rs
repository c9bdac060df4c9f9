//! Times as the API writes them, on the `time` crate: every response time of the KHEOPS
//! family and Keyrock's `expires_at`/`date_password` are UTC with exactly three fractional
//! digits and `Z` (`2018-10-22T14:20:59.790Z`). Instants are milliseconds since the epoch.

use std::time::Duration;

use serde_json::Value;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// One hour, in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

const RESPONSE: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");
const TIME: &[FormatItem<'static>] = format_description!("[hour]:[minute]:[second]");

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or_else(|e| panic!("{ms} ms is out of range: {e}"))
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2018-10-22T14:20:59.790Z`.
pub fn fmt_ms(ms: i64) -> String {
    at(ms).format(RESPONSE).expect("format a time")
}

/// The UTC date (`YYYY-MM-DD`) and time of day (`HH:MM:SS`) of an instant, to build request
/// times of other shapes: `parts(t + 2 * HOUR_MS)` is the wall clock of `t` at `+02:00`.
pub fn parts(ms: i64) -> (String, String) {
    let t = at(ms);
    (
        t.format(DATE).expect("format a date"),
        t.format(TIME).expect("format a time of day"),
    )
}

/// Parses a response time, asserting the exact shape `YYYY-MM-DDTHH:MM:SS.mmmZ` and a real
/// calendar time; milliseconds since the epoch.
#[track_caller]
pub fn parse_time(value: &Value) -> i64 {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time string"));
    let parsed = PrimitiveDateTime::parse(s, RESPONSE)
        .unwrap_or_else(|e| panic!("{s:?} is not formatted like 2018-10-22T14:20:59.790Z: {e}"));
    let ms = (parsed.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    assert_eq!(fmt_ms(ms), s, "not written like 2018-10-22T14:20:59.790Z");
    ms
}

/// Sleeps until the instant `ms` (not at all if it has passed).
pub fn sleep_until(ms: i64) {
    let left = ms - now_ms();
    if left > 0 {
        std::thread::sleep(Duration::from_millis(left as u64));
    }
}

/// Runs `f` and tells on which side of the instant `at` it ran: `Some(true)` when it was
/// over before `at`, `Some(false)` when it started after `at`, `None` when it straddles
/// `at`. Tests of a time boundary assert the outcome of the side each request fell on,
/// without assuming how long requests take.
pub fn timed<T>(at: i64, f: impl FnOnce() -> T) -> (T, Option<bool>) {
    let start = now_ms();
    let out = f();
    let end = now_ms();
    let side = if end < at {
        Some(true)
    } else if start > at {
        Some(false)
    } else {
        None
    };
    (out, side)
}

/// Lets the clock move on, so that the next event gets a later millisecond.
pub fn pause() {
    std::thread::sleep(Duration::from_millis(20));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_times_round_trip_and_bad_shapes_are_refused() {
        let s = "2018-10-22T14:20:59.790Z";
        assert_eq!(fmt_ms(parse_time(&json!(s))), s);
        assert_eq!(parse_time(&json!("1970-01-01T00:00:01.000Z")), 1000);
        assert_eq!(
            parts(parse_time(&json!(s)) + 2 * HOUR_MS),
            ("2018-10-22".to_owned(), "16:20:59".to_owned())
        );
        for bad in [
            "2018-10-22T14:20:59.79Z",
            "2018-10-22T14:20:59Z",
            "2018-10-22T14:20:59.790+00:00",
            "2018-02-30T14:20:59.790Z",
            "2018-10-22 14:20:59.790Z",
        ] {
            assert!(
                std::panic::catch_unwind(|| parse_time(&json!(bad))).is_err(),
                "{bad} accepted"
            );
        }
    }
}
