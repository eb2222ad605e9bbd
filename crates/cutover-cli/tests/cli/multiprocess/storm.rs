//! The main test's run: setup (an org, a workspace, apps with releases), then the
//! storm of concurrent mixed operations round-robin over servers and apps, then the
//! checks, timed phase by phase.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::multiprocess::api::{Api, text};
use crate::multiprocess::checks::check;
use crate::multiprocess::random::Rng;
use crate::multiprocess::record::{Kind, Record};
use crate::multiprocess::summary::summarize;
use crate::multiprocess::{
    APPS, CONCURRENCY, OPERATIONS, SERVERS, SETUP_ACTIVATIONS, SETUP_RELEASES,
};

/// What the storm knows about one app while it runs.
pub struct AppPool {
    pub path: String,
    pub endpoint_id: String,
    pub augmentation_id: String,
    /// Releases not known to be deleted.
    pub releases: Vec<String>,
    /// Releases some answer showed active.
    pub ever_active: Vec<String>,
    /// Endpoints the storm added and has not removed.
    pub extra_endpoints: Vec<String>,
}

fn stages(model: &str) -> Value {
    json!([{"name": "answer", "execution_mode": "sequential",
            "steps": [{"name": "llm", "type": "inference", "config": {"model": model}}]}])
}

pub struct Report {
    pub summary: String,
    pub problems: Vec<String>,
    pub setup: Duration,
    pub storm: Duration,
    pub checks: Duration,
}

pub async fn storm_and_check(api: Api, seed: u64) -> Report {
    let phase = Instant::now();
    let mut records = Vec::new();
    let pools = setup(&api, &mut records).await;
    let setup_time = phase.elapsed();

    let phase = Instant::now();
    let pools: Arc<Vec<Mutex<AppPool>>> = Arc::new(pools.into_iter().map(Mutex::new).collect());
    let semaphore = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for index in 0..OPERATIONS {
        let permit = Arc::clone(&semaphore)
            .acquire_owned()
            .await
            .expect("the semaphore stays open");
        let api = api.clone();
        let pools = Arc::clone(&pools);
        tasks.spawn(async move {
            let record = fire(&api, &pools, seed, index).await;
            drop(permit);
            record
        });
    }
    let mut fired = Vec::new();
    while let Some(record) = tasks.join_next().await {
        fired.push(record.expect("an operation task ended normally"));
    }
    fired.sort_by_key(|record| record.index);
    let storm_time = phase.elapsed();
    records.extend(fired);

    let phase = Instant::now();
    let pools: Vec<AppPool> = Arc::try_unwrap(pools)
        .ok()
        .expect("every task ended")
        .into_iter()
        .map(|pool| pool.into_inner().expect("no task panicked holding a pool"))
        .collect();
    let mut problems = Vec::new();
    check(&api, &pools, &records, &mut problems).await;
    let summary = summarize(&records, storm_time);
    Report {
        summary,
        problems,
        setup: setup_time,
        storm: storm_time,
        checks: phase.elapsed(),
    }
}

/// An org, a workspace and `APPS` apps, each with a small draft and
/// `SETUP_RELEASES` releases, the first `SETUP_ACTIVATIONS` activated in turn.
/// Requests go round-robin over the servers; creates and activations are recorded
/// like the storm's, so the checks cover them too.
async fn setup(api: &Api, records: &mut Vec<Record>) -> Vec<AppPool> {
    let mut turn = 0usize;
    let mut next_server = || {
        turn += 1;
        turn % SERVERS
    };
    let org = api
        .expect(
            next_server(),
            Method::POST,
            "/v1/orgs",
            Some(json!({"name": "multiprocess"})),
            201,
        )
        .await;
    let org_id = text(&org, "org_id");
    let workspace = api
        .expect(
            next_server(),
            Method::POST,
            &format!("/v1/orgs/{org_id}/workspaces"),
            Some(json!({"name": "main"})),
            201,
        )
        .await;
    let workspace_path = format!(
        "/v1/orgs/{org_id}/workspaces/{}",
        text(&workspace, "workspace_id")
    );
    let mut pools = Vec::new();
    for app in 0..APPS {
        let created = api
            .expect(
                next_server(),
                Method::POST,
                &format!("{workspace_path}/apps"),
                Some(json!({"name": format!("app-{app}")})),
                201,
            )
            .await;
        let path = format!("{workspace_path}/apps/{}", text(&created, "app_id"));
        let augmentation = api
            .expect(
                next_server(),
                Method::POST,
                &format!("{path}/augmentations"),
                Some(json!({"name": "rag", "stages": stages("m0")})),
                201,
            )
            .await;
        let augmentation_id = text(&augmentation, "augmentation_id");
        let endpoint = api
            .expect(
                next_server(),
                Method::POST,
                &format!("{path}/endpoints"),
                Some(json!({"name": "chat", "path": "/chat", "method": "POST",
                            "augmentation_id": augmentation_id})),
                201,
            )
            .await;
        let endpoint_id = text(&endpoint, "endpoint_id");
        let mut releases = Vec::new();
        for n in 1..=SETUP_RELEASES {
            api.expect(
                next_server(),
                Method::PATCH,
                &format!("{path}/endpoints/{endpoint_id}"),
                Some(json!({"description": format!("setup {n}")})),
                200,
            )
            .await;
            let tag = format!("v{n}");
            let server = next_server();
            let outcome = api
                .call(
                    server,
                    Method::POST,
                    &format!("{path}/releases"),
                    Some(json!({"release_tag": tag, "description": "setup"})),
                )
                .await;
            let body = match &outcome {
                Ok(answer) if answer.status == 201 => answer.body.clone(),
                other => panic!("setup: creating {tag} on app {app}: {other:?}"),
            };
            releases.push(text(&body, "release_id"));
            records.push(Record {
                index: None,
                kind: Kind::Create,
                server,
                app,
                target: None,
                tag: Some(tag),
                outcome,
            });
        }
        for release_id in releases.iter().take(SETUP_ACTIVATIONS) {
            let server = next_server();
            let outcome = api
                .call(
                    server,
                    Method::POST,
                    &format!("{path}/releases/{release_id}/activate"),
                    None,
                )
                .await;
            assert!(
                matches!(&outcome, Ok(answer) if answer.status == 200),
                "setup: activating {release_id} on app {app}: {outcome:?}"
            );
            records.push(Record {
                index: None,
                kind: Kind::Activate,
                server,
                app,
                target: Some(release_id.clone()),
                tag: None,
                outcome,
            });
        }
        pools.push(AppPool {
            path,
            endpoint_id,
            augmentation_id,
            ever_active: releases[..SETUP_ACTIVATIONS].to_vec(),
            releases,
            extra_endpoints: Vec::new(),
        });
    }
    pools
}

/// Sends operation `index`: its server and app go round-robin, its kind and target
/// come from the seed (targets are picked when it runs, from what earlier answers
/// showed).
async fn fire(api: &Api, pools: &[Mutex<AppPool>], seed: u64, index: usize) -> Record {
    let mut rng = Rng::new(seed, index as u64);
    let server = index % SERVERS;
    let app = index % APPS;
    let mut kind = Kind::from_roll(rng.below(100));
    let (path, endpoint_id, augmentation_id, target) = {
        let mut pool = pools[app].lock().unwrap();
        let target = match kind {
            Kind::Activate | Kind::Archive | Kind::Delete => rng.pick(&pool.releases).cloned(),
            Kind::Rollback => {
                // Mostly releases that were live once, so some rollbacks go through.
                if rng.below(10) < 8 {
                    rng.pick(&pool.ever_active).cloned()
                } else {
                    rng.pick(&pool.releases).cloned()
                }
            }
            Kind::RemoveEndpoint => {
                if pool.extra_endpoints.is_empty() {
                    kind = Kind::AddEndpoint;
                    None
                } else {
                    let at = rng.below(pool.extra_endpoints.len());
                    Some(pool.extra_endpoints.swap_remove(at))
                }
            }
            _ => None,
        };
        // Every release of an app can be deleted except the active one, so the pool
        // is never empty for long; when it is, cut a release instead.
        let needs_release = matches!(
            kind,
            Kind::Activate | Kind::Rollback | Kind::Archive | Kind::Delete
        );
        if needs_release && target.is_none() {
            kind = Kind::Create;
        }
        (
            pool.path.clone(),
            pool.endpoint_id.clone(),
            pool.augmentation_id.clone(),
            target,
        )
    };
    let releases = format!("{path}/releases");
    let tag = matches!(kind, Kind::Create | Kind::CreateActivate).then(|| format!("s{index}"));
    let target_ref = target.as_deref().unwrap_or("");
    let (method, url, body) = match kind {
        Kind::Create | Kind::CreateActivate => (
            Method::POST,
            releases.clone(),
            Some(
                json!({"release_tag": tag, "description": format!("op {index}"),
                        "activate": kind == Kind::CreateActivate}),
            ),
        ),
        Kind::Activate => (
            Method::POST,
            format!("{releases}/{target_ref}/activate"),
            None,
        ),
        Kind::Rollback => (
            Method::POST,
            format!("{releases}/{target_ref}/rollback"),
            None,
        ),
        Kind::Archive => (
            Method::POST,
            format!("{releases}/{target_ref}/archive"),
            None,
        ),
        Kind::Delete => (Method::DELETE, format!("{releases}/{target_ref}"), None),
        Kind::EditEndpoint => (
            Method::PATCH,
            format!("{path}/endpoints/{endpoint_id}"),
            Some(json!({"description": format!("edit {index}")})),
        ),
        Kind::AddEndpoint => (
            Method::POST,
            format!("{path}/endpoints"),
            Some(
                json!({"name": format!("ep-{index}"), "path": format!("/ep/{index}"),
                        "method": "GET", "augmentation_id": augmentation_id}),
            ),
        ),
        Kind::RemoveEndpoint => (
            Method::DELETE,
            format!("{path}/endpoints/{target_ref}"),
            None,
        ),
        Kind::EditAugmentation => (
            Method::PATCH,
            format!("{path}/augmentations/{augmentation_id}"),
            Some(json!({"stages": stages(&format!("m{index}"))})),
        ),
        Kind::ReadActive => (Method::GET, format!("{releases}/active"), None),
        Kind::ListReleases => (
            Method::GET,
            format!("{releases}?include_archived=true&limit=5"),
            None,
        ),
    };
    let outcome = api.call(server, method, &url, body).await;

    // What the answer teaches later operations.
    if let Ok(answer) = &outcome {
        let mut pool = pools[app].lock().unwrap();
        match (kind, answer.status) {
            (Kind::Create | Kind::CreateActivate, 201) => {
                if let Some(id) = answer.body["release_id"].as_str() {
                    pool.releases.push(id.to_owned());
                    if kind == Kind::CreateActivate {
                        pool.ever_active.push(id.to_owned());
                    }
                }
            }
            (Kind::Activate | Kind::Rollback, 200) => {
                if let Some(id) = &target
                    && !pool.ever_active.contains(id)
                {
                    pool.ever_active.push(id.clone());
                }
            }
            (Kind::Delete, 200) => {
                pool.releases.retain(|id| Some(id) != target.as_ref());
                pool.ever_active.retain(|id| Some(id) != target.as_ref());
            }
            (Kind::AddEndpoint, 201) => {
                if let Some(id) = answer.body["endpoint_id"].as_str() {
                    pool.extra_endpoints.push(id.to_owned());
                }
            }
            _ => {}
        }
    }
    Record {
        index: Some(index),
        kind,
        server,
        app,
        target,
        tag,
        outcome,
    }
}
