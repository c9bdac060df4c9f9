//! The service provider configuration (keyrock.md 4.13).

use actix_web::HttpResponse;
use keyrock_idm::service_providers;
use serde_json::json;

use super::extract::KeyrockCaller;
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/service_providers/configs", tag = "keyrock", operation_id = "keyrock_get_service_provider_configs", security(("x_auth_token" = [])),
    responses((status = 200, description = "{\"information\":{\"total_users\",\"total_organizations\",\"total_applications\"}} (idm_admin_app counted)", body = Object),
              (status = 403, description = "User not authorized to perform action")))]
pub async fn service_provider_configs(
    state: State,
    caller: KeyrockCaller,
) -> Result<HttpResponse, ApiError> {
    let info = db::with_conn(&state.pool, move |conn| {
        service_providers::configs(conn, &caller.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "information": {
            "total_users": info.total_users,
            "total_organizations": info.total_organizations,
            "total_applications": info.total_applications,
        }
    })))
}
