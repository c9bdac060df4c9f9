//! The Keyrock family: `/v1` (and its `/v3` alias).

mod applications;
mod assignments;
mod authorize;
mod commands;
pub mod discovery;
mod error;
mod extract;
mod iot_agents;
mod oauth;
mod organizations;
mod pep_proxies;
mod roles;
mod service_providers;
mod tokens;
mod trusted_applications;
mod userinfo;
mod users;
mod views;

use actix_web::{web, HttpResponse};

pub use error::{ApiError, KeyrockErrorBody};
pub use oauth::OAuthApiError;
pub use userinfo::UserInfoApiError;

use keyrock_idm::authz::Operation;

use crate::http::route::{self, Route, RouteMeta};
use crate::route;
use extract::KeyrockCaller;

/// Where the documented routes live, and where they are mounted again.
pub const MOUNTS: [&str; 2] = ["/v1", "/v3"];

/// A Keyrock route: application-scoped routes name the authorization operation their
/// domain function checks (keyrock.md 2.3); the authorization-matrix test covers each.
pub type KeyrockRoute = Route<ApiError, Option<Operation>>;

/// The Keyrock route table: every route once, in registration order. It drives
/// `configure`, `/openapi.json` and the `/v3` alias.
pub fn routes() -> Vec<KeyrockRoute> {
    use Operation as Op;
    let app = |op| Some(op);
    vec![
        route!(index, None),
        route!(tokens::create, None),
        route!(tokens::inspect, None),
        route!(tokens::delete, None),
        route!(applications::list, None),
        route!(applications::create, None),
        route!(applications::get, app(Op::ReadApplication)),
        route!(applications::update, app(Op::UpdateApplication)),
        route!(applications::delete, app(Op::DeleteApplication)),
        route!(applications::reset_secret, app(Op::ResetSecret)),
        route!(assignments::list_users, app(Op::AssignRoles)),
        route!(assignments::list_user_roles, app(Op::AssignRoles)),
        route!(assignments::assign_user_role, app(Op::AssignRoles)),
        route!(assignments::remove_user_role, app(Op::AssignRoles)),
        route!(assignments::list_organizations, app(Op::AssignRoles)),
        route!(assignments::list_organization_roles, app(Op::AssignRoles)),
        route!(assignments::assign_organization_role, app(Op::AssignRoles)),
        route!(assignments::remove_organization_role, app(Op::AssignRoles)),
        route!(pep_proxies::get_pep_proxy, app(Op::ManagePepProxy)),
        route!(pep_proxies::create_pep_proxy, app(Op::ManagePepProxy)),
        route!(pep_proxies::reset_pep_proxy, app(Op::ManagePepProxy)),
        route!(pep_proxies::delete_pep_proxy, app(Op::ManagePepProxy)),
        route!(iot_agents::list_iot_agents, app(Op::ManageIotAgents)),
        route!(iot_agents::create_iot_agent, app(Op::ManageIotAgents)),
        route!(iot_agents::get_iot_agent, app(Op::ManageIotAgents)),
        route!(iot_agents::reset_iot_agent, app(Op::ManageIotAgents)),
        route!(iot_agents::delete_iot_agent, app(Op::ManageIotAgents)),
        route!(
            trusted_applications::list_trusted_applications,
            app(Op::ManageTrustedApplications)
        ),
        route!(
            trusted_applications::add_trusted_application,
            app(Op::ManageTrustedApplications)
        ),
        route!(
            trusted_applications::remove_trusted_application,
            app(Op::ManageTrustedApplications)
        ),
        route!(roles::list_roles, app(Op::ListRoles)),
        route!(roles::create_role, app(Op::ManageRoles)),
        route!(roles::get_role, app(Op::ManageRoles)),
        route!(roles::update_role, app(Op::ManageRoles)),
        route!(roles::delete_role, app(Op::ManageRoles)),
        route!(roles::list_role_permissions, app(Op::ManageRolePermissions)),
        route!(roles::link_permission, app(Op::ManageRolePermissions)),
        route!(roles::unlink_permission, app(Op::ManageRolePermissions)),
        route!(roles::list_permissions, app(Op::ManagePermissions)),
        route!(roles::create_permission, app(Op::ManagePermissions)),
        route!(roles::get_permission, app(Op::ManagePermissions)),
        route!(roles::update_permission, app(Op::ManagePermissions)),
        route!(roles::delete_permission, app(Op::ManagePermissions)),
        route!(organizations::list, None),
        route!(organizations::create, None),
        route!(organizations::get, None),
        route!(organizations::update, None),
        route!(organizations::delete, None),
        route!(organizations::members, None),
        route!(organizations::member_role, None),
        route!(organizations::set_member_role, None),
        route!(organizations::remove_member_role, None),
        route!(service_providers::service_provider_configs, None),
        route!(users::list, None),
        route!(users::create, None),
        route!(users::get, None),
        route!(users::update, None),
        route!(users::delete, None),
    ]
}

/// The OAuth2 endpoints under `/oauth2` (keyrock.md 5), in RFC 6749's wire format.
pub fn oauth_routes() -> Vec<Route<OAuthApiError, ()>> {
    vec![
        route!(oauth::token),
        route!(oauth::revoke),
        route!(oauth::introspect),
    ]
}

/// The OAuth2 browser flow (keyrock.md 5.3): pages, forms and the stylesheet, whose errors
/// are HTML pages.
pub fn browser_routes() -> Vec<Route<authorize::BrowserError, ()>> {
    vec![
        route!(authorize::authorize_page),
        route!(authorize::login),
        route!(authorize::enable_app),
        route!(authorize::stylesheet),
        route!(authorize::logout),
    ]
}

/// Where the OAuth2 routes are mounted.
pub const OAUTH_MOUNT: &str = "/oauth2";

/// `GET /user` (keyrock.md 6), with Keyrock's bare-string errors.
pub fn user_routes() -> Vec<Route<UserInfoApiError, ()>> {
    vec![route!(userinfo::user_info)]
}

/// Routes of `/v1`, mounted again at `/v3`, then `/user` and `/oauth2`. Unknown paths fall
/// to the App's per-family 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let table = routes();
    for mount in MOUNTS {
        route::register(cfg, &table, MOUNTS[0], mount);
    }
    route::register(cfg, &user_routes(), "", "");
    // Before the `/oauth2` scope, which would otherwise take their paths.
    route::register(cfg, &browser_routes(), "", "");
    route::register(cfg, &oauth_routes(), OAUTH_MOUNT, OAUTH_MOUNT);
    route::register(cfg, &discovery::routes(), "", "");
}

#[cfg(test)]
mod tests {
    #[test]
    fn application_routes_and_only_they_name_an_authorization_operation() {
        for route in super::routes() {
            let scoped = route.path.starts_with("/v1/applications/{application_id}");
            assert_eq!(route.meta.is_some(), scoped, "{}", route.path);
        }
    }
}

/// The authorization operation of an application-scoped route, shown in `/openapi.json`
/// as `x-tessera-authorization` (the authorization-matrix test reads it).
impl RouteMeta for Option<Operation> {
    fn document(&self, operation: &mut utoipa::openapi::path::Operation) {
        if let Some(op) = self {
            let extensions = operation.extensions.get_or_insert_with(Default::default);
            extensions.insert(
                "x-tessera-authorization".to_owned(),
                serde_json::Value::String(format!("{op:?}")),
            );
        }
    }
}

/// Whether `path` belongs to this family (for the family's own 404).
pub fn serves(path: &str) -> bool {
    let first = path.split('/').find(|s| !s.is_empty()).unwrap_or("");
    let mounted = MOUNTS.iter().any(|m| m.trim_start_matches('/') == first);
    // `/oauth2` and `/user` are its OAuth2 side, `/.well-known` and `/idm` its discovery
    // routes, `/auth` its browser logout.
    mounted || ["oauth2", "user", ".well-known", "idm", "auth"].contains(&first)
}

/// The links of `GET /v1`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiIndex {
    auth_url: &'static str,
    access_tokens_url: &'static str,
    applications_url: &'static str,
    organizations_url: &'static str,
    service_providers_url: &'static str,
    users_url: &'static str,
}

#[utoipa::path(get, path = "/v1", tag = "keyrock", operation_id = "keyrock_index",
    security(("x_auth_token" = [])),
    responses((status = 200, description = "Links to the API's collections", body = ApiIndex),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
async fn index(_caller: KeyrockCaller) -> HttpResponse {
    views::ok(&ApiIndex {
        auth_url: "/v1/auth",
        access_tokens_url: "/v1/access-tokens",
        applications_url: "/v1/applications",
        organizations_url: "/v1/organizations",
        service_providers_url: "/v1/service_providers",
        users_url: "/v1/users",
    })
}
