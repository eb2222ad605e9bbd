//! Small helpers shared by the query modules: JSON columns, counts, pages, and
//! reading typed columns out of rows.

use cutover_store::{PageRequest, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Postgres, Row};

use crate::error::{Failure, Outcome, from_json};

/// A query with its parameters bound.
pub(crate) type PgQuery = sqlx::query::Query<'static, Postgres, PgArguments>;

pub(crate) fn to_json<T: Serialize>(value: &T) -> Outcome<String> {
    serde_json::to_string(value).map_err(from_json)
}

/// Decodes a JSON column this store wrote (see [`cutover_store::decode_stored`]).
pub(crate) fn from_json_text<T: DeserializeOwned>(text: &str) -> Outcome<T> {
    Ok(cutover_store::decode_stored(text, "row")?)
}

/// The first row of `query` mapped by `map`, or `None`.
pub(crate) async fn optional<T>(
    connection: &mut PgConnection,
    query: PgQuery,
    map: impl FnOnce(&PgRow) -> sqlx::Result<T>,
) -> Outcome<Option<T>> {
    match query.fetch_optional(connection).await? {
        Some(row) => Ok(Some(map(&row)?)),
        None => Ok(None),
    }
}

/// Every row of `query` mapped by `map`.
pub(crate) async fn all<T>(
    connection: &mut PgConnection,
    query: PgQuery,
    map: impl FnMut(&PgRow) -> sqlx::Result<T>,
) -> Outcome<Vec<T>> {
    let rows = query.fetch_all(connection).await?;
    Ok(rows.iter().map(map).collect::<sqlx::Result<Vec<T>>>()?)
}

/// Runs `query`, which selects one `count(*)` column.
pub(crate) async fn count(connection: &mut PgConnection, query: PgQuery) -> Outcome<u64> {
    let row = query.fetch_one(connection).await?;
    let total: i64 = row.try_get(0)?;
    Ok(total.max(0) as u64)
}

/// Runs `query`, which selects one JSON `body` column, and decodes each body.
pub(crate) async fn bodies<T: DeserializeOwned>(
    connection: &mut PgConnection,
    query: PgQuery,
) -> Outcome<Vec<T>> {
    all(connection, query, |row| row.try_get::<String, _>(0))
        .await?
        .iter()
        .map(|text| from_json_text(text))
        .collect()
}

/// A non-negative count column as `u32`.
pub(crate) fn get_u32(row: &PgRow, index: usize) -> sqlx::Result<u32> {
    let value: i64 = row.try_get(index)?;
    u32::try_from(value).map_err(|err| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(err),
    })
}

/// The key after which an id-ordered page starts: items sort after it.
pub(crate) fn after_key(page: &PageRequest) -> String {
    page.after.clone().unwrap_or_default()
}

/// `LIMIT` for a page: one more than asked, to learn whether another page exists.
pub(crate) fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

pub(crate) fn not_found(resource_type: &'static str, id: impl ToString) -> Failure {
    Failure::Store(StoreError::not_found(resource_type, id))
}
