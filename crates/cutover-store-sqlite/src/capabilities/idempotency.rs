//! Idempotency keys: every call is one short job on the writer, so two requests with
//! one key are decided one after the other.

use async_trait::async_trait;
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, KeyClaim};
use cutover_store::idempotency::PackedAnswer;
use cutover_store::{IdempotencyStore, StoreResult};

use crate::{SqliteStore, idempotency};

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_key(&self, claim: &KeyClaim) -> StoreResult<Decision> {
        let (claim, limits) = (claim.clone(), self.limits);
        self.engine
            .write(move |c| idempotency::claim_key(c, &limits, &claim))
            .await
    }

    async fn answer_key(&self, claim: &KeyClaim, answer: &PackedAnswer) -> StoreResult<()> {
        let (claim, answer) = (claim.clone(), answer.clone());
        let bytes = answer.stored_bytes();
        self.engine
            .write_sized(bytes, move |c| idempotency::answer_key(c, &claim, &answer))
            .await
    }

    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()> {
        let claim = claim.clone();
        self.engine
            .write(move |c| idempotency::release_key(c, &claim))
            .await
    }

    async fn purge_expired_keys(&self, now: Timestamp, max: u32) -> StoreResult<u64> {
        self.engine
            .write(move |c| idempotency::purge_expired_keys(c, now, max))
            .await
    }
}
