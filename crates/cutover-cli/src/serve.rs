//! `cutover serve` and `cutover migrate`: flags (each with a `CUTOVER_*` variable)
//! turned into a [`ServeConfig`].

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{Args, ValueEnum};
use cutover_domain::limits::Limits;
use cutover_server::config::{
    ConnectionLimits, DEFAULT_AUTH_FAILURE_BURST, DEFAULT_AUTH_FAILURES_PER_MINUTE,
    DEFAULT_CACHE_BYTES, DEFAULT_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_PER_SECOND, Database,
    PostgresPool, default_database_url,
};
use cutover_server::http::large_bodies;
use cutover_server::telemetry::{self, LogFormat};
use cutover_server::{Application, ServeConfig, StartError, shutdown_signal};

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Json,
    Pretty,
}

#[derive(Args)]
pub struct DatabaseArgs {
    /// Where data lives: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "CUTOVER_DATABASE_URL", default_value_t = default_database_url())]
    database_url: String,
    /// Milliseconds a write waits for a lock held by another process before failing with 503.
    #[arg(long, env = "CUTOVER_BUSY_TIMEOUT_MS", default_value_t = 5000)]
    busy_timeout_ms: u64,
    /// PostgreSQL: seconds to wait for the first connection at start before giving up.
    #[arg(long, env = "CUTOVER_PG_CONNECT_TIMEOUT_SECONDS", default_value_t = 5)]
    pg_connect_timeout_seconds: u64,
}

#[derive(Args)]
pub struct PoolArgs {
    /// PostgreSQL: most connections this process keeps open.
    #[arg(long, env = "CUTOVER_PG_MAX_CONNECTIONS", default_value_t = PostgresPool::default().max_connections)]
    pg_max_connections: u32,
    /// PostgreSQL: connections kept open even when idle.
    #[arg(long, env = "CUTOVER_PG_MIN_CONNECTIONS", default_value_t = PostgresPool::default().min_connections)]
    pg_min_connections: u32,
    /// PostgreSQL: milliseconds a request waits for a free connection before failing with 503.
    #[arg(long, env = "CUTOVER_PG_ACQUIRE_TIMEOUT_MS", default_value_t = millis(PostgresPool::default().acquire_timeout))]
    pg_acquire_timeout_ms: u64,
    /// PostgreSQL: milliseconds one statement may run before the server cancels it
    /// and the request fails with 503 (0 = no limit).
    #[arg(long, env = "CUTOVER_PG_STATEMENT_TIMEOUT_MS", default_value_t = millis(PostgresPool::default().statement_timeout))]
    pg_statement_timeout_ms: u64,
}

/// How long each connection and request may take, and how many connections are served.
#[derive(Args)]
pub struct ConnectionArgs {
    /// Milliseconds a client has to send a request's head (from its first byte, or
    /// from connecting for the first request); slower connections are closed unanswered.
    #[arg(long, env = "CUTOVER_HEADER_READ_TIMEOUT_MS", value_parser = at_least_one_ms(), default_value_t = millis(ConnectionLimits::default().header_read_timeout))]
    header_read_timeout_ms: u64,
    /// Milliseconds a client has, after the head, to send the whole body (slower: 408).
    #[arg(long, env = "CUTOVER_BODY_READ_TIMEOUT_MS", value_parser = at_least_one_ms(), default_value_t = millis(ConnectionLimits::default().body_read_timeout))]
    body_read_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "CUTOVER_IDLE_TIMEOUT_MS", value_parser = at_least_one_ms(), default_value_t = millis(ConnectionLimits::default().idle_timeout))]
    idle_timeout_ms: u64,
    /// Milliseconds a request may take to be answered (body included) before it answers 503.
    #[arg(long, env = "CUTOVER_REQUEST_TIMEOUT_MS", value_parser = at_least_one_ms(), default_value_t = millis(ConnectionLimits::default().request_timeout))]
    request_timeout_ms: u64,
    /// Connections served at once; more wait to be accepted (idle ones then close).
    #[arg(long, env = "CUTOVER_MAX_CONNECTIONS", value_parser = RangedU64ValueParser::<usize>::new().range(1..), default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
}

/// A zero timeout would close every connection at once: refused when parsing.
fn at_least_one_ms() -> RangedU64ValueParser<u64> {
    RangedU64ValueParser::new().range(1..)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CUTOVER_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    pool: PoolArgs,
    #[command(flatten)]
    connections: ConnectionArgs,
    /// Log lines as JSON (for machines) or pretty text (for people).
    #[arg(long, env = "CUTOVER_LOG_FORMAT", value_enum, default_value_t = LogFormatArg::Pretty)]
    log_format: LogFormatArg,
    /// Largest accepted request body, in bytes (larger bodies answer 413).
    #[arg(long, env = "CUTOVER_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Most endpoints one app's draft may hold.
    #[arg(long, env = "CUTOVER_MAX_ENDPOINTS_PER_APP", default_value_t = Limits::default().max_endpoints_per_app)]
    max_endpoints_per_app: u32,
    /// Most augmentations one app's draft may hold.
    #[arg(long, env = "CUTOVER_MAX_AUGMENTATIONS_PER_APP", default_value_t = Limits::default().max_augmentations_per_app)]
    max_augmentations_per_app: u32,
    /// Longest name or other short string, in characters.
    #[arg(long, env = "CUTOVER_MAX_STRING_CHARS", default_value_t = Limits::default().max_string_chars)]
    max_string_chars: usize,
    /// Longest description, in characters.
    #[arg(long, env = "CUTOVER_MAX_DESCRIPTION_CHARS", default_value_t = Limits::default().max_description_chars)]
    max_description_chars: usize,
    /// How deeply a free-form JSON value (a step's config, an input_schema, an app's
    /// parameters) may nest (at most 100).
    #[arg(long, env = "CUTOVER_MAX_JSON_DEPTH", default_value_t = Limits::default().max_json_depth,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
              .range(1..=cutover_domain::limits::MAX_JSON_DEPTH_CEILING as u64))]
    max_json_depth: usize,
    /// Most bytes of endpoints and augmentations (as stored JSON) one app's draft may hold.
    #[arg(long, env = "CUTOVER_MAX_DRAFT_BYTES", default_value_t = Limits::default().max_draft_bytes)]
    max_draft_bytes: u64,
    /// Most stages in one augmentation (a longer list answers 422 too_long).
    #[arg(long, env = "CUTOVER_MAX_STAGES_PER_AUGMENTATION", default_value_t = Limits::default().max_stages_per_augmentation)]
    max_stages_per_augmentation: usize,
    /// Most steps in one stage of an augmentation.
    #[arg(long, env = "CUTOVER_MAX_STEPS_PER_STAGE", default_value_t = Limits::default().max_steps_per_stage)]
    max_steps_per_stage: usize,
    /// Most tags on one augmentation.
    #[arg(long, env = "CUTOVER_MAX_TAGS_PER_AUGMENTATION", default_value_t = Limits::default().max_tags_per_augmentation)]
    max_tags_per_augmentation: usize,
    /// Requests per second allowed per token (0 = unlimited); excess answers 429.
    #[arg(long, env = "CUTOVER_RATE_LIMIT_PER_SECOND", default_value_t = DEFAULT_RATE_LIMIT_PER_SECOND)]
    rate_limit_per_second: u32,
    /// Requests a token may burst above its rate.
    #[arg(long, env = "CUTOVER_RATE_LIMIT_BURST", default_value_t = DEFAULT_RATE_LIMIT_BURST)]
    rate_limit_burst: u32,
    /// Failed authentications allowed per client address per minute (0 = unlimited);
    /// past them, requests with a token answer 429 before the token is looked up.
    #[arg(long, env = "CUTOVER_AUTH_FAILURES_PER_MINUTE", default_value_t = DEFAULT_AUTH_FAILURES_PER_MINUTE)]
    auth_failures_per_minute: u32,
    /// Failed authentications an address may make at once before it is throttled.
    #[arg(long, env = "CUTOVER_AUTH_FAILURE_BURST", default_value_t = DEFAULT_AUTH_FAILURE_BURST)]
    auth_failure_burst: u32,
    /// Most workspaces one org may have (409 limit_reached past it).
    #[arg(long, env = "CUTOVER_MAX_WORKSPACES_PER_ORG", default_value_t = Limits::default().max_workspaces_per_org)]
    max_workspaces_per_org: u32,
    /// Most apps one workspace may have.
    #[arg(long, env = "CUTOVER_MAX_APPS_PER_WORKSPACE", default_value_t = Limits::default().max_apps_per_workspace)]
    max_apps_per_workspace: u32,
    /// Most live (not revoked, not expired) tokens one org may have.
    #[arg(long, env = "CUTOVER_MAX_TOKENS_PER_ORG", default_value_t = Limits::default().max_tokens_per_org)]
    max_tokens_per_org: u32,
    /// Most releases one app may have (deleting releases makes room).
    #[arg(long, env = "CUTOVER_MAX_RELEASES_PER_APP", default_value_t = Limits::default().max_releases_per_app)]
    max_releases_per_app: u32,
    /// Idempotency keys one org (or platform token) may have stored at once; a new
    /// key past it answers 409 limit_reached until older ones expire.
    #[arg(long, env = "CUTOVER_MAX_IDEMPOTENCY_KEYS_PER_ORG", default_value_t = Limits::default().max_idempotency_keys_per_org)]
    max_idempotency_keys_per_org: u32,
    /// Most environments one workspace may have, the three it starts with included.
    #[arg(long, env = "CUTOVER_MAX_ENVIRONMENTS_PER_WORKSPACE", default_value_t = Limits::default().max_environments_per_workspace, value_parser = clap::value_parser!(u32).range(3..))]
    max_environments_per_workspace: u32,
    /// Milliseconds the server keeps answering after SIGINT/SIGTERM (with /readyz
    /// saying 503) before it closes connections.
    #[arg(long, env = "CUTOVER_SHUTDOWN_DRAIN_MS", default_value_t = 250)]
    shutdown_drain_ms: u64,
    /// Seconds to let in-flight requests finish after the drain.
    #[arg(long, env = "CUTOVER_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    shutdown_grace_seconds: u64,
    /// MiB of rendered releases and tokens kept in memory for reads (0 = none). Used
    /// only on SQLite, where this process is the database's sole writer.
    #[arg(long, env = "CUTOVER_CACHE_MIB", default_value_t = DEFAULT_CACHE_BYTES >> 20)]
    cache_mib: usize,
    /// Request bodies of 64 KiB or more handled at once; others wait for a place
    /// (default: half the cores, at least 1).
    #[arg(long, env = "CUTOVER_LARGE_BODY_CONCURRENCY", default_value_t = large_bodies::default_concurrency())]
    large_body_concurrency: usize,
    /// MiB of request bodies of 64 KiB or more handled per second, on average; others
    /// wait their turn (0 = no such bound).
    #[arg(long, env = "CUTOVER_LARGE_BODY_MIB_PER_SECOND", default_value_t = large_bodies::DEFAULT_BYTES_PER_SECOND >> 20)]
    large_body_mib_per_second: u64,
    /// Hours an Idempotency-Key and the answer to its request are kept: a repeat within
    /// them is answered from it (1–8760).
    #[arg(long, env = "CUTOVER_IDEMPOTENCY_KEY_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=8760))]
    idempotency_key_hours: u64,
    /// A secret of at least 32 characters that becomes a platform admin token at start.
    #[arg(
        long = "bootstrap-token",
        env = "CUTOVER_BOOTSTRAP_TOKEN",
        hide_env_values = true
    )]
    bootstrap_token: Option<String>,
}

#[derive(Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

fn runtime() -> Result<tokio::runtime::Runtime, StartError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
}

pub fn serve(args: ServeArgs) -> Result<(), StartError> {
    // Held to the end of `serve`: dropping it writes out the queued log lines.
    let _log = telemetry::init(match args.log_format {
        LogFormatArg::Json => LogFormat::Json,
        LogFormatArg::Pretty => LogFormat::Pretty,
    });
    let config = serve_config(args);
    runtime()?.block_on(async move {
        let app = Application::build(config).await?;
        let stop = shutdown_signal()?;
        eprintln!("cutover: listening on http://{}", app.local_addr());
        app.run_until(stop).await;
        Ok(())
    })
}

/// The configuration `args` describe.
fn serve_config(args: ServeArgs) -> ServeConfig {
    ServeConfig {
        bind: args.bind,
        database_url: args.database.database_url,
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_endpoints_per_app: args.max_endpoints_per_app,
            max_augmentations_per_app: args.max_augmentations_per_app,
            max_string_chars: args.max_string_chars,
            max_description_chars: args.max_description_chars,
            max_json_depth: args.max_json_depth,
            max_draft_bytes: args.max_draft_bytes,
            max_stages_per_augmentation: args.max_stages_per_augmentation,
            max_steps_per_stage: args.max_steps_per_stage,
            max_tags_per_augmentation: args.max_tags_per_augmentation,
            max_workspaces_per_org: args.max_workspaces_per_org,
            max_apps_per_workspace: args.max_apps_per_workspace,
            max_tokens_per_org: args.max_tokens_per_org,
            max_releases_per_app: args.max_releases_per_app,
            max_idempotency_keys_per_org: args.max_idempotency_keys_per_org,
            max_environments_per_workspace: args.max_environments_per_workspace,
        },
        bootstrap_token: args.bootstrap_token,
        rate_limit_per_second: (args.rate_limit_per_second > 0)
            .then_some(args.rate_limit_per_second),
        rate_limit_burst: args.rate_limit_burst,
        auth_failures_per_minute: (args.auth_failures_per_minute > 0)
            .then_some(args.auth_failures_per_minute),
        auth_failure_burst: args.auth_failure_burst,
        busy_timeout: Duration::from_millis(args.database.busy_timeout_ms),
        postgres_pool: PostgresPool {
            max_connections: args.pool.pg_max_connections,
            min_connections: args.pool.pg_min_connections,
            acquire_timeout: Duration::from_millis(args.pool.pg_acquire_timeout_ms),
            connect_timeout: Duration::from_secs(args.database.pg_connect_timeout_seconds),
            statement_timeout: Duration::from_millis(args.pool.pg_statement_timeout_ms),
        },
        shutdown_drain: Duration::from_millis(args.shutdown_drain_ms),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        cache_bytes: args.cache_mib.saturating_mul(1 << 20),
        large_bodies: large_bodies::LargeBodyLimits {
            concurrency: args.large_body_concurrency,
            bytes_per_second: args.large_body_mib_per_second.saturating_mul(1 << 20),
        },
        idempotency_key_ttl: Duration::from_secs(args.idempotency_key_hours * 3600),
        connections: ConnectionLimits {
            header_read_timeout: Duration::from_millis(args.connections.header_read_timeout_ms),
            body_read_timeout: Duration::from_millis(args.connections.body_read_timeout_ms),
            idle_timeout: Duration::from_millis(args.connections.idle_timeout_ms),
            request_timeout: Duration::from_millis(args.connections.request_timeout_ms),
            max_connections: args.connections.max_connections,
        },
    }
}

pub fn migrate(args: MigrateArgs) -> Result<(), StartError> {
    let url = args.database.database_url;
    let (place, applied) = match Database::from_url(&url)? {
        Database::Sqlite(path) => {
            let busy = Duration::from_millis(args.database.busy_timeout_ms);
            let applied = cutover_store_sqlite::migrate(&path, busy)?;
            (path.display().to_string(), applied)
        }
        Database::Postgres(url) => {
            let connect = Duration::from_secs(args.database.pg_connect_timeout_seconds);
            let applied = runtime()?.block_on(cutover_store_postgres::migrate(&url, connect))?;
            ("PostgreSQL".to_owned(), applied)
        }
    };
    if applied.is_empty() {
        println!("{place}: schema is up to date");
    } else {
        let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
        println!("{place}: applied migrations {}", versions.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    /// `cutover serve` with no flags configures what `ServeConfig::new` does: one
    /// set of defaults, wherever a server is built.
    #[test]
    fn serve_defaults_are_the_server_defaults() {
        let parsed = Serve::try_parse_from(["serve"]).expect("no flags parse");
        let from_flags = serve_config(parsed.args);
        let built = ServeConfig::new(default_database_url());
        assert_eq!(from_flags.cache_bytes, built.cache_bytes);
        assert_eq!(from_flags.large_bodies, built.large_bodies);
        assert_eq!(from_flags.connections, built.connections);
        assert_eq!(from_flags.postgres_pool, built.postgres_pool);
        assert_eq!(from_flags.busy_timeout, built.busy_timeout);
        assert_eq!(from_flags.limits, built.limits);
        assert_eq!(from_flags.shutdown_drain, built.shutdown_drain);
        assert_eq!(from_flags.shutdown_grace, built.shutdown_grace);
    }

    #[test]
    fn zero_connection_timeouts_and_cap_are_refused() {
        for flag in [
            "--header-read-timeout-ms",
            "--body-read-timeout-ms",
            "--idle-timeout-ms",
            "--request-timeout-ms",
            "--max-connections",
        ] {
            assert!(
                Serve::try_parse_from(["serve", flag, "0"]).is_err(),
                "{flag} 0"
            );
            assert!(
                Serve::try_parse_from(["serve", flag, "1"]).is_ok(),
                "{flag} 1"
            );
        }
    }
}
