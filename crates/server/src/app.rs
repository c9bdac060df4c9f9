//! Wiring: the pool, the shared state, and the routes of every family on one App.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use auth_core::password::PasswordHasher;

use crate::settings::Settings;
use crate::telemetry::Metrics;
use crate::{bootstrap, easydb, hexoskin, http, keyrock, kheops, ops, telemetry};

/// What every handler can reach.
pub struct AppState {
    pub pool: storage::Pool,
    pub hasher: Arc<PasswordHasher>,
    pub settings: Settings,
    pub metrics: Metrics,
    pub started: Instant,
    /// TESSERA_PUBLIC_URL, or `http://` + the address actually bound.
    pub public_url: String,
    /// The OAuth2 lifetimes and public grants.
    pub oauth: keyrock_idm::oauth::OAuthSettings,
    /// The PDP's compiled permission patterns.
    pub patterns: keyrock_idm::oauth::pdp::PatternCache,
    /// `/user` evaluations, reused for at most one second.
    pub token_info: keyrock_idm::oauth::cache::TokenInfoCache,
    /// The RS256 server key, read or created on first use (keyrock.md 5.7).
    pub server_key: auth_core::server_key::KeyCache,
    /// The Hexoskin request e-mail's sender (SMTP or the outbox).
    pub mail: Arc<crate::mail::MailSender>,
}

pub type State = web::Data<AppState>;

/// `tessera migrate`.
pub fn migrate(settings: &Settings) -> Result<(), String> {
    let url = settings.database_url()?;
    let applied = storage::migrate(&url).map_err(|e| e.to_string())?;
    tracing::info!(count = applied.len(), "migrations applied");
    for name in applied {
        tracing::info!(migration = %name, "applied");
    }
    Ok(())
}

/// `tessera serve`: migrate, bootstrap the admin, serve until SIGTERM/SIGINT.
pub fn serve(settings: Settings) -> Result<(), String> {
    let url = settings.database_url()?;
    let addr = settings.bind_addr()?;
    let pool =
        storage::open_pool(&url, settings.pool_size(url.backend())).map_err(|e| e.to_string())?;
    let workers = settings.workers();
    // bcrypt may use every core but no more: more parallel hashes only queue in the OS.
    let hasher = Arc::new(PasswordHasher::new(settings.bcrypt_cost, workers));
    bootstrap::ensure_admin(&pool, &hasher, &settings)?;
    let listener = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let metrics = Metrics::new().map_err(|e| format!("metrics setup failed: {e}"))?;
    let public_url = match &settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{bound}"),
    };
    if settings.pdp_level == keyrock_idm::permissions::PdpLevel::Advanced {
        tracing::warn!("TESSERA_PDP_LEVEL=advanced (AuthZForce) is not supported; PDP decisions will answer 501");
    }
    let oauth = settings.oauth()?;
    let mail = Arc::new(crate::mail::MailSender::from_settings(
        &settings,
        &public_url,
    )?);
    let state_pool = pool.clone();
    let state = web::Data::new(AppState {
        oauth,
        patterns: keyrock_idm::oauth::pdp::PatternCache::new(),
        token_info: keyrock_idm::oauth::cache::TokenInfoCache::new(),
        pool,
        hasher,
        settings,
        metrics,
        started: Instant::now(),
        public_url,
        server_key: Default::default(),
        mail: mail.clone(),
    });
    tracing::info!(address = %bound, backend = ?url.backend(), workers, "tessera listening on http://{bound}");
    let purge_pool = state_pool;
    actix_web::rt::System::new().block_on(async move {
        // Installed before the listener is served: a signal that arrives as soon as the
        // server answers still stops it gracefully.
        let stop = stop_signal();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(configure)
                .wrap(from_fn(hexoskin::request_id_methods))
                .wrap(from_fn(forget_token_evaluations_after_changes))
                .wrap(from_fn(refuse_control_characters_in_path))
                .wrap(NormalizePath::new(TrailingSlash::Trim))
                .wrap(from_fn(telemetry::middleware))
        })
        .workers(workers)
        .shutdown_timeout(30)
        // Our own handler: actix stops at once on SIGINT; operations.md wants both graceful.
        .disable_signals()
        .listen(listener)
        .map_err(|e| format!("cannot serve on {bound}: {e}"))?
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(crate::mail::send_queued(purge_pool.clone(), mail));
        actix_web::rt::spawn(purge_expired_tokens(purge_pool));
        actix_web::rt::spawn(async move {
            stop.await;
            tracing::info!("stop signal received; finishing in-flight requests");
            handle.stop(true).await;
        });
        server.await.map_err(|e| format!("server failed: {e}"))
    })?;
    tracing::info!("tessera stopped");
    Ok(())
}

/// How often expired API tokens, easydb sessions, OAuth tokens a day past expiry and Hexoskin
/// requests 30 days after they settled are deleted. They are refused anyway; this only keeps the
/// table small. Every node may do it: the delete is idempotent.
const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

async fn purge_expired_tokens(pool: storage::Pool) {
    let mut interval = actix_web::rt::time::interval(PURGE_INTERVAL);
    loop {
        interval.tick().await;
        let now = time::OffsetDateTime::now_utc();
        let purged: Result<usize, storage::StorageError> =
            crate::db::with_conn(&pool, move |conn| {
                let api = auth_core::api_tokens::purge_expired(conn, now);
                // OAuth tokens and codes stay a day past expiry, so clients still hear
                // "expired" rather than "invalid" for that long.
                let oauth = auth_core::oauth::purge_expired(conn, now - time::Duration::days(1));
                let easydb = rights::sessions::purge_expired(conn, now);
                // Hexoskin requests 30 days after they were redeemed or expired.
                let requests = bundle_permissions::requests::purge_settled(conn, now);
                let other = |e: &dyn std::fmt::Display| storage::StorageError::Other(e.to_string());
                Ok(api.map_err(|e| other(&e))?
                    + oauth.map_err(|e| other(&e))?
                    + easydb.map_err(|e| other(&e))?
                    + requests.map_err(|e| other(&e))?)
            })
            .await;
        match purged {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                purged = n,
                "expired API and OAuth tokens, easydb sessions and settled Hexoskin requests deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed"),
        }
    }
}

/// Installs the SIGTERM and SIGINT handlers now; the future resolves on the first signal.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let handlers = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        match handlers {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                tracing::error!("cannot install signal handlers; stop the process with SIGKILL");
                std::future::pending::<()>().await
            }
        }
    }
}

/// Every route of the server.
pub fn configure(cfg: &mut web::ServiceConfig) {
    ops::configure(cfg);
    keyrock::configure(cfg);
    // Before KHEOPS, whose `/api` mount would otherwise take every `/api/v1/...` path and
    // every Hexoskin resource.
    easydb::configure(cfg);
    hexoskin::configure(cfg);
    kheops::configure(cfg);
    #[cfg(debug_assertions)]
    crate::test_hooks::configure(cfg);
    cfg.default_service(web::to(|req: HttpRequest| async move {
        path_not_found(req.path())
    }));
}

/// The 404 for a path no resource has, in the envelope of the family that owns the path;
/// a path no family owns answers in the always-on endpoints' `{"status"}` shape.
fn path_not_found(path: &str) -> HttpResponse {
    if easydb::serves(path) {
        http::error::not_found::<easydb::EasydbApiError>()
    } else if hexoskin::serves(path) {
        http::error::not_found::<hexoskin::HexoskinApiError>()
    } else if kheops::serves(path) {
        http::error::not_found::<kheops::KheopsApiError>()
    } else if keyrock::serves(path) {
        http::error::not_found::<keyrock::ApiError>()
    } else {
        HttpResponse::NotFound().json(serde_json::json!({"status": "not found"}))
    }
}

/// A successful change through the Keyrock management API (roles, permissions, trust,
/// users, applications, agents) may change what `/user` answers: this process forgets its
/// `/user` evaluations at once (other processes within the cache's one second).
async fn forget_token_evaluations_after_changes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let changes = !matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) && keyrock::MOUNTS.iter().any(|m| req.path().starts_with(m));
    let state = changes.then(|| req.app_data::<State>().cloned()).flatten();
    let response = next.call(req).await?;
    if let Some(state) = state {
        if response.status().is_success() {
            state.token_info.clear();
        }
    }
    Ok(response)
}

/// A path whose decoded form holds a control character names no resource (and would reach
/// the database as text PostgreSQL cannot hold): 404 in the envelope of the family that
/// owns the path, before routing and authentication.
async fn refuse_control_characters_in_path(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !http::text::path_has_control(req.uri().path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let response = path_not_found(req.path());
    Ok(req.into_response(response).map_into_right_body())
}
