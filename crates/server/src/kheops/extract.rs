//! What KHEOPS handlers take from a request before the domain runs: content negotiation
//! (decided before authentication, kheops.md 1.2), the credential of the `Authorization`
//! header (3.1), and form or query parameters.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use base64::Engine;
use capabilities::KheopsError;

use super::commands::{KheopsParams, Source};
use super::KheopsApiError;
use crate::http::body;
use crate::http::params::Params;
use crate::http::text::{self, DecodeError};

/// What an endpoint accepts as its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Parameters in a form: the form type is required.
    Form,
    /// No parameters: no Content-Type, or the form type.
    FormOrNone,
    /// GET: Content-Type is ignored.
    Ignored,
}

fn is_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .map(str::trim)
        .is_some_and(|media| media.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Whether an `Accept` value admits JSON: `application/json`, `application/*` or `*/*`
/// with a q above zero.
fn admits_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let matches = ["application/json", "application/*", "*/*"]
            .iter()
            .any(|m| media.eq_ignore_ascii_case(m));
        let q_positive = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .is_none_or(|(_, v)| v.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
        matches && q_positive
    })
}

/// 415, then 406 (for endpoints that answer JSON), before any authentication.
pub fn negotiate(req: &HttpRequest, body: Body, answers_json: bool) -> Result<(), KheopsApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let acceptable = match (body, content_type) {
        (Body::Ignored, _) => true,
        (Body::Form, None) => false,
        (Body::FormOrNone, None) => true,
        (_, Some(ct)) => is_form(ct),
    };
    if !acceptable {
        return Err(KheopsApiError::UnsupportedMediaType);
    }
    if answers_json {
        for accept in req.headers().get_all(header::ACCEPT) {
            if !accept.to_str().is_ok_and(admits_json) {
                return Err(KheopsApiError::NotAcceptable);
            }
        }
    }
    Ok(())
}

/// The credential of `Authorization: Bearer <c>` or `Basic base64(<anything>:<c>)`.
pub fn credential(req: &HttpRequest) -> Result<String, KheopsApiError> {
    let malformed = || KheopsApiError::Domain(KheopsError::MalformedCredentials);
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(malformed)?
        .trim();
    let (scheme, rest) = value.split_once(' ').ok_or_else(malformed)?;
    let credential = if scheme.eq_ignore_ascii_case("bearer") {
        rest.trim().to_owned()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| malformed())?;
        let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (_, password) = decoded.split_once(':').ok_or_else(malformed)?;
        password.trim().to_owned()
    } else {
        return Err(malformed());
    };
    if credential.is_empty() {
        return Err(malformed());
    }
    Ok(credential)
}

/// The query string's parameters.
pub fn query(req: &HttpRequest) -> Result<KheopsParams, KheopsApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| KheopsError::BadQuery("The query string is not valid".to_owned()))?;
    Ok(KheopsParams {
        params: Params::new(pairs),
        source: Source::Query,
    })
}

/// The form body's parameters (an empty body has none), read by the kit's bounded reader.
pub async fn form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<KheopsParams, KheopsApiError> {
    let body = body::read(req, payload.into_inner()).await?;
    let pairs = text::form(&body).map_err(|e| {
        KheopsError::BadForm(match e {
            DecodeError::Malformed => "The form body is not valid".to_owned(),
            DecodeError::ControlCharacter { field } => {
                format!("Param '{field}' contains a control character")
            }
        })
    })?;
    Ok(KheopsParams {
        params: Params::new(pairs),
        source: Source::Form,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_ranges() {
        for ok in [
            "application/json",
            "application/*",
            "*/*",
            "text/html, application/json;q=0.5",
            "APPLICATION/JSON; charset=utf-8",
        ] {
            assert!(admits_json(ok), "{ok}");
        }
        for bad in ["text/html", "application/json;q=0", "application/xml", ""] {
            assert!(!admits_json(bad), "{bad}");
        }
    }

    #[test]
    fn form_types() {
        assert!(is_form("application/x-www-form-urlencoded; charset=UTF-8"));
        assert!(is_form("Application/X-WWW-Form-Urlencoded"));
        assert!(!is_form("application/json"));
    }
}
