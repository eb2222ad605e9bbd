//! Idempotency keys (the IETF `Idempotency-Key` header draft): which keys are valid,
//! what identifies the request a key came with, and what a request that sends a key
//! gets ([`decide`]): the one rule every backend applies in the transaction that
//! claims the key.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::values::Violation;

/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// A key a client sent: 1–255 printable ASCII characters (space to `~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const PATTERN: &'static str = r"^[\x20-\x7E]{1,255}$";

    pub fn parse(text: &str) -> Result<Self, Violation> {
        if text.is_empty() {
            return Err(Violation::TooShort { min: 1 });
        }
        if text.len() > MAX_KEY_CHARS {
            return Err(Violation::TooLong { max: MAX_KEY_CHARS });
        }
        if !text.bytes().all(|byte| (0x20..=0x7E).contains(&byte)) {
            return Err(Violation::Pattern {
                pattern: Self::PATTERN,
                meaning: "must be printable ASCII characters (space to '~')",
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fresh key no one else will send: `prefix` and 128 random bits.
    pub fn random(prefix: &str) -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(format!("{prefix}{}", hex::encode(bytes)))
    }
}

/// What makes two requests with one key the same request: the token that sent it,
/// its method, its path and query, and its body, as one SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(token_id: &str, method: &str, target: &str, body: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        // Each part is length-prefixed, so no two different requests hash alike by
        // moving bytes from one part to the next.
        for part in [
            token_id.as_bytes(),
            method.as_bytes(),
            target.as_bytes(),
            body,
        ] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hex::encode(hasher.finalize()))
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The answer a request with a key got, kept to be answered again byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    /// The headers a repeat must carry too (`Content-Type`, `Location`, `ETag`), as
    /// name and value.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Where a stored key's request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// Being processed by the request that claimed it, which answers by
    /// `lease_until` or has died (a request is cut off at the server's deadline, well
    /// before its lease ends).
    InProgress { lease_until: Timestamp },
    /// Answered: this is what a repeat gets.
    Answered(StoredAnswer),
}

/// A key as a store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub fingerprint: Fingerprint,
    pub state: KeyState,
    pub expires_at: Timestamp,
}

/// One request's claim on a key: whose key (`scope`: the token's org, or for a
/// platform token the token), which key, for which request, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    pub scope: String,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    /// Tells this claim from an earlier one of the same key whose request died: only
    /// the claim's own request may answer or release it.
    pub claim_id: String,
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub expires_at: Timestamp,
}

/// What a request that sent a key gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it: the key is new, expired, or its earlier request died unanswered. The
    /// store records the claim in the same transaction.
    Run,
    /// Answer what the first request with this key got, and change nothing.
    Replay(StoredAnswer),
    /// The first request with this key has not answered yet (409
    /// `idempotency_key_in_use`).
    InProgress,
    /// The key was sent with another request (422).
    OtherRequest,
}

/// What `claim` gets, given the key as stored (`None` if it is not).
pub fn decide(stored: Option<&KeyRecord>, claim: &KeyClaim) -> Decision {
    let Some(record) = stored.filter(|record| record.expires_at > claim.now) else {
        return Decision::Run;
    };
    if record.fingerprint != claim.fingerprint {
        return Decision::OtherRequest;
    }
    match &record.state {
        KeyState::Answered(answer) => Decision::Replay(answer.clone()),
        KeyState::InProgress { lease_until } if *lease_until > claim.now => Decision::InProgress,
        KeyState::InProgress { .. } => Decision::Run,
    }
}

/// Whether an answer with `status` is kept for repeats: every answer but a server
/// failure (5xx), after which a retry runs again.
pub fn keeps_answer(status: u16) -> bool {
    status < 500
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_micros(seconds * 1_000_000)
    }

    fn claim(fingerprint: &str, now: i64) -> KeyClaim {
        KeyClaim {
            scope: "org_1".into(),
            key: IdempotencyKey::parse("retry-1").unwrap(),
            fingerprint: Fingerprint::from_trusted(fingerprint.into()),
            claim_id: "c".into(),
            now: at(now),
            lease_until: at(now + 60),
            expires_at: at(now + 86_400),
        }
    }

    fn stored(fingerprint: &str, state: KeyState, expires: i64) -> KeyRecord {
        KeyRecord {
            fingerprint: Fingerprint::from_trusted(fingerprint.into()),
            state,
            expires_at: at(expires),
        }
    }

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse("ci run 42 / deploy ~v1").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert_eq!(
            IdempotencyKey::parse(""),
            Err(Violation::TooShort { min: 1 })
        );
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256)),
            Err(Violation::TooLong { max: 255 })
        );
        for bad in ["tab\there", "é", "nul\0", "del\x7f"] {
            assert!(
                matches!(IdempotencyKey::parse(bad), Err(Violation::Pattern { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn random_keys_are_valid_and_differ() {
        let (one, two) = (
            IdempotencyKey::random("cli-"),
            IdempotencyKey::random("cli-"),
        );
        assert_ne!(one, two);
        assert!(one.as_str().starts_with("cli-") && one.as_str().len() == 36);
        assert_eq!(IdempotencyKey::parse(one.as_str()), Ok(one));
    }

    #[test]
    fn a_fingerprint_tells_every_part_of_a_request_apart() {
        let base = Fingerprint::of("tok_1", "POST", "/v1/x", b"{}");
        assert_eq!(base, Fingerprint::of("tok_1", "POST", "/v1/x", b"{}"));
        for other in [
            Fingerprint::of("tok_2", "POST", "/v1/x", b"{}"),
            Fingerprint::of("tok_1", "PATCH", "/v1/x", b"{}"),
            Fingerprint::of("tok_1", "POST", "/v1/x?dry_run=true", b"{}"),
            Fingerprint::of("tok_1", "POST", "/v1/x", b"{ }"),
            // Bytes moved from one part to the next.
            Fingerprint::of("tok_1", "POST", "/v1/x{", b"}"),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(base.as_str().len(), 64);
    }

    #[test]
    fn a_new_or_expired_key_runs() {
        assert_eq!(decide(None, &claim("f", 100)), Decision::Run);
        let old = stored(
            "other",
            KeyState::InProgress {
                lease_until: at(10),
            },
            100,
        );
        assert_eq!(decide(Some(&old), &claim("f", 100)), Decision::Run);
    }

    #[test]
    fn a_repeat_gets_the_answer_and_another_request_is_refused() {
        let answer = StoredAnswer {
            status: 201,
            headers: vec![("location".into(), "/v1/x/1".into())],
            body: b"{}".to_vec(),
        };
        let done = stored("f", KeyState::Answered(answer.clone()), 1_000);
        assert_eq!(
            decide(Some(&done), &claim("f", 100)),
            Decision::Replay(answer)
        );
        assert_eq!(
            decide(Some(&done), &claim("g", 100)),
            Decision::OtherRequest
        );
    }

    #[test]
    fn a_key_in_progress_waits_until_its_request_answers_or_its_lease_ends() {
        let running = stored(
            "f",
            KeyState::InProgress {
                lease_until: at(160),
            },
            1_000,
        );
        assert_eq!(
            decide(Some(&running), &claim("f", 100)),
            Decision::InProgress
        );
        assert_eq!(
            decide(Some(&running), &claim("g", 100)),
            Decision::OtherRequest
        );
        assert_eq!(decide(Some(&running), &claim("f", 160)), Decision::Run);
    }

    #[test]
    fn server_failures_are_not_kept() {
        assert!(keeps_answer(201));
        assert!(keeps_answer(409));
        assert!(keeps_answer(499));
        assert!(!keeps_answer(500));
        assert!(!keeps_answer(503));
    }
}
