//! Availability on PostgreSQL: while the database cannot be reached the server answers
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
//! `TEST_POSTGRES_URL` was set when they were built (that is where PostgreSQL is
//! installed; otherwise they are ignored, counted as skipped), and then they fail
//! when no private cluster can be started: a test built to run never passes unrun.
//!
//! The tests are here; what they use lives in modules: `cluster` (the private
//! PostgreSQL cluster), `client` (requests, and the journal of what they answered),
//! `load` (the steady load), `scenario` (the outage test's course: setup, load, two
//! outages), `verdict` (judging every answer against the outages), `releases` (what is
//! left afterwards) and `fail_fast` (`cutover serve` refusing to start).

mod client;
mod cluster;
mod fail_fast;
mod load;
mod releases;
mod scenario;
mod verdict;

use std::time::{Duration, Instant};

use cluster::{free_port, private_cluster};
use cutover_test_gates::needs_postgres;
use fail_fast::assert_refuses_to_start;
use scenario::outage_under_load;

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

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

// ---------------------------------------------------------------------------------
// The outage test.

#[needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_outage_answers_503_then_recovers_without_losing_acknowledged_writes() {
    let started = Instant::now();
    let cluster = private_cluster();
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

// ---------------------------------------------------------------------------------
// Starting without PostgreSQL.

#[needs_postgres]
#[test]
fn serve_fails_fast_in_one_line_when_postgresql_is_not_there() {
    let started = Instant::now();
    // A port nobody listens on.
    let port = free_port();
    assert_refuses_to_start(
        "closed port",
        &format!("postgres://postgres:closed-port-secret@127.0.0.1:{port}/postgres"),
        "closed-port-secret",
    );

    // A real cluster that was running and is now stopped.
    let cluster = private_cluster();
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
