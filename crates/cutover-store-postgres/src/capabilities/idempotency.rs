//! Idempotency keys: each call one write transaction; a claim takes the key's row
//! lock, so servers sharing the database decide one request with a key at a time.

use async_trait::async_trait;
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, KeyClaim};
use cutover_store::idempotency::PackedAnswer;
use cutover_store::{IdempotencyStore, StoreResult};

use crate::engine::write_tx;
use crate::{PostgresStore, idempotency};

#[async_trait]
impl IdempotencyStore for PostgresStore {
    async fn claim_key(&self, claim: &KeyClaim) -> StoreResult<Decision> {
        write_tx!(self, |c| idempotency::claim_key(c, &self.limits, claim))
    }

    async fn answer_key(&self, claim: &KeyClaim, answer: &PackedAnswer) -> StoreResult<()> {
        write_tx!(self, |c| idempotency::answer_key(c, claim, answer))
    }

    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()> {
        write_tx!(self, |c| idempotency::release_key(c, claim))
    }

    async fn purge_expired_keys(&self, now: Timestamp, max: u32) -> StoreResult<u64> {
        write_tx!(self, |c| idempotency::purge_expired_keys(c, now, max))
    }
}
