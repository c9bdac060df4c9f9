//! The Keyrock family: `/v1` (and its `/v3` alias).

mod applications;
mod assignments;
mod commands;
mod error;
mod extract;
mod iot_agents;
mod organizations;
mod pep_proxies;
mod roles;
mod service_providers;
mod tokens;
mod trusted_applications;
mod users;
mod views;

use actix_web::{web, HttpResponse};
use serde_json::json;

pub use error::ApiError;

use crate::http;
use crate::http::route::{self, Res};
use extract::KeyrockCaller;

/// Routes of `/v1`, mounted again at `/v3`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/v1", "/v3"] {
        cfg.service(
            web::scope(prefix)
                .service(resource("").get(index))
                .service(
                    resource("/auth/tokens")
                        .post(tokens::create)
                        .get(tokens::inspect)
                        .delete(tokens::delete),
                )
                .service(
                    resource("/applications")
                        .get(applications::list)
                        .post(applications::create),
                )
                .service(
                    resource("/applications/{application_id}")
                        .get(applications::get)
                        .patch(applications::update)
                        .delete(applications::delete),
                )
                .service(
                    resource("/applications/{application_id}/reset_secret")
                        .post(applications::reset_secret),
                )
                .service(
                    resource("/applications/{application_id}/users")
                        .get(assignments::list_users),
                )
                .service(
                    resource("/applications/{application_id}/users/{user_id}/roles")
                        .get(assignments::list_user_roles),
                )
                .service(
                    resource("/applications/{application_id}/users/{user_id}/roles/{role_id}")
                        .put(assignments::assign_user_role)
                        .post(assignments::assign_user_role)
                        .delete(assignments::remove_user_role),
                )
                .service(
                    resource("/applications/{application_id}/organizations")
                        .get(assignments::list_organizations),
                )
                .service(
                    resource("/applications/{application_id}/organizations/{organization_id}/roles")
                        .get(assignments::list_organization_roles),
                )
                .service(
                    resource("/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}")
                        .put(assignments::assign_organization_role)
                        .post(assignments::assign_organization_role)
                        .delete(assignments::remove_organization_role),
                )
                .service(
                    resource("/applications/{application_id}/pep_proxies")
                        .get(pep_proxies::get_pep_proxy)
                        .post(pep_proxies::create_pep_proxy)
                        .patch(pep_proxies::reset_pep_proxy)
                        .delete(pep_proxies::delete_pep_proxy),
                )
                .service(
                    resource("/applications/{application_id}/iot_agents")
                        .get(iot_agents::list_iot_agents)
                        .post(iot_agents::create_iot_agent),
                )
                .service(
                    resource("/applications/{application_id}/iot_agents/{iot_agent_id}")
                        .get(iot_agents::get_iot_agent)
                        .patch(iot_agents::reset_iot_agent)
                        .delete(iot_agents::delete_iot_agent),
                )
                .service(
                    resource("/applications/{application_id}/trusted_applications")
                        .get(trusted_applications::list_trusted_applications),
                )
                .service(
                    resource("/applications/{application_id}/trusted_applications/{trusted_application_id}")
                        .put(trusted_applications::add_trusted_application)
                        .post(trusted_applications::add_trusted_application)
                        .delete(trusted_applications::remove_trusted_application),
                )
                .service(
                    resource("/applications/{application_id}/roles")
                        .get(roles::list_roles)
                        .post(roles::create_role),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}")
                        .get(roles::get_role)
                        .patch(roles::update_role)
                        .delete(roles::delete_role),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}/permissions")
                        .get(roles::list_role_permissions),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}/permissions/{permission_id}")
                        .put(roles::link_permission)
                        .post(roles::link_permission)
                        .delete(roles::unlink_permission),
                )
                .service(
                    resource("/applications/{application_id}/permissions")
                        .get(roles::list_permissions)
                        .post(roles::create_permission),
                )
                .service(
                    resource("/applications/{application_id}/permissions/{permission_id}")
                        .get(roles::get_permission)
                        .patch(roles::update_permission)
                        .delete(roles::delete_permission),
                )
                // Further application-scoped routes are registered here.
                .service(
                    resource("/organizations")
                        .get(organizations::list)
                        .post(organizations::create),
                )
                .service(
                    resource("/organizations/{organization_id}")
                        .get(organizations::get)
                        .patch(organizations::update)
                        .delete(organizations::delete),
                )
                .service(
                    resource("/organizations/{organization_id}/users")
                        .get(organizations::members),
                )
                .service(
                    resource("/organizations/{organization_id}/users/{user_id}/organization_roles")
                        .get(organizations::member_role),
                )
                .service(
                    resource("/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}")
                        .put(organizations::set_member_role)
                        .post(organizations::set_member_role)
                        .delete(organizations::remove_member_role),
                )
                .service(
                    resource("/service_providers/configs")
                        .get(service_providers::service_provider_configs),
                )
                .service(
                    resource("/users")
                        .get(users::list)
                        .post(users::create),
                )
                .service(
                    resource("/users/{user_id}")
                        .get(users::get)
                        .patch(users::update)
                        .delete(users::delete),
                )
                .default_service(web::to(path_not_found)),
        );
    }
}

/// A resource whose unserved methods answer 405 (with `Allow`) in the Keyrock envelope.
pub fn resource(path: &str) -> Res<ApiError> {
    route::resource(path)
}

async fn path_not_found() -> HttpResponse {
    http::error::not_found::<ApiError>()
}

/// Whether `path` belongs to this family (for the family's own 404).
pub fn serves(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ["v1", "v3", "oauth2", "user"].contains(&first)
}

#[utoipa::path(get, path = "/v1", tag = "keyrock", operation_id = "keyrock_index",
    security(("x_auth_token" = [])),
    responses((status = 200, description = "Links to the API's collections", body = Object)))]
async fn index(_caller: KeyrockCaller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "auth_url": "/v1/auth",
        "access_tokens_url": "/v1/access-tokens",
        "applications_url": "/v1/applications",
        "organizations_url": "/v1/organizations",
        "service_providers_url": "/v1/service_providers",
        "users_url": "/v1/users",
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        index,
        tokens::create, tokens::inspect, tokens::delete,
        users::list, users::create, users::get, users::update, users::delete,
        applications::list, applications::create, applications::get, applications::update,
        applications::delete, applications::reset_secret,
        roles::list_roles, roles::create_role, roles::get_role, roles::update_role,
        roles::delete_role, roles::list_role_permissions, roles::link_permission,
        roles::unlink_permission, roles::list_permissions, roles::create_permission,
        roles::get_permission, roles::update_permission, roles::delete_permission,
        pep_proxies::get_pep_proxy, pep_proxies::create_pep_proxy, pep_proxies::reset_pep_proxy,
        pep_proxies::delete_pep_proxy, iot_agents::list_iot_agents, iot_agents::create_iot_agent,
        iot_agents::get_iot_agent, iot_agents::reset_iot_agent, iot_agents::delete_iot_agent,
        trusted_applications::list_trusted_applications, trusted_applications::add_trusted_application,
        trusted_applications::remove_trusted_application, service_providers::service_provider_configs,
        assignments::list_users, assignments::list_user_roles, assignments::assign_user_role,
        assignments::remove_user_role, assignments::list_organizations,
        assignments::list_organization_roles, assignments::assign_organization_role,
        assignments::remove_organization_role,
        organizations::list, organizations::create, organizations::get, organizations::update,
        organizations::delete, organizations::members, organizations::member_role,
        organizations::set_member_role, organizations::remove_member_role,
    ),
    tags((name = "keyrock", description = "FIWARE Keyrock IdM API v1 (also served at /v3)")),
)]
pub struct KeyrockApi;
