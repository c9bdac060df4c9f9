//! The one Keyrock error mapper: every failure becomes
//! `{"error":{"message","code","title"}}` with the status repeated in `code`.

use actix_web::http::StatusCode;
use keyrock_idm::KeyrockError;
use serde::Serialize;
use storage::StorageError;

use utoipa::ToSchema;

use crate::http::error::{family_error, ErrorFormat};
use crate::http::HttpError;

/// A Keyrock failure: a domain outcome or an HTTP-level one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] KeyrockError),
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Domain(e) => match e {
                KeyrockError::Invalid(m) => {
                    (StatusCode::BAD_REQUEST, "Bad Request", (*m).to_owned())
                }
                KeyrockError::Unauthenticated(m) => {
                    (StatusCode::UNAUTHORIZED, "Unauthorized", (*m).to_owned())
                }
                KeyrockError::Forbidden(m) => (StatusCode::FORBIDDEN, "Forbidden", (*m).to_owned()),
                KeyrockError::NotFound(m) => (StatusCode::NOT_FOUND, "Not Found", (*m).to_owned()),
                KeyrockError::Conflict(m) => (StatusCode::CONFLICT, "Conflict", (*m).to_owned()),
                KeyrockError::Storage(StorageError::Unavailable(_)) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "Service unavailable".to_owned(),
                ),
                KeyrockError::Storage(_) | KeyrockError::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "Internal error".to_owned(),
                ),
            },
            ApiError::Http(e) => {
                let (status, title, message) = match e {
                    HttpError::PathNotFound => {
                        (StatusCode::NOT_FOUND, "Not Found", "Path not found")
                    }
                    HttpError::MethodNotAllowed => (
                        StatusCode::METHOD_NOT_ALLOWED,
                        "Method Not Allowed",
                        "Method not allowed",
                    ),
                    HttpError::PayloadTooLarge => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Payload Too Large",
                        "Request body too large",
                    ),
                    HttpError::BodyTimeout => (
                        StatusCode::REQUEST_TIMEOUT,
                        "Request Timeout",
                        "Request body not received in time",
                    ),
                    HttpError::BodyUnreadable => (
                        StatusCode::BAD_REQUEST,
                        "Bad Request",
                        "Malformed JSON body",
                    ),
                };
                (status, title, message.to_owned())
            }
        }
    }
}

/// Keyrock's error body: `{"error":{"message","code","title"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyrockErrorBody {
    pub error: KeyrockErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyrockErrorDetail {
    pub message: String,
    /// The HTTP status, repeated.
    pub code: u16,
    pub title: &'static str,
}

impl ErrorFormat for ApiError {
    type Envelope = KeyrockErrorBody;

    fn outcome(&self) -> (StatusCode, KeyrockErrorBody) {
        let (status, title, message) = self.parts();
        let error = KeyrockErrorDetail {
            message,
            code: status.as_u16(),
            title,
        };
        (status, KeyrockErrorBody { error })
    }
}

family_error!(ApiError, domain = KeyrockError);
