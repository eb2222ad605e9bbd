//! Everything `cutover serve` can be told, independent of how it was told (flags,
//! environment). The CLI fills this in; tests build it directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cutover_domain::limits::Limits;

/// Requests per second per token by default: a fleet of 200 gateways sharing one
/// token and polling every second makes 200 a second, a fifth of this (docs/LIMITS.md).
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 1_000;
/// Requests a token may send at once above its rate: room for that whole fleet
/// restarting together and each gateway reading ten answers.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 2_000;
/// Failed authentications per client address per minute by default.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 600;
/// Failed authentications an address may make at once before it is throttled.
pub const DEFAULT_AUTH_FAILURE_BURST: u32 = 100;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub database_url: String,
    pub limits: Limits,
    /// A secret (≥ 32 characters) that becomes a platform admin token at start.
    pub bootstrap_token: Option<String>,
    /// Average requests per second allowed per token; `None` for no limit.
    pub rate_limit_per_second: Option<u32>,
    pub rate_limit_burst: u32,
    /// Failed authentications allowed per client address per minute; `None` for no
    /// limit. Past the budget, requests with a credential answer 429 unlooked-up.
    pub auth_failures_per_minute: Option<u32>,
    pub auth_failure_burst: u32,
    /// How long a write waits for a lock held by another process (SQLite's busy
    /// timeout, PostgreSQL's `lock_timeout`) before answering 503.
    pub busy_timeout: Duration,
    /// PostgreSQL connection pool settings.
    pub postgres_pool: PostgresPool,
    /// How long the server keeps answering after a shutdown signal, with `/readyz`
    /// saying 503, before it closes connections.
    pub shutdown_drain: Duration,
    /// How long shutdown then waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Bytes of rendered releases and tokens kept for reads (see `cache`); 0 keeps none.
    pub cache_bytes: usize,
}

impl ServeConfig {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            limits: Limits::default(),
            bootstrap_token: None,
            rate_limit_per_second: Some(DEFAULT_RATE_LIMIT_PER_SECOND),
            rate_limit_burst: DEFAULT_RATE_LIMIT_BURST,
            auth_failures_per_minute: Some(DEFAULT_AUTH_FAILURES_PER_MINUTE),
            auth_failure_burst: DEFAULT_AUTH_FAILURE_BURST,
            busy_timeout: Duration::from_secs(5),
            postgres_pool: PostgresPool::default(),
            shutdown_drain: Duration::from_millis(250),
            shutdown_grace: Duration::from_secs(30),
            cache_bytes: 32 << 20,
        }
    }
}

/// How many PostgreSQL connections one server process keeps, and how long a request
/// waits for one before answering 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresPool {
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for PostgresPool {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    pub fn from_url(url: &str) -> Result<Self, String> {
        if cutover_store_postgres::is_postgres_url(url) {
            return Ok(Self::Postgres(url.to_owned()));
        }
        cutover_store_sqlite::path_from_url(url)
            .map(Self::Sqlite)
            .ok_or_else(|| {
                format!("unsupported database URL '{url}': expected sqlite://PATH or postgres://…")
            })
    }
}

/// The default database: `cutover.db` in the working directory.
pub fn default_database_url() -> String {
    "sqlite://cutover.db".to_owned()
}
