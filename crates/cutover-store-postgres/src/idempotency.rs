//! Idempotency keys in PostgreSQL: [`claim_key`] inserts the key or locks its row,
//! decides what the request gets (`cutover_domain::idempotency::decide`) and records
//! the claim, so of two servers sent one key at once, one runs the request and the
//! other waits for the row and then answers 409 or the replay; [`answer_key`] keeps
//! the answer; [`release_key`] lets a failed request's key go;
//! [`purge_expired_keys`] sweeps.

use std::collections::BTreeMap;

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, KeyClaim, decide};
use cutover_domain::limits::Limits;
use cutover_domain::quota::Counted;
use cutover_store::idempotency::{KeyRow, PackedAnswer};
use sqlx::{PgConnection, Row};

use crate::error::Outcome;
use crate::quota::require_room;
use crate::rows::{all, optional};

pub(crate) async fn claim_key(
    connection: &mut PgConnection,
    limits: &Limits,
    claim: &KeyClaim,
) -> Outcome<Decision> {
    // A new key is inserted as this claim's; one another server is inserting waits
    // for that transaction, and then reads as stored.
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, claim_id,
             lease_until, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (scope, idempotency_key) DO NOTHING",
    )
    .bind(&claim.scope)
    .bind(claim.key.as_str())
    .bind(claim.fingerprint.as_str())
    .bind(&claim.claim_id)
    .bind(claim.lease_until.as_micros())
    .bind(claim.now.as_micros())
    .bind(claim.expires_at.as_micros())
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if inserted == 1 {
        // A new key: refused (and the insert rolled back) past the scope's limit.
        require_room(
            &mut *connection,
            limits,
            Counted::IdempotencyKeysPerOrg,
            &claim.scope,
        )
        .await?;
        count(&mut *connection, &claim.scope, 1).await?;
        return Ok(decide(None, claim));
    }
    let stored = optional(
        &mut *connection,
        sqlx::query(
            "SELECT fingerprint, claim_id, lease_until, status, headers, body, expires_at
             FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 FOR UPDATE",
        )
        .bind(&claim.scope)
        .bind(claim.key.as_str()),
        |row| {
            Ok(KeyRow {
                fingerprint: row.try_get(0)?,
                claim_id: row.try_get(1)?,
                lease_until: row.try_get(2)?,
                status: row.try_get::<Option<i32>, _>(3)?.map(i64::from),
                headers: row.try_get(4)?,
                body: row.try_get(5)?,
                expires_at: row.try_get(6)?,
            })
        },
    )
    .await?
    .map(KeyRow::record)
    .transpose()?;
    let decision = decide(stored.as_ref(), claim);
    if decision == Decision::Run {
        sqlx::query(
            "UPDATE idempotency_keys SET fingerprint = $3, claim_id = $4, lease_until = $5,
                 status = NULL, headers = NULL, body = NULL, created_at = $6, expires_at = $7
             WHERE scope = $1 AND idempotency_key = $2",
        )
        .bind(&claim.scope)
        .bind(claim.key.as_str())
        .bind(claim.fingerprint.as_str())
        .bind(&claim.claim_id)
        .bind(claim.lease_until.as_micros())
        .bind(claim.now.as_micros())
        .bind(claim.expires_at.as_micros())
        .execute(&mut *connection)
        .await?;
    }
    Ok(decision)
}

pub(crate) async fn answer_key(
    connection: &mut PgConnection,
    claim: &KeyClaim,
    answer: &PackedAnswer,
) -> Outcome<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET claim_id = NULL, lease_until = NULL, status = $4,
             headers = $5, body = $6
         WHERE scope = $1 AND idempotency_key = $2 AND claim_id = $3",
    )
    .bind(&claim.scope)
    .bind(claim.key.as_str())
    .bind(&claim.claim_id)
    .bind(i32::from(answer.status))
    .bind(&answer.headers)
    .bind(&answer.body)
    .execute(connection)
    .await?;
    Ok(())
}

pub(crate) async fn release_key(connection: &mut PgConnection, claim: &KeyClaim) -> Outcome<()> {
    let released = sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE scope = $1 AND idempotency_key = $2 AND claim_id = $3",
    )
    .bind(&claim.scope)
    .bind(claim.key.as_str())
    .bind(&claim.claim_id)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    count(connection, &claim.scope, -(released as i64)).await
}

/// Adds `by` (negative: takes away) to the count of `scope`'s stored keys.
async fn count(connection: &mut PgConnection, scope: &str, by: i64) -> Outcome<()> {
    if by == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO idempotency_key_counts (scope, keys) VALUES ($1, GREATEST($2, 0))
         ON CONFLICT (scope) DO UPDATE
         SET keys = GREATEST(idempotency_key_counts.keys + $2, 0)",
    )
    .bind(scope)
    .bind(by)
    .execute(connection)
    .await?;
    Ok(())
}

pub(crate) async fn purge_expired_keys(
    connection: &mut PgConnection,
    now: Timestamp,
    max: u32,
) -> Outcome<u64> {
    let scopes: Vec<String> = all(
        &mut *connection,
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE (scope, idempotency_key) IN (
                 SELECT scope, idempotency_key FROM idempotency_keys
                 WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING scope",
        )
        .bind(now.as_micros())
        .bind(i64::from(max)),
        |row| row.try_get(0),
    )
    .await?;
    let mut per_scope: BTreeMap<&str, i64> = BTreeMap::new();
    for scope in &scopes {
        *per_scope.entry(scope).or_default() += 1;
    }
    // In scope order, so sweeps on two servers take the count rows in one order.
    for (scope, deleted) in per_scope {
        count(&mut *connection, scope, -deleted).await?;
    }
    Ok(scopes.len() as u64)
}
