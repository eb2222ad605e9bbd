//! cutover's HTTP service. [`Application::build`] opens the store, makes sure a first
//! token exists and binds the listener; [`Application::run_until`] serves (through
//! [`transport`]) until its signal, then lets in-flight requests finish.

pub mod api;
pub mod cache;
pub mod config;
pub mod http;
pub mod openapi;
mod start_error;
pub mod state;
pub mod telemetry;
pub mod transport;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use cutover_domain::TokenId;
use cutover_domain::permission::Role;
use cutover_domain::token::{
    BOOTSTRAP_ACTOR, BOOTSTRAP_TOKEN_NAME, NewToken, digest_secret, display_prefix, generate_secret,
};
use cutover_store::{Bootstrap, BootstrapState, Store, TokenToStore};
use cutover_store_postgres::{PostgresOptions, PostgresStore};
use cutover_store_sqlite::{SqliteOptions, SqliteStore};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::ServeConfig;
pub use start_error::StartError;

use crate::cache::CachedStore;
use crate::config::Database;

use crate::http::large_bodies::LargeBodyLane;
use crate::http::limiter::{AuthFailureLimiter, RateLimiter};
use crate::http::middleware;
use crate::http::pagination::CursorCodec;
use crate::state::AppState;

/// Opens the store named by `database_url` (migrating it).
pub async fn open_store(config: &ServeConfig) -> Result<Arc<dyn Store>, StartError> {
    match Database::from_url(&config.database_url)? {
        Database::Sqlite(path) => {
            let mut options = SqliteOptions::new(path);
            options.busy_timeout = config.busy_timeout;
            options.limits = config.limits;
            Ok(Arc::new(SqliteStore::open(options)?))
        }
        Database::Postgres(url) => {
            let pool = config.postgres_pool;
            let options = PostgresOptions {
                max_connections: pool.max_connections,
                min_connections: pool.min_connections,
                acquire_timeout: pool.acquire_timeout,
                connect_timeout: pool.connect_timeout,
                lock_timeout: config.busy_timeout,
                statement_timeout: pool.statement_timeout,
                limits: config.limits,
                ..PostgresOptions::new(url)
            };
            Ok(Arc::new(PostgresStore::connect(options).await?))
        }
    }
}

/// The whole router with its middleware, over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let metrics = state.metrics.clone();
    let (api, _document) = api::routes().split_for_parts();
    api.merge(openapi::docs_ui())
        // Inside `remember_route`, so a request cut off by the deadline is still
        // counted under its route.
        // Inside the deadline, so a request it cuts off lets its key go.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::idempotency::keep_answers,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::deadline::enforce,
        ))
        .route_layer(axum::middleware::from_fn(middleware::remember_route))
        .fallback(middleware::unknown_route)
        .with_state(state)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn(middleware::limit_head))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            middleware::observe,
        ))
}

/// What the first start prints when it had to make a token itself.
pub const GENERATED_TOKEN_NOTICE: &str = "cutover: no tokens existed, so a platform admin token was created. \
It is shown only this once:";

/// The one line a start with `CUTOVER_BOOTSTRAP_TOKEN` prints on standard error: what
/// became of the configured token (named by its prefix, never the secret) and how many
/// earlier bootstrap tokens it retired.
pub fn bootstrap_notice(prefix: &str, outcome: Bootstrap) -> String {
    let state = match outcome.state {
        BootstrapState::Registered => "registered as a platform admin token",
        BootstrapState::AlreadyKnown => "already known",
        BootstrapState::Revoked => {
            "was revoked and stays revoked; configure a new secret to get a platform admin token"
        }
    };
    let retired = match outcome.retired {
        0 => String::new(),
        1 => "; 1 earlier bootstrap token was retired".to_owned(),
        n => format!("; {n} earlier bootstrap tokens were retired"),
    };
    format!("cutover: CUTOVER_BOOTSTRAP_TOKEN ({prefix}…) {state}{retired}")
}

/// Makes sure someone can call the API: registers `CUTOVER_BOOTSTRAP_TOKEN` as a
/// platform admin token (retiring the bootstrap tokens of earlier secrets), or, when no token exists at all, creates one and prints it
/// once on standard error.
async fn ensure_first_token(store: &dyn Store, bootstrap: Option<&str>) -> Result<(), StartError> {
    let admin = |name: &str| NewToken {
        name: name.to_owned(),
        permissions: Role::Admin.grant_words(),
        workspace_ids: None,
        expires_at: None,
    };
    let store_token = |secret: &str, name: &str| TokenToStore {
        token_id: TokenId::generate(),
        org_id: None,
        spec: admin(name),
        prefix: display_prefix(secret),
        secret_digest: digest_secret(secret),
        created_by: BOOTSTRAP_ACTOR.to_owned(),
    };
    if let Some(secret) = bootstrap {
        if secret.chars().count() < 32 {
            return Err(StartError::BootstrapTokenTooShort);
        }
        let outcome = store
            .register_bootstrap_token(store_token(secret, BOOTSTRAP_TOKEN_NAME))
            .await
            .map_err(|error| StartError::FirstToken(Box::new(error)))?;
        eprintln!("{}", bootstrap_notice(&display_prefix(secret), outcome));
        return Ok(());
    }
    let secret = generate_secret();
    let created = store
        .create_first_token(store_token(&secret, "first-start"))
        .await
        .map_err(|error| StartError::FirstToken(Box::new(error)))?;
    if created.is_some() {
        eprintln!("{GENERATED_TOKEN_NOTICE}\n{secret}");
    }
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    /// The store whose expired idempotency keys are swept while serving.
    sweeper: Arc<CachedStore>,
    draining: Arc<AtomicBool>,
    shutdown_drain: std::time::Duration,
    shutdown_grace: std::time::Duration,
    connections: config::ConnectionLimits,
}

impl Application {
    pub async fn build(config: ServeConfig) -> Result<Self, StartError> {
        let store = open_store(&config).await?;
        Self::build_with_store(config, store).await
    }

    pub async fn build_with_store(
        config: ServeConfig,
        store: Arc<dyn Store>,
    ) -> Result<Self, StartError> {
        ensure_first_token(store.as_ref(), config.bootstrap_token.as_deref()).await?;
        let cursor_key = store
            .server_secret("cursor-signing")
            .await
            .map_err(|error| StartError::CursorKey(Box::new(error)))?;
        let draining = Arc::new(AtomicBool::new(false));
        let state = Arc::new(AppState {
            store: Arc::new(CachedStore::new(store, config.cache_bytes)),
            limits: config.limits,
            cursors: CursorCodec::new(cursor_key),
            rate_limiter: config
                .rate_limit_per_second
                .map(|rate| RateLimiter::new(rate, config.rate_limit_burst)),
            auth_failures: config
                .auth_failures_per_minute
                .map(|rate| AuthFailureLimiter::new(rate, config.auth_failure_burst)),
            metrics: Default::default(),
            draining: draining.clone(),
            request_timeout: config.connections.request_timeout,
            large_bodies: LargeBodyLane::new(config.large_bodies),
            idempotency_key_ttl: config.idempotency_key_ttl,
        });
        let sweeper = state.store.clone();
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| StartError::Listen {
                    address: config.bind,
                    source,
                })?;
        Ok(Self {
            listener,
            router: router(state),
            sweeper,
            draining,
            shutdown_drain: config.shutdown_drain,
            shutdown_grace: config.shutdown_grace,
            connections: config.connections,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes. Then it drains: `/readyz` answers 503 and
    /// requests keep being served for the drain period (requests already on the wire
    /// when the signal came are answered, and load balancers see the server leave);
    /// then connections close as their in-flight requests finish, waiting at most
    /// the grace period.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) {
        let sweeping = tokio::spawn(http::idempotency::sweep(self.sweeper));
        let (draining, drain) = (self.draining, self.shutdown_drain);
        let stop = async move {
            shutdown.await;
            tracing::info!("shutting down: draining, then finishing in-flight requests");
            draining.store(true, Ordering::SeqCst);
            tokio::time::sleep(drain).await;
        };
        transport::serve(
            self.listener,
            self.router,
            self.connections,
            stop,
            self.shutdown_grace,
        )
        .await;
        sweeping.abort();
    }
}

/// Listens for SIGINT and SIGTERM from the moment it is called (so a signal that
/// arrives before serving starts is not lost to the default action), and completes
/// when one arrives.
pub fn shutdown_signal()
-> Result<impl std::future::Future<Output = ()> + Send + 'static, StartError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| {
            signal(kind).map_err(|source| StartError::Signal {
                signal: name,
                source,
            })
        };
        let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
        let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
