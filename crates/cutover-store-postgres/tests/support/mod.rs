//! A fresh PostgreSQL database per test, created through `TEST_POSTGRES_URL` and
//! dropped afterwards, even when the test fails; the store fixtures are the
//! conformance suite's (`cutover_store::conformance::fixtures`).

use std::future::Future;

use cutover_store_postgres::{PostgresOptions, PostgresStore};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The admin URL from `TEST_POSTGRES_URL`. Only `#[needs_postgres]` tests call this,
/// and they run only when the variable was set at build time, so its absence now
/// fails the test rather than letting it pass without running.
pub fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .expect(
            "TEST_POSTGRES_URL was set when the PostgreSQL tests were built but is not set \
             now: set it again (or build without it to skip them)",
        )
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("randomness");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// `url` with its database (the path) replaced by `database`, query kept.
pub fn with_database_name(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |at| scheme_end + at);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn admin_execute(admin: &str, sql: String) {
    let mut connection = PgConnection::connect(admin)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut connection)
        .await
        .expect("admin statement");
    let _ = connection.close().await;
}

/// Runs `test` with the URL of a fresh database, then drops the database (also when
/// the test panics, whose panic is then passed on).
pub async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin = admin_url();
    // Names are made here from hex digits only, so they are safe to splice into SQL.
    let name = format!("cutover_test_{}", random_hex(8));
    admin_execute(&admin, format!("CREATE DATABASE {name}")).await;
    let outcome = tokio::spawn(test(with_database_name(&admin, &name))).await;
    admin_execute(
        &admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("test task failed: {error}"),
        }
    }
}

pub async fn store(url: &str) -> PostgresStore {
    PostgresStore::connect(PostgresOptions::new(url))
        .await
        .expect("connect to the test database")
}
