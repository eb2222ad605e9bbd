//! The outage test's course: a server on the private cluster, an app with an active
//! first release, the steady load, then two outages (`-m fast` and `-m immediate`),
//! each followed by waiting for recovery; then the answers and what is left are
//! judged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::common::{Server, cutover};
use crate::postgres_outage::client::{Acknowledged, Client, Journal};
use crate::postgres_outage::cluster::Cluster;
use crate::postgres_outage::load::{self, is_probe};
use crate::postgres_outage::releases::check_releases;
use crate::postgres_outage::verdict::judge;
use crate::postgres_outage::{ACQUIRE_TIMEOUT_MS, OUTAGE, RECOVERY_LIMIT, TOKEN};

pub async fn outage_under_load(cluster: &Cluster) {
    let server = Server::spawn(
        cutover()
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
            .arg(cluster.url())
            .arg(format!("--pg-acquire-timeout-ms={ACQUIRE_TIMEOUT_MS}"))
            .args(["--pg-connect-timeout-seconds", "5"])
            .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
            .env("CUTOVER_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn"),
    );
    let journal: Journal = Arc::default();
    let setup = Client::new(&server.base, &journal);

    let App {
        org_path,
        app_path,
        endpoint_path,
        first,
    } = create_app(&setup).await;
    let acknowledged = Arc::new(Mutex::new(vec![first]));

    // The steady load.
    let load_started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = load::start(
        &server.base,
        &journal,
        &org_path,
        &app_path,
        &endpoint_path,
        &stop,
        &acknowledged,
    );

    // Steady, then two outages (a fast and an immediate shutdown), with the load
    // running throughout.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut outages = Vec::new();
    for mode in ["fast", "immediate"] {
        let stop_begin = Instant::now();
        tokio::task::block_in_place(|| cluster.stop(mode))
            .unwrap_or_else(|why| panic!("stopping PostgreSQL (-m {mode}): {why}"));
        let stop_done = Instant::now();
        tokio::time::sleep(OUTAGE).await;
        let start_begin = Instant::now();
        tokio::task::block_in_place(|| cluster.start())
            .unwrap_or_else(|why| panic!("starting PostgreSQL again on {}: {why}", cluster.port));
        let start_done = Instant::now();
        let (write_back, read_back, ready_back) = wait_recovered(&journal, start_done).await;
        outages.push(Outage {
            mode,
            stop_begin,
            stop_done,
            start_begin,
            start_done,
            write_back,
            read_back,
            ready_back,
        });
        // Steady again for a while after recovery.
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let load_ended = Instant::now();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("load tasks stop")
            .expect("load tasks do not panic");
    }
    assert!(
        server.lines().iter().all(|line| !line.contains("panicked")),
        "cutover panicked:\n{}",
        server.log()
    );

    let answers = journal.lock().unwrap().clone();
    let log = server.log();
    let mut failures = judge(
        &answers,
        &outages,
        &log,
        load_started,
        load_ended,
        &acknowledged,
    );

    // 3. Every acknowledged release is there, with the content it was acknowledged with.
    check_releases(
        &server.base,
        &journal,
        &app_path,
        &acknowledged,
        &mut failures,
    )
    .await;

    assert!(
        failures.is_empty(),
        "{} problems:\n{}\n\ncutover's log (last 40 lines):\n{}",
        failures.len(),
        failures.join("\n"),
        server
            .lines()
            .iter()
            .rev()
            .take(40)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The paths of what [`create_app`] made, and what the 201 for its first release said.
struct App {
    org_path: String,
    app_path: String,
    endpoint_path: String,
    first: Acknowledged,
}

/// An org, a workspace, an app with a small draft, and an active first release.
async fn create_app(setup: &Client) -> App {
    let org = setup
        .expect(
            Method::POST,
            "/v1/orgs",
            Some(json!({"name": "outage"})),
            201,
        )
        .await;
    let org_path = format!("/v1/orgs/{}", org["org_id"].as_str().unwrap());
    let workspace = setup
        .expect(
            Method::POST,
            &format!("{org_path}/workspaces"),
            Some(json!({"name": "main"})),
            201,
        )
        .await;
    let workspace_path = format!(
        "{org_path}/workspaces/{}",
        workspace["workspace_id"].as_str().unwrap()
    );
    let app = setup
        .expect(
            Method::POST,
            &format!("{workspace_path}/apps"),
            Some(json!({"name": "app"})),
            201,
        )
        .await;
    let app_path = format!("{workspace_path}/apps/{}", app["app_id"].as_str().unwrap());
    let augmentation = setup
        .expect(
            Method::POST,
            &format!("{app_path}/augmentations"),
            Some(json!({"name": "rag", "stages": [{"name": "answer",
                "execution_mode": "sequential",
                "steps": [{"name": "llm", "type": "inference", "config": {"model": "m"}}]}]})),
            201,
        )
        .await;
    let endpoint = setup
        .expect(
            Method::POST,
            &format!("{app_path}/endpoints"),
            Some(json!({"name": "chat", "path": "/chat", "method": "POST",
                        "augmentation_id": augmentation["augmentation_id"]})),
            201,
        )
        .await;
    let endpoint_path = format!(
        "{app_path}/endpoints/{}",
        endpoint["endpoint_id"].as_str().unwrap()
    );
    let first = setup
        .expect(
            Method::POST,
            &format!("{app_path}/releases"),
            Some(json!({"release_tag": "base", "activate": true})),
            201,
        )
        .await;
    App {
        org_path,
        app_path,
        endpoint_path,
        first: Acknowledged {
            release_id: first["release_id"].as_str().unwrap().to_owned(),
            release_tag: "base".into(),
            release_number: first["release_number"].as_i64().unwrap(),
            content_hash: first["content_hash"].as_str().unwrap().to_owned(),
        },
    }
}

/// When one outage happened, and when the service was whole again.
#[derive(Debug)]
pub struct Outage {
    pub mode: &'static str,
    pub stop_begin: Instant,
    pub stop_done: Instant,
    pub start_begin: Instant,
    pub start_done: Instant,
    /// The first release create and the first read sent after PostgreSQL was back
    /// that succeeded, and the first `/readyz` 200 sent after it was back.
    pub write_back: Instant,
    pub read_back: Instant,
    pub ready_back: Instant,
}

impl Outage {
    pub fn recovered(&self) -> Instant {
        self.write_back.max(self.read_back).max(self.ready_back)
    }
}

/// Waits until, among the answers to requests sent after `since`, a release create, a
/// read and a `/readyz` succeeded; answers when each was sent.
async fn wait_recovered(journal: &Journal, since: Instant) -> (Instant, Instant, Instant) {
    let deadline = since + RECOVERY_LIMIT;
    loop {
        let (mut write, mut read, mut ready) = (None, None, None);
        for answer in journal.lock().unwrap().iter() {
            if answer.sent < since || !answer.is_success() {
                continue;
            }
            let first = |slot: &mut Option<Instant>| {
                *slot = Some(slot.map_or(answer.sent, |at: Instant| at.min(answer.sent)));
            };
            if answer.what == "GET /readyz" {
                first(&mut ready);
            } else if answer.what.starts_with("POST") && answer.what.ends_with("/releases") {
                first(&mut write);
            } else if answer.what.starts_with("GET") && !is_probe(answer) {
                first(&mut read);
            }
        }
        if let (Some(write), Some(read), Some(ready)) = (write, read, ready) {
            return (write, read, ready);
        }
        assert!(
            Instant::now() < deadline,
            "not recovered within {RECOVERY_LIMIT:?} of PostgreSQL being back: release \
             create {write:?}, read {read:?}, readyz {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
