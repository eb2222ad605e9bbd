//! Releases under concurrency: simultaneous activations leave exactly one active
//! release and an unbroken activation history, simultaneous creates never share a tag
//! or a number, and a storm of mixed lifecycle calls keeps every invariant.

use std::collections::{HashMap, HashSet};

use crate::harness::{AppPath, Backend, Reply, TestApp};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

/// Every release of the app, archived ones included, newest first.
async fn all_releases(app: &TestApp, path: &AppPath) -> Reply {
    app.get(&format!(
        "{}?include_archived=true&limit=200",
        path.releases()
    ))
    .await
    .expect(200)
}

/// The whole activation history, oldest first.
async fn history(app: &TestApp, path: &AppPath) -> Vec<Value> {
    let reply = app
        .get(&format!("{}/activations?limit=200", path.path()))
        .await
        .expect(200);
    assert_eq!(reply.body["has_more"], false, "history fits one page");
    let entries = reply.body["activations"].as_array().unwrap().clone();
    assert_eq!(reply.body["total"], entries.len());
    entries
}

/// Asserts that each history entry replaced the release the entry before it made
/// active (the first replaced nothing), and answers the release active at the end.
#[track_caller]
fn assert_chain(entries: &[Value]) -> Option<String> {
    let mut live = Value::Null;
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(
            entry["replaced_release_id"], live,
            "history entry {index} does not continue the chain: {entry}"
        );
        live = entry["release_id"].clone();
    }
    live.as_str().map(str::to_owned)
}

/// Asserts that at most one release is active and that every view of "the active
/// release" agrees; answers it.
async fn assert_one_view_of_active(app: &TestApp, path: &AppPath) -> Option<String> {
    let list = all_releases(app, path).await;
    let active: Vec<&str> = list.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|release| release["status"] == "active")
        .map(|release| release["release_id"].as_str().unwrap())
        .collect();
    assert!(
        active.len() <= 1,
        "more than one active release: {active:?}"
    );
    let active = active.first().map(|id| (*id).to_owned());
    assert_eq!(
        list.body["active_release_id"].as_str(),
        active.as_deref(),
        "the list's active_release_id"
    );
    let app_body = app.get(&path.path()).await.expect(200);
    assert_eq!(
        app_body.body["active_release_id"].as_str(),
        active.as_deref(),
        "the app's active_release_id"
    );
    let current = app.get(&format!("{}/active", path.releases())).await;
    match &active {
        Some(id) => assert_eq!(current.expect(200).str("release_id"), *id),
        None => {
            current.expect(404);
        }
    }
    active
}

async fn cut_many(app: &TestApp, path: &AppPath, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 1..=count {
        ids.push(app.cut(path, &format!("v{n}")).await);
    }
    ids
}

async fn simultaneous_activations_leave_one_active_release_and_a_chained_history(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let aug = app.add_augmentation(&path, "rag").await;
    app.add_endpoint(&path, "chat", "/chat", &aug).await;
    let ids = cut_many(&app, &path, 32).await;

    let urls: Vec<String> = ids
        .iter()
        .map(|id| format!("{}/activate", path.release(id)))
        .collect();
    let answers = join_all(urls.iter().map(|url| app.act(url))).await;

    let mut previous_by_release = HashMap::new();
    for (id, answer) in ids.iter().zip(answers) {
        let answer = answer.expect(200);
        assert_eq!(answer.body["release"]["release_id"], id.as_str());
        assert!(answer.body["release"]["activated_at"].is_string());
        previous_by_release.insert(
            id.clone(),
            answer.body["previous_active_release_id"].clone(),
        );
    }

    let active = assert_one_view_of_active(&app, &path)
        .await
        .expect("a release is active");

    let entries = history(&app, &path).await;
    assert_eq!(entries.len(), 32, "one history entry per activation");
    let last = assert_chain(&entries);
    assert_eq!(
        last.as_deref(),
        Some(active.as_str()),
        "the last entry is live"
    );
    let activated: HashSet<&str> = entries
        .iter()
        .map(|entry| entry["release_id"].as_str().unwrap())
        .collect();
    assert_eq!(activated.len(), 32, "every release was activated once");
    for entry in &entries {
        assert_eq!(entry["action"], "activate");
        let release = entry["release_id"].as_str().unwrap();
        assert_eq!(
            previous_by_release[release], entry["replaced_release_id"],
            "the answer to activating {release} names the release its history entry replaced"
        );
    }

    // Every release but the live one was replaced, so it is archived now.
    let list = all_releases(&app, &path).await;
    for release in list.body["releases"].as_array().unwrap() {
        let expected = if release["release_id"] == active.as_str() {
            "active"
        } else {
            "archived"
        };
        assert_eq!(release["status"], expected, "{release}");
    }
}

async fn simultaneous_creates_with_one_tag_make_one_release(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;

    let releases = path.releases();
    let answers = join_all((0..16).map(|n| {
        app.post(
            &releases,
            json!({"release_tag": "v1", "description": format!("attempt {n}")}),
        )
    }))
    .await;

    let (created, refused): (Vec<Reply>, Vec<Reply>) =
        answers.into_iter().partition(|reply| reply.status == 201);
    assert_eq!(created.len(), 1, "exactly one create wins");
    let winner = created[0].str("release_id");
    assert_eq!(created[0].body["release_number"], 1);
    assert_eq!(refused.len(), 15);
    for reply in refused {
        let reply = reply.expect(409);
        assert_eq!(reply.body["error"], "CONFLICT");
        assert_eq!(reply.reason(), "release_tag_exists");
        assert_eq!(
            reply.body["details"]["existing_release_id"],
            winner.as_str(),
            "the refusal names the release that holds the tag"
        );
    }

    let list = all_releases(&app, &path).await;
    assert_eq!(list.body["total"], 1);
    let app_body = app.get(&path.path()).await.expect(200);
    assert_eq!(app_body.body["total_releases"], 1);

    // The losers consumed no numbers.
    let next = app
        .post(&path.releases(), json!({"release_tag": "v2"}))
        .await
        .expect(201);
    assert_eq!(next.body["release_number"], 2);
}

async fn simultaneous_creates_with_distinct_tags_number_gap_free(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let aug = app.add_augmentation(&path, "rag").await;
    app.add_endpoint(&path, "chat", "/chat", &aug).await;

    let releases = path.releases();
    let answers =
        join_all((1..=32).map(|n| app.post(&releases, json!({"release_tag": format!("v{n}")}))))
            .await;

    let mut by_number = HashMap::new();
    for answer in answers {
        let answer = answer.expect(201);
        let number = answer.body["release_number"].as_i64().unwrap();
        assert_eq!(answer.body["endpoint_count"], 1);
        assert_eq!(answer.body["augmentation_count"], 1);
        let clash = by_number.insert(number, answer.body);
        assert!(
            clash.is_none(),
            "release number {number} was handed out twice"
        );
    }
    let mut numbers: Vec<i64> = by_number.keys().copied().collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=32).collect::<Vec<i64>>());

    // Each release links to the one numbered just before it: creates were serial.
    for number in 1..=32 {
        let previous = match number {
            1 => Value::Null,
            n => by_number[&(n - 1)]["release_id"].clone(),
        };
        assert_eq!(
            by_number[&number]["previous_release_id"], previous,
            "previous_release_id of #{number}"
        );
    }

    let list = all_releases(&app, &path).await;
    assert_eq!(list.body["total"], 32);
    let listed: Vec<i64> = list.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|release| release["release_number"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, (1..=32).rev().collect::<Vec<i64>>());
}

/// One lifecycle call of the mixed storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Activate,
    Rollback,
    Archive,
    Delete,
}

impl Op {
    fn request(self, path: &AppPath, id: &str) -> (Method, String) {
        match self {
            Op::Activate => (Method::POST, format!("{}/activate", path.release(id))),
            Op::Rollback => (Method::POST, format!("{}/rollback", path.release(id))),
            Op::Archive => (Method::POST, format!("{}/archive", path.release(id))),
            Op::Delete => (Method::DELETE, path.release(id)),
        }
    }

    /// The refusal reasons a 409 may give for this call.
    fn allowed_reasons(self) -> &'static [&'static str] {
        match self {
            Op::Activate => &[],
            Op::Rollback => &[
                "no_active_release",
                "release_never_active",
                "release_not_older_than_active",
            ],
            Op::Archive | Op::Delete => &["release_is_deployed"],
        }
    }
}

/// A fixed pseudo-random number for call `n` of `round` (SplitMix64), so the storm
/// is scattered but the same on every run.
fn scatter(round: usize, n: usize) -> usize {
    let mut z = ((round as u64) << 32 | n as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as usize
}

/// How many releases the storm test activates, one after another, before the storm.
const LIVE_BEFORE: usize = 6;

async fn a_storm_of_mixed_lifecycle_calls_keeps_every_invariant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    let ids = cut_many(&app, &path, 32).await;
    // Some history first, so that rollbacks have somewhere to go.
    for id in &ids[..LIVE_BEFORE] {
        app.act(&format!("{}/activate", path.release(id)))
            .await
            .expect(200);
    }

    let ops = [Op::Activate, Op::Rollback, Op::Archive, Op::Delete];
    let mut switched = Vec::new();
    let mut deleted = HashSet::new();
    for round in 0..4usize {
        let calls: Vec<(Op, String)> = (0..48usize)
            .map(|n| {
                let op = ops[(n + round) % ops.len()];
                // Rollbacks aim at the once-live releases, deletes spare them, and
                // the rest spread over every release.
                let pick = scatter(round, n);
                let target = match op {
                    Op::Rollback => pick % LIVE_BEFORE,
                    Op::Delete => LIVE_BEFORE + pick % (ids.len() - LIVE_BEFORE),
                    Op::Activate | Op::Archive => pick % ids.len(),
                };
                (op, ids[target].clone())
            })
            .collect();
        let requests: Vec<(Method, String)> =
            calls.iter().map(|(op, id)| op.request(&path, id)).collect();
        let answers = join_all(
            requests
                .iter()
                .map(|(method, url)| app.send(method.clone(), url, Some(&app.admin), None)),
        )
        .await;

        for ((op, id), answer) in calls.iter().zip(answers) {
            match answer.status {
                200 => match op {
                    Op::Activate | Op::Rollback => {
                        assert_eq!(answer.body["release"]["release_id"], id.as_str());
                        assert_eq!(answer.body["release"]["status"], "active");
                        let previous = answer.body["previous_active_release_id"].clone();
                        if previous != id.as_str() {
                            switched.push((*op, id.clone(), previous));
                        }
                    }
                    Op::Archive => assert_eq!(answer.body["status"], "archived"),
                    Op::Delete => {
                        assert!(deleted.insert(id.clone()), "{id} was deleted twice");
                    }
                },
                409 => assert!(
                    op.allowed_reasons().contains(&answer.reason()),
                    "{op:?} {id}: unexpected refusal {}",
                    answer.body
                ),
                404 => assert!(
                    deleted.contains(id) || calls.iter().any(|(o, i)| *o == Op::Delete && i == id),
                    "{op:?} {id}: 404 for a release nobody deleted"
                ),
                other => panic!("{op:?} {id}: unexpected status {other}: {}", answer.body),
            }
        }

        let active = assert_one_view_of_active(&app, &path).await;
        if let Some(active) = &active {
            assert!(!deleted.contains(active), "a deleted release is active");
        }
        let entries = history(&app, &path).await;
        assert_eq!(
            assert_chain(&entries),
            active,
            "the history ends at the live release"
        );
    }

    let entries = history(&app, &path).await;
    assert_eq!(
        entries.len(),
        LIVE_BEFORE + switched.len(),
        "one history entry per activation that changed something"
    );
    let recorded: Vec<(String, String, Value)> = entries[LIVE_BEFORE..]
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap().to_owned(),
                entry["release_id"].as_str().unwrap().to_owned(),
                entry["replaced_release_id"].clone(),
            )
        })
        .collect();
    for (op, id, previous) in &switched {
        let action = if *op == Op::Rollback {
            "rollback"
        } else {
            "activate"
        };
        let wanted = (action.to_owned(), id.clone(), previous.clone());
        assert!(
            recorded.contains(&wanted),
            "the acknowledged {wanted:?} is missing from the history"
        );
    }
    for id in &deleted {
        app.get(&path.release(id)).await.expect(404);
    }
    let list = all_releases(&app, &path).await;
    assert_eq!(list.body["total"], ids.len() - deleted.len());
}

on_every_backend!(
    simultaneous_activations_leave_one_active_release_and_a_chained_history,
    simultaneous_creates_with_one_tag_make_one_release,
    simultaneous_creates_with_distinct_tags_number_gap_free,
    a_storm_of_mixed_lifecycle_calls_keeps_every_invariant,
);
