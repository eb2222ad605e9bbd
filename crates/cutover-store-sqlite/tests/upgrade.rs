//! Opening a database an earlier cutover wrote: each fixture (`tests/fixtures/`,
//! made by `scripts/upgrade-fixture/run`) is loaded into a fresh file, opened with
//! this version, and checked by the shared `cutover_store::conformance::upgrade`.

use cutover_store::conformance::upgrade;
use cutover_store_sqlite::{SqliteOptions, SqliteStore};

/// A fresh file holding `fixture`, opened (and so migrated) by this version.
fn opened(directory: &tempfile::TempDir, fixture: &str) -> SqliteStore {
    let path = directory.path().join("cutover.db");
    let connection = rusqlite::Connection::open(&path).expect("a new file");
    // The dump lists tables by name, not in the order their references need.
    connection
        .execute_batch("PRAGMA foreign_keys = OFF")
        .expect("load without reference checks");
    connection.execute_batch(fixture).expect("load the fixture");
    drop(connection);
    SqliteStore::open(SqliteOptions::new(&path)).expect("open and migrate")
}

fn reopened(directory: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(SqliteOptions::new(directory.path().join("cutover.db"))).expect("open again")
}

#[tokio::test]
async fn a_database_written_at_stop_23_carries_its_history_into_deployments() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = opened(&directory, include_str!("fixtures/stop23.sql"));
    let scope = upgrade::from_stop23(&store).await;
    drop(store);
    upgrade::reopened_after_stop23(&reopened(&directory), &scope).await;
}

#[tokio::test]
async fn a_database_written_at_stop_24_gets_its_history_on_the_timeline() {
    let directory = tempfile::tempdir().expect("tempdir");
    let store = opened(&directory, include_str!("fixtures/stop24.sql"));
    let scope = upgrade::from_stop24(&store).await;
    drop(store);
    upgrade::reopened_after_stop23(&reopened(&directory), &scope).await;
}
