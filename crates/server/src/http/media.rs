//! Media-type negotiation on parsed media types (RFC 9110 §8.3, §12.5.1): a Content-Type
//! matches by its essence (type/subtype, parameters ignored), never by prefix, so
//! `application/json-seq` is not JSON.

use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::HttpRequest;
use mime::Mime;

/// The request's Content-Type: `None` when absent, `Some(Err(()))` when unparseable.
pub fn content_type(req: &HttpRequest) -> Option<Result<Mime, ()>> {
    let value = req.headers().get(CONTENT_TYPE)?;
    Some(
        value
            .to_str()
            .map_err(|_| ())
            .and_then(|v| v.trim().parse::<Mime>().map_err(|_| ())),
    )
}

/// Whether the Content-Type is present and has the essence of `wanted`.
pub fn content_type_is(req: &HttpRequest, wanted: &Mime) -> bool {
    matches!(content_type(req), Some(Ok(m)) if same_essence(&m, wanted))
}

fn same_essence(a: &Mime, b: &Mime) -> bool {
    a.type_() == b.type_() && a.subtype() == b.subtype()
}

/// Whether one `Accept` value admits `offered`: a range naming it, its type with `*`, or
/// `*/*`, with a quality above zero. An unparseable value admits nothing.
fn admits(accept: &str, offered: &Mime) -> bool {
    accept.split(',').any(|range| {
        let Ok(range) = range.trim().parse::<Mime>() else {
            return false;
        };
        let type_ok = range.type_() == mime::STAR || range.type_() == offered.type_();
        let subtype_ok = range.subtype() == mime::STAR
            || (range.type_() == offered.type_() && range.subtype() == offered.subtype());
        let quality_ok = range
            .get_param("q")
            .is_none_or(|q| q.as_str().trim().parse::<f32>().is_ok_and(|q| q > 0.0));
        type_ok && subtype_ok && quality_ok
    })
}

/// Whether every `Accept` header of the request admits `offered` (no header admits all).
pub fn accepts(req: &HttpRequest, offered: &Mime) -> bool {
    req.headers()
        .get_all(ACCEPT)
        .all(|value| value.to_str().is_ok_and(|v| admits(v, offered)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges() {
        let json = mime::APPLICATION_JSON;
        for ok in [
            "application/json",
            "application/*",
            "*/*",
            "text/html, application/json;q=0.5",
            "APPLICATION/JSON; charset=utf-8",
        ] {
            assert!(admits(ok, &json), "{ok}");
        }
        for bad in [
            "text/html",
            "application/json;q=0",
            "application/xml",
            "application/json-seq",
            "",
            "*/json",
        ] {
            assert!(!admits(bad, &json), "{bad}");
        }
    }

    #[test]
    fn content_types_match_by_essence_not_prefix() {
        let parse = |s: &str| s.parse::<Mime>().unwrap();
        let json = mime::APPLICATION_JSON;
        assert!(same_essence(
            &parse("application/json; charset=utf-8"),
            &json
        ));
        assert!(same_essence(&parse("Application/JSON"), &json));
        assert!(!same_essence(&parse("application/json-seq"), &json));
        let form = mime::APPLICATION_WWW_FORM_URLENCODED;
        assert!(same_essence(
            &parse("application/x-www-form-urlencoded; charset=UTF-8"),
            &form
        ));
    }
}
