//! Everything `cutover serve` can be told, independent of how it was told (flags,
//! environment). The CLI fills this in; tests build it directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cutover_domain::limits::Limits;

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
    /// How long a write waits for a lock held by another process before answering 503.
    pub busy_timeout: Duration,
    /// How long the server keeps answering after a shutdown signal, with `/readyz`
    /// saying 503, before it closes connections.
    pub shutdown_drain: Duration,
    /// How long shutdown then waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl ServeConfig {
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            limits: Limits::default(),
            bootstrap_token: None,
            rate_limit_per_second: None,
            rate_limit_burst: 100,
            busy_timeout: Duration::from_secs(5),
            shutdown_drain: Duration::from_millis(250),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// The default database: `cutover.db` in the working directory.
pub fn default_database_url() -> String {
    "sqlite://cutover.db".to_owned()
}

/// Where a `sqlite://` URL points, or why the URL is not one we can open.
pub fn sqlite_path(url: &str) -> Result<PathBuf, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err("PostgreSQL support is not built yet; use a sqlite:// URL".to_owned());
    }
    cutover_store_sqlite::path_from_url(url)
        .ok_or_else(|| format!("unsupported database URL '{url}': expected sqlite://PATH"))
}
