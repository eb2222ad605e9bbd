//! Connecting, and running each store operation as one transaction.
//!
//! Writes run at READ COMMITTED and take row locks (`SELECT … FOR UPDATE` on the app
//! row before touching its draft or releases), so concurrent writers to one app
//! queue up behind each other, also across server processes. Reads that take more
//! than one statement run in a REPEATABLE READ, READ ONLY transaction, so they see
//! one consistent snapshot, as SQLite's readers do.
//!
//! PostgreSQL may still abort a transaction to resolve a deadlock (40P01) or a
//! serialization failure (40001); [`transaction!`] then runs the whole transaction
//! again, up to [`MAX_RETRIES`] times with a small jittered backoff, so a client
//! never sees a 500 because two requests raced.

use std::ops::ControlFlow;
use std::str::FromStr;
use std::time::Duration;

use cutover_store::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use crate::error::{Failure, Outcome, is_retryable};
use crate::open_error::OpenError;
use crate::{PostgresOptions, migrations};

/// Starts a write transaction: every write locks what it reads, so READ COMMITTED
/// is enough (and never fails with a serialization error).
pub(crate) const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE";
/// Starts a read transaction: one snapshot for every statement of the read.
pub(crate) const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

/// How many times a transaction runs again after a serialization failure or deadlock.
pub(crate) const MAX_RETRIES: u32 = 5;

/// Runs `$body` (an expression using the connection `$c`, evaluating to a future of
/// an [`Outcome`]) inside one transaction started with `$begin`, commits it, and
/// retries the whole transaction on serialization failures and deadlocks. Evaluates
/// to a `StoreResult`. `$body` is evaluated anew on every attempt.
macro_rules! transaction {
    ($pool:expr, $begin:expr, |$c:ident| $body:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            let outcome: $crate::error::Outcome<_> = async {
                let mut transaction = $pool.begin_with($begin).await?;
                let result = {
                    let $c: &mut ::sqlx::PgConnection = &mut *transaction;
                    $body.await
                };
                $crate::engine::finish(transaction, result).await
            }
            .await;
            match $crate::engine::settle(outcome, attempt).await {
                ::std::ops::ControlFlow::Break(result) => break result,
                ::std::ops::ControlFlow::Continue(()) => attempt += 1,
            }
        }
    }};
}

/// A write transaction (READ COMMITTED with row locks), retried as [`transaction!`] says.
macro_rules! write_tx {
    ($store:expr, |$c:ident| $body:expr) => {
        $crate::engine::transaction!($store.pool, $crate::engine::BEGIN_WRITE, |$c| $body)
    };
}

/// A read transaction (REPEATABLE READ, READ ONLY).
macro_rules! read_tx {
    ($store:expr, |$c:ident| $body:expr) => {
        $crate::engine::transaction!($store.pool, $crate::engine::BEGIN_READ, |$c| $body)
    };
}

pub(crate) use {read_tx, transaction, write_tx};

/// Commits on success; rolls back (best effort: a broken connection is discarded by
/// the pool anyway) on failure.
pub(crate) async fn finish<T>(
    transaction: Transaction<'static, Postgres>,
    result: Outcome<T>,
) -> Outcome<T> {
    match result {
        Ok(value) => {
            transaction.commit().await?;
            Ok(value)
        }
        Err(failure) => {
            let _ = transaction.rollback().await;
            Err(failure)
        }
    }
}

/// Decides what an attempt's outcome means: done (with the answer), or run again
/// after a short, jittered pause.
pub(crate) async fn settle<T>(outcome: Outcome<T>, attempt: u32) -> ControlFlow<StoreResult<T>> {
    match outcome {
        Err(failure) if is_retryable(&failure) => {
            if attempt >= MAX_RETRIES {
                let Failure::Sql(error) = failure else {
                    unreachable!("only database errors are retryable")
                };
                return ControlFlow::Break(Err(StoreError::unavailable_from(
                    format!("still conflicting after {} attempts", attempt + 1),
                    error,
                )));
            }
            tracing::debug!(attempt, "transaction aborted by a concurrent one; retrying");
            tokio::time::sleep(backoff(attempt)).await;
            ControlFlow::Continue(())
        }
        other => ControlFlow::Break(other.map_err(Failure::into_store)),
    }
}

/// 2 ms, 4 ms, 8 ms… plus up to as much again at random, so retrying parties spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 2_000u64 << attempt.min(10);
    let jitter = getrandom::u64().unwrap_or(0) % base;
    Duration::from_micros(base + jitter)
}

/// Parses a `postgres://` URL; the error never repeats the URL (it may hold a password).
pub(crate) fn parse_url(url: &str) -> Result<PgConnectOptions, OpenError> {
    if !crate::is_postgres_url(url) {
        return Err(OpenError::NotPostgres);
    }
    let options =
        PgConnectOptions::from_str(url).map_err(|error| OpenError::InvalidUrl(error.into()))?;
    Ok(match options.get_application_name() {
        Some(_) => options,
        None => options.application_name("cutover"),
    })
}

/// Where `options` points, for messages: host:port/database, never the password.
pub(crate) fn describe(options: &PgConnectOptions) -> String {
    let database = options
        .get_database()
        .unwrap_or_else(|| options.get_username());
    match options.get_socket() {
        Some(socket) => format!("{}/{database}", socket.display()),
        None => format!("{}:{}/{database}", options.get_host(), options.get_port()),
    }
}

/// Opens one connection, failing within `connect_timeout` with an error that says
/// where and why.
pub(crate) async fn connect_once(
    options: &PgConnectOptions,
    connect_timeout: Duration,
) -> Result<PgConnection, OpenError> {
    match tokio::time::timeout(connect_timeout, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(source)) => Err(OpenError::Connect {
            target: describe(options),
            source: source.into(),
        }),
        Err(_) => Err(OpenError::ConnectTimeout {
            target: describe(options),
            waited: connect_timeout,
        }),
    }
}

/// Applies pending migrations on `connection`, then fills in what they could not
/// compute in SQL; says which migrations it applied.
async fn bring_up_to_date(
    connection: &mut PgConnection,
    target: &PgConnectOptions,
) -> Result<Vec<i64>, OpenError> {
    let migrating = |source: sqlx::Error| OpenError::Migrate {
        target: describe(target),
        source: source.into(),
    };
    let known = migrations::MIGRATIONS
        .last()
        .map_or(0, |(version, _, _)| *version);
    if let Some(found) = migrations::newest_recorded(connection)
        .await
        .map_err(migrating)?
        && found > known
    {
        return Err(OpenError::NewerSchema {
            target: describe(target),
            found,
            known,
        });
    }
    let applied = migrations::apply(connection).await.map_err(migrating)?;
    crate::backfill::run(connection)
        .await
        .map_err(|source| OpenError::Backfill {
            target: describe(target),
            source: Box::new(source),
        })?;
    Ok(applied)
}

/// Checks that the database answers, migrates it, and builds the pool.
pub(crate) async fn open(options: &PostgresOptions) -> Result<PgPool, OpenError> {
    let connect = parse_url(&options.url)?;
    let mut first = connect_once(&connect, options.connect_timeout).await?;
    let migrated = bring_up_to_date(&mut first, &connect).await;
    let _ = first.close().await;
    migrated?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(options.min_connections)
        .acquire_timeout(options.acquire_timeout)
        .test_before_acquire(true)
        .connect_lazy_with(connect.options(session_settings(options))))
}

/// The settings every pooled connection starts its session with (sent in the
/// startup packet, so they hold from the first statement on).
fn session_settings(options: &PostgresOptions) -> [(&'static str, String); 2] {
    let millis = |duration: Duration| format!("{}ms", duration.as_millis());
    [
        ("lock_timeout", millis(options.lock_timeout)),
        ("statement_timeout", millis(options.statement_timeout)),
    ]
}

/// Connects, applies pending migrations, and says which it applied.
pub(crate) async fn migrate(url: &str, connect_timeout: Duration) -> Result<Vec<i64>, OpenError> {
    let connect = parse_url(url)?;
    let mut connection = connect_once(&connect, connect_timeout).await?;
    let applied = bring_up_to_date(&mut connection, &connect).await;
    let _ = connection.close().await;
    applied
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A database error with a chosen SQLSTATE, as PostgreSQL would send it.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl DatabaseError for Coded {
        fn message(&self) -> &str {
            "coded"
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn failing(state: &'static str) -> Outcome<()> {
        Err(Failure::Sql(sqlx::Error::Database(Box::new(Coded(state)))))
    }

    #[tokio::test]
    async fn serialization_failures_and_deadlocks_retry_then_give_up_as_unavailable() {
        for state in ["40001", "40P01"] {
            assert!(matches!(
                settle(failing(state), 0).await,
                ControlFlow::Continue(())
            ));
            let ControlFlow::Break(Err(StoreError::Unavailable(_))) =
                settle(failing(state), MAX_RETRIES).await
            else {
                panic!("{state} after the last retry must be Unavailable");
            };
        }
    }

    #[tokio::test]
    async fn connection_states_are_unavailable_and_the_rest_internal() {
        for state in [
            "08006", "08001", "57P01", "57P02", "57P03", "57014", "55P03", "53300",
        ] {
            let ControlFlow::Break(Err(StoreError::Unavailable(_))) =
                settle(failing(state), 0).await
            else {
                panic!("{state} must be Unavailable");
            };
        }
        for state in ["23505", "42P01", "P0001", "22P02"] {
            let ControlFlow::Break(Err(StoreError::Internal(_))) = settle(failing(state), 0).await
            else {
                panic!("{state} must be Internal");
            };
        }
        let decided = Err(Failure::Store(StoreError::conflict("x", "y")));
        let ControlFlow::Break(Err(StoreError::Conflict { reason: "x", .. })) =
            settle::<()>(decided, 0).await
        else {
            panic!("decided answers pass through");
        };
        for error in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(matches!(
                crate::error::from_sqlx(error),
                StoreError::Unavailable(_)
            ));
        }
    }

    /// Fails with a serialization failure on its first two attempts.
    async fn flaky(connection: &mut PgConnection, attempt: u32) -> Outcome<i32> {
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *connection)
            .await?;
        if attempt < 2 {
            failing("40001").map(|_| one)
        } else {
            Ok(one)
        }
    }

    /// The whole transaction runs again after a serialization failure (needs a server).
    #[cutover_test_gates::needs_postgres]
    #[tokio::test]
    async fn the_transaction_macro_runs_the_body_again_after_a_serialization_failure() {
        let url = std::env::var("TEST_POSTGRES_URL")
            .expect("TEST_POSTGRES_URL was set when this test was built but is not set now");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(parse_url(&url).expect("url"));
        let attempts = AtomicU32::new(0);
        let answer: StoreResult<i32> = transaction!(pool, BEGIN_WRITE, |c| flaky(
            c,
            attempts.fetch_add(1, Ordering::SeqCst)
        ));
        assert_eq!(answer.expect("third attempt succeeds"), 1);
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }
}
