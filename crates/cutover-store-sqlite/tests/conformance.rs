//! The SQLite store against the conformance suite every backend passes
//! (`cutover_store::conformance`): each case on a fresh database file in a temporary
//! directory. A SQLite file has one store (it refuses a second process), so the
//! concurrency cases race their callers through that one store.

use std::sync::Arc;

use cutover_store::conformance::{Case, Stores};
use cutover_store_sqlite::{OpenError, SqliteOptions, SqliteStore};

async fn run_case(case: Case) {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut options = SqliteOptions::new(directory.path().join("cutover.db"));
    options.limits = case.limits;
    let store = SqliteStore::open(options).expect("open a fresh SQLite store");
    case.run(Stores::one(Arc::new(store))).await;
}

cutover_store::conformance_suite!(run_case);

/// A database a newer cutover migrated is refused at open, before anything is written
/// to it: this version would not know its rows.
#[test]
fn a_database_migrated_by_a_newer_version_is_refused() {
    let directory = tempfile::tempdir().expect("tempdir");
    let path = directory.path().join("cutover.db");
    drop(SqliteStore::open(SqliteOptions::new(&path)).expect("a fresh store"));
    let connection = rusqlite::Connection::open(&path).expect("open directly");
    connection
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES (99, 'from_the_future')",
            [],
        )
        .expect("record a newer version");
    drop(connection);
    let known = cutover_store_sqlite::migrations::MIGRATIONS.len() as i64;
    match SqliteStore::open(SqliteOptions::new(&path)) {
        Err(OpenError::NewerSchema {
            found, known: said, ..
        }) => {
            assert_eq!((found, said), (99, known));
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}
