//! Idempotency keys: a claim is taken in memory (`key_claims`) and decided against
//! what is stored on a reader; only a takeover of an ended lease, an answer and the
//! sweep are jobs on the writer, so a keyed write costs one writer job more than a
//! plain one, not two.

use async_trait::async_trait;
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, KeyClaim, decide};
use cutover_store::idempotency::PackedAnswer;
use cutover_store::{IdempotencyStore, StoreResult};

use crate::key_claims::Taken;
use crate::{SqliteStore, idempotency};

/// How often a claim looks again at a key whose holder let go while it was taking
/// the key over; past that the key reads as in progress (the client retries).
const TAKEOVER_ATTEMPTS: usize = 8;

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_key(&self, claim: &KeyClaim) -> StoreResult<Decision> {
        for _ in 0..TAKEOVER_ATTEMPTS {
            let (claims, limits, owned) = (self.key_claims.clone(), self.limits, claim.clone());
            match self.key_claims.take(claim) {
                Taken::Ours => {
                    let decided = self
                        .engine
                        .read(move |c| idempotency::decide(c, &claims, &limits, &owned))
                        .await;
                    if decided.is_err() {
                        // The read never ran (a full queue) or failed: let the key go.
                        self.key_claims.drop_if_held(claim, false);
                    }
                    return decided;
                }
                Taken::Held { record, claim_id } => {
                    let decision = decide(Some(&record), claim);
                    if decision != Decision::Run {
                        return Ok(decision);
                    }
                    let taken = self
                        .engine
                        .write(move |c| {
                            idempotency::take_over(c, &claims, &limits, &owned, &claim_id)
                        })
                        .await;
                    match taken {
                        Ok(Some(decision)) => return Ok(decision),
                        Ok(None) => continue,
                        Err(err) => {
                            self.key_claims.drop_if_held(claim, false);
                            return Err(err);
                        }
                    }
                }
            }
        }
        Ok(Decision::InProgress)
    }

    async fn answer_key(&self, claim: &KeyClaim, answer: &PackedAnswer) -> StoreResult<()> {
        let (claims, owned, answer) = (self.key_claims.clone(), claim.clone(), answer.clone());
        let bytes = answer.stored_bytes();
        let new_row = self
            .engine
            .write_sized(bytes, move |c| {
                idempotency::answer_key(c, &claims, &owned, &answer)
            })
            .await?;
        // Only now is the answer committed: until here, a repeat finds the key in
        // progress rather than reading a row that is not there yet (and the org's
        // count of stored keys takes it only now, as its row does).
        self.key_claims.drop_if_held(claim, new_row);
        Ok(())
    }

    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()> {
        self.key_claims.drop_if_held(claim, false);
        Ok(())
    }

    async fn purge_expired_keys(&self, now: Timestamp, max: u32) -> StoreResult<u64> {
        let claims = self.key_claims.clone();
        let (deleted, total) = self
            .engine
            .write(move |c| idempotency::purge_expired_keys(c, &claims, now, max))
            .await?;
        self.key_claims.swept(&deleted);
        Ok(total)
    }
}
