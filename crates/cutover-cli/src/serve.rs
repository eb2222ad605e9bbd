//! `cutover serve` and `cutover migrate`: flags (each with a `CUTOVER_*` variable)
//! turned into a [`ServeConfig`].

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use cutover_domain::limits::Limits;
use cutover_server::config::{Database, PostgresPool, default_database_url};
use cutover_server::telemetry::{self, LogFormat};
use cutover_server::{Application, ServeConfig, shutdown_signal};

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
    #[arg(long, env = "CUTOVER_PG_ACQUIRE_TIMEOUT_MS", default_value_t = 5000)]
    pg_acquire_timeout_ms: u64,
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
    /// Requests per second allowed per token (0 = unlimited); excess answers 429.
    #[arg(long, env = "CUTOVER_RATE_LIMIT_PER_SECOND", default_value_t = 0)]
    rate_limit_per_second: u32,
    /// Requests a token may burst above its rate.
    #[arg(long, env = "CUTOVER_RATE_LIMIT_BURST", default_value_t = 100)]
    rate_limit_burst: u32,
    /// Milliseconds the server keeps answering after SIGINT/SIGTERM (with /readyz
    /// saying 503) before it closes connections.
    #[arg(long, env = "CUTOVER_SHUTDOWN_DRAIN_MS", default_value_t = 250)]
    shutdown_drain_ms: u64,
    /// Seconds to let in-flight requests finish after the drain.
    #[arg(long, env = "CUTOVER_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    shutdown_grace_seconds: u64,
    /// MiB of rendered releases and tokens kept in memory for reads (0 = none). Used
    /// only on SQLite, where this process is the database's sole writer.
    #[arg(long, env = "CUTOVER_CACHE_MIB", default_value_t = 44)]
    cache_mib: usize,
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

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

pub fn serve(args: ServeArgs) -> Result<(), String> {
    // Held to the end of `serve`: dropping it writes out the queued log lines.
    let _log = telemetry::init(match args.log_format {
        LogFormatArg::Json => LogFormat::Json,
        LogFormatArg::Pretty => LogFormat::Pretty,
    });
    let config = ServeConfig {
        bind: args.bind,
        database_url: args.database.database_url,
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_endpoints_per_app: args.max_endpoints_per_app,
            max_augmentations_per_app: args.max_augmentations_per_app,
            max_string_chars: args.max_string_chars,
            max_description_chars: args.max_description_chars,
            ..Limits::default()
        },
        bootstrap_token: args.bootstrap_token,
        rate_limit_per_second: (args.rate_limit_per_second > 0)
            .then_some(args.rate_limit_per_second),
        rate_limit_burst: args.rate_limit_burst,
        busy_timeout: Duration::from_millis(args.database.busy_timeout_ms),
        postgres_pool: PostgresPool {
            max_connections: args.pool.pg_max_connections,
            min_connections: args.pool.pg_min_connections,
            acquire_timeout: Duration::from_millis(args.pool.pg_acquire_timeout_ms),
            connect_timeout: Duration::from_secs(args.database.pg_connect_timeout_seconds),
        },
        shutdown_drain: Duration::from_millis(args.shutdown_drain_ms),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        cache_bytes: args.cache_mib.saturating_mul(1 << 20),
    };
    runtime()?.block_on(async move {
        let app = Application::build(config).await?;
        let stop = shutdown_signal()?;
        eprintln!("cutover: listening on http://{}", app.local_addr());
        app.run_until(stop).await
    })
}

pub fn migrate(args: MigrateArgs) -> Result<(), String> {
    let url = args.database.database_url;
    let (place, applied) = match Database::from_url(&url)? {
        Database::Sqlite(path) => {
            let busy = Duration::from_millis(args.database.busy_timeout_ms);
            let applied = cutover_store_sqlite::migrate(&path, busy)?;
            (path.display().to_string(), applied)
        }
        Database::Postgres(url) => {
            let applied = runtime()?.block_on(cutover_store_postgres::migrate(&url))?;
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
