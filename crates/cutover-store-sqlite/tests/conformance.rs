//! The SQLite store against the conformance suite every backend passes
//! (`cutover_store::conformance`): each case on a fresh database file in a temporary
//! directory. A SQLite file has one store (it refuses a second process), so the
//! concurrency cases race their callers through that one store.

use std::sync::Arc;

use cutover_store::conformance::{Case, Stores};
use cutover_store_sqlite::{SqliteOptions, SqliteStore};

async fn run_case(case: Case) {
    let directory = tempfile::tempdir().expect("tempdir");
    let mut options = SqliteOptions::new(directory.path().join("cutover.db"));
    options.limits = case.limits;
    let store = SqliteStore::open(options).expect("open a fresh SQLite store");
    case.run(Stores::one(Arc::new(store))).await;
}

cutover_store::conformance_suite!(run_case);
