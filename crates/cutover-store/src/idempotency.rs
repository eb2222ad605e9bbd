//! Idempotency keys as every backend stores them: the capability
//! ([`IdempotencyStore`]) and the row a backend reads a key from ([`KeyRow`]). What a
//! request with a key gets is `cutover_domain::idempotency::decide`, which each
//! backend calls in the transaction that claims the key.

use async_trait::async_trait;
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{
    Decision, Fingerprint, KeyClaim, KeyRecord, KeyState, StoredAnswer,
};

use crate::{StoreError, StoreResult, decode_stored};

/// Keys sent with writes, so that a retried write is done once (docs/API.md,
/// "Retrying a write").
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// What the request of `claim` gets ([`cutover_domain::idempotency::decide`]);
    /// when it is [`Decision::Run`], the key is recorded as the claim's, in progress
    /// until its lease ends, in the same transaction.
    async fn claim_key(&self, claim: &KeyClaim) -> StoreResult<Decision>;

    /// Keeps `answer` for repeats of the key, if the key is still `claim`'s (a claim
    /// whose lease ended may have been taken over; then nothing changes).
    async fn answer_key(&self, claim: &KeyClaim, answer: &StoredAnswer) -> StoreResult<()>;

    /// Lets the key go if it is still `claim`'s: its request failed (5xx) or was cut
    /// off, so a retry runs again.
    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()>;

    /// Deletes up to `max` keys that expired by `now`; how many it deleted.
    async fn purge_expired_keys(&self, now: Timestamp, max: u32) -> StoreResult<u64>;
}

/// A key's row as both backends store it: a claim (`claim_id`, `lease_until`) while
/// its request runs, an answer (`status`, `headers`, `body`) after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub fingerprint: String,
    pub claim_id: Option<String>,
    pub lease_until: Option<i64>,
    pub status: Option<i64>,
    pub headers: Option<String>,
    pub body: Option<Vec<u8>>,
    pub expires_at: i64,
}

impl KeyRow {
    /// The key as [`cutover_domain::idempotency::decide`] reads it.
    pub fn record(self) -> StoreResult<KeyRecord> {
        let state = match (self.status, self.lease_until) {
            (Some(status), _) => KeyState::Answered(StoredAnswer {
                status: u16::try_from(status).map_err(|_| unreadable("status"))?,
                headers: decode_stored(
                    self.headers.as_deref().unwrap_or("[]"),
                    "answer's headers",
                )?,
                body: self.body.unwrap_or_default(),
            }),
            (None, Some(lease_until)) => KeyState::InProgress {
                lease_until: Timestamp::from_micros(lease_until),
            },
            (None, None) => return Err(unreadable("state")),
        };
        Ok(KeyRecord {
            fingerprint: Fingerprint::from_trusted(self.fingerprint),
            state,
            expires_at: Timestamp::from_micros(self.expires_at),
        })
    }
}

fn unreadable(what: &str) -> StoreError {
    StoreError::internal(format!("a stored idempotency key's {what} is unreadable"))
}

/// An answer's headers as a backend stores them.
pub fn encode_headers(answer: &StoredAnswer) -> String {
    serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> KeyRow {
        KeyRow {
            fingerprint: "f".into(),
            claim_id: None,
            lease_until: None,
            status: None,
            headers: None,
            body: None,
            expires_at: 9,
        }
    }

    #[test]
    fn an_answered_row_reads_back_as_its_answer() {
        let answer = StoredAnswer {
            status: 201,
            headers: vec![("etag".into(), "\"abc\"".into())],
            body: b"{\"a\":1}".to_vec(),
        };
        let stored = KeyRow {
            status: Some(201),
            headers: Some(encode_headers(&answer)),
            body: Some(answer.body.clone()),
            ..row()
        };
        let record = stored.record().unwrap();
        assert_eq!(record.state, KeyState::Answered(answer));
        assert_eq!(record.expires_at, Timestamp::from_micros(9));
    }

    #[test]
    fn a_claimed_row_reads_as_in_progress_and_a_row_with_neither_is_refused() {
        let claimed = KeyRow {
            claim_id: Some("c".into()),
            lease_until: Some(5),
            ..row()
        };
        assert_eq!(
            claimed.record().unwrap().state,
            KeyState::InProgress {
                lease_until: Timestamp::from_micros(5)
            }
        );
        assert!(row().record().is_err());
    }
}
