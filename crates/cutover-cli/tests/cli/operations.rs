//! Running the real `cutover` binary the way an operator does: graceful shutdown on
//! SIGTERM/SIGINT, the access log, the first start's token, `--help`, `migrate`,
//! start-up errors and the health probes.
//!
//! Requests go over plain `std::net::TcpStream`s to 127.0.0.1 so each test controls
//! exactly when each byte is sent; every read and write has a timeout, every wait for
//! a process has a deadline, and every child is killed when its guard drops.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::common::{Server, cutover, run, serve, text};

const TOKEN: &str = "cut_operations_platform_admin_0123456789";
const WRONG_TOKEN: &str = "cut_operations_not_a_known_token_9876543210";

/// Every socket read or write gives up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stopping server may take to exit once its requests are answered.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a command that should fail (or a one-shot command) may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Rounds of the racy shutdown drills: each round's outcome depends on scheduling,
/// so a bug shows in nearly every run only over several rounds.
const ROUNDS: usize = 6;

// ---------------------------------------------------------------------------------
// A small HTTP/1.1 client over std sockets.

/// One answer: status, headers (names lower-cased) and the raw body.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "the body is not JSON ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn request_id(&self) -> String {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id in {self:?}"))
            .to_owned()
    }
}

/// The bytes of one request, and where its body starts.
struct Request {
    bytes: Vec<u8>,
    body_start: usize,
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Request {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let body_start = head.len();
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Request { bytes, body_start }
}

/// One keep-alive connection.
struct Connection {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Self { stream, reader })
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    fn receive(&mut self) -> io::Result<Reply> {
        read_reply(&mut self.reader)
    }

    fn call(&mut self, request: &Request) -> io::Result<Reply> {
        self.send(&request.bytes)?;
        self.receive()
    }
}

fn broken(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed before the answer was complete",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads one complete answer: status line, headers and the whole body (by
/// `Content-Length`, chunks, or up to the close).
fn read_reply(reader: &mut impl BufRead) -> io::Result<Reply> {
    let status_line = read_line(reader)?;
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| broken(&format!("not a status line: {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| broken(&format!("not a header: {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
        loop {
            let size = read_line(reader)?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| broken(&format!("not a chunk size: {size:?}")))?;
            if size == 0 {
                while !read_line(reader)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?;
        }
    } else if let Some(length) = header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| broken(&format!("not a length: {length:?}")))?;
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// One request on a fresh connection; panics (with the server's log) when it gets
/// no complete answer.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let request = request(server.addr, method, path, token, body.as_ref());
    Connection::open(server.addr)
        .and_then(|mut connection| connection.call(&request))
        .unwrap_or_else(|err| panic!("{method} {path}: {err}; log:\n{}", server.log()))
}

#[track_caller]
fn expect(reply: Reply, status: u16) -> Value {
    assert_eq!(
        reply.status,
        status,
        "unexpected status; body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// Creates an org, a workspace and an app; answers the app's path.
fn create_app(server: &Server) -> String {
    let org = expect(
        call(
            server,
            "POST",
            "/v1/orgs",
            Some(TOKEN),
            Some(json!({"name": "ops"})),
        ),
        201,
    );
    let org_id = org["org_id"].as_str().expect("org_id");
    let workspace = expect(
        call(
            server,
            "POST",
            &format!("/v1/orgs/{org_id}/workspaces"),
            Some(TOKEN),
            Some(json!({"name": "main"})),
        ),
        201,
    );
    let workspace_id = workspace["workspace_id"].as_str().expect("workspace_id");
    let path = format!("/v1/orgs/{org_id}/workspaces/{workspace_id}/apps");
    let app = expect(
        call(
            server,
            "POST",
            &path,
            Some(TOKEN),
            Some(json!({"name": "app"})),
        ),
        201,
    );
    format!("{path}/{}", app["app_id"].as_str().expect("app_id"))
}

/// The lines of a JSON log that are JSON objects.
fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(Value::is_object)
        .collect()
}

fn temp_dir() -> TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// A server with the test's platform admin token.
fn start(database: &Path, log_format: &str) -> Server {
    Server::spawn(
        serve(database)
            .args(["--log-format", log_format])
            .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN),
    )
}

// ---------------------------------------------------------------------------------
// 1. Graceful shutdown.

/// A `sh` that waits for a process id on its standard input and then sends it a
/// signal with its builtin `kill`: the signal leaves microseconds after
/// [`SignalTrigger::fire`], not the millisecond or more that starting kill(1) takes.
struct SignalTrigger {
    child: Child,
    signal: String,
}

impl SignalTrigger {
    fn arm(signal: &str) -> Self {
        let child = Command::new("sh")
            .args(["-c", "read pid && kill -s \"$1\" \"$pid\"", "sh", signal])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh starts");
        Self {
            child,
            signal: signal.to_owned(),
        }
    }

    fn fire(&mut self, server: &Server) {
        let mut stdin = self.child.stdin.take().expect("the trigger is armed once");
        writeln!(stdin, "{}", server.pid()).expect("the trigger fires");
        drop(stdin);
        let deadline = Instant::now() + IO_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("sh can be waited for") {
                break status;
            }
            assert!(Instant::now() < deadline, "the signal trigger hangs");
            thread::sleep(Duration::from_millis(1));
        };
        assert!(status.success(), "kill -s {} failed", self.signal);
    }
}

impl Drop for SignalTrigger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How one request of a shutdown drill is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// A create whose head and half its body go out before the signal, the rest of
    /// the body well after it: in progress, for certain, when the signal arrives.
    Held,
    /// A complete create, sent just before the signal.
    Create,
    /// A complete list of releases, sent just before the signal.
    List,
}

/// Runs `plan` against a fresh server: opens one connection per request and has the
/// server answer a probe on each (so every connection was accepted), sends the
/// requests, waits `settle`, delivers `signal`, then finishes the held bodies. Every
/// request must get a complete answer, the process must exit 0 within
/// [`EXIT_TIMEOUT`], and every acknowledged release must be there after a restart.
/// Answers the failures (empty when all went well) and how many answers were logged
/// after the shutdown began.
fn shutdown_drill(signal: &str, plan: &[Sent], settle: Duration) -> (Vec<String>, usize) {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let mut server = start(&database, "json");
    let app = create_app(&server);
    let releases = format!("{app}/releases");
    let addr = server.addr;

    let mut connections = Vec::new();
    for _ in plan {
        let mut connection = Connection::open(addr).expect("a connection");
        let probe = connection
            .call(&request(addr, "GET", "/healthz", None, None))
            .expect("the connection is served");
        assert_eq!(probe.status, 200);
        connections.push(connection);
    }
    let mut trigger = SignalTrigger::arm(signal);

    // (how it is sent, its connection, what is left to send, its release tag)
    let mut in_flight = Vec::new();
    for (index, (sent, mut connection)) in plan.iter().zip(connections).enumerate() {
        let tag = format!("{signal}-{index}");
        let request = match sent {
            Sent::Held | Sent::Create => {
                let body = json!({"release_tag": tag, "description": "sent before the signal"});
                request(addr, "POST", &releases, Some(TOKEN), Some(&body))
            }
            Sent::List => request(addr, "GET", &releases, Some(TOKEN), None),
        };
        let split = match sent {
            Sent::Held => request.body_start + (request.bytes.len() - request.body_start) / 2,
            Sent::Create | Sent::List => request.bytes.len(),
        };
        connection
            .send(&request.bytes[..split])
            .expect("a request is sent");
        let rest = request.bytes[split..].to_vec();
        in_flight.push((*sent, connection, rest, tag));
    }
    thread::sleep(settle);
    trigger.fire(&server);
    let signalled = Instant::now();

    // Each connection reads its answer on its own thread; held ones first finish
    // their bodies, well after the signal.
    let outcomes: Vec<(Sent, String, io::Result<Reply>)> = thread::scope(|scope| {
        let readers: Vec<_> = in_flight
            .into_iter()
            .map(|(sent, mut connection, rest, tag)| {
                scope.spawn(move || {
                    let outcome = (|| {
                        if !rest.is_empty() {
                            thread::sleep(Duration::from_millis(300));
                            connection.send(&rest)?;
                        }
                        connection.receive()
                    })();
                    (sent, tag, outcome)
                })
            })
            .collect();
        readers
            .into_iter()
            .map(|reader| reader.join().expect("a reader thread"))
            .collect()
    });

    let mut failures = Vec::new();
    let mut acknowledged = Vec::new();
    for (index, (sent, tag, outcome)) in outcomes.iter().enumerate() {
        let reply = match outcome {
            Ok(reply) => reply,
            Err(err) => {
                failures.push(format!("request {index} ({sent:?}): no answer: {err}"));
                continue;
            }
        };
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let complete = match sent {
            Sent::Held | Sent::Create => reply.status == 201 && body["release_tag"] == tag.as_str(),
            Sent::List => reply.status == 200 && body["releases"].is_array(),
        };
        if complete {
            if *sent != Sent::List {
                acknowledged.push(tag.clone());
            }
        } else {
            failures.push(format!(
                "request {index} ({sent:?}): {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
    }
    let status = server.wait_exit(EXIT_TIMEOUT);
    let stopped_after = signalled.elapsed();
    let lines = server.lines();
    assert_eq!(
        status.code(),
        Some(0),
        "SIG{signal} must end the server with status 0, not {status}; log:\n{}",
        lines.join("\n")
    );

    // How many answers the server logged after it began shutting down.
    let events = json_lines(&lines);
    let stopping = events
        .iter()
        .position(|event| {
            event["message"]
                .as_str()
                .is_some_and(|message| message.starts_with("shutting down"))
        })
        .unwrap_or_else(|| panic!("no shutdown line in the log:\n{}", lines.join("\n")));
    let answered_while_stopping = events[stopping..]
        .iter()
        .filter(|event| event["target"] == "cutover::access")
        .count();
    eprintln!(
        "SIG{signal}: {} of {} requests answered, {answered_while_stopping} after the \
         signal; exited 0 {stopped_after:?} after the signal",
        plan.len() - failures.len(),
        plan.len()
    );

    // What was acknowledged while stopping is stored.
    let restarted = start(&database, "json");
    let listed = expect(
        call(
            &restarted,
            "GET",
            &format!("{releases}?limit=200"),
            Some(TOKEN),
            None,
        ),
        200,
    );
    let stored: BTreeSet<&str> = listed["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .filter_map(|release| release["release_tag"].as_str())
        .collect();
    for tag in &acknowledged {
        assert!(
            stored.contains(tag.as_str()),
            "release {tag} was acknowledged during shutdown but is not stored"
        );
    }
    (failures, answered_while_stopping)
}

/// Requests whose heads the server has read are all answered after SIGTERM (their
/// bodies arrive 300 ms after the signal), and the process then exits 0.
#[test]
fn sigterm_finishes_requests_in_progress_and_exits_zero() {
    let plan = [Sent::Held; 50];
    let (failures, answered_while_stopping) =
        shutdown_drill("TERM", &plan, Duration::from_millis(200));
    assert!(
        failures.is_empty(),
        "requests in progress at SIGTERM got no complete answer:\n{}",
        failures.join("\n")
    );
    assert!(answered_while_stopping >= plan.len());
}

#[test]
fn sigint_finishes_requests_in_progress_and_exits_zero() {
    let plan = [Sent::Held; 10];
    let (failures, answered_while_stopping) =
        shutdown_drill("INT", &plan, Duration::from_millis(200));
    assert!(
        failures.is_empty(),
        "requests in progress at SIGINT got no complete answer:\n{}",
        failures.join("\n")
    );
    assert!(answered_while_stopping >= plan.len());
}

/// A burst of 50 complete requests (creates and lists, on connections the server
/// already accepted) is dispatched and SIGTERM follows at once: every one of them
/// was fully sent before the signal, so every one must be answered. [`ROUNDS`]
/// rounds, each on a fresh server.
#[test]
fn sigterm_answers_every_request_sent_before_it() {
    let plan: Vec<Sent> = (0..50)
        .map(|index| {
            if index % 2 == 0 {
                Sent::Create
            } else {
                Sent::List
            }
        })
        .collect();
    let mut failures = Vec::new();
    for round in 1..=ROUNDS {
        let (lost, _) = shutdown_drill("TERM", &plan, Duration::ZERO);
        failures.extend(
            lost.into_iter()
                .map(|failure| format!("round {round}: {failure}")),
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests sent before SIGTERM got no complete answer:\n{}",
        failures.len(),
        ROUNDS * plan.len(),
        failures.join("\n")
    );
}

/// The "listening" line means the server is up, so SIGTERM from then on is a
/// graceful stop (status 0), not death by the signal's default action. [`ROUNDS`]
/// rounds, each signalled the moment the line appears.
#[test]
fn sigterm_right_after_the_ready_line_exits_zero() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let mut failures = Vec::new();
    for round in 1..=ROUNDS {
        let mut trigger = SignalTrigger::arm("TERM");
        let mut server = start(&database, "json");
        trigger.fire(&server);
        let status = server.wait_exit(EXIT_TIMEOUT);
        if status.code() != Some(0) {
            failures.push(format!("round {round}: {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "SIGTERM sent right after the ready line did not end the server with status 0:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// 2. The access log.

/// Stops `server` with SIGTERM and answers its whole standard error.
fn stop(mut server: Server) -> Vec<String> {
    server.signal("TERM");
    let status = server.wait_exit(EXIT_TIMEOUT);
    let lines = server.lines();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM exit status; log:\n{}",
        lines.join("\n")
    );
    lines
}

/// Neither token, nor the `Authorization` header's value, nor its scheme is logged.
#[track_caller]
fn assert_no_secrets(lines: &[String]) {
    let log = lines.join("\n");
    for secret in [TOKEN, WRONG_TOKEN] {
        assert!(
            !log.contains(secret),
            "a token secret is in the log:\n{log}"
        );
    }
    assert!(
        !log.to_ascii_lowercase().contains("bearer"),
        "the Authorization header is in the log:\n{log}"
    );
}

/// Requests with a good token, a wrong one, none, a client-chosen request id, and
/// two kinds of 404; answers each reply with its method and path.
fn logged_requests(server: &Server) -> Vec<(Reply, &'static str, String)> {
    let mut sent = Vec::new();
    let mut send = |method: &'static str, path: &str, token: Option<&str>, body: Option<Value>| {
        let reply = call(server, method, path, token, body);
        sent.push((reply, method, path.to_owned()));
    };
    send("GET", "/v1/orgs", Some(TOKEN), None);
    send(
        "POST",
        "/v1/orgs",
        Some(TOKEN),
        Some(json!({"name": "logged"})),
    );
    send("GET", "/v1/orgs", Some(WRONG_TOKEN), None);
    send("GET", "/v1/orgs", None, None);
    send(
        "GET",
        "/v1/orgs/org_00000000000000000000000000",
        Some(TOKEN),
        None,
    );
    send("GET", "/v1/no-such-route", Some(TOKEN), None);
    send("GET", "/healthz", None, None);
    let statuses: Vec<u16> = sent.iter().map(|(reply, _, _)| reply.status).collect();
    assert_eq!(statuses, [200, 201, 401, 401, 404, 404, 200]);

    // A client-chosen id is kept and echoed.
    let mut request = request(server.addr, "GET", "/v1/orgs", Some(TOKEN), None);
    let text = String::from_utf8(request.bytes).unwrap().replacen(
        "\r\n\r\n",
        "\r\nX-Request-Id: ops-chosen-id-1\r\n\r\n",
        1,
    );
    request.bytes = text.into_bytes();
    let reply = Connection::open(server.addr)
        .and_then(|mut connection| connection.call(&request))
        .expect("an answer");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.request_id(), "ops-chosen-id-1");
    sent.push((reply, "GET", "/v1/orgs".to_owned()));
    sent
}

#[test]
fn json_access_log_has_one_line_per_request_and_no_secrets() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "json");
    let sent = logged_requests(&server);
    let lines = stop(server);
    let log = lines.join("\n");

    let access: Vec<Value> = json_lines(&lines)
        .into_iter()
        .filter(|event| event["target"] == "cutover::access")
        .collect();
    assert_eq!(
        access.len(),
        sent.len(),
        "one access line per request; log:\n{log}"
    );
    let mut by_id: HashMap<&str, Vec<&Value>> = HashMap::new();
    for event in &access {
        let id = event["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("an access line without request_id: {event}"));
        by_id.entry(id).or_default().push(event);
    }
    for (reply, method, path) in &sent {
        let id = reply.request_id();
        let events = by_id
            .get(id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(
            events.len(),
            1,
            "{method} {path} (X-Request-Id {id}) has {} access lines; log:\n{log}",
            events.len()
        );
        let event = events[0];
        assert_eq!(event["method"], *method, "{event}");
        assert_eq!(event["path"], path.as_str(), "{event}");
        assert_eq!(event["status"], reply.status, "{event}");
        assert!(
            event["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
            "duration_ms: {event}"
        );
    }
    // Milliseconds rounded to the microsecond: at most three decimals as written.
    for line in lines.iter().filter(|line| line.contains("cutover::access")) {
        let number: String = line
            .split_once("\"duration_ms\":")
            .map(|(_, rest)| {
                rest.chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect()
            })
            .unwrap_or_else(|| panic!("an access line without duration_ms: {line}"));
        let decimals = number
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len());
        assert!(
            decimals <= 3,
            "duration_ms {number} has {decimals} decimals: {line}"
        );
    }
    // Every line that speaks of the access log is one of those JSON lines.
    let mentions = lines
        .iter()
        .filter(|line| line.contains("cutover::access"))
        .count();
    assert_eq!(mentions, sent.len(), "log:\n{log}");
    assert_no_secrets(&lines);
}

#[test]
fn pretty_access_log_is_not_json_and_has_no_secrets() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "pretty");
    let sent = logged_requests(&server);
    let lines = stop(server);
    let log = lines.join("\n");

    for line in &lines {
        assert!(
            serde_json::from_str::<Value>(line).is_err(),
            "a pretty log line is JSON: {line}"
        );
        // Standard error is a pipe here, not a terminal: no colour codes.
        assert!(
            !line.contains('\u{1b}'),
            "an ANSI escape in a piped log: {line:?}"
        );
    }
    let access: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("cutover::access"))
        .collect();
    assert_eq!(
        access.len(),
        sent.len(),
        "one access line per request; log:\n{log}"
    );
    for (reply, method, path) in &sent {
        let id = reply.request_id();
        assert_eq!(
            access.iter().filter(|line| line.contains(&id)).count(),
            1,
            "{method} {path} (X-Request-Id {id}); log:\n{log}"
        );
    }
    assert_no_secrets(&lines);
}

// ---------------------------------------------------------------------------------
// 3. The first start.

#[test]
fn first_start_prints_one_working_token_and_a_restart_prints_none() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let first = Server::spawn(&mut serve(&database));
    let printed: Vec<String> = first
        .lines()
        .iter()
        .map(|line| line.trim().to_owned())
        .filter(|line| line.starts_with("cut_"))
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "one token on the first start; log:\n{}",
        first.log()
    );
    let token = printed[0].clone();
    assert!(
        token.len() >= 32 && !token.contains(char::is_whitespace),
        "a token: {token:?}"
    );
    expect(call(&first, "GET", "/v1/orgs", Some(&token), None), 200);
    assert_eq!(call(&first, "GET", "/v1/orgs", None, None).status, 401);
    let lines = stop(first);
    assert_eq!(
        lines.join("\n").matches(&token).count(),
        1,
        "the token is shown only once; log:\n{}",
        lines.join("\n")
    );

    let second = Server::spawn(&mut serve(&database));
    expect(call(&second, "GET", "/v1/orgs", Some(&token), None), 200);
    let lines = stop(second);
    assert!(
        !lines.iter().any(|line| line.contains("cut_")),
        "a restart prints no token; log:\n{}",
        lines.join("\n")
    );
}

#[test]
fn a_bootstrap_token_shorter_than_32_characters_is_refused_in_one_line() {
    let dir = temp_dir();
    let secret = "cut_short_bootstrap_secret_0123";
    assert_eq!(secret.chars().count(), 31);
    let output = run(
        serve(&dir.path().join("cutover.db"))
            .env("CUTOVER_BOOTSTRAP_TOKEN", secret)
            .env("RUST_BACKTRACE", "1"),
        COMMAND_TIMEOUT,
    );
    let stderr = text(&output.stderr);
    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "serve must exit non-zero, not {}; stderr:\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line of error; stderr:\n{stderr}");
    assert!(lines[0].contains("CUTOVER_BOOTSTRAP_TOKEN"), "{stderr}");
    assert!(!stderr.contains(secret), "the secret is echoed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bootstrap_token_of_32_characters_works() {
    let dir = temp_dir();
    let secret = "cut_exactly_32_characters_012345";
    assert_eq!(secret.chars().count(), 32);
    let server =
        Server::spawn(serve(&dir.path().join("cutover.db")).env("CUTOVER_BOOTSTRAP_TOKEN", secret));
    expect(call(&server, "GET", "/v1/orgs", Some(secret), None), 200);
    let lines = stop(server);
    assert!(
        !lines.join("\n").contains(secret),
        "the bootstrap secret is in the log:\n{}",
        lines.join("\n")
    );
}

#[test]
fn changing_the_bootstrap_token_retires_the_old_one_and_says_so_in_one_line() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let old = "cut_old_bootstrap_secret_0123456789abcdef";
    let new = "cut_new_bootstrap_secret_0123456789abcdef";
    let notice = |lines: &[String]| -> String {
        let found: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("CUTOVER_BOOTSTRAP_TOKEN ("))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one bootstrap line; log:\n{}",
            lines.join("\n")
        );
        found[0].clone()
    };
    let starts = [
        (old, "(cut_old_boot…) registered as a platform admin token"),
        (old, "(cut_old_boot…) already known"),
        (
            new,
            "(cut_new_boot…) registered as a platform admin token; 1 earlier bootstrap token was retired",
        ),
        (old, "(cut_old_boot…) was revoked and stays revoked"),
    ];
    for (secret, expected) in starts {
        let server = Server::spawn(serve(&database).env("CUTOVER_BOOTSTRAP_TOKEN", secret));
        let old_answers = call(&server, "GET", "/v1/orgs", Some(old), None).status;
        let new_answers = call(&server, "GET", "/v1/orgs", Some(new), None).status;
        let lines = stop(server);
        let line = notice(&lines);
        assert!(line.contains(expected), "{line:?} should say {expected:?}");
        assert!(
            !line.contains(old) && !line.contains(new),
            "a secret in {line:?}"
        );
        let rotated = secret == new || expected.contains("revoked");
        assert_eq!(old_answers, if rotated { 401 } else { 200 }, "{expected}");
        assert_eq!(new_answers, if rotated { 200 } else { 401 }, "{expected}");
    }
}

// ---------------------------------------------------------------------------------
// 4. The command line.

/// Every `CUTOVER_*` name in `text`.
fn variable_names(text: &str) -> BTreeSet<String> {
    text.match_indices("CUTOVER_")
        .map(|(start, _)| {
            text[start..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| name.len() > "CUTOVER_".len())
        .collect()
}

#[test]
fn serve_help_names_every_variable_and_hides_the_bootstrap_token() {
    let secret = "cut_help_must_never_show_this_secret_0123456789";
    let output = run(
        cutover()
            .args(["serve", "--help"])
            .env("CUTOVER_BOOTSTRAP_TOKEN", secret),
        COMMAND_TIMEOUT,
    );
    let help = text(&output.stdout);
    assert!(output.status.success(), "{help}{}", text(&output.stderr));
    let listed = variable_names(&help);

    // Every variable serve.rs declares (`env = "CUTOVER_..."`), and at least these.
    let source = include_str!("../../src/serve.rs");
    let declared: BTreeSet<String> = source
        .match_indices("env = \"")
        .map(|(start, marker)| {
            let rest = &source[start + marker.len()..];
            rest[..rest.find('"').expect("a closing quote")].to_owned()
        })
        .collect();
    let required = [
        "CUTOVER_BIND",
        "CUTOVER_DATABASE_URL",
        "CUTOVER_LOG_FORMAT",
        "CUTOVER_MAX_BODY_BYTES",
        "CUTOVER_BOOTSTRAP_TOKEN",
    ];
    for name in required {
        assert!(declared.contains(name), "serve.rs declares no {name}");
    }
    let missing: Vec<&String> = declared.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "serve --help does not mention {missing:?}:\n{help}"
    );
    assert!(
        !help.contains(secret) && !text(&output.stderr).contains(secret),
        "--help shows the bootstrap token:\n{help}"
    );
}

#[test]
fn migrate_creates_a_fresh_database_then_finds_it_up_to_date() {
    let dir = temp_dir();
    let database = dir.path().join("fresh.db");
    assert!(!database.exists());
    let migrate = || {
        let output = run(
            cutover()
                .args(["migrate", "--database-url"])
                .arg(crate::common::sqlite_url(&database)),
            COMMAND_TIMEOUT,
        );
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "cutover migrate failed: {stdout}{}",
            text(&output.stderr)
        );
        stdout
    };

    let first = migrate();
    assert!(database.exists(), "migrate created no database: {first}");
    let applied = first
        .split_once("applied migration")
        .map(|(_, rest)| rest.trim_start_matches('s').trim_start())
        .unwrap_or_else(|| panic!("migrate did not say what it applied: {first}"));
    let first_version: String = applied.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(first_version, "1", "migrate said: {first}");

    let second = migrate();
    assert!(second.contains("up to date"), "migrate said: {second}");
    assert!(!second.contains("applied"), "migrate said: {second}");
}

/// `migrate --pg-connect-timeout-seconds` is honoured: against a server that accepts
/// the connection and then says nothing, it gives up after 1 s (the default is 5 s)
/// with one line, without the password.
#[test]
fn migrate_gives_up_on_a_silent_server_after_its_connect_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let port = silent.local_addr().expect("its address").port();
    let url = format!("postgres://cutover:s3cret@127.0.0.1:{port}/cutover");
    let started = Instant::now();
    let output = run(
        cutover().args([
            "migrate",
            "--database-url",
            &url,
            "--pg-connect-timeout-seconds",
            "1",
        ]),
        COMMAND_TIMEOUT,
    );
    let took = started.elapsed();
    drop(silent);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "migrate gave up after {took:?}: {stderr}"
    );
    assert!(stderr.contains("no answer within 1000 ms"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn an_unsupported_database_url_fails_in_one_line_without_a_panic() {
    let serve_flag = || {
        let mut command = cutover();
        command.args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "mysql://x",
        ]);
        command
    };
    let serve_env = || {
        let mut command = cutover();
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("CUTOVER_DATABASE_URL", "mysql://x");
        command
    };
    let migrate = || {
        let mut command = cutover();
        command.args(["migrate", "--database-url", "mysql://x"]);
        command
    };
    for (what, mut command) in [
        ("serve --database-url", serve_flag()),
        ("serve with CUTOVER_DATABASE_URL", serve_env()),
        ("migrate --database-url", migrate()),
    ] {
        let output = run(
            command
                .env("RUST_BACKTRACE", "1")
                .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN),
            COMMAND_TIMEOUT,
        );
        let stderr = text(&output.stderr);
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
        assert!(lines[0].contains("mysql://x"), "{what}: {stderr}");
        let lower = stderr.to_ascii_lowercase();
        assert!(
            !lower.contains("panicked") && !lower.contains("backtrace"),
            "{what}: {stderr}"
        );
    }
}

// ---------------------------------------------------------------------------------
// 5. Health probes.

#[test]
fn health_probes_answer_200_with_json() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "json");
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let reply = call(&server, "GET", path, None, None);
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "{path}: {reply:?}"
        );
        assert_eq!(reply.json(), json!({"status": status}), "{path}");
    }
}
