//! Durability: an acknowledged write survives `kill -9` of the server at any moment.
//!
//! Runs the real `cutover` binary on a temporary SQLite file, acknowledges a stream of
//! concurrent writes, SIGKILLs the process while requests are still in flight,
//! restarts it on the same file and checks that every acknowledged write is there,
//! unchanged, and that nothing unacknowledged was left half-written.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::Server;

const TOKEN: &str = "cut_durability_platform_admin_0123456789";

/// The whole test's budget, start to finish.
const BUDGET: Duration = Duration::from_secs(30);

/// Starts `cutover serve` on `database` and an ephemeral 127.0.0.1 port, and waits
/// until it says where it listens.
fn start(database: &Path) -> Server {
    Server::spawn(
        crate::common::serve(database)
            .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
            .env("CUTOVER_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn"),
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client")
}

/// Sends one request with the admin token; answers the status and the JSON body.
async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> reqwest::Result<(u16, Value)> {
    let mut request = client.request(method, url).bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// A request that must succeed with `status`; answers the body.
async fn expect(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (got, body) = call(client, method.clone(), url, body)
        .await
        .unwrap_or_else(|err| panic!("{method} {url} failed: {err}"));
    assert_eq!(got, status, "{method} {url}: {body}");
    body
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    expect(client, reqwest::Method::GET, url, None, 200).await
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> Value {
    expect(client, reqwest::Method::POST, url, Some(body), 201).await
}

/// Every item of a paginated list, following `next_cursor` to the end.
async fn collect(client: &reqwest::Client, url: &str, key: &str) -> Vec<Value> {
    let separator = if url.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut page_url = format!("{url}{separator}limit=200");
    loop {
        let page = get(client, &page_url).await;
        items.extend(page[key].as_array().expect("a list").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => page_url = format!("{url}{separator}limit=200&cursor={cursor}"),
            None => return items,
        }
    }
}

/// What a 201 for a release said, kept to compare after the restart.
#[derive(Debug, Clone)]
struct Acknowledged {
    release_id: String,
    release_tag: String,
    release_number: i64,
    content_hash: String,
    endpoint_count: i64,
    augmentation_count: i64,
    activated: bool,
}

impl Acknowledged {
    fn from_body(body: &Value, activated: bool) -> Self {
        let text = |key: &str| body[key].as_str().expect(key).to_owned();
        let number = |key: &str| body[key].as_i64().expect(key);
        Self {
            release_id: text("release_id"),
            release_tag: text("release_tag"),
            release_number: number("release_number"),
            content_hash: text("content_hash"),
            endpoint_count: number("endpoint_count"),
            augmentation_count: number("augmentation_count"),
            activated,
        }
    }
}

/// Everything the writers sent and everything the server acknowledged.
#[derive(Default)]
struct Ledger {
    attempted_tags: HashSet<String>,
    releases: Vec<Acknowledged>,
    endpoints: Vec<String>,
}

const RELEASE_WRITERS: usize = 4;

/// Creates releases with tags `w{writer}-{n}` until a request fails (the server was
/// killed). Writer 0 also activates each release it creates.
async fn release_writer(
    client: reqwest::Client,
    releases_url: String,
    writer: usize,
    ledger: Arc<Mutex<Ledger>>,
) {
    let activate = writer == 0;
    for n in 0.. {
        let tag = format!("w{writer}-{n}");
        ledger.lock().unwrap().attempted_tags.insert(tag.clone());
        let body = json!({"release_tag": tag, "description": "durability", "activate": activate});
        match call(&client, reqwest::Method::POST, &releases_url, Some(body)).await {
            Ok((201, body)) => {
                let acknowledged = Acknowledged::from_body(&body, activate);
                assert_eq!(acknowledged.release_tag, tag);
                ledger.lock().unwrap().releases.push(acknowledged);
            }
            Ok((status, body)) => panic!("creating {tag} answered {status}: {body}"),
            Err(_) => return,
        }
    }
}

/// Changes the draft while releases are cut, so snapshots differ from each other.
async fn endpoint_writer(
    client: reqwest::Client,
    endpoints_url: String,
    augmentation_id: String,
    ledger: Arc<Mutex<Ledger>>,
) {
    for n in 0.. {
        let body = json!({"name": format!("ep-{n}"), "path": format!("/ep/{n}"),
                          "method": "POST", "augmentation_id": augmentation_id});
        match call(&client, reqwest::Method::POST, &endpoints_url, Some(body)).await {
            Ok((201, body)) => {
                let id = body["endpoint_id"]
                    .as_str()
                    .expect("endpoint_id")
                    .to_owned();
                ledger.lock().unwrap().endpoints.push(id);
            }
            Ok((status, body)) => panic!("adding endpoint {n} answered {status}: {body}"),
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_mid_stream() {
    let started = Instant::now();
    tokio::time::timeout(BUDGET, kill_and_restart())
        .await
        .unwrap_or_else(|_| panic!("the test ran over its {BUDGET:?} budget"));
    eprintln!("durability test took {:?}", started.elapsed());
}

async fn kill_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("cutover.db");
    let mut first = start(&database);
    let http = client();

    // An org, a workspace, an app and a small draft.
    let org = post(
        &http,
        &format!("{}/v1/orgs", first.base),
        json!({"name": "durable"}),
    )
    .await;
    let org_id = org["org_id"].as_str().unwrap();
    let workspace = post(
        &http,
        &format!("{}/v1/orgs/{org_id}/workspaces", first.base),
        json!({"name": "main"}),
    )
    .await;
    let workspace_id = workspace["workspace_id"].as_str().unwrap();
    let app_path = format!("/v1/orgs/{org_id}/workspaces/{workspace_id}");
    let app = post(
        &http,
        &format!("{}{app_path}/apps", first.base),
        json!({"name": "app"}),
    )
    .await;
    let app_path = format!("{app_path}/apps/{}", app["app_id"].as_str().unwrap());
    let augmentation = post(
        &http,
        &format!("{}{app_path}/augmentations", first.base),
        json!({"name": "rag", "stages": [{"name": "answer", "execution_mode": "sequential",
               "steps": [{"name": "llm", "type": "inference", "config": {"model": "m"}}]}]}),
    )
    .await;
    let augmentation_id = augmentation["augmentation_id"].as_str().unwrap().to_owned();
    post(
        &http,
        &format!("{}{app_path}/endpoints", first.base),
        json!({"name": "chat", "path": "/chat", "method": "POST", "augmentation_id": augmentation_id}),
    )
    .await;

    // The stream: concurrent writers, each with its own connection pool.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut writers = Vec::new();
    for writer in 0..RELEASE_WRITERS {
        writers.push(tokio::spawn(release_writer(
            client(),
            format!("{}{app_path}/releases", first.base),
            writer,
            Arc::clone(&ledger),
        )));
    }
    writers.push(tokio::spawn(endpoint_writer(
        client(),
        format!("{}{app_path}/endpoints", first.base),
        augmentation_id.clone(),
        Arc::clone(&ledger),
    )));

    // Kill once a good number of writes were acknowledged, with more in flight.
    let stream_started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let acknowledged = ledger.lock().unwrap().releases.len();
        let elapsed = stream_started.elapsed();
        if (acknowledged >= 60 && elapsed >= Duration::from_millis(300))
            || elapsed >= Duration::from_secs(8)
        {
            break;
        }
    }
    let still_writing = writers.iter().all(|writer| !writer.is_finished());
    first.kill();
    assert!(
        still_writing,
        "every writer was still sending when the server was killed"
    );
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .expect("writers notice the kill")
            .expect("writers only stop on a failed request");
    }
    let ledger = Arc::try_unwrap(ledger)
        .ok()
        .expect("writers are done")
        .into_inner()
        .unwrap();
    assert!(
        ledger.releases.len() >= 10,
        "too few writes were acknowledged ({}) to test anything; log:\n{}",
        ledger.releases.len(),
        first.log()
    );
    eprintln!(
        "acknowledged {} releases and {} endpoints out of {} release attempts before SIGKILL",
        ledger.releases.len(),
        ledger.endpoints.len(),
        ledger.attempted_tags.len()
    );
    drop(first);

    // Restart on the same file.
    let mut second = start(&database);
    let base = format!("{}{app_path}", second.base);
    let listed = collect(
        &http,
        &format!("{base}/releases?include_archived=true"),
        "releases",
    )
    .await;
    let by_id: HashMap<&str, &Value> = listed
        .iter()
        .map(|release| (release["release_id"].as_str().unwrap(), release))
        .collect();
    assert_eq!(by_id.len(), listed.len(), "each release is listed once");

    for acknowledged in &ledger.releases {
        let release = by_id
            .get(acknowledged.release_id.as_str())
            .unwrap_or_else(|| {
                panic!(
                    "acknowledged release {} ({}) is gone after SIGKILL",
                    acknowledged.release_id, acknowledged.release_tag
                )
            });
        assert_eq!(release["release_tag"], acknowledged.release_tag.as_str());
        assert_eq!(release["release_number"], acknowledged.release_number);
        assert_eq!(release["content_hash"], acknowledged.content_hash.as_str());
        assert_eq!(release["endpoint_count"], acknowledged.endpoint_count);
        assert_eq!(
            release["augmentation_count"],
            acknowledged.augmentation_count
        );
    }

    // Numbers are unique and, as only committed creates take one, gap-free.
    let numbers: BTreeSet<i64> = listed
        .iter()
        .map(|release| release["release_number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers.len(), listed.len(), "release numbers are unique");
    let highest = numbers.last().copied().unwrap_or(0);
    assert_eq!(
        numbers,
        (1..=highest).collect::<BTreeSet<i64>>(),
        "release numbers have no gaps"
    );

    // What was not acknowledged is either whole or absent: every release that is
    // there was sent by a writer and loads completely.
    for release in &listed {
        let tag = release["release_tag"].as_str().unwrap();
        assert!(
            ledger.attempted_tags.contains(tag),
            "release {tag} was never sent"
        );
        let id = release["release_id"].as_str().unwrap();
        let detail = get(&http, &format!("{base}/releases/{id}")).await;
        assert_eq!(detail["content_hash"], release["content_hash"]);
        assert_eq!(detail["release_number"], release["release_number"]);
        assert_eq!(
            detail["endpoints"].as_array().expect("endpoints").len() as i64,
            detail["endpoint_count"].as_i64().unwrap(),
            "{tag}: endpoints in the snapshot"
        );
        assert_eq!(
            detail["augmentations"]
                .as_array()
                .expect("augmentations")
                .len() as i64,
            detail["augmentation_count"].as_i64().unwrap(),
            "{tag}: augmentations in the snapshot"
        );
        assert!(detail["change_log"].is_string(), "{tag}: change log");
    }

    // Acknowledged draft changes survived too.
    let endpoints: HashSet<String> = collect(&http, &format!("{base}/endpoints"), "endpoints")
        .await
        .iter()
        .map(|endpoint| endpoint["endpoint_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &ledger.endpoints {
        assert!(endpoints.contains(id), "acknowledged endpoint {id} is gone");
    }

    // At most one release is live, and the history of acknowledged activations is
    // whole and unbroken.
    let active: Vec<&Value> = listed
        .iter()
        .filter(|release| release["status"] == "active")
        .collect();
    assert!(active.len() <= 1, "more than one active release");
    let history = collect(&http, &format!("{base}/activations"), "activations").await;
    let mut live = Value::Null;
    for entry in &history {
        assert_eq!(entry["replaced_release_id"], live, "history chain: {entry}");
        live = entry["release_id"].clone();
    }
    assert_eq!(
        live,
        active
            .first()
            .map_or(Value::Null, |release| release["release_id"].clone()),
        "the history ends at the live release"
    );
    let activated: HashSet<&str> = history
        .iter()
        .map(|entry| entry["release_id"].as_str().unwrap())
        .collect();
    for acknowledged in ledger.releases.iter().filter(|release| release.activated) {
        assert!(
            activated.contains(acknowledged.release_id.as_str()),
            "the acknowledged activation of {} is missing from the history",
            acknowledged.release_tag
        );
    }

    // The restarted server carries on where the committed data left off.
    let next = post(
        &http,
        &format!("{base}/releases"),
        json!({"release_tag": "after-restart"}),
    )
    .await;
    assert_eq!(next["release_number"], highest + 1);

    second.kill();
    drop(second);

    // The file needs no repair: its schema is current.
    let migrate = crate::common::run(
        crate::common::cutover()
            .args(["migrate", "--database-url"])
            .arg(crate::common::sqlite_url(&database)),
        Duration::from_secs(10),
    );
    let stdout = String::from_utf8_lossy(&migrate.stdout);
    assert!(
        migrate.status.success(),
        "cutover migrate failed: {stdout}{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        stdout.contains("schema is up to date"),
        "cutover migrate said: {stdout}"
    );
}
