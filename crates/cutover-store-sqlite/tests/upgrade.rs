//! Opening a database an earlier cutover wrote: each fixture (`tests/fixtures/`,
//! made by `scripts/upgrade-fixture/run`) is loaded into a fresh file, opened with
//! this version, and checked by the shared `cutover_store::conformance::upgrade`.

use cutover_store::conformance::upgrade;
use cutover_store_sqlite::{SqliteOptions, SqliteStore};

#[tokio::test]
async fn a_database_written_at_stop_23_carries_its_history_into_deployments() {
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join("cutover.db");
    let connection = rusqlite::Connection::open(&path).expect("a new file");
    // The dump lists tables by name, not in the order their references need.
    connection
        .execute_batch("PRAGMA foreign_keys = OFF")
        .expect("load without reference checks");
    connection
        .execute_batch(include_str!("fixtures/stop23.sql"))
        .expect("load the fixture");
    drop(connection);
    let store = SqliteStore::open(SqliteOptions::new(&path)).expect("open and migrate");
    let scope = upgrade::from_stop23(&store).await;
    drop(store);
    let store = SqliteStore::open(SqliteOptions::new(&path)).expect("open again");
    upgrade::reopened_after_stop23(&store, &scope).await;
}
