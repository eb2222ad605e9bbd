//! Idempotency keys in progress, kept in memory. One process owns a SQLite file
//! (`claim`), so every request with a key reaches this map first: a claim is an entry
//! here, not a row, and costs the writer nothing; only the answer is written. Each
//! entry says what `cutover_domain::idempotency::decide` needs of a key in progress
//! (its fingerprint, lease and expiry) and whose it is (`claim_id`).
//!
//! The map also keeps each org's count of stored keys (loaded at open, changed only
//! once an answer or a sweep has committed), so an org's quota of keys is decided
//! here, exactly: its stored keys plus its new keys in progress, under one lock.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Mutex, MutexGuard};

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{KeyClaim, KeyRecord, KeyState};

#[derive(Default)]
pub(crate) struct KeyClaims {
    claims: Mutex<Claims>,
}

#[derive(Default)]
struct Claims {
    by_key: HashMap<(String, String), Claimed>,
    /// New keys in progress of each scope (admitted by [`KeyClaims::admit_new`]).
    in_flight: HashMap<String, u64>,
    /// Stored keys of each scope, as committed.
    stored: HashMap<String, u64>,
}

struct Claimed {
    claim_id: String,
    record: KeyRecord,
    /// Whether it counts toward its scope's quota (a new key, admitted).
    counted: bool,
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

fn in_progress(claim: &KeyClaim, counted: bool) -> Claimed {
    Claimed {
        claim_id: claim.claim_id.clone(),
        record: KeyRecord {
            fingerprint: claim.fingerprint.clone(),
            state: KeyState::InProgress {
                lease_until: claim.lease_until,
            },
            expires_at: claim.expires_at,
        },
        counted,
    }
}

fn take_off(counts: &mut HashMap<String, u64>, scope: &str, by: u64) {
    if let Some(count) = counts.get_mut(scope) {
        *count = count.saturating_sub(by);
        if *count == 0 {
            counts.remove(scope);
        }
    }
}

impl KeyClaims {
    /// The map of a store whose scopes have `stored` keys each.
    pub(crate) fn with_stored(stored: HashMap<String, u64>) -> Self {
        Self {
            claims: Mutex::new(Claims {
                stored,
                ..Claims::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Claims> {
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
                free.insert(in_progress(claim, false));
                Taken::Ours
            }
        }
    }

    /// Gives the key to `claim` if `holder` still holds it (its lease ended); the
    /// holder's place in the quota, if it had one, passes on with it.
    pub(crate) fn take_over(&self, claim: &KeyClaim, holder: &str) -> bool {
        let mut claims = self.lock();
        match claims.by_key.get_mut(&key_of(claim)) {
            Some(held) if held.claim_id == holder => {
                *held = in_progress(claim, held.counted);
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

    /// Admits `claim`'s key as a new one if its scope has room under `limit`: its
    /// stored keys and its new keys in progress (`claim`'s own not yet among them).
    pub(crate) fn admit_new(&self, claim: &KeyClaim, limit: u64) -> bool {
        let mut claims = self.lock();
        let used = claims.stored.get(&claim.scope).copied().unwrap_or(0)
            + claims.in_flight.get(&claim.scope).copied().unwrap_or(0);
        let Some(ours) = claims
            .by_key
            .get_mut(&key_of(claim))
            .filter(|held| held.claim_id == claim.claim_id)
        else {
            return false;
        };
        if ours.counted {
            return true;
        }
        if used >= limit {
            return false;
        }
        ours.counted = true;
        *claims.in_flight.entry(claim.scope.clone()).or_default() += 1;
        true
    }

    /// Lets the key go if `claim` holds it; `stored`: its answer, a new row, has
    /// committed, so the key now counts as stored.
    pub(crate) fn drop_if_held(&self, claim: &KeyClaim, stored: bool) {
        let mut claims = self.lock();
        let key = key_of(claim);
        let held = claims
            .by_key
            .get(&key)
            .is_some_and(|held| held.claim_id == claim.claim_id);
        if !held {
            return;
        }
        if claims.by_key.remove(&key).is_some_and(|gone| gone.counted) {
            take_off(&mut claims.in_flight, &claim.scope, 1);
        }
        if stored {
            *claims.stored.entry(claim.scope.clone()).or_default() += 1;
        }
    }

    /// Takes each scope's swept keys off its stored count, once the sweep committed.
    pub(crate) fn swept(&self, deleted: &[(String, u64)]) {
        let mut claims = self.lock();
        for (scope, count) in deleted {
            take_off(&mut claims.stored, scope, *count);
        }
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
            if claims.by_key.remove(key).is_some_and(|gone| gone.counted) {
                take_off(&mut claims.in_flight, &key.0, 1);
            }
        }
        expired.len() as u64
    }
}
