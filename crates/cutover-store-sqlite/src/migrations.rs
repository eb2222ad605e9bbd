//! Embedded schema migrations, applied in order at start and recorded in
//! `schema_migrations`. Versions and names are shared with every other backend.

use rusqlite::{Connection, params};

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

/// The newest version recorded in the database, if it has been migrated at all: a
/// version this binary does not know means a newer cutover migrated it.
pub fn newest_recorded(connection: &Connection) -> rusqlite::Result<Option<i64>> {
    let migrated: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master
                        WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !migrated {
        return Ok(None);
    }
    connection.query_row("SELECT max(version) FROM schema_migrations", [], |row| {
        row.get(0)
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database left at version 1 with a release in it keeps that release, its
    /// content and its immutability through version 2.
    #[test]
    fn lean_release_rows_keeps_every_release_and_its_content() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                     applied_at TEXT NOT NULL DEFAULT 'then') STRICT;
                 INSERT INTO schema_migrations (version, name) VALUES (1, 'initial');",
            )
            .unwrap();
        connection.execute_batch(MIGRATIONS[0].2).unwrap();
        connection
            .execute_batch(
                "INSERT INTO orgs VALUES ('org_1', 'o', 'o', 0, 'me');
                 INSERT INTO workspaces VALUES ('ws_1', 'org_1', 'w', NULL, 0, 'me');
                 INSERT INTO apps (app_id, org_id, workspace_id, name, parameters, draft_hash,
                     release_seq, created_by, created_at, updated_at)
                     VALUES ('app_1', 'org_1', 'ws_1', 'a', '{}', 'h', 1, 'me', 0, 0);
                 INSERT INTO releases (release_id, app_id, workspace_id, org_id, release_tag,
                     release_number, status, endpoint_count, augmentation_count, content_hash,
                     created_at, created_by, change_log, snapshot)
                     VALUES ('rel_1', 'app_1', 'ws_1', 'org_1', 'v1', 1, 'active', 0, 0, 'h',
                     0, 'me', 'Initial release', '{\"endpoints\":[],\"augmentations\":[]}');",
            )
            .unwrap();

        assert_eq!(apply(&mut connection).unwrap(), vec![2, 3, 4, 5, 6, 7]);

        let (status, change_log, snapshot): (String, String, String) = connection
            .query_row(
                "SELECT status, change_log, snapshot FROM releases
                 JOIN release_contents USING (release_id) WHERE release_id = 'rel_1'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .unwrap();
        assert_eq!(status, "active");
        assert_eq!(change_log, "Initial release");
        assert_eq!(snapshot, "{\"endpoints\":[],\"augmentations\":[]}");
        let refused = connection
            .execute("UPDATE release_contents SET change_log = 'x'", [])
            .unwrap_err();
        assert!(refused.to_string().contains("immutable"), "{refused}");
        connection
            .execute("UPDATE releases SET status = 'archived'", [])
            .unwrap();
        let refused = connection
            .execute("UPDATE releases SET release_tag = 'v2'", [])
            .unwrap_err();
        assert!(refused.to_string().contains("immutable"), "{refused}");
        connection
            .execute_batch("PRAGMA foreign_keys = ON")
            .unwrap();
        connection
            .execute("DELETE FROM releases WHERE release_id = 'rel_1'", [])
            .unwrap();
        let left: i64 = connection
            .query_row("SELECT count(*) FROM release_contents", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(left, 0, "a release's content goes with it");
    }
}
