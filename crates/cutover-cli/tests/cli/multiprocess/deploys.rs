//! 24 deploys and rollbacks of one app's staging, fired at once across three servers:
//! afterwards the environment's records are one chain (each `previous_release_id` the
//! release of the record before), staging has the newest record's release, and every
//! release's status agrees with where it is deployed, as every server sees it.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use super::api::{Api, text};

/// Concurrent changes to staging.
pub const CHANGES: usize = 24;
const RELEASES: usize = 6;

pub async fn deploy_storm(api: Api, servers: usize) -> Vec<String> {
    let base = api.an_app("Deploys").await;
    let mut releases = Vec::new();
    for n in 1..=RELEASES {
        let release = api
            .expect(
                n % servers,
                Method::POST,
                &format!("{base}/releases"),
                Some(json!({"release_tag": format!("v{n}")})),
                201,
            )
            .await;
        releases.push(text(&release, "release_id"));
    }
    api.expect(
        0,
        Method::POST,
        &format!("{base}/deployments"),
        Some(json!({"environment": "production", "release_id": releases[0]})),
        201,
    )
    .await;

    let mut tasks = JoinSet::new();
    for index in 0..CHANGES {
        let (api, base) = (api.clone(), base.clone());
        let release = releases[index % RELEASES].clone();
        tasks.spawn(async move {
            let (path, body) = if index % 4 == 3 {
                (format!("{base}/environments/staging/rollback"), json!({}))
            } else {
                (
                    format!("{base}/deployments"),
                    json!({"environment": "staging", "release_id": release}),
                )
            };
            api.call(index % servers, Method::POST, &path, Some(body))
                .await
        });
    }
    let mut problems = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("a task") {
            Ok(answer) if [200, 201].contains(&answer.status) => {}
            Ok(answer)
                if answer.status == 409
                    && ["nothing_to_roll_back_to", "no_deployment"]
                        .contains(&answer.body["details"]["reason"].as_str().unwrap_or("")) => {}
            Ok(answer) => problems.push(format!(
                "a change answered {} (request {}): {}",
                answer.status, answer.request_id, answer.body
            )),
            Err(err) => problems.push(err),
        }
    }

    for server in 0..servers {
        let records = api
            .collect(
                server,
                &format!("{base}/deployments?environment=staging"),
                "deployments",
                7,
            )
            .await;
        let mut previous: Option<String> = None;
        for record in records.iter().rev() {
            let said = record["previous_release_id"].as_str().map(str::to_owned);
            if said != previous {
                problems.push(format!(
                    "server {server}: record {} says previous {said:?}, the one before had \
                     {previous:?}",
                    record["deployment_id"]
                ));
            }
            previous = Some(text(record, "release_id"));
        }
        let board = api
            .expect(
                server,
                Method::GET,
                &format!("{base}/environments"),
                None,
                200,
            )
            .await;
        let deployed: BTreeSet<String> = board["environments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["release"]["release_id"].as_str().map(str::to_owned))
            .collect();
        let staging = board["environments"][1]["release"]["release_id"].clone();
        if staging.as_str().map(str::to_owned) != previous {
            problems.push(format!(
                "server {server}: staging has {staging}, its newest record says {previous:?}"
            ));
        }
        let listed = api
            .expect(
                server,
                Method::GET,
                &format!("{base}/releases?include_archived=true"),
                None,
                200,
            )
            .await;
        for release in listed["releases"].as_array().into_iter().flatten() {
            let id = text(release, "release_id");
            let active = release["status"] == "active";
            if active != deployed.contains(&id) {
                problems.push(format!(
                    "server {server}: {id} is {} but deployed: {}",
                    release["status"],
                    deployed.contains(&id)
                ));
            }
        }
    }
    problems
}
