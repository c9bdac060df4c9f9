//! The one KHEOPS error mapper: every failure becomes `{"message","detail"}` (kheops.md
//! 1.3, 11); every 401 also carries Bearer and Basic challenges.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use capabilities::KheopsError;
use serde::Serialize;
use storage::StorageError;

use utoipa::ToSchema;

use crate::http::error::{family_error, ErrorFormat};
use crate::http::HttpError;

/// A KHEOPS failure: a domain outcome or an HTTP-level one.
#[derive(Debug, thiserror::Error)]
pub enum KheopsApiError {
    #[error(transparent)]
    Domain(#[from] KheopsError),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not acceptable")]
    NotAcceptable,
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl KheopsApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        let (status, message, detail) = match self {
            KheopsApiError::Domain(e) => domain_parts(e),
            KheopsApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                "Content-Type must be application/x-www-form-urlencoded",
            ),
            KheopsApiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "Not Acceptable",
                "This resource only produces application/json",
            ),
            KheopsApiError::Http(e) => http_parts(e),
        };
        (status, message, detail.to_owned())
    }
}

type Parts<'a> = (StatusCode, &'static str, &'a str);

/// KHEOPS's answer to each domain outcome (kheops.md 11).
fn domain_parts(e: &KheopsError) -> Parts<'_> {
    use KheopsError as E;
    match e {
        E::MalformedCredentials => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Missing or malformed Authorization header",
        ),
        E::InvalidCredential => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The token is not valid",
        ),
        E::CapabilityNotAllowed => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The bearer token is not valid for access to capability resources",
        ),
        E::NotAdmin => (
            StatusCode::UNAUTHORIZED,
            "Not admin",
            "Only an admin can generate a capability token for an album",
        ),
        E::BadForm(d) => (StatusCode::BAD_REQUEST, "Bad Form Parameter", d.as_str()),
        E::BadQuery(d) => (StatusCode::BAD_REQUEST, "Bad Query Parameter", d.as_str()),
        E::AlbumNotFound => (
            StatusCode::NOT_FOUND,
            "Album Not Found",
            "The album does not exist or you don't have access",
        ),
        E::UserUnknown => (
            StatusCode::NOT_FOUND,
            "User Not Found",
            "The user is unknown",
        ),
        E::UserNotMember => (
            StatusCode::NOT_FOUND,
            "User Not Found",
            "The user is not a member of the album",
        ),
        E::CapabilityNotFound => (
            StatusCode::NOT_FOUND,
            "Not Found",
            "Capability token not found",
        ),
        E::Forbidden(d) => (StatusCode::FORBIDDEN, "Authorization error", d),
        E::Storage(StorageError::Unavailable(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "The database did not answer in time",
        ),
        E::Storage(_) | E::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "Internal error",
        ),
    }
}

/// KHEOPS's answer to each failure the kit detects.
fn http_parts(e: &HttpError) -> Parts<'static> {
    match e {
        HttpError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            "Request body too large",
        ),
        HttpError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            "This method is not served on this path",
        ),
        HttpError::PathNotFound => (
            StatusCode::NOT_FOUND,
            "Not Found",
            "This path is not served",
        ),
        HttpError::BodyTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            "Request Timeout",
            "The request body was not received in time",
        ),
        HttpError::BodyUnreadable => (
            StatusCode::BAD_REQUEST,
            "Bad Form Parameter",
            "The request body could not be read",
        ),
    }
}

/// The two refusals every authenticated KHEOPS route that answers JSON can give before its
/// own rules, listed once for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum KheopsRefusals {
    #[response(status = 401, description = "Unauthorized")]
    Unauthorized(KheopsErrorBody),
    #[response(status = 406, description = "Not Acceptable")]
    NotAcceptable(KheopsErrorBody),
}

/// The KHEOPS error body (kheops.md 1.3).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KheopsErrorBody {
    pub message: &'static str,
    pub detail: String,
}

impl ErrorFormat for KheopsApiError {
    type Envelope = KheopsErrorBody;

    fn outcome(&self) -> (StatusCode, KheopsErrorBody) {
        let (status, message, detail) = self.parts();
        (status, KheopsErrorBody { message, detail })
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        if self.status() != StatusCode::UNAUTHORIZED {
            return Vec::new();
        }
        ["Bearer realm=\"tessera\"", "Basic realm=\"tessera\""]
            .into_iter()
            .map(|c| (header::WWW_AUTHENTICATE, HeaderValue::from_static(c)))
            .collect()
    }
}

family_error!(KheopsApiError, domain = KheopsError);
