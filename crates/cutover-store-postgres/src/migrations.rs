//! Embedded schema migrations, applied in order at start and recorded in
//! `schema_migrations`. Versions and names are shared with every other backend.
//!
//! Each migration runs in its own transaction that first takes a transaction-level
//! advisory lock, so several servers starting at once apply each migration exactly
//! once: the others wait, then find it recorded.

use sqlx::{Connection, PgConnection, Row};

/// `(version, name, sql)`, in the order they apply.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "lean_release_rows",
        include_str!("../migrations/0002_lean_release_rows.sql"),
    ),
    (
        3,
        "entity_digests",
        include_str!("../migrations/0003_entity_digests.sql"),
    ),
    (
        4,
        "environments",
        include_str!("../migrations/0004_environments.sql"),
    ),
    (
        5,
        "deployments",
        include_str!("../migrations/0005_deployments.sql"),
    ),
    (
        6,
        "timeline",
        include_str!("../migrations/0006_timeline.sql"),
    ),
    (
        7,
        "idempotency_keys",
        include_str!("../migrations/0007_idempotency_keys.sql"),
    ),
];

/// The advisory lock key that serializes migrations ("cutover" in ASCII).
pub(crate) const MIGRATION_LOCK: i64 = 0x0063_7574_6f76_6572;

/// The newest version recorded in the database, if it has been migrated at all: a
/// version this binary does not know means a newer cutover migrated it.
pub(crate) async fn newest_recorded(connection: &mut PgConnection) -> sqlx::Result<Option<i64>> {
    let migrated: bool = sqlx::query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    if !migrated {
        return Ok(None);
    }
    sqlx::query("SELECT max(version) FROM schema_migrations")
        .fetch_one(connection)
        .await?
        .try_get(0)
}

/// Applies every migration not yet recorded, each in its own transaction. Returns
/// the versions it applied.
pub(crate) async fn apply(connection: &mut PgConnection) -> sqlx::Result<Vec<i64>> {
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let mut transaction = connection.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *transaction)
            .await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    BIGINT PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .execute(&mut *transaction)
        .await?;
        let done: bool =
            sqlx::query("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)")
                .bind(version)
                .fetch_one(&mut *transaction)
                .await?
                .try_get(0)?;
        if !done {
            sqlx::raw_sql(*sql).execute(&mut *transaction).await?;
            sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
                .bind(version)
                .bind(name)
                .execute(&mut *transaction)
                .await?;
            applied.push(*version);
        }
        transaction.commit().await?;
    }
    Ok(applied)
}
