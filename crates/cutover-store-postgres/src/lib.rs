//! cutover's storage on PostgreSQL.
//!
//! [`PostgresStore`] implements [`cutover_store::Store`] with the same rules, error
//! reasons and orderings as the SQLite store, so any number of `cutover serve`
//! processes can share one database. Each trait method is one transaction (see
//! `engine.rs`): writes run at READ COMMITTED and lock the app row before touching
//! its draft or releases, so writes to one app serialize across processes; reads of
//! more than one statement see one REPEATABLE READ snapshot. Serialization failures
//! and deadlocks are retried inside the store; an unreachable server answers
//! `Unavailable`, and the pool reconnects by itself once the server is back.

mod apps;
mod backfill;
mod capabilities;
mod carry_over;
mod deployment_records;
mod deployments;
mod draft;
mod engine;
mod environments;
mod error;
mod idempotency;
mod lifecycle;
pub mod migrations;
mod open_error;
mod quota;
mod rehearsal;
mod releases;
mod rows;
mod tenancy;
mod timeline;
mod tokens;

use std::time::Duration;

use async_trait::async_trait;
use cutover_domain::limits::Limits;
use cutover_store::{Store, StoreResult};
use sqlx::postgres::PgPool;

use crate::engine::write_tx;
use crate::error::from_sqlx;

pub use crate::migrations::MIGRATIONS;
pub use crate::open_error::{DriverError, OpenError};

/// How to connect to PostgreSQL.
#[derive(Clone)]
pub struct PostgresOptions {
    /// A `postgres://user[:password]@host[:port]/database[?…]` URL.
    pub url: String,
    /// Connections the pool may open at most.
    pub max_connections: u32,
    /// Connections the pool keeps open even when idle.
    pub min_connections: u32,
    /// How long a request waits for a pooled connection (including opening one)
    /// before it fails with `Unavailable` (503).
    pub acquire_timeout: Duration,
    /// How long the first connection at start may take before start fails.
    pub connect_timeout: Duration,
    /// How long a statement waits for a row lock held by another session (say, a
    /// maintenance transaction) before the request fails with `Unavailable` (503),
    /// like SQLite's busy timeout.
    pub lock_timeout: Duration,
    /// How long one statement may run before PostgreSQL cancels it and the request
    /// fails with `Unavailable` (503): a bound on a request's hold on a pooled
    /// connection, whatever the statement waits for. Zero disables it.
    pub statement_timeout: Duration,
    pub limits: Limits,
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            limits: Limits::default(),
        }
    }
}

impl std::fmt::Debug for PostgresOptions {
    /// Shows where the database is, never the URL itself (it may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = engine::parse_url(&self.url)
            .map(|options| engine::describe(&options))
            .unwrap_or_else(|_| "<invalid url>".into());
        f.debug_struct("PostgresOptions")
            .field("database", &target)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Connects to the database at `url` and applies pending migrations; returns the
/// versions it applied. Fails with one line when the database cannot be reached
/// within `connect_timeout`.
pub async fn migrate(url: &str, connect_timeout: Duration) -> Result<Vec<i64>, OpenError> {
    engine::migrate(url, connect_timeout).await
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    limits: Limits,
}

impl PostgresStore {
    /// Connects (failing fast, with an error that says where and why, when the
    /// server is unreachable, the database does not exist or authentication fails),
    /// applies pending migrations, and builds the connection pool.
    pub async fn connect(options: PostgresOptions) -> Result<Self, OpenError> {
        let pool = engine::open(&options).await?;
        Ok(Self {
            pool,
            limits: options.limits,
        })
    }

    /// Closes every pooled connection; later calls answer `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    /// False: several cutover servers may share one PostgreSQL database.
    fn sole_writer(&self) -> bool {
        false
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(from_sqlx)
    }

    async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        write_tx!(self, |c| tenancy::server_secret(c, name))
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool_size", &self.pool.size())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
