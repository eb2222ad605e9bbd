//! Finding 2 (no timeouts, no connection cap) and finding 9 (PostgreSQL statement
//! timeout), replayed over raw sockets against a real server with small limits: a
//! client trickling its head or its body, an idle keep-alive connection, more
//! connections than the cap, a handler held past the request deadline, and a
//! statement held past PostgreSQL's statement timeout.

use std::time::Duration;

use cutover_server::ServeConfig;
use cutover_server::config::ConnectionLimits;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};

use crate::harness::{ADMIN_TOKEN, Backend, TestApp};

/// The limit each test exercises; everything else stays generous.
const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(20);
/// How late after its limit a close or an answer may come on a busy test machine.
const SLACK: Duration = Duration::from_millis(1500);

fn generous() -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout: LONG,
        body_read_timeout: LONG,
        idle_timeout: LONG,
        request_timeout: LONG,
        max_connections: 64,
    }
}

async fn spawn(adjust: impl FnOnce(&mut ConnectionLimits)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |config: &mut ServeConfig| {
        config.connections = generous();
        adjust(&mut config.connections);
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("the server accepts")
}

/// Reads until the server closes the connection (or resets it), for at most
/// `limit`. Answers what arrived and when the connection closed, if it did.
async fn read_until_closed(
    reader: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> (Vec<u8>, Option<Instant>) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let give_up = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(give_up, reader.read(&mut chunk)).await {
            Err(_) => return (received, None),
            Ok(Ok(0) | Err(_)) => return (received, Some(Instant::now())),
            Ok(Ok(read)) => received.extend_from_slice(&chunk[..read]),
        }
    }
}

/// One HTTP/1.1 answer: status, head (lowercase) and body.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

fn parse_head(head: &[u8]) -> (u16, String, usize) {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let status = head[9..12].parse().expect("a status code");
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().expect("a length"));
    (status, head, length)
}

/// Reads one answer off a keep-alive connection (`None` if it closed first).
async fn read_answer(
    reader: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Option<Answer> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let (status, head, length) = parse_head(&buffer[..end]);
            while buffer.len() < end + 4 + length {
                let read = reader.read(&mut chunk).await.ok()?;
                if read == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
            let body = buffer[end + 4..end + 4 + length].to_vec();
            buffer.drain(..end + 4 + length);
            return Some(Answer { status, head, body });
        }
        let read = reader.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn parse_answer(bytes: &[u8]) -> Answer {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(bytes)));
    let (status, head, length) = parse_head(&bytes[..end]);
    Answer {
        status,
        head,
        body: bytes[end + 4..end + 4 + length].to_vec(),
    }
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: cutover\r\n\r\n";
const HEALTH_THEN_CLOSE: &[u8] =
    b"GET /healthz HTTP/1.1\r\nhost: cutover\r\nconnection: close\r\n\r\n";

fn assert_closed_in_time(what: &str, started: Instant, closed: Option<Instant>, limit: Duration) {
    let closed =
        closed.unwrap_or_else(|| panic!("{what}: still open after {:?}", started.elapsed()));
    let after = closed - started;
    // Early by at most the moments between the server's clock starting and ours.
    assert!(
        after >= limit.mul_f32(0.8) && after < limit + SLACK,
        "{what}: closed after {after:?}, the limit is {limit:?}"
    );
}

/// Slowloris: a head sent a byte every 20 ms (it would take about 5 s) is cut off at
/// the header read timeout, unanswered; so is a connection that sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_head_is_closed_unanswered_at_the_header_timeout() {
    let app = spawn(|limits| limits.header_read_timeout = SHORT).await;

    let (mut reader, mut writer) = connect(&app).await.into_split();
    let started = Instant::now();
    let head = [
        &b"GET /healthz HTTP/1.1\r\nhost: cutover\r\nx-padding: "[..],
        &[b'a'; 200],
        b"\r\n\r\n",
    ]
    .concat();
    let trickle = tokio::spawn(async move {
        for byte in head {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            sleep(Duration::from_millis(20)).await;
        }
    });
    let (answer, closed) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
    trickle.abort();
    assert!(
        answer.is_empty(),
        "a trickled head was served: {:?}",
        String::from_utf8_lossy(&answer)
    );
    assert_closed_in_time("a trickled head", started, closed, SHORT);

    let mut silent = connect(&app).await;
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut silent, Duration::from_secs(8)).await;
    assert!(answer.is_empty());
    assert_closed_in_time("a silent connection", started, closed, SHORT);

    // Clients that send their head at once are served as before.
    app.get("/healthz").await.expect(200);
}

/// A body trickled after a complete head answers 408 in the envelope (with its
/// request id) at the body read timeout, the connection closes, and nothing is
/// created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_body_gets_408_at_the_body_timeout_and_nothing_is_stored() {
    let app = spawn(|limits| limits.body_read_timeout = SHORT).await;
    let orgs_before = app.get("/v1/orgs?limit=200").await.expect(200).body["total"].clone();

    let body = br#"{"name": "an org sent one byte at a time"}"#;
    let head = format!(
        "POST /v1/orgs HTTP/1.1\r\nhost: cutover\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let (mut reader, mut writer) = connect(&app).await.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for byte in body {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            sleep(Duration::from_millis(100)).await;
        }
        // Held open, so only the server can end the exchange.
        sleep(Duration::from_secs(30)).await;
    });
    let (bytes, closed) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
    trickle.abort();
    let answer = parse_answer(&bytes);
    assert_eq!(answer.status, 408, "{}", answer.head);
    assert!(answer.head.contains("x-request-id: "), "{}", answer.head);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    let envelope = answer.json();
    assert_eq!(envelope["error"], "REQUEST_TIMEOUT");
    assert_eq!(envelope["status_code"], 408);
    assert_eq!(envelope["details"]["timeout_ms"], SHORT.as_millis() as u64);
    assert!(bytes.len() < 1024, "{} bytes", bytes.len());
    assert_closed_in_time("a trickled body", started, closed, SHORT);

    let orgs_after = app.get("/v1/orgs?limit=200").await.expect(200).body["total"].clone();
    assert_eq!(
        orgs_before, orgs_after,
        "the trickled create stored nothing"
    );
}

/// A keep-alive connection is closed once it has waited the idle timeout for its
/// next request; one that keeps asking is not (the timeout is between requests, not
/// a lifetime).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn(|limits| limits.idle_timeout = SHORT).await;

    let (mut reader, mut writer) = connect(&app).await.into_split();
    let mut buffer = Vec::new();
    let mut answered = Instant::now();
    for round in 0..4 {
        if round > 0 {
            sleep(SHORT / 2).await;
        }
        writer.write_all(HEALTH).await.unwrap();
        let answer = read_answer(&mut reader, &mut buffer)
            .await
            .expect("answered");
        assert_eq!(answer.status, 200);
        answered = Instant::now();
    }
    let (rest, closed) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    assert_closed_in_time("an idle connection", answered, closed, SHORT);
}

/// The RSS of this test process (server and clients), in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

/// With a cap of 2 held by two clients mid-head, a third connection waits unanswered
/// (and so do 100 more, at no cost to the server's memory) until a place frees up;
/// then every one of them is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_place_without_growing_memory() {
    // Under the listen backlog (128, as std's listeners have), so every connect
    // completes at once; beyond it, clients' kernels retry their SYNs.
    const QUEUED: usize = 100;
    let app = spawn(|limits| limits.max_connections = 2).await;

    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut holder = connect(&app).await;
        // Mid-head, so not idle: these keep their places (until the header timeout).
        holder
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        holders.push(holder);
    }
    sleep(Duration::from_millis(200)).await;

    let mut waiting = connect(&app).await;
    waiting.write_all(HEALTH_THEN_CLOSE).await.unwrap();
    let (early, _) = read_until_closed(&mut waiting, Duration::from_millis(500)).await;
    assert!(
        early.is_empty(),
        "a connection beyond the cap was served: {:?}",
        String::from_utf8_lossy(&early)
    );

    let before = resident_bytes();
    let mut queued = Vec::new();
    for _ in 0..QUEUED {
        let mut client = connect(&app).await;
        client.write_all(HEALTH_THEN_CLOSE).await.unwrap();
        queued.push(client);
    }
    sleep(Duration::from_millis(300)).await;
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("{QUEUED} connections beyond the cap: RSS grew by {grown} bytes");
    assert!(
        grown < 4 << 20,
        "{QUEUED} waiting connections grew the process by {grown} bytes"
    );

    // A place frees up: the first waiting connection is served at once.
    holders.pop();
    let (bytes, _) = read_until_closed(&mut waiting, Duration::from_secs(5)).await;
    assert_eq!(parse_answer(&bytes).status, 200);

    // The last place frees up too: everyone queued is served, none refused.
    holders.clear();
    let draining = Instant::now();
    let served = timeout(Duration::from_secs(30), async {
        let mut statuses = Vec::new();
        for mut client in queued {
            let (bytes, _) = read_until_closed(&mut client, Duration::from_secs(10)).await;
            statuses.push(parse_answer(&bytes).status);
        }
        statuses
    })
    .await
    .expect("the queue drains");
    eprintln!(
        "{QUEUED} queued connections served in {:?}",
        draining.elapsed()
    );
    assert!(served.iter().all(|status| *status == 200), "{served:?}");
}

/// When every place is taken, an idle keep-alive connection gives its place up to a
/// newcomer instead of making it wait for the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_gives_its_place_up_to_a_waiting_one() {
    let app = spawn(|limits| limits.max_connections = 1).await;
    let (mut idle_reader, mut idle_writer) = connect(&app).await.into_split();
    let mut buffer = Vec::new();
    idle_writer.write_all(HEALTH).await.unwrap();
    assert_eq!(
        read_answer(&mut idle_reader, &mut buffer)
            .await
            .unwrap()
            .status,
        200
    );

    let started = Instant::now();
    let mut newcomer = connect(&app).await;
    newcomer.write_all(HEALTH_THEN_CLOSE).await.unwrap();
    let (bytes, _) = read_until_closed(&mut newcomer, Duration::from_secs(5)).await;
    assert_eq!(parse_answer(&bytes).status, 200);
    assert!(started.elapsed() < SLACK, "waited {:?}", started.elapsed());
    let (rest, closed) = read_until_closed(&mut idle_reader, Duration::from_secs(1)).await;
    assert!(
        rest.is_empty() && closed.is_some(),
        "the idle connection was closed"
    );
}

/// Cuts a release while a direct connection holds the database's write lock, and
/// answers the reply and how long it took; the lock is released afterwards.
async fn create_behind_a_held_lock(
    app: &TestApp,
    path: &crate::harness::AppPath,
) -> (crate::harness::Reply, Duration) {
    let mut database = app.direct_database().await;
    database.lock_writes().await;
    let started = Instant::now();
    let reply = app
        .post(&path.releases(), serde_json::json!({"release_tag": "held"}))
        .await;
    let took = started.elapsed();
    database.unlock().await;
    (reply, took)
}

/// A write held behind a database lock past the request deadline answers 503 in the
/// envelope, with `Retry-After` and its request id, at the deadline; the server
/// serves normally once the lock is gone.
async fn a_handler_past_the_request_deadline_answers_503_in_the_envelope(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.connections = ConnectionLimits {
            request_timeout: SHORT,
            ..generous()
        };
        // The lock wait must outlast the deadline, so the deadline is what answers.
        config.busy_timeout = LONG;
    })
    .await;
    let path = app.create_app().await;
    let (reply, took) = create_behind_a_held_lock(&app, &path).await;

    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["error"], "SERVICE_UNAVAILABLE");
    assert_eq!(reply.body["status_code"], 503);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap_or("")
            .contains("300 ms"),
        "{}",
        reply.body
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.header("x-request-id").is_some());
    assert!(
        took >= SHORT && took < SHORT + SLACK,
        "answered after {took:?}"
    );

    app.get(&path.path()).await.expect(200);
}

on_every_backend!(a_handler_past_the_request_deadline_answers_503_in_the_envelope);

/// PostgreSQL cancels a statement held past `statement_timeout` (here behind a lock
/// whose own `lock_timeout` is far longer, so only the statement timeout can answer
/// in time), and the request answers 503 with `Retry-After`.
#[cutover_test_gates::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_postgres_statement_timeout_answers_503() {
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.connections = generous();
        config.busy_timeout = LONG;
        config.postgres_pool.statement_timeout = SHORT;
    })
    .await;
    let path = app.create_app().await;
    let (reply, took) = create_behind_a_held_lock(&app, &path).await;

    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["error"], "SERVICE_UNAVAILABLE");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(
        took >= SHORT && took < SHORT + SLACK,
        "answered after {took:?}"
    );

    // Nothing was created, and the next write goes through.
    let releases = app.get(&path.releases()).await.expect(200);
    assert_eq!(releases.body["total"], 0, "{}", releases.body);
    app.cut(&path, "after").await;
}
