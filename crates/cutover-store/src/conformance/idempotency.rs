//! Idempotency keys: the first claim of a key runs and a repeat gets its answer; a
//! key in progress, or sent with another request, is refused; a released or expired
//! key runs again; only the claim that holds a key may answer or release it; expired
//! keys are swept; an org stores at most its limit of keys; and of many claims of one
//! key at once, across servers, exactly one runs.

use cutover_domain::Timestamp;
use cutover_domain::idempotency::{Decision, Fingerprint, IdempotencyKey, KeyClaim, StoredAnswer};

use cutover_domain::limits::Limits;

use super::fixtures::reason;
use super::{Case, Stores};
use crate::Store;
use crate::idempotency::PackedAnswer;

const MINUTE: i64 = 60;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000 + seconds * 1_000_000)
}

/// A claim of `key` in org `scope` for the request `fingerprint`, made at `now`
/// seconds, with a one-minute lease and a one-day lifetime.
fn claim(scope: &str, key: &str, fingerprint: &str, now: i64) -> KeyClaim {
    KeyClaim {
        scope: scope.to_owned(),
        key: IdempotencyKey::parse(key).expect("a valid key"),
        fingerprint: Fingerprint::from_trusted(fingerprint.to_owned()),
        claim_id: format!("claim-{fingerprint}-{now}"),
        now: at(now),
        lease_until: at(now + MINUTE),
        expires_at: at(now + 24 * 60 * MINUTE),
    }
}

fn answer(status: u16, body: &str) -> StoredAnswer {
    StoredAnswer {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/v1/orgs/org_1/things/1".into()),
        ],
        body: body.as_bytes().to_vec(),
    }
}

async fn claimed(store: &dyn Store, claim: &KeyClaim) -> Decision {
    store.claim_key(claim).await.expect("claim a key")
}

pub fn a_repeat_gets_the_first_answer_and_nothing_runs_twice() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let first = claim("org_a", "cut-v1", "f1", 0);
        assert_eq!(claimed(store, &first).await, Decision::Run);
        // While it runs, the same request waits and another is refused.
        let again = claim("org_a", "cut-v1", "f1", 1);
        assert_eq!(claimed(store, &again).await, Decision::InProgress);
        let other = claim("org_a", "cut-v1", "f2", 1);
        assert_eq!(claimed(store, &other).await, Decision::OtherRequest);

        let created = answer(201, r#"{"release_id":"rel_1"}"#);
        store
            .answer_key(&first, &PackedAnswer::pack(&created))
            .await
            .expect("answer");
        assert_eq!(
            claimed(store, &again).await,
            Decision::Replay(created.clone())
        );
        assert_eq!(claimed(store, &other).await, Decision::OtherRequest);
        // A refusal is kept like any answer.
        let refused_claim = claim("org_a", "cut-v1-again", "f3", 2);
        assert_eq!(claimed(store, &refused_claim).await, Decision::Run);
        let refused = answer(409, r#"{"detail":"taken"}"#);
        store
            .answer_key(&refused_claim, &PackedAnswer::pack(&refused))
            .await
            .expect("answer");
        let repeat = claim("org_a", "cut-v1-again", "f3", 3);
        assert_eq!(claimed(store, &repeat).await, Decision::Replay(refused));
        // Keys are per scope: another org's key of the same text is its own.
        let elsewhere = claim("org_b", "cut-v1", "f9", 3);
        assert_eq!(claimed(store, &elsewhere).await, Decision::Run);
        // An answer of every byte value comes back whole.
        let binary = claim("org_b", "bytes", "f8", 4);
        assert_eq!(claimed(store, &binary).await, Decision::Run);
        let every_byte = StoredAnswer {
            status: 200,
            headers: vec![],
            body: (0..=255).collect(),
        };
        store
            .answer_key(&binary, &PackedAnswer::pack(&every_byte))
            .await
            .expect("answer");
        let read = claim("org_b", "bytes", "f8", 5);
        assert_eq!(claimed(store, &read).await, Decision::Replay(every_byte));
    })
}

pub fn a_released_expired_or_abandoned_key_runs_again() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        // Released (its request failed): the retry runs.
        let failed = claim("org_a", "deploy", "f1", 0);
        assert_eq!(claimed(store, &failed).await, Decision::Run);
        store.release_key(&failed).await.expect("release");
        let retry = claim("org_a", "deploy", "f1", 1);
        assert_eq!(claimed(store, &retry).await, Decision::Run);

        // Its request died: once the lease has ended, the key is taken over, and the
        // dead claim can no longer answer or release it.
        let taken_over = claim("org_a", "deploy", "f1", 1 + MINUTE);
        assert_eq!(claimed(store, &taken_over).await, Decision::Run);
        store
            .answer_key(&retry, &PackedAnswer::pack(&answer(201, "stale")))
            .await
            .expect("a stale answer is ignored");
        store
            .release_key(&retry)
            .await
            .expect("a stale release is ignored");
        let during = claim("org_a", "deploy", "f1", 2 + MINUTE);
        assert_eq!(claimed(store, &during).await, Decision::InProgress);
        let fresh = answer(201, "fresh");
        store
            .answer_key(&taken_over, &PackedAnswer::pack(&fresh))
            .await
            .expect("answer");
        assert_eq!(claimed(store, &during).await, Decision::Replay(fresh));

        // Expired: the key is free for any request, and the old answer is gone.
        let day_later = 2 + MINUTE + 24 * 60 * MINUTE;
        let new_request = claim("org_a", "deploy", "f2", day_later);
        assert_eq!(claimed(store, &new_request).await, Decision::Run);
        let repeat = claim("org_a", "deploy", "f2", day_later + 1);
        assert_eq!(claimed(store, &repeat).await, Decision::InProgress);
    })
}

pub fn expired_keys_are_swept_in_batches_and_live_ones_kept() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        for index in 0..5 {
            let old = claim("org_a", &format!("old-{index}"), "f", 0);
            assert_eq!(claimed(store, &old).await, Decision::Run);
            store
                .answer_key(&old, &PackedAnswer::pack(&answer(200, "{}")))
                .await
                .expect("answer");
        }
        let live = claim("org_a", "live", "f", 60 * MINUTE);
        assert_eq!(claimed(store, &live).await, Decision::Run);
        let after_a_day = at(24 * 60 * MINUTE + 1);
        let swept = |max| store.purge_expired_keys(after_a_day, max);
        assert_eq!(swept(3).await.expect("sweep"), 3);
        assert_eq!(swept(3).await.expect("sweep"), 2);
        assert_eq!(swept(3).await.expect("sweep"), 0);
        let repeat = claim("org_a", "live", "f", 60 * MINUTE + 1);
        assert_eq!(claimed(store, &repeat).await, Decision::InProgress);
    })
}

pub fn an_org_stores_at_most_its_limit_of_keys() -> Case {
    let limits = Limits {
        max_idempotency_keys_per_org: 2,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let first = claim("org_a", "k1", "f", 0);
        assert_eq!(claimed(store, &first).await, Decision::Run);
        let second = claim("org_a", "k2", "f", 0);
        assert_eq!(claimed(store, &second).await, Decision::Run);
        let third = claim("org_a", "k3", "f", 1);
        assert_eq!(reason(&store.claim_key(&third).await), "limit_reached");
        // Repeats of stored keys are not new keys, and other orgs have room of their own.
        assert_eq!(
            claimed(store, &claim("org_a", "k1", "f", 1)).await,
            Decision::InProgress
        );
        assert_eq!(
            claimed(store, &claim("org_b", "k3", "f", 1)).await,
            Decision::Run
        );
        // A released key makes room; so does a swept one.
        store.release_key(&first).await.expect("release");
        assert_eq!(claimed(store, &third).await, Decision::Run);
        let fourth = claim("org_a", "k4", "f", 2);
        assert_eq!(reason(&store.claim_key(&fourth).await), "limit_reached");
        let swept = store
            .purge_expired_keys(at(24 * 60 * MINUTE + 1), 100)
            .await
            .expect("sweep");
        assert_eq!(swept, 3, "k2 and k3 of org_a, k3 of org_b");
        let later = claim("org_a", "k4", "f", 24 * 60 * MINUTE + 2);
        assert_eq!(claimed(store, &later).await, Decision::Run);
        let fifth = claim("org_a", "k5", "f", 24 * 60 * MINUTE + 2);
        assert_eq!(claimed(store, &fifth).await, Decision::Run);
        let sixth = claim("org_a", "k6", "f", 24 * 60 * MINUTE + 2);
        assert_eq!(reason(&store.claim_key(&sixth).await), "limit_reached");
    })
}

pub fn of_concurrent_claims_of_one_key_exactly_one_runs() -> Case {
    Case::new(|stores: Stores| async move {
        let callers = 12;
        let mut tasks = Vec::new();
        for index in 0..callers {
            let store = stores.for_caller(index);
            let claim = KeyClaim {
                claim_id: format!("claim-{index}"),
                ..claim("org_a", "one-deploy", "f1", 0)
            };
            tasks.push(tokio::spawn(async move {
                store.claim_key(&claim).await.expect("claim")
            }));
        }
        let mut decisions = Vec::new();
        for task in tasks {
            decisions.push(task.await.expect("a claim task"));
        }
        let runs = decisions.iter().filter(|d| **d == Decision::Run).count();
        assert_eq!(runs, 1, "{decisions:?}");
        assert!(
            decisions
                .iter()
                .all(|d| matches!(d, Decision::Run | Decision::InProgress)),
            "{decisions:?}"
        );
    })
}

pub fn of_concurrent_new_keys_at_the_limit_exactly_the_room_goes_in() -> Case {
    let limits = Limits {
        max_idempotency_keys_per_org: 3,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        // One key answered and stored, one in progress: room for one more.
        let kept = claim("org_a", "kept", "f", 0);
        assert_eq!(claimed(store, &kept).await, Decision::Run);
        store
            .answer_key(&kept, &PackedAnswer::pack(&answer(201, "{}")))
            .await
            .expect("answer");
        assert_eq!(
            claimed(store, &claim("org_a", "busy", "f", 0)).await,
            Decision::Run
        );
        // Repeats of both, beside the new keys, take no room.
        let mut tasks = Vec::new();
        for index in 0..8 {
            let store = stores.for_caller(index);
            let new = claim("org_a", &format!("new-{index}"), "f", 1);
            let repeat = claim(
                "org_a",
                if index % 2 == 0 { "kept" } else { "busy" },
                "f",
                1,
            );
            tasks.push(tokio::spawn(async move {
                let repeated = store.claim_key(&repeat).await.expect("a repeat");
                (store.claim_key(&new).await, repeated)
            }));
        }
        let mut admitted = 0;
        for task in tasks {
            let (new, repeated) = task.await.expect("a claim task");
            assert!(
                matches!(repeated, Decision::Replay(_) | Decision::InProgress),
                "{repeated:?}"
            );
            match new {
                Ok(Decision::Run) => admitted += 1,
                refused => assert_eq!(reason(&refused), "limit_reached"),
            }
        }
        assert_eq!(admitted, 1, "exactly the room the org had");
    })
}
