//! The one Keyrock error mapper: every failure becomes
//! `{"error":{"message","code","title"}}` with the status repeated in `code`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use keyrock_idm::KeyrockError;
use serde_json::json;
use storage::StorageError;

/// A Keyrock failure: a domain outcome or an HTTP-level one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] KeyrockError),
    #[error("Path not found")]
    PathNotFound,
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("Request body too large")]
    PayloadTooLarge,
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError::Domain(KeyrockError::Storage(e))
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Domain(e) => match e {
                KeyrockError::BadRequest(m) => {
                    (StatusCode::BAD_REQUEST, "Bad Request", (*m).to_owned())
                }
                KeyrockError::Unauthorized(m) => {
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
            ApiError::PathNotFound => (
                StatusCode::NOT_FOUND,
                "Not Found",
                "Path not found".to_owned(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
                "Method not allowed".to_owned(),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "Request body too large".to_owned(),
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, title, message) = self.parts();
        if status.is_server_error() {
            // Logged once, inside the request's span (so with its request id); the client
            // sees only the generic message.
            tracing::error!(error = %self, "request failed");
        }
        HttpResponse::build(status).json(json!({
            "error": {"message": message, "code": status.as_u16(), "title": title}
        }))
    }
}
