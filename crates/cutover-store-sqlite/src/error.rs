//! Turning SQLite errors into [`StoreError`]s: busy or unreachable files become
//! `Unavailable` (503 with Retry-After), everything unexpected becomes `Internal`.

use cutover_store::StoreError;
use rusqlite::ErrorCode;

pub(crate) fn from_sqlite(error: rusqlite::Error) -> StoreError {
    match sqlite_code(&error) {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly
            | ErrorCode::FileLockingProtocolFailed,
        ) => StoreError::unavailable_from("the database failed", error),
        _ => StoreError::internal_from("the database failed", error),
    }
}

fn sqlite_code(error: &rusqlite::Error) -> Option<ErrorCode> {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.code),
        _ => None,
    }
}

/// Whether `error` is a UNIQUE (or PRIMARY KEY) constraint violation.
pub(crate) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

pub(crate) fn from_json(error: serde_json::Error) -> StoreError {
    StoreError::internal_from("stored JSON does not decode", error)
}
