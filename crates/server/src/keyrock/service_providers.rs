//! The service provider configuration (keyrock.md 4.13).

use actix_web::HttpResponse;
use keyrock_idm::service_providers;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::extract::KeyrockCaller;
use super::views::ok;
use super::ApiError;
use crate::app::State;
use crate::db;

/// The counts of `GET /v1/service_providers/configs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceProviderInformation {
    pub total_users: i64,
    pub total_organizations: i64,
    /// Every application, the internal `idm_admin_app` included (as Keyrock counts).
    pub total_applications: i64,
}

/// `GET /v1/service_providers/configs`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceProviderConfigs {
    pub information: ServiceProviderInformation,
}

#[utoipa::path(get, path = "/v1/service_providers/configs", tag = "keyrock", operation_id = "keyrock_get_service_provider_configs", security(("x_auth_token" = [])),
    responses((status = 200, description = "{\"information\":{\"total_users\",\"total_organizations\",\"total_applications\"}} (idm_admin_app counted)", body = ServiceProviderConfigs),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn service_provider_configs(
    state: State,
    caller: KeyrockCaller,
) -> Result<HttpResponse, ApiError> {
    let info = db::with_conn(&state.pool, move |conn| {
        service_providers::configs(conn, &caller.0)
    })
    .await?;
    Ok(ok(&ServiceProviderConfigs {
        information: ServiceProviderInformation {
            total_users: info.total_users,
            total_organizations: info.total_organizations,
            total_applications: info.total_applications,
        },
    }))
}
