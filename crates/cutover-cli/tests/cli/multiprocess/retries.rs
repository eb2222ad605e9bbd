//! One `Idempotency-Key` sent to two servers at the same moment, a few rounds over:
//! in each, exactly one server runs the cut; the other answers 409
//! `idempotency_key_in_use` (the first still running) or the first's answer again,
//! byte for byte, marked `Idempotency-Replayed: true`; and the app has one release per
//! round.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::api::Api;
use crate::multiprocess::{REQUEST_TIMEOUT, TOKEN};

/// Rounds of the race: the interleaving differs from round to round.
pub const ROUNDS: usize = 8;

/// What one server answered.
struct Sent {
    server: usize,
    status: u16,
    replayed: bool,
    bytes: Vec<u8>,
}

pub async fn same_key_on_two_servers(api: Api, bases: Vec<String>) -> Vec<String> {
    let releases = format!("{}/releases", api.an_app("Retries").await);
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .no_proxy()
        .build()
        .expect("an HTTP client");
    let mut problems = Vec::new();
    for round in 0..ROUNDS {
        let mut sends = JoinSet::new();
        for (server, base) in bases.iter().enumerate().take(2) {
            let request = client
                .post(format!("{base}{releases}"))
                .bearer_auth(TOKEN)
                .header("Idempotency-Key", format!("ci-run-{round}"))
                .json(&json!({"release_tag": format!("v{round}")}));
            sends.spawn(async move {
                let response = request.send().await.expect("answered");
                let status = response.status().as_u16();
                let replayed = response.headers().contains_key("idempotency-replayed");
                let bytes = response.bytes().await.expect("a body").to_vec();
                Sent {
                    server,
                    status,
                    replayed,
                    bytes,
                }
            });
        }
        let mut sent = Vec::new();
        while let Some(answer) = sends.join_next().await {
            sent.push(answer.expect("a send task"));
        }
        let ran: Vec<&Sent> = sent
            .iter()
            .filter(|s| s.status == 201 && !s.replayed)
            .collect();
        if ran.len() != 1 {
            problems.push(format!(
                "round {round}: {} servers ran the cut, not 1",
                ran.len()
            ));
            continue;
        }
        for other in sent.iter().filter(|s| s.server != ran[0].server) {
            let body: Value = serde_json::from_slice(&other.bytes).unwrap_or(Value::Null);
            let in_use =
                other.status == 409 && body["details"]["reason"] == "idempotency_key_in_use";
            let replay = other.status == 201 && other.replayed && other.bytes == ran[0].bytes;
            if !(in_use || replay) {
                problems.push(format!(
                    "round {round}: server {} answered {} {body} (replayed: {})",
                    other.server, other.status, other.replayed
                ));
            }
        }
    }
    let listed = api.collect(0, &releases, "releases", 100).await;
    if listed.len() != ROUNDS {
        problems.push(format!("{} releases after {ROUNDS} rounds", listed.len()));
    }
    problems
}
