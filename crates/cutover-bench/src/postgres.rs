//! A scratch PostgreSQL database per run: created empty on the server the given URL
//! names, measured, and dropped at the end, so nothing carries over between runs.

use sqlx::{Connection, PgConnection};

pub struct Scratch {
    admin_url: String,
    pub name: String,
    pub url: String,
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").ok_or("not a postgres:// URL")? + 3;
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

impl Scratch {
    pub async fn create(admin_url: &str) -> Result<Self, String> {
        let name = format!("cutover_bench_{}", std::process::id());
        let mut conn = PgConnection::connect(admin_url)
            .await
            .map_err(|e| format!("connecting to {admin_url}: {e}"))?;
        // The name is ours (digits and underscores only), so formatting it is safe.
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("dropping an old {name}: {e}"))?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("creating {name}: {e}"))?;
        let url = with_database(admin_url, &name)?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    /// Bytes the database takes (`pg_database_size`; the cluster's WAL is not in it).
    pub async fn size(&self) -> Result<u64, String> {
        let mut conn = PgConnection::connect(&self.url)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.name))?;
        let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| format!("measuring {}: {e}", self.name))?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    pub async fn drop_database(self) -> Result<(), String> {
        let mut conn = PgConnection::connect(&self.admin_url)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.admin_url))?;
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("dropping {}: {e}", self.name))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn swaps_the_database_name() {
        let swap = |u: &str| with_database(u, "scratch").unwrap();
        assert_eq!(
            swap("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/scratch"
        );
        assert_eq!(
            swap("postgres://u:p@h/db?sslmode=disable"),
            "postgres://u:p@h/scratch?sslmode=disable"
        );
        assert_eq!(swap("postgresql://h"), "postgresql://h/scratch");
        assert!(with_database("localhost", "x").is_err());
    }
}
