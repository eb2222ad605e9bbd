//! The steady load that runs throughout the outage test: release writers, a draft
//! writer, readers and a prober of `/readyz` and `/healthz`, each sending through its
//! own client into the shared journal until told to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::postgres_outage::client::{Acknowledged, Answer, Client, Journal};

const RELEASE_WRITERS: usize = 2;
const READERS: usize = 2;
/// Most requests one load task sends, whatever happens.
const MAX_REQUESTS_PER_TASK: usize = 4000;
/// Pause between two requests of one task.
const PACE: Duration = Duration::from_millis(5);

/// Cuts releases `w{writer}-{n}` (a new tag every attempt, so a retry after an
/// answer that was lost never collides); writer 0 activates every fourth one.
async fn release_writer(
    client: Client,
    app: String,
    writer: usize,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
) {
    for n in 0..MAX_REQUESTS_PER_TASK {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let tag = format!("w{writer}-{n}");
        let activate = writer == 0 && n % 4 == 0;
        let answer = client
            .send(
                Method::POST,
                &format!("{app}/releases"),
                Some(json!({"release_tag": tag, "description": "outage", "activate": activate})),
            )
            .await;
        if answer.status == Some(201) {
            let body = answer.json();
            let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
            let hash = text("content_hash");
            assert!(
                hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "{tag}: content_hash {hash:?}"
            );
            acknowledged.lock().unwrap().push(Acknowledged {
                release_id: text("release_id"),
                release_tag: text("release_tag"),
                release_number: body["release_number"].as_i64().unwrap_or(-1),
                content_hash: hash,
            });
        }
        tokio::time::sleep(PACE).await;
    }
}

/// Changes the draft (an endpoint's description), so snapshots differ.
async fn draft_writer(client: Client, endpoint: String, stop: Arc<AtomicBool>) {
    for n in 0..MAX_REQUESTS_PER_TASK {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        client
            .send(
                Method::PATCH,
                &endpoint,
                Some(json!({"description": format!("revision {n}")})),
            )
            .await;
        tokio::time::sleep(PACE).await;
    }
}

/// Reads what gateways and people read.
async fn reader(client: Client, paths: Vec<String>, stop: Arc<AtomicBool>) {
    for n in 0..MAX_REQUESTS_PER_TASK {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        client
            .send(Method::GET, &paths[n % paths.len()], None)
            .await;
        tokio::time::sleep(PACE).await;
    }
}

/// Polls `/readyz` and `/healthz` every 50 ms.
async fn prober(client: Client, stop: Arc<AtomicBool>) {
    for _ in 0..MAX_REQUESTS_PER_TASK {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        client.send(Method::GET, "/readyz", None).await;
        client.send(Method::GET, "/healthz", None).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn is_probe(answer: &Answer) -> bool {
    answer.what == "GET /readyz" || answer.what == "GET /healthz"
}

/// Starts the load on the server at `base`: `RELEASE_WRITERS` release writers on
/// `app_path`, a draft writer on `endpoint_path`, `READERS` readers and a prober, all
/// writing in `journal`; they end when `stop` is set.
pub fn start(
    base: &str,
    journal: &Journal,
    org_path: &str,
    app_path: &str,
    endpoint_path: &str,
    stop: &Arc<AtomicBool>,
    acknowledged: &Arc<Mutex<Vec<Acknowledged>>>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for writer in 0..RELEASE_WRITERS {
        tasks.push(tokio::spawn(release_writer(
            Client::new(base, journal),
            app_path.to_owned(),
            writer,
            Arc::clone(stop),
            Arc::clone(acknowledged),
        )));
    }
    tasks.push(tokio::spawn(draft_writer(
        Client::new(base, journal),
        endpoint_path.to_owned(),
        Arc::clone(stop),
    )));
    let read_paths = vec![
        format!("{app_path}/releases/active"),
        format!("{app_path}/releases?limit=20"),
        app_path.to_owned(),
        endpoint_path.to_owned(),
        org_path.to_owned(),
    ];
    for _ in 0..READERS {
        tasks.push(tokio::spawn(reader(
            Client::new(base, journal),
            read_paths.clone(),
            Arc::clone(stop),
        )));
    }
    tasks.push(tokio::spawn(prober(
        Client::new(base, journal),
        Arc::clone(stop),
    )));
    tasks
}
