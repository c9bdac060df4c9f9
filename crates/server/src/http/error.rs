//! The error-format contract: a family declares its status and envelope for each failure,
//! and the kit renders every one the same way: 5xx logged once inside the request's span
//! (the client sees only the envelope), the connection closed after a 408, and the
//! family's extra headers.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;

/// A family's failure as its clients see it.
pub trait ErrorFormat: std::fmt::Display {
    /// The envelope's type: one `ToSchema` type per family, listed in `/openapi.json`.
    type Envelope: Serialize;

    /// The status and the body of this failure.
    fn outcome(&self) -> (StatusCode, Self::Envelope);

    fn status(&self) -> StatusCode {
        self.outcome().0
    }

    /// Headers the family adds (the KHEOPS 401 challenges).
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        Vec::new()
    }
}

/// The response for a family failure.
pub fn render<E: ErrorFormat>(error: &E) -> HttpResponse {
    let (status, envelope) = error.outcome();
    if status.is_server_error() {
        tracing::error!(error = %error, "request failed");
    }
    let mut response = HttpResponse::build(status);
    if status == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may still be on its way: this connection is done.
        response.force_close();
    }
    for (name, value) in error.headers() {
        response.append_header((name, value));
    }
    response.json(envelope)
}

/// The family's 404 for a path no resource has.
pub fn not_found<E: ErrorFormat + From<super::HttpError>>() -> HttpResponse {
    render(&E::from(super::HttpError::PathNotFound))
}

/// Implements actix's `ResponseError` for a family error through [`render`]; with
/// `domain = DomainError`, also `From<StorageError>` through the family's `Domain` variant
/// (every domain error type has a `Storage` variant).
macro_rules! family_error {
    ($error:ty) => {
        impl actix_web::ResponseError for $error {
            fn status_code(&self) -> actix_web::http::StatusCode {
                $crate::http::error::ErrorFormat::status(self)
            }

            fn error_response(&self) -> actix_web::HttpResponse {
                $crate::http::error::render(self)
            }
        }
    };
    ($error:ident, domain = $domain:ident) => {
        $crate::http::error::family_error!($error);

        impl From<storage::StorageError> for $error {
            fn from(e: storage::StorageError) -> Self {
                $error::Domain($domain::Storage(e))
            }
        }
    };
}
pub(crate) use family_error;
