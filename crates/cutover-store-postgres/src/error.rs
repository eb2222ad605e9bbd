//! Turning PostgreSQL errors into [`StoreError`]s: an unreachable or overloaded
//! server becomes `Unavailable` (503 with Retry-After), serialization failures and
//! deadlocks are retried by [`crate::engine`], everything unexpected is `Internal`.

use cutover_store::StoreError;

/// Why a query module's work failed: a decided answer, or a database error that the
/// transaction runner still has to classify (and maybe retry).
#[derive(Debug)]
pub(crate) enum Failure {
    Store(StoreError),
    Sql(sqlx::Error),
}

/// What every query function returns.
pub(crate) type Outcome<T> = Result<T, Failure>;

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Sql(error)
    }
}

impl Failure {
    /// [`StoreError::in_body_field`] for a decided answer; a database error stays.
    pub(crate) fn in_body_field(
        self,
        resource_type: &str,
        field: &'static str,
        message: &str,
        input: &str,
    ) -> Self {
        match self {
            Self::Store(error) => {
                Self::Store(error.in_body_field(resource_type, field, message, input))
            }
            sql => sql,
        }
    }

    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Self::Store(error) => error,
            Self::Sql(error) => from_sqlx(error),
        }
    }
}

/// The SQLSTATE of a database error, if `error` is one.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .map(|code| code.into_owned())
}

/// SQLSTATEs that mean "the server cannot serve us right now", not "the query is
/// wrong": connection exceptions (class 08), administrator/crash shutdown, the
/// server starting up, too many connections, a full disk, a read-only (standby)
/// server, a lock that another session held past `lock_timeout`, and a statement
/// cancelled (57014) by `statement_timeout` or by an administrator.
fn is_unavailable_state(state: &str) -> bool {
    state.starts_with("08")
        || matches!(
            state,
            "57P01" | "57P02" | "57P03" | "57014" | "53300" | "53100" | "25006" | "55P03"
        )
}

pub(crate) fn from_sqlx(error: sqlx::Error) -> StoreError {
    let unavailable = match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(_) => {
            sqlstate(&error).is_some_and(|state| is_unavailable_state(&state))
        }
        _ => false,
    };
    if unavailable {
        StoreError::unavailable_from("the database failed", error)
    } else {
        StoreError::internal_from("the database failed", error)
    }
}

/// Whether the whole transaction should run again: a serialization failure or a
/// deadlock, which PostgreSQL resolves by aborting one of the parties.
pub(crate) fn is_retryable(failure: &Failure) -> bool {
    matches!(failure, Failure::Sql(error)
        if matches!(sqlstate(error).as_deref(), Some("40001" | "40P01")))
}

/// The constraint (or unique index) a unique violation (23505) broke.
pub(crate) fn unique_violation(error: &sqlx::Error) -> Option<&str> {
    let db = error.as_database_error()?;
    (db.code().as_deref() == Some("23505")).then(|| db.constraint().unwrap_or(""))
}

/// Turns a unique violation into the conflict `conflict` picks for its constraint
/// name; any other error (or a constraint it does not know) stays a database error.
pub(crate) fn unique_or(
    error: sqlx::Error,
    conflict: impl FnOnce(&str) -> Option<StoreError>,
) -> Failure {
    match unique_violation(&error).and_then(conflict) {
        Some(decided) => Failure::Store(decided),
        None => Failure::Sql(error),
    }
}

pub(crate) fn from_json(error: serde_json::Error) -> Failure {
    Failure::Store(StoreError::internal_from(
        "stored JSON does not decode",
        error,
    ))
}
