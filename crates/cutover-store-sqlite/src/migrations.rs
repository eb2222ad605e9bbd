//! Embedded schema migrations, applied in order at start and recorded in
//! `schema_migrations`. Versions and names are shared with every other backend.

use rusqlite::{Connection, params};

/// `(version, name, sql)`, in the order they apply.
pub const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "initial", include_str!("../migrations/0001_initial.sql"))];

/// Applies every migration not yet recorded, each in its own transaction. Returns
/// the versions it applied.
pub fn apply(connection: &mut Connection) -> rusqlite::Result<Vec<i64>> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ) STRICT",
    )?;
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |row| row.get(0),
        )?;
        if !done {
            transaction.execute_batch(sql)?;
            transaction.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                params![version, name],
            )?;
            applied.push(*version);
        }
        transaction.commit()?;
    }
    Ok(applied)
}
