//! Idempotency keys in SQLite: [`claim_key`] decides what a request with a key gets
//! (`cutover_domain::idempotency::decide`) and records the claim, on the writer, so
//! two requests with one key are never both run; [`answer_key`] keeps the answer;
//! [`release_key`] lets a failed request's key go; [`purge_expired_keys`] sweeps.

use std::collections::BTreeMap;

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, KeyClaim, decide};
use cutover_domain::limits::Limits;
use cutover_domain::quota::Counted;
use cutover_store::StoreResult;
use cutover_store::idempotency::{KeyRow, PackedAnswer};
use rusqlite::{Connection, params};

use crate::error::from_sqlite;
use crate::quota::require_room;
use crate::rows::{all, execute, optional};

pub(crate) fn claim_key(
    connection: &Connection,
    limits: &Limits,
    claim: &KeyClaim,
) -> StoreResult<Decision> {
    let stored = optional(
        connection,
        "SELECT fingerprint, claim_id, lease_until, status, headers, body, expires_at
         FROM idempotency_keys WHERE scope = ?1 AND idempotency_key = ?2",
        params![claim.scope, claim.key.as_str()],
        |row| {
            Ok(KeyRow {
                fingerprint: row.get(0)?,
                claim_id: row.get(1)?,
                lease_until: row.get(2)?,
                status: row.get(3)?,
                headers: row.get(4)?,
                body: row.get(5)?,
                expires_at: row.get(6)?,
            })
        },
    )?
    .map(KeyRow::record)
    .transpose()?;
    let decision = decide(stored.as_ref(), claim);
    if decision == Decision::Run && stored.is_none() {
        require_room(
            connection,
            limits,
            Counted::IdempotencyKeysPerOrg,
            &claim.scope,
        )?;
        count(connection, &claim.scope, 1)?;
    }
    if decision == Decision::Run {
        execute(
            connection,
            "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, claim_id,
                 lease_until, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (scope, idempotency_key) DO UPDATE SET
                 fingerprint = excluded.fingerprint, claim_id = excluded.claim_id,
                 lease_until = excluded.lease_until, status = NULL, headers = NULL,
                 body = NULL, created_at = excluded.created_at,
                 expires_at = excluded.expires_at",
            params![
                claim.scope,
                claim.key.as_str(),
                claim.fingerprint.as_str(),
                claim.claim_id,
                claim.lease_until.as_micros(),
                claim.now.as_micros(),
                claim.expires_at.as_micros(),
            ],
        )
        .map_err(from_sqlite)?;
    }
    Ok(decision)
}

pub(crate) fn answer_key(
    connection: &Connection,
    claim: &KeyClaim,
    answer: &PackedAnswer,
) -> StoreResult<()> {
    execute(
        connection,
        "UPDATE idempotency_keys SET claim_id = NULL, lease_until = NULL, status = ?4,
             headers = ?5, body = ?6
         WHERE scope = ?1 AND idempotency_key = ?2 AND claim_id = ?3",
        params![
            claim.scope,
            claim.key.as_str(),
            claim.claim_id,
            answer.status,
            answer.headers,
            answer.body,
        ],
    )
    .map_err(from_sqlite)?;
    Ok(())
}

pub(crate) fn release_key(connection: &Connection, claim: &KeyClaim) -> StoreResult<()> {
    let released = execute(
        connection,
        "DELETE FROM idempotency_keys
         WHERE scope = ?1 AND idempotency_key = ?2 AND claim_id = ?3",
        params![claim.scope, claim.key.as_str(), claim.claim_id],
    )
    .map_err(from_sqlite)?;
    count(connection, &claim.scope, -(released as i64))
}

/// Adds `by` (negative: takes away) to the count of `scope`'s stored keys.
fn count(connection: &Connection, scope: &str, by: i64) -> StoreResult<()> {
    if by == 0 {
        return Ok(());
    }
    execute(
        connection,
        "INSERT INTO idempotency_key_counts (scope, keys) VALUES (?1, max(?2, 0))
         ON CONFLICT (scope) DO UPDATE SET keys = max(keys + ?2, 0)",
        params![scope, by],
    )
    .map_err(from_sqlite)?;
    Ok(())
}

pub(crate) fn purge_expired_keys(
    connection: &Connection,
    now: Timestamp,
    max: u32,
) -> StoreResult<u64> {
    let scopes: Vec<String> = all(
        connection,
        "DELETE FROM idempotency_keys WHERE (scope, idempotency_key) IN (
             SELECT scope, idempotency_key FROM idempotency_keys
             WHERE expires_at <= ?1 LIMIT ?2)
         RETURNING scope",
        params![now.as_micros(), max],
        |row| row.get(0),
    )?;
    let mut per_scope: BTreeMap<&str, i64> = BTreeMap::new();
    for scope in &scopes {
        *per_scope.entry(scope).or_default() += 1;
    }
    for (scope, deleted) in per_scope {
        count(connection, scope, -deleted)?;
    }
    Ok(scopes.len() as u64)
}
