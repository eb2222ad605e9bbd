//! Idempotency keys as every backend stores them: the capability
//! ([`IdempotencyStore`]), an answer packed for keeping ([`PackedAnswer`]: its body
//! deflated, so a kept release document costs the database a fraction of its bytes)
//! and the row a backend reads a key from ([`KeyRow`]). What a request with a key
//! gets is `cutover_domain::idempotency::decide`, which each backend calls in the
//! transaction that claims the key.

use std::io::Read;
use std::sync::Mutex;

use async_trait::async_trait;
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{
    Decision, Fingerprint, KeyClaim, KeyRecord, KeyState, StoredAnswer,
};
use flate2::{Compress, Compression, FlushCompress, Status};

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
    async fn answer_key(&self, claim: &KeyClaim, answer: &PackedAnswer) -> StoreResult<()>;

    /// Lets the key go if it is still `claim`'s: its request failed (5xx) or was cut
    /// off, so a retry runs again.
    async fn release_key(&self, claim: &KeyClaim) -> StoreResult<()>;

    /// Deletes up to `max` keys that expired by `now`; how many it deleted.
    async fn purge_expired_keys(&self, now: Timestamp, max: u32) -> StoreResult<u64>;
}

/// The most bytes a kept body inflates to: more than any answer the server makes.
const MAX_INFLATED_BYTES: u64 = 256 << 20;

/// An answer as a store keeps it: its status, its headers as JSON, and its body
/// deflated. Packing costs CPU, so callers pack off the database's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedAnswer {
    pub status: u16,
    pub headers: String,
    pub body: Vec<u8>,
}

impl PackedAnswer {
    pub fn pack(answer: &StoredAnswer) -> Self {
        Self {
            status: answer.status,
            headers: serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".to_owned()),
            body: deflate(&answer.body),
        }
    }

    /// About the bytes writing it puts in the database.
    pub fn stored_bytes(&self) -> usize {
        self.body.len() + self.headers.len()
    }
}

/// Deflate states kept for reuse, at most [`KEPT_DEFLATERS`]: a fresh one allocates
/// and zeroes some hundreds of KiB, which cost more than packing a release's answer.
static DEFLATERS: Mutex<Vec<Compress>> = Mutex::new(Vec::new());
const KEPT_DEFLATERS: usize = 4;

/// `body` as a raw deflate stream (what [`inflate`] reads), at the fast level.
fn deflate(body: &[u8]) -> Vec<u8> {
    let kept = DEFLATERS.lock().ok().and_then(|mut kept| kept.pop());
    let mut compress = kept.unwrap_or_else(|| Compress::new(Compression::fast(), false));
    compress.reset();
    let mut packed = Vec::with_capacity(body.len() / 4 + 64);
    loop {
        let read = usize::try_from(compress.total_in()).unwrap_or(body.len());
        match compress.compress_vec(
            &body[read.min(body.len())..],
            &mut packed,
            FlushCompress::Finish,
        ) {
            Ok(Status::StreamEnd) => break,
            Ok(Status::Ok | Status::BufError) => packed.reserve(packed.capacity().max(64)),
            // A deflate of a buffer into a growing Vec has nothing that can fail.
            Err(_) => return Vec::new(),
        }
    }
    if let Ok(mut kept) = DEFLATERS.lock()
        && kept.len() < KEPT_DEFLATERS
    {
        kept.push(compress);
    }
    packed
}

fn inflate(packed: &[u8]) -> StoreResult<Vec<u8>> {
    let mut body = Vec::new();
    flate2::read::DeflateDecoder::new(packed)
        .take(MAX_INFLATED_BYTES)
        .read_to_end(&mut body)
        .map_err(|_| unreadable("body"))?;
    Ok(body)
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
                body: inflate(self.body.as_deref().unwrap_or_default())?,
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
        let packed = PackedAnswer::pack(&answer);
        let stored = KeyRow {
            status: Some(201),
            headers: Some(packed.headers.clone()),
            body: Some(packed.body.clone()),
            ..row()
        };
        let record = stored.record().unwrap();
        assert_eq!(record.state, KeyState::Answered(answer));
        assert_eq!(record.expires_at, Timestamp::from_micros(9));
    }

    #[test]
    fn a_packed_body_is_smaller_and_inflates_to_what_it_was() {
        let endpoints: Vec<_> = (0..200)
            .map(
                |n| serde_json::json!({"name": format!("endpoint-{n}"), "path": format!("/e/{n}")}),
            )
            .collect();
        let answer = StoredAnswer {
            status: 201,
            headers: vec![],
            body: serde_json::to_vec(&serde_json::json!({"endpoints": endpoints})).unwrap(),
        };
        let packed = PackedAnswer::pack(&answer);
        assert!(
            packed.body.len() * 4 < answer.body.len(),
            "{} of {}",
            packed.body.len(),
            answer.body.len()
        );
        assert_eq!(inflate(&packed.body).unwrap(), answer.body);
        // A reused deflate state packs the next answer as a fresh one would.
        let again = PackedAnswer::pack(&answer);
        assert_eq!(again, packed);
        let mut fresh = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
        std::io::Write::write_all(&mut fresh, &answer.body).unwrap();
        assert_eq!(inflate(&fresh.finish().unwrap()).unwrap(), answer.body);
        let empty = PackedAnswer::pack(&StoredAnswer {
            body: vec![],
            ..answer
        });
        assert_eq!(inflate(&empty.body).unwrap(), Vec::<u8>::new());
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
