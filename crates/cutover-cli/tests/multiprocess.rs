//! Several `cutover serve` processes on one PostgreSQL database (SPEC §6: "any number
//! of `cutover serve` processes can run against one database, and every rule above
//! still holds across them").
//!
//! Each test creates a database of its own on the `TEST_POSTGRES_URL` server (and
//! drops it `WITH (FORCE)` when it ends, even on panic), starts real `cutover`
//! processes on it, and talks to them over 127.0.0.1 only. Without
//! `TEST_POSTGRES_URL` the tests say they skipped.
//!
//! - `servers_started_together_all_come_up`: several servers started at the same
//!   moment with the same `CUTOVER_BOOTSTRAP_TOKEN` must all start and accept it.
//! - `concurrent_operations_on_three_servers_keep_every_rule`: three servers, four
//!   apps, a few hundred mixed writes fired concurrently round-robin across servers
//!   and apps; every answer is recorded and then checked against what all three
//!   servers show afterwards (one active release, unique tags and numbers, every
//!   acknowledged create and delete, an activation history that is a chain and agrees
//!   with every activation answer, no 5xx).
//!
//! Run with `--no-capture` to see the summary of what was fired.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use common::{Server, serve_url};

const TOKEN: &str = "cut_multiprocess_platform_admin_0123456789";

/// Servers sharing the database in the main test.
const SERVERS: usize = 3;
/// Apps the operations are spread over.
const APPS: usize = 4;
/// Releases each app gets before the storm; the first `SETUP_ACTIVATIONS` of them
/// are activated in order, so rollbacks have somewhere to go.
const SETUP_RELEASES: usize = 6;
const SETUP_ACTIVATIONS: usize = 4;
/// Operations fired concurrently, and how many may be in flight at once.
const OPERATIONS: usize = 400;
const CONCURRENCY: usize = 32;

/// The asynchronous part of the main test (setup, storm, checks) must end within
/// this; server starts are bounded separately by `common::START_TIMEOUT`.
const BUDGET: Duration = Duration::from_secs(40);
/// One request gives up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Rounds of the simultaneous-start drill, and servers started together per round:
/// the race is lost only in some rounds, so a bug shows over several.
const START_ROUNDS: usize = 5;
const STARTED_TOGETHER: usize = 3;

// ---------------------------------------------------------------------------------
// The PostgreSQL server and a database per test.

/// The PostgreSQL server tests may create databases on, from `TEST_POSTGRES_URL`.
fn postgres_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// `url` with its database name replaced by `database` (query string kept).
fn with_database_name(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |at| authority_start + at);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs one administrative statement on the server at `admin`, on a thread and
/// runtime of its own (so it works from a destructor, inside or outside a runtime).
fn postgres_admin(admin: &str, sql: String) -> Result<(), String> {
    let admin = admin.to_owned();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("runtime: {err}"))?;
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&admin)
                .await
                .map_err(|err| format!("connecting to TEST_POSTGRES_URL: {err}"))?;
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&mut connection)
                .await
                .map(|_| ())
                .map_err(|err| format!("{sql}: {err}"));
            let _ = connection.close().await;
            result
        })
    })
    .join()
    .map_err(|_| "the administrative thread panicked".to_owned())?
}

/// A database created for one test, dropped `WITH (FORCE)` when the guard goes away
/// (which also ends every connection the servers still hold to it).
struct TestDatabase {
    admin: String,
    name: String,
    url: String,
}

impl TestDatabase {
    fn create(admin: &str) -> Self {
        let name = format!("cutover_multiprocess_{:016x}", random_u64());
        postgres_admin(admin, format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|err| panic!("creating the test database: {err}"));
        Self {
            admin: admin.to_owned(),
            url: with_database_name(admin, &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(err) = postgres_admin(&self.admin, sql) {
            eprintln!("warning: could not drop test database {}: {err}", self.name);
        }
    }
}

// ---------------------------------------------------------------------------------
// Randomness: a seed per run (printed, and settable with MULTIPROCESS_SEED), and a
// small generator per operation so each operation's choices depend only on the seed.

fn random_u64() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    RandomState::new().hash_one((nanos, std::process::id()))
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Self(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

fn seed() -> u64 {
    match std::env::var("MULTIPROCESS_SEED") {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => text.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("MULTIPROCESS_SEED is not a number: {text}"))
        }
        Err(_) => random_u64(),
    }
}

// ---------------------------------------------------------------------------------
// Servers and HTTP.

/// A `cutover serve` on `url` with the shared bootstrap token.
fn server_command(url: &str) -> Command {
    let mut command = serve_url(url);
    command
        .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
        .env("CUTOVER_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    command
}

/// One answer, or why there was none.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: Value,
    request_id: String,
}

type Outcome = Result<Answer, String>;

/// The three servers, addressed by index.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
}

impl Api {
    fn new(bases: Vec<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Self {
            client,
            bases: Arc::new(bases),
        }
    }

    async fn call(
        &self,
        server: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Outcome {
        let url = format!("{}{path}", self.bases[server]);
        let mut request = self.client.request(method.clone(), &url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let describe = |err: reqwest::Error| format!("{method} {url} (server {server}): {err}");
        let response = request.send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.map_err(describe)?;
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            request_id,
        })
    }

    /// A request that must answer `status`; answers the body.
    async fn expect(
        &self,
        server: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let answer = self
            .call(server, method.clone(), path, body)
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(
            answer.status, status,
            "{method} {path} on server {server} (request {}): {}",
            answer.request_id, answer.body
        );
        answer.body
    }

    /// Every item of a paginated list, `limit` at a time, asking each next page of
    /// the next server (cursors are signed with a key every server shares).
    async fn collect(
        &self,
        first_server: usize,
        path: &str,
        key: &str,
        limit: usize,
    ) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut page_path = format!("{path}{separator}limit={limit}");
        let mut server = first_server;
        for _ in 0..1000 {
            let page = self
                .expect(server, Method::GET, &page_path, None, 200)
                .await;
            items.extend(
                page[key]
                    .as_array()
                    .unwrap_or_else(|| panic!("no {key} list in {page}"))
                    .iter()
                    .cloned(),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    page_path = format!("{path}{separator}limit={limit}&cursor={cursor}");
                    server = (server + 1) % self.bases.len();
                }
                None => return items,
            }
        }
        panic!("{path} did not end after 1000 pages");
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {value}"))
        .to_owned()
}

fn optional_text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

// ---------------------------------------------------------------------------------
// Test 1: servers started at the same moment.

#[test]
fn servers_started_together_all_come_up() {
    let Some(admin) = postgres_url() else {
        println!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let started = Instant::now();
    let mut failures = Vec::new();
    for round in 0..START_ROUNDS {
        let database = TestDatabase::create(&admin);
        let starts: Vec<_> = (0..STARTED_TOGETHER)
            .map(|_| {
                let url = database.url.clone();
                thread::spawn(move || Server::try_spawn(&mut server_command(&url)))
            })
            .collect();
        let mut servers = Vec::new();
        for (index, start) in starts.into_iter().enumerate() {
            match start.join().expect("a start thread ended normally") {
                Ok(server) => servers.push(server),
                Err(message) => failures.push(format!("round {round}, server {index}: {message}")),
            }
        }
        // Every server that did start accepts the bootstrap token.
        for server in &servers {
            let answer = run_blocking(Api::new(vec![server.base.clone()]).call(
                0,
                Method::GET,
                "/v1/orgs",
                None,
            ));
            match answer {
                Ok(answer) if answer.status == 200 => {}
                other => failures.push(format!(
                    "round {round}: GET /v1/orgs on {} with the bootstrap token: {other:?}",
                    server.base
                )),
            }
        }
        drop(servers);
        drop(database);
    }
    println!(
        "{START_ROUNDS} rounds of {STARTED_TOGETHER} servers started together on a fresh \
         database in {:.2?}; {} failed",
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "servers started together with the same CUTOVER_BOOTSTRAP_TOKEN must all start:\n{}",
        failures.join("\n")
    );
}

#[test]
fn servers_started_together_on_an_empty_database_make_one_first_token() {
    let Some(admin) = postgres_url() else {
        println!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    for round in 0..START_ROUNDS {
        let database = TestDatabase::create(&admin);
        let starts: Vec<_> = (0..STARTED_TOGETHER)
            .map(|_| {
                let url = database.url.clone();
                thread::spawn(move || {
                    let mut command = serve_url(&url);
                    command.env("RUST_LOG", "warn");
                    Server::try_spawn(&mut command)
                })
            })
            .collect();
        let servers: Vec<Server> = starts
            .into_iter()
            .map(|start| {
                start
                    .join()
                    .expect("a start thread ended normally")
                    .unwrap_or_else(|message| panic!("round {round}: {message}"))
            })
            .collect();
        let printed: Vec<String> = servers
            .iter()
            .flat_map(|server| server.lines())
            .filter(|line| line.starts_with("cut_"))
            .collect();
        assert_eq!(
            printed.len(),
            1,
            "round {round}: exactly one server prints the first token: {printed:?}"
        );
        drop(servers);
        drop(database);
    }
}

fn run_blocking<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

// ---------------------------------------------------------------------------------
// Test 2: a storm of mixed operations across three servers.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Create,
    CreateActivate,
    Activate,
    Rollback,
    Archive,
    Delete,
    EditEndpoint,
    AddEndpoint,
    RemoveEndpoint,
    EditAugmentation,
    ReadActive,
    ListReleases,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::CreateActivate => "create+activate",
            Kind::Activate => "activate",
            Kind::Rollback => "rollback",
            Kind::Archive => "archive",
            Kind::Delete => "delete",
            Kind::EditEndpoint => "draft: patch endpoint",
            Kind::AddEndpoint => "draft: add endpoint",
            Kind::RemoveEndpoint => "draft: delete endpoint",
            Kind::EditAugmentation => "draft: patch augmentation",
            Kind::ReadActive => "read: get active",
            Kind::ListReleases => "read: list releases",
        }
    }

    /// The operation for a roll of 0..100.
    fn from_roll(roll: usize) -> Self {
        match roll {
            0..=13 => Kind::Create,
            14..=21 => Kind::CreateActivate,
            22..=42 => Kind::Activate,
            43..=55 => Kind::Rollback,
            56..=64 => Kind::Archive,
            65..=73 => Kind::Delete,
            74..=79 => Kind::EditEndpoint,
            80..=84 => Kind::AddEndpoint,
            85..=87 => Kind::RemoveEndpoint,
            88..=93 => Kind::EditAugmentation,
            94..=96 => Kind::ReadActive,
            _ => Kind::ListReleases,
        }
    }

    /// The statuses this operation may answer, and the 409 reasons it may give.
    fn allowed(self) -> (&'static [u16], &'static [&'static str]) {
        match self {
            Kind::Create | Kind::CreateActivate | Kind::AddEndpoint => (&[201], &[]),
            Kind::Activate => (&[200, 404], &[]),
            Kind::Rollback => (
                &[200, 404, 409],
                &[
                    "no_active_release",
                    "release_never_active",
                    "release_not_older_than_active",
                ],
            ),
            Kind::Archive | Kind::Delete => (&[200, 404, 409], &["release_is_active"]),
            Kind::EditEndpoint | Kind::RemoveEndpoint | Kind::EditAugmentation => (&[200], &[]),
            Kind::ReadActive => (&[200, 404], &[]),
            Kind::ListReleases => (&[200], &[]),
        }
    }

    fn is_switch(self) -> bool {
        matches!(self, Kind::Activate | Kind::Rollback)
    }

    fn action(self) -> &'static str {
        match self {
            Kind::Rollback => "rollback",
            _ => "activate",
        }
    }
}

/// One request sent and what came back.
#[derive(Debug)]
struct Record {
    /// The operation's number in the storm, or `None` for setup.
    index: Option<usize>,
    kind: Kind,
    server: usize,
    app: usize,
    /// The release (or endpoint) the operation named.
    target: Option<String>,
    /// The tag a create sent.
    tag: Option<String>,
    outcome: Outcome,
}

impl Record {
    fn describe(&self) -> String {
        let name = match self.index {
            Some(index) => format!("op #{index}"),
            None => "setup".to_owned(),
        };
        let target = self
            .target
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("-");
        format!(
            "{name} {} {target} on app {} via server {}",
            self.kind.label(),
            self.app,
            self.server
        )
    }

    fn answer(&self) -> Option<&Answer> {
        self.outcome.as_ref().ok()
    }

    fn status(&self) -> Option<u16> {
        self.answer().map(|answer| answer.status)
    }

    /// A 200 activate/rollback that says it changed something.
    fn changed_switch(&self) -> bool {
        self.kind.is_switch()
            && self.status() == Some(200)
            && !self
                .answer()
                .and_then(|answer| answer.body["message"].as_str())
                .unwrap_or("")
                .contains("already active")
    }
}

/// What the storm knows about one app while it runs.
struct AppPool {
    path: String,
    endpoint_id: String,
    augmentation_id: String,
    /// Releases not known to be deleted.
    releases: Vec<String>,
    /// Releases some answer showed active.
    ever_active: Vec<String>,
    /// Endpoints the storm added and has not removed.
    extra_endpoints: Vec<String>,
}

fn stages(model: &str) -> Value {
    json!([{"name": "answer", "execution_mode": "sequential",
            "steps": [{"name": "llm", "type": "inference", "config": {"model": model}}]}])
}

#[test]
fn concurrent_operations_on_three_servers_keep_every_rule() {
    let Some(admin) = postgres_url() else {
        println!("skipped: TEST_POSTGRES_URL is not set");
        return;
    };
    let started = Instant::now();
    let seed = seed();
    println!("multiprocess: seed {seed:#018x} (set MULTIPROCESS_SEED to replay the same choices)");
    // Declared first so it is dropped last, after the servers.
    let database = TestDatabase::create(&admin);
    // The first server migrates and registers the token; the others then join it.
    // (Starting them at the same moment is `servers_started_together_all_come_up`.)
    let servers: Vec<Server> = (0..SERVERS)
        .map(|_| Server::spawn(&mut server_command(&database.url)))
        .collect();
    let startup = started.elapsed();
    let api = Api::new(servers.iter().map(|server| server.base.clone()).collect());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let report = runtime
        .block_on(async { tokio::time::timeout(BUDGET, storm_and_check(api, seed)).await })
        .unwrap_or_else(|_| panic!("the test ran over its {BUDGET:?} budget"));
    drop(runtime);

    println!("{}", report.summary);
    println!(
        "timings: servers up {startup:.2?}, setup {:.2?}, storm {:.2?}, checks {:.2?}, total {:.2?}",
        report.setup,
        report.storm,
        report.checks,
        started.elapsed()
    );
    if !report.problems.is_empty() {
        let mut message = format!("{} problem(s) found:\n", report.problems.len());
        for problem in report.problems.iter().take(60) {
            let _ = writeln!(message, "- {problem}");
        }
        if report.problems.len() > 60 {
            let _ = writeln!(message, "… and {} more", report.problems.len() - 60);
        }
        for (index, server) in servers.iter().enumerate() {
            let lines: Vec<String> = server
                .lines()
                .into_iter()
                .filter(|line| !line.contains("\"level\":\"INFO\""))
                .take(30)
                .collect();
            if !lines.is_empty() {
                let _ = writeln!(
                    message,
                    "server {index} log (not INFO):\n{}",
                    lines.join("\n")
                );
            }
        }
        panic!("{message}");
    }
    drop(servers);
    drop(database);
}

struct Report {
    summary: String,
    problems: Vec<String>,
    setup: Duration,
    storm: Duration,
    checks: Duration,
}

async fn storm_and_check(api: Api, seed: u64) -> Report {
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

/// One app as one server shows it after the storm.
struct View {
    active_release_id: Option<String>,
    active_endpoint: Option<String>,
    releases: Vec<Value>,
    history: Vec<Value>,
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

/// The fields of a listed release that every server must agree on.
fn release_key(release: &Value) -> (String, i64, String, String, String, Option<String>) {
    (
        text(release, "release_id"),
        release["release_number"].as_i64().unwrap_or(-1),
        text(release, "release_tag"),
        text(release, "status"),
        text(release, "content_hash"),
        optional_text(&release["activated_at"]),
    )
}

async fn check(api: &Api, pools: &[AppPool], records: &[Record], problems: &mut Vec<String>) {
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

/// The rules for one app, from the three servers' views and the answers its
/// operations got. `complete` says every request got an answer, so the history must
/// hold exactly the acknowledged switches.
fn check_app(
    app: usize,
    views: &[View],
    records: &[&Record],
    complete: bool,
    problems: &mut Vec<String>,
) {
    let mut problem = |text: String| problems.push(format!("app {app}: {text}"));

    // Every server shows the same thing.
    let first = &views[0];
    for (server, view) in views.iter().enumerate() {
        if view.active_release_id != view.active_endpoint {
            problem(format!(
                "server {server}: app.active_release_id {:?} but releases/active {:?}",
                view.active_release_id, view.active_endpoint
            ));
        }
        if view.active_release_id != first.active_release_id {
            problem(format!(
                "server {server} says the active release is {:?}, server 0 says {:?}",
                view.active_release_id, first.active_release_id
            ));
        }
        let keys: Vec<_> = view.releases.iter().map(release_key).collect();
        let first_keys: Vec<_> = first.releases.iter().map(release_key).collect();
        if keys != first_keys {
            problem(format!(
                "server {server} lists other releases than server 0"
            ));
        }
        if view.history != first.history {
            problem(format!(
                "server {server} shows another activation history than server 0"
            ));
        }
    }

    // At most one active release, and it is the app's.
    let releases = &first.releases;
    let active: Vec<String> = releases
        .iter()
        .filter(|release| release["status"] == "active")
        .map(|release| text(release, "release_id"))
        .collect();
    if active.len() > 1 {
        problem(format!("{} releases are active: {active:?}", active.len()));
    }
    if active.first() != first.active_release_id.as_ref() {
        problem(format!(
            "the list's active release {active:?} is not the app's {:?}",
            first.active_release_id
        ));
    }

    // Tags and numbers unique, newest first.
    let mut tags = HashSet::new();
    let mut numbers = HashSet::new();
    for release in releases {
        if !tags.insert(text(release, "release_tag")) {
            problem(format!("tag {} listed twice", release["release_tag"]));
        }
        if !numbers.insert(release["release_number"].as_i64().unwrap_or(-1)) {
            problem(format!("number {} listed twice", release["release_number"]));
        }
    }
    let listed: Vec<i64> = releases
        .iter()
        .map(|release| release["release_number"].as_i64().unwrap_or(-1))
        .collect();
    if listed.windows(2).any(|pair| pair[0] <= pair[1]) {
        problem(format!("releases are not newest first: {listed:?}"));
    }

    // Every acknowledged create: its own tag, a number no other create got, and
    // (unless an acknowledged delete removed it) listed with the same number, tag
    // and content hash; every acknowledged delete is gone.
    let by_id: HashMap<String, &Value> = releases
        .iter()
        .map(|release| (text(release, "release_id"), release))
        .collect();
    let deleted: HashSet<&str> = records
        .iter()
        .filter(|record| record.kind == Kind::Delete && record.status() == Some(200))
        .filter_map(|record| record.target.as_deref())
        .collect();
    for id in &deleted {
        if by_id.contains_key(*id) {
            problem(format!(
                "deleted release {id} (delete answered 200) is still listed"
            ));
        }
    }
    let mut created_numbers = BTreeMap::new();
    let mut created_tags = HashSet::new();
    for record in records {
        let Some(answer) = record.answer() else {
            continue;
        };
        if !matches!(record.kind, Kind::Create | Kind::CreateActivate) || answer.status != 201 {
            continue;
        }
        let body = &answer.body;
        let id = text(body, "release_id");
        let number = body["release_number"].as_i64().unwrap_or(-1);
        if body["release_tag"].as_str() != record.tag.as_deref() {
            problem(format!(
                "{}: answered tag {}",
                record.describe(),
                body["release_tag"]
            ));
        }
        if !created_tags.insert(text(body, "release_tag")) {
            problem(format!("{}: tag acknowledged twice", record.describe()));
        }
        if let Some(other) = created_numbers.insert(number, id.clone()) {
            problem(format!(
                "{}: number {number} was also given to {other}",
                record.describe()
            ));
        }
        if record.kind == Kind::CreateActivate
            && (body["status"] != "active" || body["activated_at"].is_null())
        {
            problem(format!(
                "{}: created with activate:true but answered status {} activated_at {}",
                record.describe(),
                body["status"],
                body["activated_at"]
            ));
        }
        if deleted.contains(id.as_str()) {
            continue;
        }
        match by_id.get(&id) {
            None => problem(format!(
                "{}: acknowledged release {id} is not listed",
                record.describe()
            )),
            Some(listed) => {
                for key in ["release_number", "release_tag", "content_hash"] {
                    if listed[key] != body[key] {
                        problem(format!(
                            "{}: {key} was {} in the 201, is listed as {}",
                            record.describe(),
                            body[key],
                            listed[key]
                        ));
                    }
                }
            }
        }
    }
    // Numbers are 1 + the highest ever: with every create answered, they run 1..=n;
    // and nothing is listed that no create acknowledged.
    if complete {
        let acknowledged: HashSet<&String> = created_numbers.values().collect();
        for id in by_id.keys() {
            if !acknowledged.contains(id) {
                problem(format!(
                    "release {id} is listed but no create acknowledged it"
                ));
            }
        }
        let expected: Vec<i64> =
            (1..=i64::try_from(created_numbers.len()).expect("fits")).collect();
        let got: Vec<i64> = created_numbers.keys().copied().collect();
        if got != expected {
            problem(format!(
                "acknowledged release numbers are not 1..={}: {got:?}",
                expected.len()
            ));
        }
    }

    // The history is a chain that ends at the active release.
    let history = &first.history;
    let mut previous: Option<String> = None;
    let mut last_sequence = i64::MIN;
    for entry in history {
        let sequence = entry["sequence"].as_i64().unwrap_or(i64::MIN);
        if sequence <= last_sequence {
            problem(format!(
                "history sequence {sequence} follows {last_sequence}"
            ));
        }
        last_sequence = sequence;
        let replaced = optional_text(&entry["replaced_release_id"]);
        if replaced != previous {
            problem(format!(
                "history entry {sequence} replaced {replaced:?}, but the entry before it \
                 activated {previous:?}"
            ));
        }
        previous = optional_text(&entry["release_id"]);
    }
    if previous != first.active_release_id {
        problem(format!(
            "the history ends at {previous:?} but the active release is {:?}",
            first.active_release_id
        ));
    }

    // Every acknowledged switch is in the history, once, with the release it said it
    // replaced; with every request answered, nothing else is.
    let mut entries: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (at, entry) in history.iter().enumerate() {
        entries
            .entry((
                text(entry, "release_id"),
                text(entry, "action"),
                text(entry, "at"),
            ))
            .or_default()
            .push(at);
    }
    let mut claimed = vec![false; history.len()];
    let mut switches = 0;
    for record in records {
        let Some(answer) = record.answer() else {
            continue;
        };
        let body = &answer.body;
        let (release, previous_active, action) = if record.changed_switch() {
            (
                &body["release"],
                Some(optional_text(&body["previous_active_release_id"])),
                record.kind.action(),
            )
        } else if record.kind == Kind::CreateActivate && answer.status == 201 {
            (body, None, "activate")
        } else {
            if record.kind.is_switch() && answer.status == 200 {
                // "Already active": nothing changed, and it names itself as previous.
                let id = optional_text(&body["release"]["release_id"]);
                if optional_text(&body["previous_active_release_id"]) != id
                    || id.as_deref() != record.target.as_deref()
                {
                    problem(format!(
                        "{}: an unchanged answer should name the release itself: {body}",
                        record.describe()
                    ));
                }
            }
            continue;
        };
        switches += 1;
        let id = optional_text(&release["release_id"]).unwrap_or_default();
        if record.kind.is_switch() && Some(id.as_str()) != record.target.as_deref() {
            problem(format!("{}: answered release {id}", record.describe()));
        }
        let key = (
            id.clone(),
            action.to_owned(),
            optional_text(&release["activated_at"]).unwrap_or_default(),
        );
        let Some(at) = entries
            .get(&key)
            .and_then(|ats| ats.iter().copied().find(|&at| !claimed[at]))
        else {
            problem(format!(
                "{}: acknowledged {action} of {id} at {} is not in the activation history",
                record.describe(),
                key.2
            ));
            continue;
        };
        claimed[at] = true;
        let replaced = optional_text(&history[at]["replaced_release_id"]);
        if let Some(previous_active) = previous_active
            && previous_active != replaced
        {
            problem(format!(
                "{}: answered previous_active_release_id {previous_active:?}, but its history \
                 entry {} says it replaced {replaced:?}",
                record.describe(),
                history[at]["sequence"]
            ));
        }
    }
    if complete {
        for (at, entry) in history.iter().enumerate() {
            if !claimed[at] {
                problem(format!(
                    "history entry {entry} matches no acknowledged answer"
                ));
            }
        }
        if switches != history.len() {
            problem(format!(
                "{switches} acknowledged switches but {} history entries",
                history.len()
            ));
        }
    }
}

/// What was fired, per operation and answer.
fn summarize(records: &[Record], storm: Duration) -> String {
    let fired: Vec<&Record> = records
        .iter()
        .filter(|record| record.index.is_some())
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "multiprocess: {} operations over {SERVERS} servers and {APPS} apps (at most {CONCURRENCY} \
         in flight) in {storm:.2?} ({:.0} ops/s); setup cut {} releases and made {} activations",
        fired.len(),
        fired.len() as f64 / storm.as_secs_f64().max(1e-9),
        records
            .iter()
            .filter(|r| r.index.is_none() && r.kind == Kind::Create)
            .count(),
        records
            .iter()
            .filter(|r| r.index.is_none() && r.kind == Kind::Activate)
            .count(),
    );
    let mut by_kind: BTreeMap<Kind, BTreeMap<String, usize>> = BTreeMap::new();
    for record in &fired {
        let label = match &record.outcome {
            Err(_) => "no answer".to_owned(),
            Ok(answer) => {
                let reason = answer.body["details"]["reason"].as_str();
                match (answer.status, reason) {
                    (200, _) if record.kind.is_switch() && !record.changed_switch() => {
                        "200 already active".to_owned()
                    }
                    (409, Some(reason)) => format!("409 {reason}"),
                    (status, _) => status.to_string(),
                }
            }
        };
        *by_kind
            .entry(record.kind)
            .or_default()
            .entry(label)
            .or_default() += 1;
    }
    for (kind, answers) in &by_kind {
        let total: usize = answers.values().sum();
        let answers: Vec<String> = answers
            .iter()
            .map(|(label, count)| format!("{label} ×{count}"))
            .collect();
        let _ = writeln!(
            out,
            "  {:<26} {total:>4}: {}",
            kind.label(),
            answers.join(", ")
        );
    }
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for record in &fired {
        let label = record
            .status()
            .map_or_else(|| "no answer".to_owned(), |status| status.to_string());
        *statuses.entry(label).or_default() += 1;
    }
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(status, count)| format!("{status} ×{count}"))
        .collect();
    let _ = writeln!(out, "  all answers: {}", statuses.join(", "));
    let per_server: Vec<String> = (0..SERVERS)
        .map(|server| {
            let count = fired
                .iter()
                .filter(|record| record.server == server)
                .count();
            format!("server {server} ×{count}")
        })
        .collect();
    let changed = fired
        .iter()
        .filter(|record| record.changed_switch())
        .count()
        + fired
            .iter()
            .filter(|record| record.kind == Kind::CreateActivate && record.status() == Some(201))
            .count();
    let _ = writeln!(
        out,
        "  per server: {}; switches that changed the active release: {changed}",
        per_server.join(", ")
    );
    out.trim_end().to_owned()
}
