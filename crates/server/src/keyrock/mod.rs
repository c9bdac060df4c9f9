//! The Keyrock family: `/v1` (and its `/v3` alias).

mod agents;
mod applications;
mod assignments;
mod error;
mod extract;
mod organizations;
mod roles;
mod tokens;
mod users;
mod views;

use actix_web::{web, HttpResponse};
use serde_json::json;

pub use error::ApiError;
use extract::KeyrockCaller;

/// Routes of `/v1`, mounted again at `/v3`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in ["/v1", "/v3"] {
        cfg.service(
            web::scope(prefix)
                .service(resource("").route(web::get().to(index)))
                .service(
                    resource("/auth/tokens")
                        .route(web::post().to(tokens::create))
                        .route(web::get().to(tokens::inspect))
                        .route(web::delete().to(tokens::delete)),
                )
                .service(
                    resource("/applications")
                        .route(web::get().to(applications::list))
                        .route(web::post().to(applications::create)),
                )
                .service(
                    resource("/applications/{application_id}")
                        .route(web::get().to(applications::get))
                        .route(web::patch().to(applications::update))
                        .route(web::delete().to(applications::delete)),
                )
                .service(
                    resource("/applications/{application_id}/reset_secret")
                        .route(web::post().to(applications::reset_secret)),
                )
                .service(
                    resource("/applications/{application_id}/users")
                        .route(web::get().to(assignments::list_users)),
                )
                .service(
                    resource("/applications/{application_id}/users/{user_id}/roles")
                        .route(web::get().to(assignments::list_user_roles)),
                )
                .service(
                    resource("/applications/{application_id}/users/{user_id}/roles/{role_id}")
                        .route(web::put().to(assignments::assign_user_role))
                        .route(web::post().to(assignments::assign_user_role))
                        .route(web::delete().to(assignments::remove_user_role)),
                )
                .service(
                    resource("/applications/{application_id}/organizations")
                        .route(web::get().to(assignments::list_organizations)),
                )
                .service(
                    resource("/applications/{application_id}/organizations/{organization_id}/roles")
                        .route(web::get().to(assignments::list_organization_roles)),
                )
                .service(
                    resource("/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}")
                        .route(web::put().to(assignments::assign_organization_role))
                        .route(web::post().to(assignments::assign_organization_role))
                        .route(web::delete().to(assignments::remove_organization_role)),
                )
                .service(
                    resource("/applications/{application_id}/pep_proxies")
                        .route(web::get().to(agents::get_pep_proxy))
                        .route(web::post().to(agents::create_pep_proxy))
                        .route(web::patch().to(agents::reset_pep_proxy))
                        .route(web::delete().to(agents::delete_pep_proxy)),
                )
                .service(
                    resource("/applications/{application_id}/iot_agents")
                        .route(web::get().to(agents::list_iot_agents))
                        .route(web::post().to(agents::create_iot_agent)),
                )
                .service(
                    resource("/applications/{application_id}/iot_agents/{iot_agent_id}")
                        .route(web::get().to(agents::get_iot_agent))
                        .route(web::patch().to(agents::reset_iot_agent))
                        .route(web::delete().to(agents::delete_iot_agent)),
                )
                .service(
                    resource("/applications/{application_id}/trusted_applications")
                        .route(web::get().to(agents::list_trusted_applications)),
                )
                .service(
                    resource("/applications/{application_id}/trusted_applications/{trusted_application_id}")
                        .route(web::put().to(agents::add_trusted_application))
                        .route(web::post().to(agents::add_trusted_application))
                        .route(web::delete().to(agents::remove_trusted_application)),
                )
                .service(
                    resource("/applications/{application_id}/roles")
                        .route(web::get().to(roles::list_roles))
                        .route(web::post().to(roles::create_role)),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}")
                        .route(web::get().to(roles::get_role))
                        .route(web::patch().to(roles::update_role))
                        .route(web::delete().to(roles::delete_role)),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}/permissions")
                        .route(web::get().to(roles::list_role_permissions)),
                )
                .service(
                    resource("/applications/{application_id}/roles/{role_id}/permissions/{permission_id}")
                        .route(web::put().to(roles::link_permission))
                        .route(web::post().to(roles::link_permission))
                        .route(web::delete().to(roles::unlink_permission)),
                )
                .service(
                    resource("/applications/{application_id}/permissions")
                        .route(web::get().to(roles::list_permissions))
                        .route(web::post().to(roles::create_permission)),
                )
                .service(
                    resource("/applications/{application_id}/permissions/{permission_id}")
                        .route(web::get().to(roles::get_permission))
                        .route(web::patch().to(roles::update_permission))
                        .route(web::delete().to(roles::delete_permission)),
                )
                // Further application-scoped routes are registered here.
                .service(
                    resource("/organizations")
                        .route(web::get().to(organizations::list))
                        .route(web::post().to(organizations::create)),
                )
                .service(
                    resource("/organizations/{organization_id}")
                        .route(web::get().to(organizations::get))
                        .route(web::patch().to(organizations::update))
                        .route(web::delete().to(organizations::delete)),
                )
                .service(
                    resource("/organizations/{organization_id}/users")
                        .route(web::get().to(organizations::members)),
                )
                .service(
                    resource("/organizations/{organization_id}/users/{user_id}/organization_roles")
                        .route(web::get().to(organizations::member_role)),
                )
                .service(
                    resource("/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}")
                        .route(web::put().to(organizations::set_member_role))
                        .route(web::post().to(organizations::set_member_role))
                        .route(web::delete().to(organizations::remove_member_role)),
                )
                .service(
                    resource("/service_providers/configs")
                        .route(web::get().to(agents::service_provider_configs)),
                )
                .service(
                    resource("/users")
                        .route(web::get().to(users::list))
                        .route(web::post().to(users::create)),
                )
                .service(
                    resource("/users/{user_id}")
                        .route(web::get().to(users::get))
                        .route(web::patch().to(users::update))
                        .route(web::delete().to(users::delete)),
                )
                .default_service(web::to(path_not_found)),
        );
    }
}

/// A resource whose unserved methods answer 405 in the Keyrock envelope.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub async fn path_not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::PathNotFound)
}

async fn method_not_allowed() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed)
}

#[utoipa::path(get, path = "/v1", tag = "keyrock",
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
        agents::get_pep_proxy, agents::create_pep_proxy, agents::reset_pep_proxy,
        agents::delete_pep_proxy, agents::list_iot_agents, agents::create_iot_agent,
        agents::get_iot_agent, agents::reset_iot_agent, agents::delete_iot_agent,
        agents::list_trusted_applications, agents::add_trusted_application,
        agents::remove_trusted_application, agents::service_provider_configs,
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
