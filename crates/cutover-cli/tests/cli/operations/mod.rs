//! Running the real `cutover` binary the way an operator does: graceful shutdown on
//! SIGTERM/SIGINT, the access log, the first start's token, `--help`, `migrate`,
//! start-up errors and the health probes.
//!
//! Requests go over plain `std::net::TcpStream`s to 127.0.0.1 so each test controls
//! exactly when each byte is sent; every read and write has a timeout, every wait for
//! a process has a deadline, and every child is killed when its guard drops. The
//! client and helpers are here; the tests are in one module per subject.

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

mod access_log;
mod command_line;
mod first_start;
mod probes;
mod shutdown;

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
