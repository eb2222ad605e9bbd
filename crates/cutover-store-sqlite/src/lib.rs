//! cutover's storage on an embedded SQLite file.
//!
//! [`SqliteStore`] implements [`cutover_store::Store`]. All writes go through one
//! writer thread that commits queued writes together (see [`engine`]); reads run on a
//! few reader threads against WAL snapshots. The file is opened with
//! `journal_mode=WAL` and `synchronous=FULL`, so a write is acknowledged only once it
//! is on disk. One process serves a database: opening claims it (see `claim`), so
//! every write to it goes through this store.

mod app_locks;
mod apps;
mod backfill;
mod capabilities;
mod carry_over;
mod claim;
mod deployment_records;
mod deployments;
mod draft;
mod engine;
mod environments;
mod error;
mod idempotency;
mod key_claims;
mod lifecycle;
pub mod migrations;
mod open_error;
mod prepared_writes;
mod quota;
mod rehearsal;
mod releases;
mod rows;
mod tenancy;
mod timeline;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cutover_domain::limits::Limits;
use cutover_store::{Store, StoreResult};

use crate::engine::{Engine, EngineOptions};

pub use open_error::{Holder, OpenError};

/// How to open the SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub path: PathBuf,
    /// Reader threads (each with its own connection).
    pub readers: usize,
    /// How long a statement waits for a lock held by another process before the
    /// request fails with 503.
    pub busy_timeout: Duration,
    pub limits: Limits,
}

impl SqliteOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }
}

/// The file path of a `sqlite://PATH` URL (`sqlite:///abs/path` or `sqlite://rel/path`).
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

#[derive(Clone)]
pub struct SqliteStore {
    engine: Arc<Engine>,
    /// Serializes each app's prepared writes (see `app_locks`).
    app_locks: Arc<app_locks::AppLocks>,
    /// Idempotency keys in progress (see `key_claims`).
    key_claims: Arc<key_claims::KeyClaims>,
    limits: Limits,
    /// This process's hold on the database; released when the last clone drops.
    _claim: Arc<claim::Claim>,
}

/// Applies pending migrations to the database at `path`, creating it if needed.
pub fn migrate(path: &Path, busy_timeout: Duration) -> Result<Vec<i64>, OpenError> {
    let _claim = claim::claim(path)?;
    let mut connection = engine::open_writer(path, busy_timeout)?;
    bring_up_to_date(path, &mut connection)
}

/// Applies pending migrations, then fills in what they could not compute in SQL.
fn bring_up_to_date(
    path: &Path,
    connection: &mut rusqlite::Connection,
) -> Result<Vec<i64>, OpenError> {
    let migrating = |source| OpenError::Migrate {
        path: path.to_owned(),
        source,
    };
    let known = migrations::MIGRATIONS
        .last()
        .map_or(0, |(version, _, _)| *version);
    if let Some(found) = migrations::newest_recorded(connection).map_err(migrating)?
        && found > known
    {
        return Err(OpenError::NewerSchema {
            path: path.to_owned(),
            found,
            known,
        });
    }
    let applied = migrations::apply(connection).map_err(migrating)?;
    backfill::run(connection).map_err(|source| OpenError::Backfill {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    Ok(applied)
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database, then starts its threads.
    pub fn open(options: SqliteOptions) -> Result<Self, OpenError> {
        if let Some(parent) = options.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| OpenError::CreateDirectory {
                path: parent.to_owned(),
                source,
            })?;
        }
        let claim = claim::claim(&options.path)?;
        let mut writer = engine::open_writer(&options.path, options.busy_timeout)?;
        bring_up_to_date(&options.path, &mut writer)?;
        let stored_keys =
            idempotency::stored_counts(&writer).map_err(|source| OpenError::KeyCounts {
                path: options.path.clone(),
                source: Box::new(source),
            })?;
        let engine = Engine::start(
            &options.path,
            writer,
            &EngineOptions {
                readers: options.readers,
                busy_timeout: options.busy_timeout,
                write_queue: engine::WRITE_QUEUE,
                read_queue: engine::READ_QUEUE,
                wal_restart_frames: engine::WAL_RESTART_FRAMES,
            },
        )?;
        Ok(Self {
            engine: Arc::new(engine),
            app_locks: Default::default(),
            key_claims: Arc::new(key_claims::KeyClaims::with_stored(stored_keys)),
            limits: options.limits,
            _claim: Arc::new(claim),
        })
    }
}

#[async_trait]
impl Store for SqliteStore {
    /// True: [`SqliteStore::open`] claims the database for this process.
    fn sole_writer(&self) -> bool {
        true
    }

    async fn ping(&self) -> StoreResult<()> {
        self.engine
            .read(|connection| {
                rows::count(connection, "SELECT count(*) FROM schema_migrations", []).map(|_| ())
            })
            .await
    }

    async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        let name = name.to_owned();
        self.engine
            .write(move |c| tenancy::server_secret(c, &name))
            .await
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
