//! Why a PostgreSQL store could not be opened or migrated: one variant per step, each
//! with the driver's error beneath it as its `source`. None of them repeats the URL
//! (it may hold a password): they name the target as host:port/database.

use std::time::Duration;

use cutover_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid PostgreSQL URL: it must start with postgres:// or postgresql://")]
    NotPostgres,
    #[error("invalid PostgreSQL URL")]
    InvalidUrl(#[source] DriverError),
    #[error("cannot connect to PostgreSQL at {target}")]
    Connect {
        target: String,
        #[source]
        source: DriverError,
    },
    #[error("cannot connect to PostgreSQL at {target}: no answer within {} ms", .waited.as_millis())]
    ConnectTimeout { target: String, waited: Duration },
    /// A newer cutover migrated the database: this binary would not know its rows.
    #[error(
        "PostgreSQL database at {target} was migrated by a newer cutover (schema version \
         {found}; this version knows up to {known}): run that version or a later one"
    )]
    NewerSchema {
        target: String,
        found: i64,
        known: i64,
    },
    #[error("migrating PostgreSQL database at {target}")]
    Migrate {
        target: String,
        #[source]
        source: DriverError,
    },
    #[error("bringing rows of earlier versions up to date in PostgreSQL database at {target}")]
    Backfill {
        target: String,
        #[source]
        source: Box<StoreError>,
    },
}

/// The driver's error, said the way the server or the system said it: a database
/// error's message without the driver's preamble and the server's source position,
/// an I/O error as the system put it. The whole `sqlx::Error` is kept for [`Self::get`].
#[derive(Debug)]
pub struct DriverError(sqlx::Error);

impl DriverError {
    pub fn get(&self) -> &sqlx::Error {
        &self.0
    }
}

impl From<sqlx::Error> for DriverError {
    fn from(error: sqlx::Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            sqlx::Error::Database(database) => formatter.write_str(database.message()),
            sqlx::Error::Io(io) => io.fmt(formatter),
            sqlx::Error::Configuration(cause) => cause.fmt(formatter),
            other => other.fmt(formatter),
        }
    }
}

impl std::error::Error for DriverError {
    /// What lies beneath the part [`Display`](std::fmt::Display) says, if anything does.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            sqlx::Error::Database(_) | sqlx::Error::Io(_) | sqlx::Error::Configuration(_) => None,
            other => other.source(),
        }
    }
}
