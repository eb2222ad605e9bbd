//! What is left after the outages: `/readyz` says 200, every acknowledged release is
//! listed with the content it was acknowledged with, numbers are unique, exactly one
//! release is active, and every other release is one the load sent.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use reqwest::Method;
use serde_json::Value;

use crate::postgres_outage::client::{Acknowledged, Client, Journal};

/// Adds to `failures` what is wrong with the releases of the app at `app_path`, read
/// through a new client on the server at `base`.
pub async fn check_releases(
    base: &str,
    journal: &Journal,
    app_path: &str,
    acknowledged: &Mutex<Vec<Acknowledged>>,
    failures: &mut Vec<String>,
) {
    let verify = Client::new(base, journal);
    let final_ready = verify.send(Method::GET, "/readyz", None).await;
    if final_ready.status != Some(200) {
        failures.push(format!("/readyz at the end: {}", final_ready.describe()));
    }
    let mut listed = Vec::new();
    let mut page = format!("{app_path}/releases?include_archived=true&limit=200");
    let mut active_release_id;
    loop {
        let body = verify.expect(Method::GET, &page, None, 200).await;
        active_release_id = body["active_release_id"].clone();
        listed.extend(
            body["releases"]
                .as_array()
                .expect("releases")
                .iter()
                .cloned(),
        );
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                page =
                    format!("{app_path}/releases?include_archived=true&limit=200&cursor={cursor}")
            }
            None => break,
        }
    }
    let by_id: HashMap<&str, &Value> = listed
        .iter()
        .map(|release| (release["release_id"].as_str().unwrap_or_default(), release))
        .collect();
    let acknowledged = acknowledged.lock().unwrap().clone();
    for ack in &acknowledged {
        match by_id.get(ack.release_id.as_str()) {
            None => failures.push(format!(
                "acknowledged release {} ({}) is missing after the outages",
                ack.release_id, ack.release_tag
            )),
            Some(release) => {
                if release["content_hash"] != ack.content_hash.as_str()
                    || release["release_tag"] != ack.release_tag.as_str()
                    || release["release_number"] != ack.release_number
                {
                    failures.push(format!("acknowledged release {ack:?} now reads {release}"));
                }
            }
        }
    }
    let numbers: HashSet<i64> = listed
        .iter()
        .filter_map(|release| release["release_number"].as_i64())
        .collect();
    if numbers.len() != listed.len() {
        failures.push("release numbers are not unique".into());
    }
    let active: Vec<&Value> = listed
        .iter()
        .filter(|release| release["status"] == "active")
        .collect();
    if active.len() != 1 || active[0]["release_id"] != active_release_id {
        failures.push(format!(
            "expected exactly one active release, the list's active_release_id \
             {active_release_id}; found {active:?}"
        ));
    }
    // Releases whose create answered 503 may have committed anyway (the answer was
    // lost with the connection); they must be whole and must have been sent.
    let acknowledged_ids: HashSet<&str> = acknowledged
        .iter()
        .map(|ack| ack.release_id.as_str())
        .collect();
    let in_doubt: Vec<&Value> = listed
        .iter()
        .filter(|release| {
            !acknowledged_ids.contains(release["release_id"].as_str().unwrap_or_default())
        })
        .collect();
    for release in &in_doubt {
        let tag = release["release_tag"].as_str().unwrap_or_default();
        let sent = tag
            .strip_prefix('w')
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(writer, n)| {
                writer.parse::<usize>().is_ok() && n.parse::<usize>().is_ok()
            });
        if !sent || !release["content_hash"].is_string() {
            failures.push(format!("unexpected release after the outages: {release}"));
        }
    }
    eprintln!(
        "{} releases listed after the outages; all {} acknowledged ones checked; {} present \
         without a 201 (committed, answer lost)",
        listed.len(),
        acknowledged.len(),
        in_doubt.len()
    );
}
