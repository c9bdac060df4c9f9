//! The Hexoskin family (hexoskin-bundles.md): users, the account, bundles, bundle
//! permissions and e-mailed permission requests under `/api/`, with Tastypie's
//! conventions. Every call needs a Bearer credential: a Tessera OAuth2 access token of a
//! user or a Keyrock API token.

mod bundles;
mod error;
mod extract;
mod permissions;
mod requests;
mod users;
mod views;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use auth_core::principal::{self, Principal, ResolveError};
use bundle_permissions::users::Caller;
use bundle_permissions::BundleError;
use serde::Serialize;
use storage::DbConn;
use time::OffsetDateTime;

pub use error::HexoskinApiError;

use crate::app::State;
use crate::db;
use crate::http::error::render;
use crate::http::route::{self, Route};
use crate::http::HttpError;
use crate::route;

/// The resources of the family; field errors are reported under their names (§1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Account,
    Bundle,
    BundlePermission,
    BundlePermissionRequest,
}

/// The first path segments under `/api/` that belong to this family.
const SEGMENTS: [&str; 5] = [
    "user",
    "account",
    "bundle",
    "bundle_permission",
    "bundle_permission_request",
];

/// A Hexoskin route (no family facts beyond the operation).
pub type HexoskinRoute = Route<HexoskinApiError, ()>;

/// The Hexoskin route table (§1.5).
pub fn routes() -> Vec<HexoskinRoute> {
    vec![
        route!(users::list_users),
        route!(users::get_user),
        route!(users::account),
        route!(bundles::list),
        route!(bundles::create),
        route!(bundles::get),
        route!(permissions::list),
        route!(permissions::create),
        route!(permissions::get),
        route!(permissions::delete),
        route!(requests::list),
        route!(requests::create),
        route!(requests::get),
        route!(requests::redeem),
        route!(requests::delete),
    ]
}

/// Registers the routes as plain resources (no `/api` scope: KHEOPS is mounted there too).
pub fn configure(cfg: &mut web::ServiceConfig) {
    route::register(cfg, &routes(), "", "");
}

/// Whether `path` belongs to this family (for the family's own 404).
pub fn serves(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/") else {
        return false;
    };
    let first = rest.split('/').next().unwrap_or("");
    SEGMENTS.contains(&first)
}

/// Why an operation stopped: a domain outcome (reported as the resource's) or a failure
/// the edge found once the caller was known (a body that does not parse).
enum Stop {
    Domain(BundleError),
    Edge(HexoskinApiError),
}

impl From<BundleError> for Stop {
    fn from(e: BundleError) -> Self {
        Stop::Domain(e)
    }
}

impl From<HexoskinApiError> for Stop {
    fn from(e: HexoskinApiError) -> Self {
        Stop::Edge(e)
    }
}

/// The request view by id serves only GET (and HEAD) and DELETE (§2.5): any other method
/// on `/api/bundle_permission_request/<digits>` is 405 with that view's `Allow`, decided
/// from the path and method before routing and authentication (the route's own 405 would
/// name the token location's methods, PUT included).
pub async fn request_id_methods(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let served = matches!(*req.method(), Method::GET | Method::HEAD | Method::DELETE);
    let by_id = req
        .path()
        .strip_prefix("/api/bundle_permission_request/")
        .and_then(extract::path_id)
        .is_some();
    if by_id && !served {
        let mut response = render(&HexoskinApiError::from(HttpError::MethodNotAllowed));
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, DELETE"));
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Resolves the bearer credential to its user (§1.2) and runs the domain operation on one
/// pooled connection off the worker threads; the domain's errors are the `resource`'s.
async fn run<T, F>(
    state: &State,
    req: &HttpRequest,
    resource: Resource,
    f: F,
) -> Result<T, HexoskinApiError>
where
    F: FnOnce(&mut DbConn, &Caller, OffsetDateTime) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let credential = extract::bearer(req)?;
    let now = OffsetDateTime::now_utc();
    db::with_conn(&state.pool, move |conn| {
        let caller = authenticate(conn, &credential, now)?;
        f(conn, &caller, now).map_err(|stop| match stop {
            Stop::Domain(e) => HexoskinApiError::Domain(resource, e),
            Stop::Edge(e) => e,
        })
    })
    .await
}

/// The caller a credential stands for: an enabled user, else 401.
fn authenticate(
    conn: &mut DbConn,
    credential: &str,
    now: OffsetDateTime,
) -> Result<Caller, HexoskinApiError> {
    match principal::resolve(conn, credential, now) {
        Ok(resolved) => match resolved.principal {
            Principal::User(user) if user.enabled => Ok(Caller {
                keyrock_id: user.id,
                num_id: user.num_id,
                admin: user.admin,
            }),
            _ => Err(HexoskinApiError::Unauthenticated),
        },
        Err(ResolveError::Unknown | ResolveError::Expired) => {
            Err(HexoskinApiError::Unauthenticated)
        }
        Err(ResolveError::Auth(e)) => Err(HexoskinApiError::Domain(
            Resource::User,
            BundleError::Corrupt(e.to_string()),
        )),
    }
}

const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A 200 answer.
fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, JSON_UTF8))
        .json(body)
}

/// A 201 answer with `Location: <public URL><resource_uri>`.
fn created<T: Serialize>(state: &State, uri: &str, body: &T) -> HttpResponse {
    located(HttpResponse::Created(), state, uri, body)
}

/// An answer with `Location: <public URL><resource_uri>`.
fn located<T: Serialize>(
    mut builder: actix_web::HttpResponseBuilder,
    state: &State,
    uri: &str,
    body: &T,
) -> HttpResponse {
    if let Ok(location) = HeaderValue::from_str(&format!("{}{uri}", state.public_url)) {
        builder.insert_header((header::LOCATION, location));
    }
    builder
        .insert_header((header::CONTENT_TYPE, JSON_UTF8))
        .json(body)
}

/// A 204 answer.
fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}
