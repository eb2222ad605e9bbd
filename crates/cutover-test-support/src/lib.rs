//! What cutover's test suites and its benchmark harness share: the PostgreSQL server
//! tests may use (`TEST_POSTGRES_URL`) and scratch databases on it, each created for
//! one test or run and dropped after it, also when the test panics.
//!
//! The store fixtures (a tenant with an app, entity inputs, refusal assertions) are
//! the conformance suite's, in `cutover_store::conformance::fixtures`; the HTTP test
//! harness is `cutover-server`'s `tests/api/harness.rs`.

mod postgres;

pub use postgres::{ScratchDatabase, test_postgres_url, with_database_name};

/// `bytes` random bytes as lowercase hex: safe in a database name or a secret.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's randomness");
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}
