//! Several `cutover serve` processes on one PostgreSQL database (any number
//! of `cutover serve` processes can run against one PostgreSQL database, and every
//! rule still holds across them: README, "Several servers on one PostgreSQL").
//!
//! Each test creates a database of its own on the `TEST_POSTGRES_URL` server (and
//! drops it `WITH (FORCE)` when it ends, even on panic), starts real `cutover`
//! processes on it, and talks to them over 127.0.0.1 only. Built without
//! `TEST_POSTGRES_URL` the tests are ignored, and the runners count them as skipped.
//!
//! - `servers_started_together_all_come_up`: several servers started at the same
//!   moment with the same `CUTOVER_BOOTSTRAP_TOKEN` must all start and accept it.
//! - `concurrent_operations_on_three_servers_keep_every_rule`: three servers, four
//!   apps, a few hundred mixed writes fired concurrently round-robin across servers
//!   and apps; every answer is recorded and then checked against what all three
//!   servers show afterwards (one active release, unique tags and numbers, every
//!   acknowledged create and delete, an activation history that is a chain and agrees
//!   with every activation answer, no 5xx).
//! - `concurrent_deploys_to_one_environment_on_three_servers_form_one_chain`: 24
//!   deploys and rollbacks of one app's staging at once across three servers; the
//!   records are one chain and statuses agree with where releases are deployed
//!   (`deploys`).
//! - `one_idempotency_key_on_two_servers_at_once_runs_once`: the same keyed cut sent
//!   to two servers at the same moment, several rounds: one runs it, the other answers
//!   409 `idempotency_key_in_use` or the replay (`retries`).
//!
//! Run with `--no-capture` to see the summary of what was fired.
//!
//! The tests are here; each database is a `cutover_test_support::ScratchDatabase` on
//! the `TEST_POSTGRES_URL` server; the rest lives in modules: `random` (the seed and
//! the generator),
//! `api` (starting servers and talking to them), `record` (the operations and what
//! each got back), `storm` (setup and the concurrent storm), `checks` and `rules`
//! (what the servers must show afterwards) and `summary` (what was fired).

mod api;
mod checks;
mod deploys;
mod random;
mod record;
mod retries;
mod rules;
mod storm;
mod summary;

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use cutover_test_gates::needs_postgres;
use reqwest::Method;

use crate::common::{Server, serve_url};
use api::{Api, run_blocking, server_command};
use cutover_test_support::{ScratchDatabase, test_postgres_url};
use random::seed;
use storm::storm_and_check;

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
// Test 1: servers started at the same moment.

#[needs_postgres]
#[test]
fn servers_started_together_all_come_up() {
    let admin = test_postgres_url();
    let started = Instant::now();
    let mut failures = Vec::new();
    for round in 0..START_ROUNDS {
        let database = ScratchDatabase::create(&admin, "cutover_multiprocess")
            .unwrap_or_else(|err| panic!("creating the test database: {err}"));
        let starts: Vec<_> = (0..STARTED_TOGETHER)
            .map(|_| {
                let url = database.url().to_owned();
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
        // However the registrations interleaved, one bootstrap token is live.
        if let Some(server) = servers.first() {
            let api = Api::new(vec![server.base.clone()]);
            match run_blocking(api.call(0, Method::GET, "/v1/tokens", None)) {
                Ok(answer) if answer.status == 200 => {
                    let bootstraps = answer.body["tokens"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|token| token["name"] == "bootstrap")
                        .count();
                    if bootstraps != 1 {
                        failures.push(format!(
                            "round {round}: {bootstraps} live bootstrap tokens, not 1"
                        ));
                    }
                }
                other => failures.push(format!("round {round}: GET /v1/tokens: {other:?}")),
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

#[needs_postgres]
#[test]
fn servers_started_together_on_an_empty_database_make_one_first_token() {
    let admin = test_postgres_url();
    for round in 0..START_ROUNDS {
        let database = ScratchDatabase::create(&admin, "cutover_multiprocess")
            .unwrap_or_else(|err| panic!("creating the test database: {err}"));
        let starts: Vec<_> = (0..STARTED_TOGETHER)
            .map(|_| {
                let url = database.url().to_owned();
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

// ---------------------------------------------------------------------------------
// Test 2: a storm of mixed operations across three servers.

#[needs_postgres]
#[test]
fn concurrent_operations_on_three_servers_keep_every_rule() {
    let admin = test_postgres_url();
    let started = Instant::now();
    let seed = seed();
    println!("multiprocess: seed {seed:#018x} (set MULTIPROCESS_SEED to replay the same choices)");
    // Declared first so it is dropped last, after the servers.
    let database = ScratchDatabase::create(&admin, "cutover_multiprocess")
        .unwrap_or_else(|err| panic!("creating the test database: {err}"));
    // The first server migrates and registers the token; the others then join it.
    // (Starting them at the same moment is `servers_started_together_all_come_up`.)
    let servers: Vec<Server> = (0..SERVERS)
        .map(|_| Server::spawn(&mut server_command(database.url())))
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

// ---------------------------------------------------------------------------------
// Test 3: concurrent deploys and rollbacks of one environment across three servers.

#[needs_postgres]
#[test]
fn concurrent_deploys_to_one_environment_on_three_servers_form_one_chain() {
    let admin = test_postgres_url();
    let database = ScratchDatabase::create(&admin, "cutover_multiprocess")
        .unwrap_or_else(|err| panic!("creating the test database: {err}"));
    let servers: Vec<Server> = (0..SERVERS)
        .map(|_| Server::spawn(&mut server_command(database.url())))
        .collect();
    let api = Api::new(servers.iter().map(|server| server.base.clone()).collect());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let problems = runtime
        .block_on(async { tokio::time::timeout(BUDGET, deploys::deploy_storm(api, SERVERS)).await })
        .unwrap_or_else(|_| panic!("the test ran over its {BUDGET:?} budget"));
    drop(runtime);
    assert!(
        problems.is_empty(),
        "{} problem(s) after {} concurrent changes:\n{}",
        problems.len(),
        deploys::CHANGES,
        problems.join("\n")
    );
    drop(servers);
    drop(database);
}

// ---------------------------------------------------------------------------------
// Test 4: one Idempotency-Key sent to two servers at once.

#[needs_postgres]
#[test]
fn one_idempotency_key_on_two_servers_at_once_runs_once() {
    let admin = test_postgres_url();
    let database = ScratchDatabase::create(&admin, "cutover_multiprocess")
        .unwrap_or_else(|err| panic!("creating the test database: {err}"));
    let servers: Vec<Server> = (0..2)
        .map(|_| Server::spawn(&mut server_command(database.url())))
        .collect();
    let bases: Vec<String> = servers.iter().map(|server| server.base.clone()).collect();
    let api = Api::new(bases.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let problems = runtime
        .block_on(async {
            tokio::time::timeout(BUDGET, retries::same_key_on_two_servers(api, bases)).await
        })
        .unwrap_or_else(|_| panic!("the test ran over its {BUDGET:?} budget"));
    drop(runtime);
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} rounds:\n{}",
        problems.len(),
        retries::ROUNDS,
        problems.join("\n")
    );
    drop(servers);
    drop(database);
}
