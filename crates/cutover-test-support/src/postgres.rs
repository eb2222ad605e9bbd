//! Scratch PostgreSQL databases: created on the server an admin URL names, answered
//! as a URL with the database swapped in, and dropped `WITH (FORCE)` (which also ends
//! every connection still open to it) when the guard goes away.

use std::thread;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::random_hex;

/// The PostgreSQL server tests may create databases on, from `TEST_POSTGRES_URL`.
/// Only tests marked `#[needs_postgres]` call this, and those run only when the
/// variable was set when they were built, so its absence now fails the test rather
/// than letting it pass without having run.
pub fn test_postgres_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .expect(
            "TEST_POSTGRES_URL was set when the PostgreSQL tests were built but is not set \
             now: set it again (or build without it to skip them)",
        )
}

/// `url` with its database (the path) replaced by `database`, the query kept.
pub fn with_database_name(url: &str, database: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base
        .find("://")
        .ok_or_else(|| format!("not a postgres:// URL: {url}"))?
        + 3;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// An administrative statement: one to run, or one whose single number is wanted.
enum Statement {
    Execute(String),
    Number(String),
}

/// Runs `statement` on the server at `url`, on a thread and runtime of its own, so it
/// works from async code, sync code and destructors alike; answers the number a
/// [`Statement::Number`] selects.
fn administer(url: &str, statement: Statement) -> Result<Option<i64>, String> {
    let url = url.to_owned();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("a runtime for administrative SQL: {err}"))?;
        runtime.block_on(async move {
            let mut connection = PgConnection::connect(&url)
                .await
                .map_err(|err| format!("connecting to {url}: {err}"))?;
            let (sql, result) = match statement {
                Statement::Execute(sql) => {
                    let done = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                        .execute(&mut connection)
                        .await
                        .map(|_| None);
                    (sql, done)
                }
                Statement::Number(sql) => {
                    let number = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.clone()))
                        .fetch_one(&mut connection)
                        .await
                        .map(Some);
                    (sql, number)
                }
            };
            let _ = connection.close().await;
            result.map_err(|err| format!("{sql}: {err}"))
        })
    })
    .join()
    .map_err(|_| "the administrative thread panicked".to_owned())?
}

/// A database of its own for one test or run, dropped when this goes away.
pub struct ScratchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database named `<prefix>_<random hex>` on the `admin` server.
    pub fn create(admin: &str, prefix: &str) -> Result<Self, String> {
        // The name is made of the caller's prefix and hex digits, so it is safe to
        // splice into SQL; a prefix is checked to be an identifier of the same kind.
        if !prefix.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(format!(
                "a scratch database prefix must be [a-z_]: {prefix}"
            ));
        }
        let name = format!("{prefix}_{}", random_hex(8));
        let url = with_database_name(admin, &name)?;
        administer(admin, Statement::Execute(format!("CREATE DATABASE {name}")))?;
        Ok(Self {
            admin: admin.to_owned(),
            name,
            url,
        })
    }

    /// A new database on the `TEST_POSTGRES_URL` server; panics when it cannot be
    /// made, as a test must fail then.
    pub fn for_test() -> Self {
        Self::create(&test_postgres_url(), "cutover_test")
            .unwrap_or_else(|err| panic!("creating a test database: {err}"))
    }

    /// Its URL: the admin URL with this database's name.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes the database takes (`pg_database_size`; the cluster's WAL is not in it).
    pub fn size_bytes(&self) -> Result<u64, String> {
        let sql = "SELECT pg_database_size(current_database())".to_owned();
        let bytes = administer(&self.url, Statement::Number(sql))?.unwrap_or(0);
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(err) = administer(&self.admin, Statement::Execute(sql)) {
            eprintln!(
                "warning: could not drop scratch database {}: {err}",
                self.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_swapped_and_the_query_kept() {
        let swap = |url: &str| with_database_name(url, "scratch").unwrap();
        assert_eq!(
            swap("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/scratch"
        );
        assert_eq!(
            swap("postgres://u:p@h/db?sslmode=disable"),
            "postgres://u:p@h/scratch?sslmode=disable"
        );
        assert_eq!(swap("postgresql://h"), "postgresql://h/scratch");
        assert!(with_database_name("localhost", "x").is_err());
    }

    #[test]
    fn a_prefix_that_is_not_a_plain_identifier_is_refused() {
        let refused = ScratchDatabase::create("postgres://h/db", "x; DROP");
        assert!(refused.is_err());
    }
}
