//! After the storm: every answer was one its operation may give, every server is
//! asked for every app, and acknowledged creates and deletes are read back from a
//! server other than the one that answered.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;

use crate::multiprocess::SERVERS;
use crate::multiprocess::api::{Api, optional_text, text};
use crate::multiprocess::record::{Kind, Record};
use crate::multiprocess::rules::check_app;
use crate::multiprocess::storm::AppPool;

/// One app as one server shows it after the storm.
pub struct View {
    pub active_release_id: Option<String>,
    pub active_endpoint: Option<String>,
    pub releases: Vec<Value>,
    pub history: Vec<Value>,
}

async fn view(api: &Api, server: usize, pool: &AppPool) -> View {
    let app = api.expect(server, Method::GET, &pool.path, None, 200).await;
    let active = api
        .call(
            server,
            Method::GET,
            &format!("{}/releases/active", pool.path),
            None,
        )
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let active_endpoint = match active.status {
        200 => Some(text(&active.body, "release_id")),
        404 => None,
        status => panic!(
            "GET releases/active on server {server} answered {status}: {}",
            active.body
        ),
    };
    let releases = api
        .collect(
            server,
            &format!("{}/releases?include_archived=true", pool.path),
            "releases",
            200,
        )
        .await;
    // Small pages, each from the next server, so cursors cross processes.
    let history = api
        .collect(
            server,
            &format!("{}/activations", pool.path),
            "activations",
            7,
        )
        .await;
    View {
        active_release_id: optional_text(&app["active_release_id"]),
        active_endpoint,
        releases,
        history,
    }
}

pub async fn check(api: &Api, pools: &[AppPool], records: &[Record], problems: &mut Vec<String>) {
    // Every answer: no transport failure, no 5xx, only the statuses and 409 reasons
    // its operation can give.
    let mut unanswered = 0;
    for record in records {
        match &record.outcome {
            Err(err) => {
                unanswered += 1;
                problems.push(format!("{}: no answer: {err}", record.describe()));
            }
            Ok(answer) => {
                let (statuses, reasons) = record.kind.allowed();
                let reason = answer.body["details"]["reason"].as_str().unwrap_or("");
                if answer.status >= 500 {
                    problems.push(format!(
                        "{}: answered {} (request {}): {}",
                        record.describe(),
                        answer.status,
                        answer.request_id,
                        answer.body
                    ));
                } else if !statuses.contains(&answer.status)
                    || (answer.status == 409 && !reasons.contains(&reason))
                {
                    problems.push(format!(
                        "{}: unexpected {} (request {}): {}",
                        record.describe(),
                        answer.status,
                        answer.request_id,
                        answer.body
                    ));
                }
            }
        }
    }

    for (app, pool) in pools.iter().enumerate() {
        let mut views = Vec::new();
        for server in 0..SERVERS {
            views.push(view(api, server, pool).await);
        }
        let here: Vec<&Record> = records.iter().filter(|record| record.app == app).collect();
        check_app(app, &views, &here, unanswered == 0, problems);

        // Acknowledged deletes are gone and acknowledged creates are there, asked of
        // a server other than the one that answered.
        let deleted: HashSet<&str> = here
            .iter()
            .filter(|record| record.kind == Kind::Delete && record.status() == Some(200))
            .filter_map(|record| record.target.as_deref())
            .collect();
        for record in &here {
            let server = (record.server + 1) % SERVERS;
            let Some(answer) = record.answer() else {
                continue;
            };
            if record.kind == Kind::Delete && answer.status == 200 {
                let id = record.target.as_deref().unwrap_or("");
                let got = api
                    .call(
                        server,
                        Method::GET,
                        &format!("{}/releases/{id}", pool.path),
                        None,
                    )
                    .await;
                match got {
                    Ok(answer) if answer.status == 404 => {}
                    Ok(answer) => problems.push(format!(
                        "{}: acknowledged, but GET on server {server} answers {} (request {}), \
                         status {}",
                        record.describe(),
                        answer.status,
                        answer.request_id,
                        answer.body["status"]
                    )),
                    Err(err) => problems.push(format!("{}: {err}", record.describe())),
                }
            }
            let created = matches!(record.kind, Kind::Create | Kind::CreateActivate);
            if created && answer.status == 201 {
                let id = text(&answer.body, "release_id");
                if deleted.contains(id.as_str()) {
                    continue;
                }
                let got = api
                    .call(
                        server,
                        Method::GET,
                        &format!("{}/releases/{id}", pool.path),
                        None,
                    )
                    .await;
                match got {
                    Ok(detail) if detail.status == 200 => {
                        for key in [
                            "release_number",
                            "release_tag",
                            "content_hash",
                            "endpoint_count",
                            "augmentation_count",
                        ] {
                            if detail.body[key] != answer.body[key] {
                                problems.push(format!(
                                    "{}: {key} was {} in the 201, is {} on server {server}",
                                    record.describe(),
                                    answer.body[key],
                                    detail.body[key]
                                ));
                            }
                        }
                    }
                    Ok(other) => problems.push(format!(
                        "{}: acknowledged release {id} not readable on server {server}: {} \
                         (request {}): {}",
                        record.describe(),
                        other.status,
                        other.request_id,
                        other.body
                    )),
                    Err(err) => problems.push(format!("{}: {err}", record.describe())),
                }
            }
        }
    }
}
