//! Why a SQLite database could not be opened, migrated or started: one variant per
//! step, each with the error beneath it as its `source`.

use std::path::PathBuf;

use cutover_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create directory {}", .path.display())]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open lock file {}", .path.display())]
    OpenLockFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot lock {}", .path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process has claimed the database (see `claim`).
    #[error(
        "database {} is in use by {holder}: one cutover process serves a SQLite \
         database (use PostgreSQL to run several)",
        .path.display()
    )]
    InUse { path: PathBuf, holder: Holder },
    #[error("cannot open SQLite database {}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("SQLite refused WAL mode for {} (journal_mode={mode})", .path.display())]
    WalRefused { path: PathBuf, mode: String },
    #[error("cannot configure SQLite database {}", .path.display())]
    Configure {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A newer cutover migrated the database: this binary would not know its rows.
    #[error(
        "database {} was migrated by a newer cutover (schema version {found}; this \
         version knows up to {known}): run that version or a later one",
        .path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("migrating {}", .path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("bringing rows of earlier versions up to date in {}", .path.display())]
    Backfill {
        path: PathBuf,
        #[source]
        source: Box<StoreError>,
    },
    #[error("reading the counts of stored idempotency keys in {}", .path.display())]
    KeyCounts {
        path: PathBuf,
        #[source]
        source: Box<StoreError>,
    },
    #[error("cannot start a SQLite thread")]
    StartThread(#[source] std::io::Error),
}

/// Who holds a claimed database, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Process(u32),
    /// The lock file names no process (it is being written, or was edited).
    Unknown,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Process(id) => write!(formatter, "process {id}"),
            Self::Unknown => formatter.write_str("another process"),
        }
    }
}
