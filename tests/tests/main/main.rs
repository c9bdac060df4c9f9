//! Every black-box suite in one test binary (one link instead of one per suite). Each
//! module is one suite; run one with e.g. `cargo test -p tessera-tests --test main --
//! kheops_albums::`.

mod browser_flow;
mod browser_kit;
mod easydb_rights;
mod easydb_sessions;
mod easydb_system_rights;
mod easydb_wire;
mod keyrock_agents;
mod keyrock_applications;
mod keyrock_auth_tokens;
mod keyrock_authz;
mod keyrock_import;
mod keyrock_organizations;
mod keyrock_roles;
mod keyrock_users;
mod kheops_albums;
mod kheops_capabilities;
mod kheops_routes;
mod oauth_authorize;
mod oauth_client_crate;
mod oauth_discovery;
mod oauth_identity;
mod oauth_introspect;
mod oauth_revoke;
mod oauth_token;
mod oidc_relying_party;
mod openapi_kheops_schemas;
mod openapi_schemas;
mod operations;
mod pdp;
mod races;
mod rights_domain;
mod robustness;
mod user_info;
