//! `GET /user` (keyrock.md 6): token info and the policy decision, with Keyrock's bare-string
//! error bodies.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use keyrock_idm::oauth::userinfo::{
    self, AuthorizationHeader, TokenInfo, UserInfoError, UserInfoRequest,
};
use serde::Serialize;
use storage::StorageError;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::app::State;
use crate::db;
use crate::http::credentials::{self, Authorization};
use crate::http::error::{family_error, ErrorFormat};
use crate::http::params::Params;
use crate::http::HttpError;

/// A `/user` failure as Keyrock's clients see it.
#[derive(Debug, thiserror::Error)]
pub enum UserInfoApiError {
    #[error(transparent)]
    Domain(#[from] UserInfoError),
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// `/user`'s error bodies: mostly a bare JSON string, sometimes Keyrock's small object.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserInfoErrorBody {
    Bare(String),
    Object(UserInfoErrorObject),
}

/// `{"message","code","title"}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInfoErrorObject {
    pub message: &'static str,
    pub code: u16,
    pub title: &'static str,
}

impl ErrorFormat for UserInfoApiError {
    type Envelope = UserInfoErrorBody;

    fn outcome(&self) -> (StatusCode, UserInfoErrorBody) {
        use StatusCode as S;
        let bare = |status: StatusCode, m: &str| (status, UserInfoErrorBody::Bare(m.to_owned()));
        let object = |status: StatusCode, message, title| {
            (
                status,
                UserInfoErrorBody::Object(UserInfoErrorObject {
                    message,
                    code: status.as_u16(),
                    title,
                }),
            )
        };
        match self {
            UserInfoApiError::Domain(e) => match e {
                UserInfoError::Invalid(m) => bare(S::BAD_REQUEST, m),
                UserInfoError::Unauthenticated(m) => bare(S::UNAUTHORIZED, m),
                UserInfoError::TwoLevels => object(
                    S::BAD_REQUEST,
                    "Cannot handle 2 authentications levels at the same time",
                    "Bad Request",
                ),
                UserInfoError::UnknownApplication => {
                    object(S::UNAUTHORIZED, "Unauthorized", "Unauthorized")
                }
                UserInfoError::NotSupported(m) => bare(S::NOT_IMPLEMENTED, m),
                UserInfoError::Storage(StorageError::Unavailable(_)) => {
                    bare(S::SERVICE_UNAVAILABLE, "Service unavailable")
                }
                UserInfoError::Storage(_) => bare(S::INTERNAL_SERVER_ERROR, "Internal error"),
            },
            UserInfoApiError::Http(e) => match e {
                HttpError::MethodNotAllowed => bare(S::METHOD_NOT_ALLOWED, "Method not allowed"),
                HttpError::PathNotFound => bare(S::NOT_FOUND, "Path not found"),
                HttpError::PayloadTooLarge => bare(S::PAYLOAD_TOO_LARGE, "Request body too large"),
                HttpError::BodyTimeout => {
                    bare(S::REQUEST_TIMEOUT, "Request body not received in time")
                }
                HttpError::BodyUnreadable => bare(S::BAD_REQUEST, "Invalid request"),
            },
        }
    }
}

family_error!(UserInfoApiError);

impl From<StorageError> for UserInfoApiError {
    fn from(e: StorageError) -> Self {
        UserInfoApiError::Domain(UserInfoError::Storage(e))
    }
}

/// The query of `GET /user` (first occurrence of each parameter wins; empty is absent).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserInfoParams {
    /// The access token (or send `Authorization: Bearer`, not both).
    access_token: Option<String>,
    /// The application to evaluate in: the token's own, or one that trusts it.
    app_id: Option<String>,
    /// With `resource`: ask for a decision.
    action: Option<String>,
    resource: Option<String>,
    authorization_service_header: Option<String>,
    authzforce: Option<String>,
}

fn request(req: &HttpRequest) -> Result<UserInfoRequest, UserInfoApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| UserInfoError::Invalid("Invalid request: malformed query"))?;
    let params = Params::new(pairs);
    let authorization = match credentials::authorization(req) {
        Ok(None) => AuthorizationHeader::Absent,
        Ok(Some(Authorization::Bearer(token))) => AuthorizationHeader::Bearer(token),
        Ok(Some(Authorization::Basic { .. })) | Err(_) => AuthorizationHeader::Malformed,
    };
    Ok(UserInfoRequest {
        access_token: params.text("access_token"),
        authorization,
        app_id: params.text("app_id"),
        action: params.text("action"),
        resource: params.text("resource"),
        authorization_service_header: params.text("authorization_service_header"),
        authzforce: params.text("authzforce"),
    })
}

#[utoipa::path(get, path = "/user", tag = "keyrock-oauth2", operation_id = "keyrock_user_info",
    security((), ("bearer" = [])),
    params(UserInfoParams),
    responses((status = 200, description = "The token's user, IoT agent or application, with the decision when action and resource were given", body = TokenInfo),
              (status = 400, description = "Invalid request: only one authentication method is allowed; Invalid request: malformed authorization header; Cannot handle 2 authentications levels at the same time", body = UserInfoErrorBody),
              (status = 401, description = "Unauthorized request: no authentication given; Invalid token: access token is invalid / is no longer valid / has expired; User not authorized in application; Unauthorized (unknown app_id)", body = UserInfoErrorBody),
              (status = 501, description = "PDP level advanced (AuthZForce) is not supported", body = UserInfoErrorBody),
              (status = 503, description = "Service unavailable", body = UserInfoErrorBody)))]
pub async fn user_info(state: State, req: HttpRequest) -> Result<HttpResponse, UserInfoApiError> {
    let request = request(&req)?;
    let now = OffsetDateTime::now_utc();
    let level = state.settings.pdp_level;
    // A PEP proxy asks about the same token again and again: a fresh evaluation answers
    // without the blocking pool or a connection.
    let cached =
        userinfo::user_info_cached(&state.token_info, &state.patterns, level, &request, now);
    let info = match cached {
        Some(answer) => answer?,
        None => {
            let st = state.clone();
            db::with_conn(&state.pool, move |conn| {
                userinfo::user_info(conn, &st.token_info, &st.patterns, level, &request, now)
                    .map_err(UserInfoApiError::from)
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok().json(info))
}
