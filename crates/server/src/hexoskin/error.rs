//! The one Hexoskin error mapper (hexoskin-bundles.md §1.6, §1.7): every failure is
//! `{"error": "<message>"}`; a field validation failure adds the resource's object of field
//! messages; every 401 carries `WWW-Authenticate: Bearer realm="tessera"`.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use bundle_permissions::{BundleError, FieldError};
use serde::Serialize;
use storage::StorageError;
use utoipa::ToSchema;

use super::Resource;
use crate::http::error::{family_error, ErrorFormat};
use crate::http::HttpError;

/// A Hexoskin failure: a domain outcome on a resource, or one the edge detects.
#[derive(Debug, thiserror::Error)]
pub enum HexoskinApiError {
    #[error("{1}")]
    Domain(Resource, BundleError),
    /// No usable bearer credential (§1.2).
    #[error("authentication required")]
    Unauthenticated,
    /// A malformed body or query (400 without field errors).
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Http(#[from] HttpError),
}

impl HexoskinApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        HexoskinApiError::BadRequest(message.into())
    }
}

impl From<StorageError> for HexoskinApiError {
    fn from(e: StorageError) -> Self {
        // The resource only names field errors, which storage never has.
        HexoskinApiError::Domain(Resource::User, BundleError::Storage(e))
    }
}

/// The error body (§1.7): `error`, and for a field validation failure the resource's
/// object mapping each offending field to its messages.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HexoskinErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleFieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_permission: Option<BundlePermissionFieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_permission_request: Option<BundlePermissionRequestFieldErrors>,
}

/// Declares the field-error object of a resource: one optional list of messages per input
/// field, filled from the domain's field errors (which name exactly these fields).
macro_rules! field_errors {
    ($name:ident { $($field:ident),+ }) => {
        /// The messages of each offending input field.
        #[derive(Debug, Default, Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<Vec<String>>,
            )+
        }

        impl $name {
            fn from_errors(errors: &[FieldError]) -> Self {
                let mut out = $name::default();
                for e in errors {
                    let slot = match e.field {
                        $(stringify!($field) => &mut out.$field,)+
                        other => {
                            // The domain names only the resource's input fields.
                            tracing::error!(field = other, "a field error on an unknown field");
                            continue;
                        }
                    };
                    slot.get_or_insert_with(Vec::new).push(e.message.clone());
                }
                out
            }
        }
    };
}

field_errors!(BundleFieldErrors {
    name,
    description,
    permissions
});
field_errors!(BundlePermissionFieldErrors {
    bundle,
    user_allowed,
    user_target,
    name
});
field_errors!(BundlePermissionRequestFieldErrors {
    user_target,
    user_allowed,
    bundle,
    ttl,
    redeem_url
});

fn status_and_message(e: &HexoskinApiError) -> (StatusCode, &'static str) {
    use HexoskinApiError as E;
    match e {
        E::Domain(_, d) => match d {
            BundleError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid data"),
            BundleError::Forbidden => (
                StatusCode::FORBIDDEN,
                "you may not do this with these objects",
            ),
            BundleError::NotFound => (StatusCode::NOT_FOUND, "not found"),
            BundleError::Gone => (
                StatusCode::GONE,
                "this request has expired or was already redeemed",
            ),
            BundleError::Storage(StorageError::Unavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database did not answer in time",
            ),
            BundleError::Storage(_) | BundleError::Corrupt(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        },
        E::Unauthenticated => (StatusCode::UNAUTHORIZED, "authentication required"),
        E::BadRequest(_) => (StatusCode::BAD_REQUEST, ""),
        E::Http(h) => match h {
            HttpError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            ),
            HttpError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "the request body was not received in time",
            ),
            HttpError::BodyUnreadable => (
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            ),
            HttpError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            HttpError::PathNotFound => (StatusCode::NOT_FOUND, "not found"),
        },
    }
}

impl ErrorFormat for HexoskinApiError {
    type Envelope = HexoskinErrorBody;

    fn outcome(&self) -> (StatusCode, HexoskinErrorBody) {
        let (status, message) = status_and_message(self);
        let mut body = HexoskinErrorBody {
            error: match self {
                HexoskinApiError::BadRequest(m) => m.clone(),
                _ => message.to_owned(),
            },
            ..Default::default()
        };
        if let HexoskinApiError::Domain(resource, BundleError::Invalid(errors)) = self {
            match resource {
                Resource::Bundle => body.bundle = Some(BundleFieldErrors::from_errors(errors)),
                Resource::BundlePermission => {
                    body.bundle_permission = Some(BundlePermissionFieldErrors::from_errors(errors))
                }
                Resource::BundlePermissionRequest => {
                    body.bundle_permission_request =
                        Some(BundlePermissionRequestFieldErrors::from_errors(errors))
                }
                // Users and the account take no input.
                Resource::User | Resource::Account => {}
            }
        }
        (status, body)
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )];
        if self.status() == StatusCode::UNAUTHORIZED {
            headers.push((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\""),
            ));
        }
        headers
    }
}

family_error!(HexoskinApiError);

/// The refusals every route can give before its own rules, listed once for `/openapi.json`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum HexoskinRefusals {
    #[response(
        status = 401,
        description = "authentication required (with WWW-Authenticate: Bearer)"
    )]
    Unauthorized(HexoskinErrorBody),
    #[response(status = 500, description = "internal error")]
    Internal(HexoskinErrorBody),
    #[response(status = 503, description = "the database did not answer in time")]
    Unavailable(HexoskinErrorBody),
}

/// The refusals of a route that reads a body, before its own rules.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum HexoskinBodyRefusals {
    #[response(
        status = 408,
        description = "the request body was not received in time"
    )]
    Timeout(HexoskinErrorBody),
    #[response(status = 413, description = "the request body is larger than 1 MiB")]
    TooLarge(HexoskinErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_named_after_the_resource_and_grouped_by_field() {
        let error = HexoskinApiError::Domain(
            Resource::BundlePermissionRequest,
            BundleError::Invalid(vec![
                FieldError {
                    field: "ttl",
                    message: "a".into(),
                },
                FieldError {
                    field: "ttl",
                    message: "b".into(),
                },
                FieldError {
                    field: "bundle",
                    message: "c".into(),
                },
            ]),
        );
        let (status, body) = error.outcome();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({"error": "invalid data",
                "bundle_permission_request": {"ttl": ["a", "b"], "bundle": ["c"]}})
        );
    }

    #[test]
    fn a_401_challenges_for_a_bearer_token() {
        let challenge = |e: HexoskinApiError| {
            e.headers()
                .into_iter()
                .filter(|(name, _)| name == header::WWW_AUTHENTICATE)
                .map(|(_, value)| value)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            challenge(HexoskinApiError::Unauthenticated),
            ["Bearer realm=\"tessera\""]
        );
        assert!(challenge(HexoskinApiError::Http(HttpError::PathNotFound)).is_empty());
    }
}
