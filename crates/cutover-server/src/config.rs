//! Everything `cutover serve` can be told, independent of how it was told (flags,
//! environment). The CLI fills this in; tests build it directly. Every default is
//! a constant here, which the CLI's flags use too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cutover_domain::limits::Limits;

use crate::http::large_bodies::LargeBodyLimits;

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

/// Bytes of rendered releases and tokens the read cache keeps by default (44 MiB:
/// what BENCHMARKS.md measured the memory ceiling with).
pub const DEFAULT_CACHE_BYTES: usize = 44 << 20;

/// Its `Debug` form never shows the bootstrap token or a database password.
#[derive(Clone)]
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
    /// Timeouts and the cap on open connections (see `transport`).
    pub connections: ConnectionLimits,
    /// How many request bodies of `LARGE_BODY_BYTES` or more are handled at once, and
    /// how many of their bytes a second (see `http::large_bodies`).
    pub large_bodies: LargeBodyLimits,
    /// How long an `Idempotency-Key` and its answer are kept (see `http::idempotency`).
    pub idempotency_key_ttl: Duration,
}

/// How long idempotency keys are kept by default: a day, the IETF draft's suggestion.
pub const DEFAULT_IDEMPOTENCY_KEY_TTL: Duration = Duration::from_secs(24 * 3600);

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
            cache_bytes: DEFAULT_CACHE_BYTES,
            connections: ConnectionLimits::default(),
            large_bodies: LargeBodyLimits::default(),
            idempotency_key_ttl: DEFAULT_IDEMPOTENCY_KEY_TTL,
        }
    }
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured without `..`, so a new field cannot be added without deciding
        // here whether it is a secret.
        let Self {
            bind,
            database_url,
            limits,
            bootstrap_token,
            rate_limit_per_second,
            rate_limit_burst,
            auth_failures_per_minute,
            auth_failure_burst,
            busy_timeout,
            postgres_pool,
            shutdown_drain,
            shutdown_grace,
            cache_bytes,
            connections,
            large_bodies,
            idempotency_key_ttl,
        } = self;
        f.debug_struct("ServeConfig")
            .field("bind", bind)
            .field("database_url", &redact_url(database_url))
            .field("limits", limits)
            .field(
                "bootstrap_token",
                &bootstrap_token.as_ref().map(|_| REDACTED),
            )
            .field("rate_limit_per_second", rate_limit_per_second)
            .field("rate_limit_burst", rate_limit_burst)
            .field("auth_failures_per_minute", auth_failures_per_minute)
            .field("auth_failure_burst", auth_failure_burst)
            .field("busy_timeout", busy_timeout)
            .field("postgres_pool", postgres_pool)
            .field("shutdown_drain", shutdown_drain)
            .field("shutdown_grace", shutdown_grace)
            .field("cache_bytes", cache_bytes)
            .field("connections", connections)
            .field("large_bodies", large_bodies)
            .field("idempotency_key_ttl", idempotency_key_ttl)
            .finish()
    }
}

const REDACTED: &str = "<redacted>";

/// `url` with the password of its user info and any `password` query parameter
/// replaced by a marker: what a log or a `Debug` may show of a database URL. The
/// user info ends at the last `@` (a password may hold `/`, `?` or `@`), so an odd
/// URL is shown with too much hidden, never too little.
pub fn redact_url(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    let (mut out, rest) = match url[after_scheme..].rfind('@') {
        Some(at) => {
            let user_info = &url[after_scheme..after_scheme + at];
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let shown = if user.len() < user_info.len() {
                format!("{user}:{REDACTED}")
            } else {
                user.to_owned()
            };
            (
                format!("{}{shown}", &url[..after_scheme]),
                &url[after_scheme + at..],
            )
        }
        None => (url[..after_scheme].to_owned(), &url[after_scheme..]),
    };
    let (base, query) = rest
        .split_once('?')
        .map_or((rest, None), |(b, q)| (b, Some(q)));
    out.push_str(base);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    format!("{key}={REDACTED}")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// What one connection may hold and for how long, and how many may be open; each
/// bound is a `serve` flag (docs/LIMITS.md says what a caller sees when it is hit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the first byte of a request head (or, for a connection's first request,
    /// from its accept) until the whole head is read; a connection that takes
    /// longer is closed unanswered.
    pub header_read_timeout: Duration,
    /// From the end of the head until the whole body is read; a slower body answers
    /// 408 and the connection closes.
    pub body_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a handler may take to produce its answer (body reading included)
    /// before the request answers 503.
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            request_timeout: Duration::from_secs(60),
            max_connections: 1024,
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
    /// How long one statement may run before PostgreSQL cancels it (503).
    pub statement_timeout: Duration,
}

impl Default for PostgresPool {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// Which database a URL names.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Postgres(url) => f.debug_tuple("Postgres").field(&redact_url(url)).finish(),
        }
    }
}

impl Database {
    pub fn from_url(url: &str) -> Result<Self, UnsupportedDatabaseUrl> {
        if cutover_store_postgres::is_postgres_url(url) {
            return Ok(Self::Postgres(url.to_owned()));
        }
        cutover_store_sqlite::path_from_url(url)
            .map(Self::Sqlite)
            .ok_or_else(|| UnsupportedDatabaseUrl(redact_url(url)))
    }
}

/// A database URL that names neither SQLite nor PostgreSQL (shown without its password).
#[derive(Debug, thiserror::Error)]
#[error("unsupported database URL '{0}': expected sqlite://PATH or postgres://…")]
pub struct UnsupportedDatabaseUrl(String);

/// The default database: `cutover.db` in the working directory.
pub fn default_database_url() -> String {
    "sqlite://cutover.db".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsupported_database_url_is_refused_without_its_password() {
        let refused = Database::from_url("mysql://ops:hunter2@db.internal/app").unwrap_err();
        let said = refused.to_string();
        assert!(
            said.starts_with("unsupported database URL 'mysql://ops:"),
            "{said}"
        );
        assert!(!said.contains("hunter2"), "{said}");
    }

    #[test]
    fn debug_shows_neither_the_bootstrap_token_nor_the_database_password() {
        let token = "cut_bootstrap_token_that_must_not_print_0123";
        let mut config = ServeConfig::new("postgres://u:secret@h/db");
        config.bootstrap_token = Some(token.to_owned());
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains(token), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("postgres://u:<redacted>@h/db"), "{shown}");
        assert!(
            shown.contains("bootstrap_token: Some(\"<redacted>\")"),
            "{shown}"
        );
        let database = Database::from_url("postgres://u:secret@h/db").unwrap();
        assert!(!format!("{database:?}").contains("secret"));
    }

    #[test]
    fn redaction_covers_user_info_and_the_password_parameter_only() {
        for (url, shown) in [
            (
                "postgres://u:p@h:5432/db",
                "postgres://u:<redacted>@h:5432/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?user=u&password=p&sslmode=require",
                "postgres://h/db?user=u&password=<redacted>&sslmode=require",
            ),
            (
                "postgresql://u:p%40ss@h/db?PASSWORD=x",
                "postgresql://u:<redacted>@h/db?PASSWORD=<redacted>",
            ),
            ("postgres://u:a/b?c@h/db", "postgres://u:<redacted>@h/db"),
            ("sqlite://cutover.db", "sqlite://cutover.db"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }
}
