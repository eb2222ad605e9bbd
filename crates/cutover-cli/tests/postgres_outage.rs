//! SPEC §5–6 on PostgreSQL: while the database cannot be reached the server answers
//! 503 `SERVICE_UNAVAILABLE` (with `Retry-After`), never 500; `/readyz` says 503 while
//! the database is down and 200 once it is back; the server recovers by itself, without
//! a restart, and every acknowledged write is still there afterwards. And `cutover
//! serve` refuses to start, fast and in one line, when PostgreSQL is not there.
//!
//! The outage is real: each test that needs one makes its own throwaway PostgreSQL
//! cluster (`initdb` into a temporary directory, trust auth, 127.0.0.1 and a free port
//! only), stops it with `pg_ctl stop -m fast` and `-m immediate` under load, and starts
//! it again on the same port. The machine's shared PostgreSQL (which other tests use
//! in parallel) is never touched. Like the rest of the suite, these tests only run when
//! `TEST_POSTGRES_URL` is set (that is where PostgreSQL is installed), and they skip
//! with a note when no private cluster can be started.

mod common;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use common::{Server, cutover, run, text};

const TOKEN: &str = "cut_outage_platform_admin_0123456789abcdef";

/// The outage test's whole budget, cluster creation to clean-up.
const BUDGET: Duration = Duration::from_secs(55);

/// How long PostgreSQL stays down each time.
const OUTAGE: Duration = Duration::from_secs(2);

/// How soon after PostgreSQL is back writes, reads and `/readyz` must succeed again.
const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

/// How long a request may wait for a pooled connection before the server answers 503.
const ACQUIRE_TIMEOUT_MS: u64 = 500;

/// The slowest a 503 may be: the acquire timeout and a generous margin.
const SLOWEST_503: Duration = Duration::from_secs(3);

/// How long `cutover serve` may take to give up when PostgreSQL is not there.
const FAIL_FAST: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------
// A private, throwaway PostgreSQL cluster.

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only. When
/// dropped it is stopped (`-m immediate`) and its directory removed.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Whether commands run as the `postgres` OS user (`initdb` refuses root).
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`, or what
/// `pg_config --bindir` says.
fn postgres_bin() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, bin)) = candidates.pop() {
        return Ok(bin);
    }
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| {
            format!("no initdb/pg_ctl under /usr/lib/postgresql/*/bin and no pg_config ({err})")
        })?;
    let bin = PathBuf::from(text(&output.stdout).trim());
    if output.status.success() && has_tools(&bin) {
        Ok(bin)
    } else {
        Err("no initdb/pg_ctl under /usr/lib/postgresql/*/bin or pg_config --bindir".into())
    }
}

/// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("an ephemeral port")
        .port()
}

/// Waits for `command` to finish within `timeout`; kills it when it does not.
fn finish(command: &mut Command, output: &Path, timeout: Duration) -> Result<ExitStatus, String> {
    let log =
        File::create(output).map_err(|err| format!("creating {}: {err}", output.display()))?;
    let log2 = log.try_clone().map_err(|err| err.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{command:?} did not finish within {timeout:?}"));
            }
        }
    }
}

impl Cluster {
    /// Makes a cluster with `initdb` and starts it on a free port (trying another
    /// port when the one picked was taken in the meantime).
    fn create() -> Result<Self, String> {
        let bin = postgres_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("cutover-pg-outage-")
            .tempdir()
            .map_err(|err| format!("temporary directory: {err}"))?;
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|meta| meta.uid() == 0)
            .unwrap_or(false);
        let mut cluster = Self {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(cluster.dir.path())
                .stdin(Stdio::null())
                .status()
                .map_err(|err| format!("chown: {err}"))?;
            if !status.success() {
                return Err(format!(
                    "chown postgres {} failed ({status}); is there a postgres user?",
                    cluster.dir.path().display()
                ));
            }
        }
        let data = cluster.data();
        let mut initdb = cluster.tool("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .env("LC_ALL", "C");
        cluster.run(&mut initdb, "initdb", Duration::from_secs(30))?;
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            match cluster.start() {
                Ok(()) => return Ok(cluster),
                Err(why) => last = why,
            }
        }
        Err(last)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL `cutover` connects with (trust auth: no password).
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `name` from the PostgreSQL bin directory, as the `postgres` user when we are root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Runs `command` to completion; the error carries what it printed.
    fn run(&self, command: &mut Command, what: &str, timeout: Duration) -> Result<(), String> {
        let output = self.dir.path().join(format!("{what}.out"));
        let status = finish(command, &output, timeout)?;
        if status.success() {
            Ok(())
        } else {
            let printed = std::fs::read_to_string(&output).unwrap_or_default();
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            Err(format!(
                "{what} failed ({status}): {} {}",
                printed.trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
        }
    }

    /// `pg_ctl start -w` on 127.0.0.1:`port` only, sockets in the temporary directory.
    fn start(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' \
             -c fsync=off -c shared_buffers=16MB -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "15", "-o", &options, "start"]);
        self.run(&mut command, "pg_ctl start", Duration::from_secs(20))
    }

    /// `pg_ctl stop -w -m <mode>`.
    fn stop(&self, mode: &str) -> Result<(), String> {
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "15", "-m", mode, "stop"]);
        self.run(&mut command, "pg_ctl stop", Duration::from_secs(20))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Fails harmlessly when it is already stopped; the directory goes with `dir`.
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "10", "-m", "immediate", "stop"]);
        let output = self.dir.path().join("final-stop.out");
        let _ = finish(&mut command, &output, Duration::from_secs(15));
    }
}

/// `None` (after saying why) when these tests cannot run here.
fn private_cluster() -> Option<Cluster> {
    if std::env::var_os("TEST_POSTGRES_URL").is_none() {
        println!("skipped: TEST_POSTGRES_URL is not set");
        return None;
    }
    match Cluster::create() {
        Ok(cluster) => Some(cluster),
        Err(why) => {
            println!("skipped: cannot start a private PostgreSQL cluster: {why}");
            None
        }
    }
}

// ---------------------------------------------------------------------------------
// Requests and what they answered.

/// One request the load sent, and its answer.
#[derive(Debug, Clone)]
struct Answer {
    what: String,
    sent: Instant,
    done: Instant,
    status: Option<u16>,
    retry_after: Option<String>,
    request_id: Option<String>,
    body: String,
    error: Option<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn is_success(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// Why this is neither a success nor a clean 503 envelope, if it is not.
    fn problem(&self) -> Option<String> {
        if self.is_success() {
            return None;
        }
        if let Some(error) = &self.error {
            return Some(format!("no HTTP answer: {error}"));
        }
        let status = self.status.unwrap_or(0);
        if status != 503 {
            return Some(format!("status {status}"));
        }
        let body = self.json();
        let mut wrong = Vec::new();
        if body["error"] != "SERVICE_UNAVAILABLE" {
            wrong.push("error is not SERVICE_UNAVAILABLE");
        }
        if body["status_code"] != 503 {
            wrong.push("status_code is not 503");
        }
        if body["details"] != json!({}) {
            wrong.push("details is not {}");
        }
        if !body["message"].is_string() || !body["timestamp"].is_string() {
            wrong.push("message/timestamp missing");
        }
        if !self
            .retry_after
            .as_deref()
            .is_some_and(|value| value.trim().parse::<u64>().is_ok_and(|seconds| seconds > 0))
        {
            wrong.push("no Retry-After of a positive number of seconds");
        }
        if self.request_id.is_none() {
            wrong.push("no X-Request-Id");
        }
        (!wrong.is_empty()).then(|| format!("503 but {}", wrong.join(", ")))
    }

    fn describe(&self) -> String {
        format!(
            "{} -> {} (retry-after {:?}, request id {:?}): {}",
            self.what,
            self.status
                .map_or_else(|| format!("{:?}", self.error), |status| status.to_string()),
            self.retry_after,
            self.request_id,
            self.body
        )
    }
}

type Journal = Arc<Mutex<Vec<Answer>>>;

struct Client {
    http: reqwest::Client,
    base: String,
    journal: Journal,
}

impl Client {
    fn new(base: &str, journal: &Journal) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
            base: base.to_owned(),
            journal: Arc::clone(journal),
        }
    }

    /// Sends one request (with the admin token) and writes its answer in the journal.
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let sent = Instant::now();
        let mut answer = Answer {
            what: format!("{method} {path}"),
            sent,
            done: sent,
            status: None,
            retry_after: None,
            request_id: None,
            body: String::new(),
            error: None,
        };
        match request.send().await {
            Ok(response) => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                };
                answer.status = Some(response.status().as_u16());
                answer.retry_after = header("retry-after");
                answer.request_id = header("x-request-id");
                match response.text().await {
                    Ok(body) => answer.body = body,
                    Err(err) => answer.error = Some(format!("reading the body: {err}")),
                }
            }
            Err(err) => answer.error = Some(err.to_string()),
        }
        answer.done = Instant::now();
        self.journal.lock().unwrap().push(answer.clone());
        answer
    }

    /// A setup request that must answer `status`; answers the body.
    async fn expect(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let answer = self.send(method, path, body).await;
        assert_eq!(answer.status, Some(status), "{}", answer.describe());
        answer.json()
    }
}

/// What a 201 for a release said.
#[derive(Debug, Clone)]
struct Acknowledged {
    release_id: String,
    release_tag: String,
    release_number: i64,
    content_hash: String,
}

// ---------------------------------------------------------------------------------
// The load.

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

fn is_probe(answer: &Answer) -> bool {
    answer.what == "GET /readyz" || answer.what == "GET /healthz"
}

/// When one outage happened, and when the service was whole again.
#[derive(Debug)]
struct Outage {
    mode: &'static str,
    stop_begin: Instant,
    stop_done: Instant,
    start_begin: Instant,
    start_done: Instant,
    /// The first release create and the first read sent after PostgreSQL was back
    /// that succeeded, and the first `/readyz` 200 sent after it was back.
    write_back: Instant,
    read_back: Instant,
    ready_back: Instant,
}

impl Outage {
    fn recovered(&self) -> Instant {
        self.write_back.max(self.read_back).max(self.ready_back)
    }
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
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

// ---------------------------------------------------------------------------------
// The outage test.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_outage_answers_503_then_recovers_without_losing_acknowledged_writes() {
    let started = Instant::now();
    let Some(cluster) = private_cluster() else {
        return;
    };
    eprintln!(
        "private cluster on port {} ready after {} ms",
        cluster.port,
        millis(started.elapsed())
    );
    tokio::time::timeout(BUDGET, outage_under_load(&cluster))
        .await
        .unwrap_or_else(|_| panic!("the test ran over its {BUDGET:?} budget"));
    drop(cluster);
    eprintln!("outage test took {} ms", millis(started.elapsed()));
}

async fn outage_under_load(cluster: &Cluster) {
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

    // An org, a workspace, an app with a small draft, and an active first release.
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
    let acknowledged = Arc::new(Mutex::new(vec![Acknowledged {
        release_id: first["release_id"].as_str().unwrap().to_owned(),
        release_tag: "base".into(),
        release_number: first["release_number"].as_i64().unwrap(),
        content_hash: first["content_hash"].as_str().unwrap().to_owned(),
    }]));

    // The steady load.
    let load_started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for writer in 0..RELEASE_WRITERS {
        tasks.push(tokio::spawn(release_writer(
            Client::new(&server.base, &journal),
            app_path.clone(),
            writer,
            Arc::clone(&stop),
            Arc::clone(&acknowledged),
        )));
    }
    tasks.push(tokio::spawn(draft_writer(
        Client::new(&server.base, &journal),
        endpoint_path.clone(),
        Arc::clone(&stop),
    )));
    let read_paths = vec![
        format!("{app_path}/releases/active"),
        format!("{app_path}/releases?limit=20"),
        app_path.clone(),
        endpoint_path.clone(),
        org_path.clone(),
    ];
    for _ in 0..READERS {
        tasks.push(tokio::spawn(reader(
            Client::new(&server.base, &journal),
            read_paths.clone(),
            Arc::clone(&stop),
        )));
    }
    tasks.push(tokio::spawn(prober(
        Client::new(&server.base, &journal),
        Arc::clone(&stop),
    )));

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
    let context = |answer: &Answer| {
        let logged: Vec<&str> = answer
            .request_id
            .as_deref()
            .map(|id| log.lines().filter(|line| line.contains(id)).collect())
            .unwrap_or_default();
        format!(
            "{} (sent {} ms into the load; server log for it: {logged:?})",
            answer.describe(),
            millis(answer.sent.saturating_duration_since(load_started))
        )
    };

    // 1. Every answer, at any time, is a success or a clean 503 envelope.
    let bad: Vec<String> = answers
        .iter()
        .filter_map(|answer| {
            answer
                .problem()
                .map(|why| format!("{why}: {}", context(answer)))
        })
        .collect();

    // 2. Before the first outage everything succeeded; /healthz says 200 throughout.
    let first_stop = outages[0].stop_begin;
    let early_failures: Vec<String> = answers
        .iter()
        .filter(|answer| answer.done < first_stop && !answer.is_success())
        .map(&context)
        .collect();
    let unhealthy: Vec<String> = answers
        .iter()
        .filter(|answer| answer.what == "GET /healthz" && answer.status != Some(200))
        .map(&context)
        .collect();

    // Per outage: what answered, /readyz while down, recovery, and steadiness after.
    let mut outage_failures = Vec::new();
    for (index, outage) in outages.iter().enumerate() {
        let next_stop = outages
            .get(index + 1)
            .map_or(load_ended, |next| next.stop_begin);
        let during: Vec<&Answer> = answers
            .iter()
            .filter(|answer| {
                !is_probe(answer)
                    && answer.sent >= outage.stop_begin
                    && answer.sent < outage.recovered()
            })
            .collect();
        let ok = during.iter().filter(|answer| answer.is_success()).count();
        let unavailable = during
            .iter()
            .filter(|answer| answer.status == Some(503))
            .count();
        // Sent and answered while PostgreSQL was certainly down: nothing can succeed.
        let down: Vec<&Answer> = answers
            .iter()
            .filter(|answer| answer.sent >= outage.stop_done && answer.done <= outage.start_begin)
            .filter(|answer| answer.what != "GET /healthz")
            .collect();
        let down_ok: Vec<String> = down
            .iter()
            .filter(|answer| answer.is_success())
            .map(|answer| context(answer))
            .collect();
        let ready_down = down
            .iter()
            .filter(|answer| answer.what == "GET /readyz")
            .count();
        let slowest_ready = down
            .iter()
            .filter(|answer| answer.what == "GET /readyz")
            .map(|answer| answer.done - answer.sent)
            .max()
            .unwrap_or_default();
        let max_503_latency = during
            .iter()
            .filter(|answer| answer.status == Some(503))
            .map(|answer| answer.done - answer.sent)
            .max()
            .unwrap_or_default();
        let after_recovery: Vec<String> = answers
            .iter()
            .filter(|answer| {
                answer.sent >= outage.recovered() + Duration::from_secs(1)
                    && answer.sent < next_stop
                    && !answer.is_success()
            })
            .map(&context)
            .collect();
        eprintln!(
            "outage {} (-m {}): stop took {} ms, down {} ms, start took {} ms; \
             {} requests sent from stop to recovery: {ok} 2xx, {unavailable} 503 \
             (slowest 503 {} ms); {} requests answered while down, {} of them /readyz \
             (all 503, slowest {} ms); back after start: release create {} ms, read {} ms, /readyz {} ms",
            index + 1,
            outage.mode,
            millis(outage.stop_done - outage.stop_begin),
            millis(outage.start_done - outage.stop_begin),
            millis(outage.start_done - outage.start_begin),
            during.len(),
            millis(max_503_latency),
            down.len(),
            ready_down,
            millis(slowest_ready),
            millis(
                outage
                    .write_back
                    .saturating_duration_since(outage.start_done)
            ),
            millis(
                outage
                    .read_back
                    .saturating_duration_since(outage.start_done)
            ),
            millis(
                outage
                    .ready_back
                    .saturating_duration_since(outage.start_done)
            ),
        );
        if max_503_latency > SLOWEST_503 {
            outage_failures.push(format!(
                "outage {}: a 503 took {} ms (the acquire timeout is {ACQUIRE_TIMEOUT_MS} ms)",
                index + 1,
                millis(max_503_latency)
            ));
        }
        if unavailable == 0 {
            outage_failures.push(format!("outage {}: no 503 at all", index + 1));
        }
        if ready_down == 0 {
            outage_failures.push(format!(
                "outage {}: /readyz never answered while PostgreSQL was down",
                index + 1
            ));
        }
        for answer in down_ok {
            outage_failures.push(format!(
                "outage {}: succeeded while PostgreSQL was down: {answer}",
                index + 1
            ));
        }
        for answer in after_recovery.iter().take(5) {
            outage_failures.push(format!(
                "outage {}: failed more than 1 s after recovery ({} in all): {answer}",
                index + 1,
                after_recovery.len()
            ));
        }
    }
    let total_ok = answers.iter().filter(|answer| answer.is_success()).count();
    let total_503 = answers
        .iter()
        .filter(|answer| answer.status == Some(503))
        .count();
    eprintln!(
        "{} requests in all: {total_ok} 2xx, {total_503} 503, {} other; {} releases acknowledged",
        answers.len(),
        bad.len(),
        acknowledged.lock().unwrap().len()
    );

    let mut failures = Vec::new();
    if !bad.is_empty() {
        failures.push(format!(
            "{} answers were neither a success nor a clean 503; the first ones:\n  {}",
            bad.len(),
            bad.iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    for (what, list) in [
        ("failed before the first outage", &early_failures),
        ("/healthz did not answer 200", &unhealthy),
    ] {
        if !list.is_empty() {
            failures.push(format!(
                "{} requests {what}; the first ones:\n  {}",
                list.len(),
                list.iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    failures.extend(outage_failures);

    // 3. Every acknowledged release is there, with the content it was acknowledged with.
    let verify = Client::new(&server.base, &journal);
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

// ---------------------------------------------------------------------------------
// Starting without PostgreSQL.

/// `cutover serve` against `url` exits by itself within [`FAIL_FAST`], non-zero, with
/// one line on standard error, no panic, and without repeating the password.
fn assert_refuses_to_start(what: &str, url: &str, password: &str) {
    let started = Instant::now();
    let output = run(
        cutover()
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", url])
            .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
            .env("RUST_BACKTRACE", "1"),
        FAIL_FAST,
    );
    let took = started.elapsed();
    let stderr = text(&output.stderr);
    eprintln!(
        "{what}: exited {} after {} ms: {}",
        output.status,
        millis(took),
        stderr.trim()
    );
    assert!(took < FAIL_FAST, "{what}: took {took:?}");
    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "{what}: must exit non-zero, not {}; stderr:\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one line of error; stderr:\n{stderr}"
    );
    assert!(
        lines[0].starts_with("cutover: ") && lines[0].contains("PostgreSQL"),
        "{what}: the line says what failed: {stderr}"
    );
    let lower = stderr.to_ascii_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("backtrace"),
        "{what}: {stderr}"
    );
    assert!(
        !stderr.contains(password),
        "{what}: the password leaked: {stderr}"
    );
    assert!(
        !stderr.contains(READY),
        "{what}: it said it was listening: {stderr}"
    );
}

const READY: &str = common::READY_LINE;

#[test]
fn serve_fails_fast_in_one_line_when_postgresql_is_not_there() {
    if std::env::var_os("TEST_POSTGRES_URL").is_none() {
        println!("skipped: TEST_POSTGRES_URL is not set");
        return;
    }
    let started = Instant::now();
    // A port nobody listens on.
    let port = free_port();
    assert_refuses_to_start(
        "closed port",
        &format!("postgres://postgres:closed-port-secret@127.0.0.1:{port}/postgres"),
        "closed-port-secret",
    );

    // A real cluster that was running and is now stopped.
    let cluster = match Cluster::create() {
        Ok(cluster) => cluster,
        Err(why) => {
            println!(
                "skipped (stopped-cluster part): cannot start a private PostgreSQL cluster: {why}"
            );
            return;
        }
    };
    cluster.stop("fast").expect("the private cluster stops");
    assert_refuses_to_start(
        "stopped cluster",
        &format!(
            "postgres://postgres:stopped-secret@127.0.0.1:{}/postgres",
            cluster.port
        ),
        "stopped-secret",
    );
    drop(cluster);
    eprintln!("fail-fast test took {} ms", millis(started.elapsed()));
}
