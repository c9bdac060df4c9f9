//! What easydb handlers take from a request before the domain runs (easydb-rights.md §1):
//! the session token (`?token=` wins over `x-easydb-token`), query parameters, and the
//! body, parsed as JSON whatever its `Content-Type`.

use actix_web::{web, HttpRequest};
use serde_json::Value;

use super::error::{ApiCode, EasydbApiError};
use crate::http::body;
use crate::http::params::Params;
use crate::http::text::{self, DecodeError};

/// The header that may carry the session token.
pub const TOKEN_HEADER: &str = "x-easydb-token";

/// A request's query and session token.
pub struct Call {
    pub query: Params,
    /// `None` when neither the query nor the header gives a (non-empty) token.
    pub token: Option<String>,
}

/// The query parameters and the token of `req`.
pub fn call(req: &HttpRequest) -> Result<Call, EasydbApiError> {
    let query = query(req)?;
    let token = query.text("token").or_else(|| {
        req.headers()
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    });
    Ok(Call { query, token })
}

fn query(req: &HttpRequest) -> Result<Params, EasydbApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| EasydbApiError::api(ApiCode::InvalidValue, "the query string is not valid"))?;
    Ok(Params::new(pairs))
}

/// The body's bytes, read by the kit's bounded reader.
pub async fn body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, EasydbApiError> {
    Ok(body::read(req, payload.into_inner()).await?)
}

/// A JSON body: empty or not JSON is `invalid_content`.
pub fn json(bytes: &[u8]) -> Result<Value, EasydbApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(EasydbApiError::api(
            ApiCode::InvalidContent,
            "this call needs a JSON body",
        ));
    }
    text::json(bytes).map_err(decode_error)
}

/// The pairs of a form body.
pub fn form(bytes: &[u8]) -> Result<Params, EasydbApiError> {
    text::form(bytes).map(Params::new).map_err(decode_error)
}

fn decode_error(e: DecodeError) -> EasydbApiError {
    match e {
        DecodeError::Malformed => {
            EasydbApiError::api(ApiCode::InvalidContent, "the body does not parse")
        }
        DecodeError::ControlCharacter { field } => EasydbApiError::api(
            ApiCode::InvalidValue,
            format!("{field:?} holds a control character"),
        ),
    }
}

/// `limit` and `offset` of a listing (§10.1): non-negative integers; a limit above the
/// maximum counts as the maximum.
pub fn page(query: &Params) -> Result<rights::holders::Page, EasydbApiError> {
    let number = |name: &str| -> Result<Option<u32>, EasydbApiError> {
        match query.get(name) {
            None => Ok(None),
            Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                // All digits: only the size can fail, and a huge value is as good as the
                // largest.
                Ok(Some(v.parse::<u32>().unwrap_or(u32::MAX)))
            }
            Some(v) => Err(EasydbApiError::api(
                ApiCode::InvalidValue,
                format!("{name} must be a non-negative integer, not {v:?}"),
            )),
        }
    };
    Ok(rights::holders::Page {
        limit: number("limit")?,
        offset: number("offset")?,
    })
}

/// A numeric path id (`/api/v1/user/<id>`, `.../presets/<id>`): decimal digits only.
pub fn path_id(text: &str, what: &str) -> Result<i64, EasydbApiError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(id) = text.parse::<i64>() {
            return Ok(id);
        }
    }
    Err(EasydbApiError::api(
        ApiCode::InvalidValue,
        format!("{what} must be made of decimal digits, not {text:?}"),
    ))
}
