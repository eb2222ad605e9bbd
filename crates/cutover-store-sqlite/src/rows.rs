//! Small helpers shared by the query modules: JSON columns, optional rows, pages.

use cutover_store::{PageRequest, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Params, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{from_json, from_sqlite};

pub(crate) fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(from_json)
}

/// Decodes a JSON column this store wrote (see [`cutover_store::decode_stored`]).
pub(crate) fn from_json_text<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    cutover_store::decode_stored(text, "row")
}

/// Runs `sql` (prepared once per connection), answering how many rows it changed.
pub(crate) fn execute(
    connection: &Connection,
    sql: &str,
    params: impl Params,
) -> rusqlite::Result<usize> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
}

/// The first row of `sql` mapped by `map`, or `None`.
pub(crate) fn optional<T>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, map).optional())
        .map_err(from_sqlite)
}

/// Every row of `sql` mapped by `map`.
pub(crate) fn all<T>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut statement = connection.prepare_cached(sql).map_err(from_sqlite)?;
    let rows = statement.query_map(params, map).map_err(from_sqlite)?;
    rows.collect::<rusqlite::Result<Vec<T>>>()
        .map_err(from_sqlite)
}

pub(crate) fn count(connection: &Connection, sql: &str, params: impl Params) -> StoreResult<u64> {
    let total: i64 = connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params, |row| row.get(0)))
        .map_err(from_sqlite)?;
    Ok(total.max(0) as u64)
}

/// The key after which an id-ordered page starts: items sort after it.
pub(crate) fn after_key(page: &PageRequest) -> &str {
    page.after.as_deref().unwrap_or("")
}

/// Runs `sql`, which selects one JSON `body` column, and decodes each body.
pub(crate) fn bodies<T: DeserializeOwned>(
    connection: &Connection,
    sql: &str,
    params: impl Params,
) -> StoreResult<Vec<T>> {
    all(connection, sql, params, |row| row.get::<_, String>(0))?
        .iter()
        .map(|text| from_json_text(text))
        .collect()
}

pub(crate) fn not_found(resource_type: &'static str, id: impl ToString) -> StoreError {
    StoreError::not_found(resource_type, id)
}
