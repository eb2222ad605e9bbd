//! The PostgreSQL server from `TEST_POSTGRES_URL`, and a database of its own per test,
//! dropped `WITH (FORCE)` when the test ends.

use std::thread;

use crate::random::random_u64;

/// The PostgreSQL server tests may create databases on, from `TEST_POSTGRES_URL`.
/// The tests that call this are `#[needs_postgres]`: built only when the variable
/// was set, so its absence now fails them rather than letting them pass unrun.
pub fn postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .expect(
            "TEST_POSTGRES_URL was set when the PostgreSQL tests were built but is not set \
             now: set it again (or build without it to skip them)",
        )
}

/// `url` with its database name replaced by `database` (query string kept).
fn with_database_name(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs one administrative statement on the server at `admin`, on a thread and
/// runtime of its own (so it works from a destructor, inside or outside a runtime).
fn postgres_admin(admin: &str, sql: String) -> Result<(), String> {
    let admin = admin.to_owned();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("runtime: {err}"))?;
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&admin)
                .await
                .map_err(|err| format!("connecting to TEST_POSTGRES_URL: {err}"))?;
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut connection)
                .await
                .map(|_| ())
                .map_err(|err| format!("{sql}: {err}"));
            let _ = connection.close().await;
            result
        })
    })
    .join()
    .map_err(|_| "the administrative thread panicked".to_owned())?
}

/// A database created for one test, dropped `WITH (FORCE)` when the guard goes away
/// (which also ends every connection the servers still hold to it).
pub struct TestDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub fn create(admin: &str) -> Self {
        let name = format!("cutover_multiprocess_{:016x}", random_u64());
        postgres_admin(admin, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|err| panic!("creating the test database: {err}"));
        Self {
            admin: admin.to_owned(),
            url: with_database_name(admin, &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(err) = postgres_admin(&self.admin, sql) {
            eprintln!("warning: could not drop test database {}: {err}", self.name);
        }
    }
}
