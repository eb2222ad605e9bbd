//! Idempotency keys in SQLite. A key in progress is an entry of `key_claims` (in
//! memory: this process is the file's only one); only an answer is a row. [`decide`]
//! says what a request that holds its key in memory gets from what is stored (and
//! whether the org has room for one more key); [`take_over`] hands on, on the writer,
//! a key whose holder's lease ended; [`answer_key`] keeps the answer (on the writer,
//! only while the claim still holds the key); [`purge_expired_keys`] sweeps rows and
//! claims.

use std::collections::{BTreeMap, HashMap};

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{self, Decision, KeyClaim, KeyRecord};
use cutover_domain::limits::Limits;
use cutover_domain::quota::{Counted, LimitReached};
use cutover_store::idempotency::{KeyRow, PackedAnswer};
use cutover_store::{StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::error::from_sqlite;
use crate::key_claims::KeyClaims;
use crate::rows::{all, execute, optional};

/// The key as stored (an answer, or a claim row an older version wrote), if it is.
fn stored(connection: &Connection, claim: &KeyClaim) -> StoreResult<Option<KeyRecord>> {
    optional(
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
    .transpose()
}

/// What `claim`, which holds its key in `claims`, gets from what is stored: the key
/// stays its only when the answer is [`Decision::Run`] (a new key only if its org
/// has room for one more).
pub(crate) fn decide(
    connection: &Connection,
    claims: &KeyClaims,
    limits: &Limits,
    claim: &KeyClaim,
) -> StoreResult<Decision> {
    let decided = stored(connection, claim).and_then(|stored| {
        let decision = idempotency::decide(stored.as_ref(), claim);
        if decision == Decision::Run && stored.is_none() {
            let counted = Counted::IdempotencyKeysPerOrg;
            if !claims.admit_new(claim, u64::from(counted.limit(limits))) {
                let limit = counted.limit(limits);
                return Err(StoreError::from(LimitReached { counted, limit }));
            }
        }
        Ok(decision)
    });
    if decided
        .as_ref()
        .map_or(true, |decision| *decision != Decision::Run)
    {
        claims.drop_if_held(claim, false);
    }
    decided
}

/// Every scope's count of stored keys, for `KeyClaims::with_stored` at open.
pub(crate) fn stored_counts(connection: &Connection) -> StoreResult<HashMap<String, u64>> {
    let counts: Vec<(String, i64)> = all(
        connection,
        "SELECT scope, keys FROM idempotency_key_counts WHERE keys > 0",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(counts
        .into_iter()
        .map(|(scope, keys)| (scope, keys.max(0) as u64))
        .collect())
}

/// Hands the key to `claim` if `holder` (whose lease ended) still holds it, then
/// decides as [`decide`] does. On the writer, so it comes strictly before or after the
/// holder's answer. `None`: the holder let go meanwhile; take the key again.
pub(crate) fn take_over(
    connection: &Connection,
    claims: &KeyClaims,
    limits: &Limits,
    claim: &KeyClaim,
    holder: &str,
) -> StoreResult<Option<Decision>> {
    if !claims.take_over(claim, holder) {
        return Ok(None);
    }
    decide(connection, claims, limits, claim).map(Some)
}

/// Keeps the answer while `claim` holds its key; whether it made a new row.
pub(crate) fn answer_key(
    connection: &Connection,
    claims: &KeyClaims,
    claim: &KeyClaim,
    answer: &PackedAnswer,
) -> StoreResult<bool> {
    if !claims.holds(claim) {
        // Taken over after this claim's lease ended: the key is another's now.
        return Ok(false);
    }
    let existed = optional(
        connection,
        "SELECT 1 FROM idempotency_keys WHERE scope = ?1 AND idempotency_key = ?2",
        params![claim.scope, claim.key.as_str()],
        |_| Ok(()),
    )?
    .is_some();
    execute(
        connection,
        "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, claim_id,
             lease_until, status, headers, body, created_at, expires_at)
         VALUES (?1, ?2, ?3, NULL, NULL, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (scope, idempotency_key) DO UPDATE SET
             fingerprint = excluded.fingerprint, claim_id = NULL, lease_until = NULL,
             status = excluded.status, headers = excluded.headers, body = excluded.body,
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        params![
            claim.scope,
            claim.key.as_str(),
            claim.fingerprint.as_str(),
            answer.status,
            answer.headers,
            answer.body,
            claim.now.as_micros(),
            claim.expires_at.as_micros(),
        ],
    )
    .map_err(from_sqlite)?;
    if !existed {
        count(connection, &claim.scope, 1)?;
    }
    Ok(!existed)
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

/// Deletes up to `max` expired rows, and forgets expired claims with what is left
/// of `max`; how many of each scope's rows it deleted, and how many it did in all.
pub(crate) fn purge_expired_keys(
    connection: &Connection,
    claims: &KeyClaims,
    now: Timestamp,
    max: u32,
) -> StoreResult<(Vec<(String, u64)>, u64)> {
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
    for (scope, deleted) in &per_scope {
        count(connection, scope, -deleted)?;
    }
    let rows = scopes.len() as u64;
    let forgotten = claims.forget_expired(now, u64::from(max).saturating_sub(rows));
    let deleted = per_scope
        .into_iter()
        .map(|(scope, deleted)| (scope.to_owned(), deleted as u64))
        .collect();
    Ok((deleted, rows + forgotten))
}
