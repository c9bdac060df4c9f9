//! Keyrock's request rules (keyrock.md 1.2), in their order: Content-Type, token, PEP
//! proxy, then the JSON body.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use auth_core::principal::UserPrincipal;
use keyrock_idm::KeyrockError;
use serde_json::Value;

use super::ApiError;
use crate::app::AppState;
use crate::db;
use crate::http::credentials;
use crate::http::text::{self, DecodeError};
use crate::http::{body, media};

/// The authenticated user behind a `/v1` call.
pub struct KeyrockCaller(pub UserPrincipal);

/// The caller's API token: `Authorization: Bearer <token>` if present, else `X-Auth-Token`.
pub fn caller_token(req: &HttpRequest) -> Option<String> {
    let bearer = credentials::authorization(req)
        .ok()
        .flatten()
        .and_then(|a| a.bearer().map(str::to_owned));
    bearer.or_else(|| credentials::header_text(req, "x-auth-token"))
}

impl FromRequest for KeyrockCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let needs_json = matches!(*req.method(), Method::POST | Method::PATCH | Method::PUT);
        let content_type_ok = !needs_json || media::content_type_is(req, &mime::APPLICATION_JSON);
        let token = caller_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            if !content_type_ok {
                return Err(KeyrockError::Invalid(
                    "Missing parameter: header Content-Type: application/json",
                )
                .into());
            }
            let state = state.ok_or(KeyrockError::Internal("no app state".to_owned()))?;
            let now = time::OffsetDateTime::now_utc();
            let user = db::with_conn(&state.pool, move |conn| {
                keyrock_idm::caller::authenticate(conn, token.as_deref(), now)
            })
            .await?;
            Ok(KeyrockCaller(user))
        })
    }
}

/// The raw request body, read by the kit's bounded reader. Extraction never fails, so
/// the handler decides when a too-large, late or malformed body is reported: after
/// authentication.
pub struct RawBody(Result<web::Bytes, ApiError>);

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            Ok(RawBody(
                body::read(&req, payload).await.map_err(ApiError::from),
            ))
        })
    }
}

impl RawBody {
    pub fn bytes(self) -> Result<web::Bytes, ApiError> {
        self.0
    }

    /// The body as JSON; an empty body is `{}` (Keyrock clients send bodiless POSTs).
    pub fn json(self) -> Result<Value, ApiError> {
        let bytes = self.0?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        text::json(&bytes).map_err(|e| {
            KeyrockError::Invalid(match e {
                DecodeError::Malformed => "Malformed JSON body",
                DecodeError::ControlCharacter { .. } => {
                    "Control characters are not allowed in the JSON body"
                }
            })
            .into()
        })
    }
}
