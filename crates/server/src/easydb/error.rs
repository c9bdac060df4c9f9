//! The one easydb error mapper (easydb-rights.md §2): every failure is
//! `{realm, code, parameters, description[, uuid]}`, 400 for the `api` and `user` realms and
//! 500 for `server`, whose fresh `uuid` is also in the log line of the cause.

use std::collections::BTreeMap;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use rights::holders::{HoldersError, Kind};
use rights::presets::PresetError;
use rights::sessions::SessionError;
use serde::Serialize;
use storage::StorageError;
use utoipa::ToSchema;

use crate::http::error::{family_error, ErrorFormat};
use crate::http::HttpError;

/// An easydb failure, as the family answers it.
#[derive(Debug, thiserror::Error)]
pub enum EasydbApiError {
    /// `error.api.*`: the request itself is wrong.
    #[error("{code}: {description}")]
    Api { code: ApiCode, description: String },
    /// `error.user.*`: a condition of the caller or the stored data.
    #[error("{code}: {description}")]
    User {
        code: &'static str,
        parameters: BTreeMap<&'static str, String>,
        description: String,
    },
    /// `error.server.*`: logged with its uuid; the client sees neither the cause nor SQL.
    #[error("server error {uuid}: {cause}")]
    Server {
        uuid: uuid::Uuid,
        database: bool,
        cause: String,
    },
}

/// The codes of the `api` realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    InvalidApi,
    InvalidRequestMethod,
    InvalidContent,
    TypeMismatch,
    AttributeExpected,
    AttributeNotAccepted,
    InvalidValue,
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ApiCode::InvalidApi => "error.api.invalid_api",
            ApiCode::InvalidRequestMethod => "error.api.invalid_request_method",
            ApiCode::InvalidContent => "error.api.invalid_content",
            ApiCode::TypeMismatch => "error.api.type_mismatch",
            ApiCode::AttributeExpected => "error.api.attribute_expected",
            ApiCode::AttributeNotAccepted => "error.api.attribute_not_accepted",
            ApiCode::InvalidValue => "error.api.invalid_value",
        })
    }
}

impl EasydbApiError {
    pub fn api(code: ApiCode, description: impl Into<String>) -> Self {
        EasydbApiError::Api {
            code,
            description: description.into(),
        }
    }

    fn user(
        code: &'static str,
        parameters: &[(&'static str, String)],
        description: String,
    ) -> Self {
        EasydbApiError::User {
            code,
            parameters: parameters.iter().cloned().collect(),
            description,
        }
    }

    /// `error.user.not_authenticated`.
    pub fn not_authenticated() -> Self {
        Self::user(
            "error.user.not_authenticated",
            &[],
            "this call needs an authenticated session".to_owned(),
        )
    }

    /// `error.user.session_not_found` for the token as given.
    pub fn session_not_found(token: &str) -> Self {
        Self::user(
            "error.user.session_not_found",
            &[("id", token.to_owned())],
            "no live session for this token".to_owned(),
        )
    }

    fn server(cause: String, database: bool) -> Self {
        EasydbApiError::Server {
            uuid: uuid::Uuid::new_v4(),
            database,
            cause,
        }
    }

    /// An internal failure: `error.server.generic`.
    pub fn internal(cause: &str) -> Self {
        Self::server(cause.to_owned(), false)
    }

    /// A storage failure: `error.server.database`.
    pub fn storage(e: StorageError) -> Self {
        Self::server(e.to_string(), true)
    }

    /// A session failure; `token` is what the client gave.
    pub fn session(e: SessionError, token: &str) -> Self {
        use SessionError as E;
        let description = e.to_string();
        match e {
            E::SessionNotFound => Self::session_not_found(token),
            E::NotAuthenticated => Self::not_authenticated(),
            E::LanguageNotFound(id) => {
                Self::user("error.user.language_not_found", &[("id", id)], description)
            }
            E::MethodNotAllowed(method) => Self::user(
                "error.user.authentication_method_not_allowed",
                &[("method", method)],
                description,
            ),
            E::UsernameOrPasswordEmpty => {
                Self::user("error.user.username_or_password_empty", &[], description)
            }
            E::LoginFailed => Self::user("error.user.login_failed", &[], description),
            E::LoginDisabled => Self::user("error.user.login_disabled", &[], description),
            E::Storage(e) => Self::storage(e),
        }
    }

    fn version_mismatch(provided: i64, expected: i64, description: String) -> Self {
        Self::user(
            "error.user.version_mismatch",
            &[
                ("provided", provided.to_string()),
                ("expected", expected.to_string()),
            ],
            description,
        )
    }

    fn no_system_right(right: &str) -> Self {
        Self::user(
            "error.user.no_system_right",
            &[("right", right.to_owned())],
            format!("the session user lacks {right}"),
        )
    }
}

impl From<PresetError> for EasydbApiError {
    fn from(e: PresetError) -> Self {
        use PresetError as E;
        let description = e.to_string();
        match e {
            E::UnknownContext(_) | E::NoPresets(_) | E::DuplicateId(_) | E::EmptyTagFilter => {
                Self::api(ApiCode::InvalidValue, description)
            }
            E::NoSystemRight => Self::no_system_right(rights::catalog::PRESET_MANAGER),
            E::InvalidRights(spec) => spec_error(spec),
            E::NotFound(id) => Self::user(
                "error.user.right_preset_not_found",
                &[("id", id.to_string())],
                description,
            ),
            E::VersionMismatch { provided, expected } => {
                Self::version_mismatch(provided, expected, description)
            }
            E::PositionClash(_) => Self::user(
                "error.user.integrity_constraint_violation",
                &[("constraint", "right_preset_position".to_owned())],
                description,
            ),
            E::Corrupt(_) => Self::server(description, false),
            E::Storage(e) => Self::storage(e),
        }
    }
}

impl From<HoldersError> for EasydbApiError {
    fn from(e: HoldersError) -> Self {
        use HoldersError as E;
        let description = e.to_string();
        match e {
            E::NoSystemRight(right) => Self::no_system_right(right),
            E::NotFound { kind, id } => Self::user(
                match kind {
                    Kind::User => "error.user.user_not_found",
                    Kind::Group => "error.user.group_not_found",
                },
                &[("id", id.to_string())],
                description,
            ),
            E::DuplicateId(_) => Self::api(ApiCode::InvalidValue, description),
            E::VersionMismatch { provided, expected } => {
                Self::version_mismatch(provided, expected, description)
            }
            E::RightNotFound(name) => {
                Self::user("error.user.right_not_found", &[("id", name)], description)
            }
            E::InvalidRights(spec) => spec_error(spec),
            // The operator's lookup; a request names holders by `_id`.
            E::UnknownHolder(_) => Self::api(ApiCode::InvalidValue, description),
            E::Corrupt(_) => Self::server(description, false),
            E::Storage(e) => Self::storage(e),
        }
    }
}

/// A rights specification that is not an object where one is needed is a type mismatch;
/// every other refusal is an invalid value.
fn spec_error(e: rights::catalog::SpecError) -> EasydbApiError {
    let code = match e {
        rights::catalog::SpecError::NotAnObject(_) => ApiCode::TypeMismatch,
        _ => ApiCode::InvalidValue,
    };
    EasydbApiError::api(code, e.to_string())
}

impl From<StorageError> for EasydbApiError {
    fn from(e: StorageError) -> Self {
        Self::storage(e)
    }
}

impl From<HttpError> for EasydbApiError {
    fn from(e: HttpError) -> Self {
        let code = match e {
            HttpError::PathNotFound => ApiCode::InvalidApi,
            HttpError::MethodNotAllowed => ApiCode::InvalidRequestMethod,
            HttpError::PayloadTooLarge | HttpError::BodyTimeout | HttpError::BodyUnreadable => {
                ApiCode::InvalidContent
            }
        };
        let description = match e {
            HttpError::PathNotFound => "no API at this path".to_owned(),
            HttpError::MethodNotAllowed => "this method is not served on this path".to_owned(),
            other => other.to_string(),
        };
        Self::api(code, description)
    }
}

/// The realm of an error.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EasydbRealm {
    Api,
    User,
    Server,
}

/// The easydb error body (§2). `parameters` is present in the user realm only (`{}` when
/// there are none), `uuid` in the server realm only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EasydbErrorBody {
    pub realm: EasydbRealm,
    /// `error.<realm>.<name>`, also the localisation key.
    #[schema(example = "error.user.session_not_found")]
    pub code: String,
    /// Parameter values are always strings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, String>>,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

impl ErrorFormat for EasydbApiError {
    type Envelope = EasydbErrorBody;

    fn outcome(&self) -> (StatusCode, EasydbErrorBody) {
        match self {
            EasydbApiError::Api { code, description } => (
                StatusCode::BAD_REQUEST,
                EasydbErrorBody {
                    realm: EasydbRealm::Api,
                    code: code.to_string(),
                    parameters: None,
                    description: description.clone(),
                    uuid: None,
                },
            ),
            EasydbApiError::User {
                code,
                parameters,
                description,
            } => (
                StatusCode::BAD_REQUEST,
                EasydbErrorBody {
                    realm: EasydbRealm::User,
                    code: (*code).to_owned(),
                    parameters: Some(
                        parameters
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), v.clone()))
                            .collect(),
                    ),
                    description: description.clone(),
                    uuid: None,
                },
            ),
            EasydbApiError::Server { uuid, database, .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                EasydbErrorBody {
                    realm: EasydbRealm::Server,
                    code: if *database {
                        "error.server.database"
                    } else {
                        "error.server.generic"
                    }
                    .to_owned(),
                    parameters: None,
                    description: if *database {
                        "database failure".to_owned()
                    } else {
                        "internal failure".to_owned()
                    },
                    uuid: Some(uuid.to_string()),
                },
            ),
        }
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        super::family_headers()
    }
}

family_error!(EasydbApiError);
