//! What KHEOPS handlers take from a request before the domain runs: content negotiation
//! (decided before authentication, kheops.md 1.2), the credential of the `Authorization`
//! header (3.1), and form or query parameters.

use actix_web::{web, HttpRequest};
use capabilities::KheopsError;

use super::commands::{KheopsParams, Source};
use super::KheopsApiError;
use crate::http::credentials::{self, Authorization};
use crate::http::params::Params;
use crate::http::text::{self, DecodeError};
use crate::http::{body, media};

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

/// 415, then 406 (for endpoints that answer JSON), before any authentication.
pub fn negotiate(req: &HttpRequest, body: Body, answers_json: bool) -> Result<(), KheopsApiError> {
    let form = mime::APPLICATION_WWW_FORM_URLENCODED;
    let acceptable = match (body, media::content_type(req)) {
        (Body::Ignored, _) => true,
        (Body::Form, None) => false,
        (Body::FormOrNone, None) => true,
        (_, Some(_)) => media::content_type_is(req, &form),
    };
    if !acceptable {
        return Err(KheopsApiError::UnsupportedMediaType);
    }
    if answers_json && !media::accepts(req, &mime::APPLICATION_JSON) {
        return Err(KheopsApiError::NotAcceptable);
    }
    Ok(())
}

/// The credential of `Authorization: Bearer <c>` or `Basic base64(<anything>:<c>)`.
pub fn credential(req: &HttpRequest) -> Result<String, KheopsApiError> {
    let credential = match credentials::authorization(req) {
        Ok(Some(Authorization::Bearer(token))) => token,
        Ok(Some(Authorization::Basic { password, .. })) => password.trim().to_owned(),
        Ok(None) | Err(_) => String::new(),
    };
    if credential.is_empty() {
        return Err(KheopsApiError::Domain(KheopsError::MalformedCredentials));
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
