//! The always-on endpoints of operations.md.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::{OpenApi, ToSchema};

use crate::app::State;
use crate::db;
use crate::http::route::{self, Route};
use crate::keyrock::ApiError;
use crate::route;

/// The always-on routes; their 405 answers in the Keyrock envelope.
pub fn routes() -> Vec<Route<ApiError, ()>> {
    vec![
        route!(health),
        route!(ready),
        route!(version),
        route!(metrics),
        route!(openapi),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    route::register(cfg, &routes(), "", "");
}

/// `/health`: always `ok` while the process runs.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

/// The `/health` body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthBody {
    pub status: HealthStatus,
}

/// `/ready`: `ready` (200) or `unavailable` (503).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ready,
    Unavailable,
}

/// The `/ready` body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadyBody {
    pub status: ReadyStatus,
}

/// The `/version` body: Keyrock's version document plus Tessera's own. Fields in
/// alphabetical order, as the body had when it was built as a `serde_json` map.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    pub keyrock: VersionKeyrock,
    pub tessera: VersionTessera,
}

/// Keyrock's `/version` document, the shape its clients parse.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionKeyrock {
    pub api: VersionApi,
    /// Where the API is described: this server's `/openapi.json`.
    pub doc: String,
    /// Always null: no git hash is built in.
    #[schema(required = true)]
    pub git_hash: Option<String>,
    #[schema(example = "2026-11-22")]
    pub release_date: String,
    /// `DDd HHh MMm SSs` since the server started.
    #[schema(example = "00d 01h 02m 03s")]
    pub uptime: String,
    /// The Keyrock version Tessera answers as.
    #[schema(example = "8.4.0")]
    pub version: String,
}

/// The Keyrock API version and where it is served.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionApi {
    pub link: String,
    #[schema(example = "v1")]
    pub version: String,
}

/// Tessera's own version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionTessera {
    pub version: String,
}

#[utoipa::path(get, path = "/health", tag = "operations", operation_id = "ops_health",
    responses((status = 200, description = "The process runs", body = HealthBody, example = json!({"status":"ok"}))))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthBody {
        status: HealthStatus::Ok,
    })
}

#[utoipa::path(get, path = "/ready", tag = "operations", operation_id = "ops_ready",
    responses((status = 200, description = "The database answers", body = ReadyBody, example = json!({"status":"ready"})),
              (status = 503, description = "The database does not answer", body = ReadyBody, example = json!({"status":"unavailable"}))))]
pub async fn ready(state: State) -> HttpResponse {
    let pool = state.pool.clone();
    let ok = db::blocking(move || Ok::<_, storage::StorageError>(pool.is_ready()))
        .await
        .unwrap_or(false);
    if ok {
        HttpResponse::Ok().json(ReadyBody {
            status: ReadyStatus::Ready,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(ReadyBody {
            status: ReadyStatus::Unavailable,
        })
    }
}

/// The Keyrock version Tessera answers as (its /version shape is what clients parse).
const KEYROCK_COMPAT_VERSION: &str = "8.4.0";

#[utoipa::path(get, path = "/version", tag = "operations", operation_id = "ops_version",
    responses((status = 200, description = "Keyrock's version document plus Tessera's own", body = VersionBody)))]
pub async fn version(state: State) -> HttpResponse {
    let uptime = state.started.elapsed().as_secs();
    let uptime = format!(
        "{:02}d {:02}h {:02}m {:02}s",
        uptime / 86_400,
        (uptime % 86_400) / 3_600,
        (uptime % 3_600) / 60,
        uptime % 60
    );
    let base = &state.public_url;
    HttpResponse::Ok().json(VersionBody {
        keyrock: VersionKeyrock {
            api: VersionApi {
                link: format!("{base}/v1"),
                version: "v1".to_owned(),
            },
            doc: format!("{base}/openapi.json"),
            git_hash: None,
            release_date: "2026-11-22".to_owned(),
            uptime,
            version: KEYROCK_COMPAT_VERSION.to_owned(),
        },
        tessera: VersionTessera {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    })
}

#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "ops_metrics",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
               content_type = "text/plain; version=0.0.4; charset=utf-8")))]
pub async fn metrics(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "ops_openapi",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object)))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// Declares the `X-Auth-Token` scheme the Keyrock routes refer to.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "x_auth_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "Keyrock API token from POST /v1/auth/tokens (Authorization: Bearer also works)",
            ))),
        );
        // KHEOPS: a user credential or a capability secret, as Bearer or as Basic password.
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(utoipa::openapi::security::Http::new(
                utoipa::openapi::security::HttpAuthScheme::Bearer,
            )),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(utoipa::openapi::security::Http::new(
                utoipa::openapi::security::HttpAuthScheme::Basic,
            )),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera",
        description = "One identity store serving the Keyrock, KHEOPS, easydb and Hexoskin APIs."
    ),
    tags(
        (name = "operations", description = "Always-on endpoints (operations.md)"),
        (name = "keyrock", description = "FIWARE Keyrock IdM API v1 (also served at /v3)"),
        (name = "kheops", description = "KHEOPS albums and capability tokens (also served under /api)"),
        (name = "easydb", description = "easydb sessions, rights catalog, presets and system rights"),
        (name = "hexoskin", description = "Hexoskin users, bundles, bundle permissions and e-mailed permission requests (a request path without its final slash is served the same)"),
    )
)]
struct ApiDoc;

/// Adds a route table to the document at its documented mount (`from`), then a copy at
/// each alias mount with operation ids suffixed by the mount.
fn add_table<E: 'static, M: route::RouteMeta>(
    doc: &mut utoipa::openapi::OpenApi,
    table: &[Route<E, M>],
    from: &str,
    aliases: &[(&str, &str)],
) {
    let mut paths = utoipa::openapi::path::Paths::new();
    let mut schemas = Vec::new();
    for r in table {
        paths.add_path_operation(&r.path, r.doc_methods(), r.operation());
        r.schemas(&mut schemas);
    }
    for item in paths.paths.values_mut() {
        name_post_twins(item);
    }
    let copies: Vec<(String, PathItem)> = aliases
        .iter()
        .flat_map(|(mount, suffix)| {
            paths
                .paths
                .iter()
                .map(move |(path, item)| (route::mounted(path, from, mount), alias(item, suffix)))
        })
        .collect();
    doc.paths.paths.extend(paths.paths);
    doc.paths.paths.extend(copies);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
}

/// The OpenAPI document, built from the route tables: every route, with the `/v3` and
/// `/api` aliases.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    add_table(&mut doc, &routes(), "", &[]);
    add_table(
        &mut doc,
        &crate::keyrock::routes(),
        crate::keyrock::MOUNTS[0],
        &[(crate::keyrock::MOUNTS[1], "_v3")],
    );
    add_table(&mut doc, &crate::keyrock::user_routes(), "", &[]);
    add_table(&mut doc, &crate::keyrock::oauth_routes(), "", &[]);
    add_table(&mut doc, &crate::keyrock::browser_routes(), "", &[]);
    add_table(&mut doc, &crate::keyrock::discovery::routes(), "", &[]);
    add_table(&mut doc, &crate::kheops::routes(), "", &[("/api", "_api")]);
    add_table(&mut doc, &crate::easydb::routes(), "", &[]);
    add_table(&mut doc, &crate::hexoskin::routes(), "", &[]);
    utoipa::Modify::modify(&SecuritySchemes, &mut doc);
    doc
}

/// The operations of a path item, whatever their method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.patch,
        &mut item.delete,
        &mut item.head,
        &mut item.options,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// A copy of `item` at an alias mount, its operation ids suffixed with the mount
/// (`keyrock_list_users_v3`, `kheops_list_albums_api`), so every id names one operation.
fn alias(item: &PathItem, suffix: &str) -> PathItem {
    let mut copy = item.clone();
    for operation in operations(&mut copy) {
        if let Some(id) = operation.operation_id.as_mut() {
            id.push_str(suffix);
        }
    }
    copy
}

/// Where Keyrock accepts POST as a deprecated twin of PUT, both come from one annotation;
/// the POST operation's id gets `_post`.
fn name_post_twins(item: &mut PathItem) {
    let put_id = item.put.as_ref().and_then(|op| op.operation_id.clone());
    if let Some(id) = item.post.as_mut().and_then(|op| op.operation_id.as_mut()) {
        if put_id.as_ref() == Some(id) {
            id.push_str("_post");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The checked-in snapshot of `/openapi.json`: every change to the API shows in review.
    fn snapshot_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
    }

    #[test]
    fn the_openapi_document_matches_its_checked_in_snapshot() {
        let mut rendered = serde_json::to_string_pretty(&super::document()).unwrap();
        rendered.push('\n');
        let path = snapshot_path();
        if std::env::var("TESSERA_BLESS").as_deref() == Ok("1") {
            std::fs::write(&path, &rendered).unwrap();
            return;
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            stored == rendered,
            "/openapi.json differs from docs/openapi.json; review the change, then run \
             `TESSERA_BLESS=1 cargo test -p tessera-server openapi` to accept it"
        );
    }
}
