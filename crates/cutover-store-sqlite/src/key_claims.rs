//! Idempotency keys in progress, kept in memory. One process owns a SQLite file
//! (`claim`), so every request with a key reaches this map first: a claim is an entry
//! here, not a row, and costs the writer nothing; only the answer is written. Each
//! entry says what `cutover_domain::idempotency::decide` needs of a key in progress
//! (its fingerprint, lease and expiry) and whose it is (`claim_id`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{KeyClaim, KeyRecord, KeyState};

#[derive(Default)]
pub(crate) struct KeyClaims {
    claims: Mutex<Claims>,
}

#[derive(Default)]
struct Claims {
    by_key: HashMap<(String, String), Claimed>,
    /// Entries of each scope, for its quota of keys.
    per_scope: HashMap<String, u64>,
}

struct Claimed {
    claim_id: String,
    record: KeyRecord,
}

/// What [`KeyClaims::take`] found.
pub(crate) enum Taken {
    /// The key is the claim's now.
    Ours,
    /// Another claim holds it: as the record `decide` reads, and whose it is.
    Held { record: KeyRecord, claim_id: String },
}

fn key_of(claim: &KeyClaim) -> (String, String) {
    (claim.scope.clone(), claim.key.as_str().to_owned())
}

fn in_progress(claim: &KeyClaim) -> Claimed {
    Claimed {
        claim_id: claim.claim_id.clone(),
        record: KeyRecord {
            fingerprint: claim.fingerprint.clone(),
            state: KeyState::InProgress {
                lease_until: claim.lease_until,
            },
            expires_at: claim.expires_at,
        },
    }
}

impl KeyClaims {
    fn lock(&self) -> std::sync::MutexGuard<'_, Claims> {
        // An entry is written whole under the lock, so a poisoned map is still sound.
        self.claims
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the key for `claim` unless another claim holds it.
    pub(crate) fn take(&self, claim: &KeyClaim) -> Taken {
        let mut claims = self.lock();
        match claims.by_key.entry(key_of(claim)) {
            Entry::Occupied(held) => Taken::Held {
                record: held.get().record.clone(),
                claim_id: held.get().claim_id.clone(),
            },
            Entry::Vacant(free) => {
                free.insert(in_progress(claim));
                *claims.per_scope.entry(claim.scope.clone()).or_default() += 1;
                Taken::Ours
            }
        }
    }

    /// Gives the key to `claim` if `holder` still holds it (its lease ended).
    pub(crate) fn take_over(&self, claim: &KeyClaim, holder: &str) -> bool {
        let mut claims = self.lock();
        match claims.by_key.get_mut(&key_of(claim)) {
            Some(held) if held.claim_id == holder => {
                *held = in_progress(claim);
                true
            }
            _ => false,
        }
    }

    /// Whether `claim` holds its key.
    pub(crate) fn holds(&self, claim: &KeyClaim) -> bool {
        self.lock()
            .by_key
            .get(&key_of(claim))
            .is_some_and(|held| held.claim_id == claim.claim_id)
    }

    /// Lets the key go if `claim` holds it.
    pub(crate) fn drop_if_held(&self, claim: &KeyClaim) {
        let mut claims = self.lock();
        let key = key_of(claim);
        if claims
            .by_key
            .get(&key)
            .is_some_and(|held| held.claim_id == claim.claim_id)
        {
            claims.by_key.remove(&key);
            Self::uncount(&mut claims, &claim.scope, 1);
        }
    }

    /// Keys of `scope` in progress, other than `claim`'s own.
    pub(crate) fn others_in(&self, claim: &KeyClaim) -> u64 {
        let claims = self.lock();
        let all = claims.per_scope.get(&claim.scope).copied().unwrap_or(0);
        all.saturating_sub(1)
    }

    /// Forgets up to `max` claims that expired by `now` (their requests are long
    /// dead); how many it forgot.
    pub(crate) fn forget_expired(&self, now: Timestamp, max: u64) -> u64 {
        let mut claims = self.lock();
        let expired: Vec<(String, String)> = claims
            .by_key
            .iter()
            .filter(|(_, held)| held.record.expires_at <= now)
            .map(|(key, _)| key.clone())
            .take(usize::try_from(max).unwrap_or(usize::MAX))
            .collect();
        for key in &expired {
            claims.by_key.remove(key);
            Self::uncount(&mut claims, &key.0, 1);
        }
        expired.len() as u64
    }

    fn uncount(claims: &mut Claims, scope: &str, by: u64) {
        if let Some(count) = claims.per_scope.get_mut(scope) {
            *count = count.saturating_sub(by);
            if *count == 0 {
                claims.per_scope.remove(scope);
            }
        }
    }
}
