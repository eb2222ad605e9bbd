//! The HTTP side of the client: one request at a time on a small Tokio runtime,
//! answers kept as raw bytes (so `--output json` prints exactly what the server
//! sent), and every failure turned into one line with the server's message, its
//! error code and the request id. Every write carries an `Idempotency-Key` of its
//! own, and a request that got no answer, a 503 or a 409 `idempotency_key_in_use` is
//! tried again with the same key ([`Retries`]), so a flaky network never writes
//! twice.

use std::cell::Cell;
use std::time::Duration;

use cutover_domain::idempotency::IdempotencyKey;
use reqwest::{Method, Url};
use serde_json::Value;

use super::error::{CliError, CliResult};

/// Whether this build speaks https: the `https` cargo feature turns on reqwest's
/// rustls (with the aws-lc-rs provider, whose C build adds minutes to a clean build
/// on a small machine, so plain builds leave it out; see docs/CLI.md).
const TLS: bool = cfg!(feature = "https");

/// One successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON; an answer that is not JSON is not what the API documents.
    pub fn json(&self) -> CliResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            CliError::local(format!(
                "the server answered {} with a body that is not JSON: {e}",
                self.status
            ))
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How often a request is tried again (`--retries`), and how long it waits before
/// each: 0.5 s, then twice as long each time, or what a 503's `Retry-After` asks,
/// never more than [`Retries::MAX_WAIT`].
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub times: u32,
}

impl Retries {
    pub const MAX_WAIT: Duration = Duration::from_secs(10);

    fn wait(self, attempt: u32, asked: Option<Duration>) -> Duration {
        let backoff = Duration::from_millis(500).saturating_mul(1 << attempt.min(5));
        asked.unwrap_or(backoff).min(Self::MAX_WAIT)
    }
}

/// What one try got back: an answer (status, reason phrase, request id, `Retry-After`,
/// body) or no answer at all.
struct Tried {
    status: u16,
    reason: String,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl Tried {
    /// Whether trying again may get another answer: the server was unavailable, or a
    /// request with this write's key is still running.
    fn worth_retrying(&self) -> bool {
        self.status == 503
            || (self.status == 409
                && serde_json::from_slice::<Value>(&self.body)
                    .is_ok_and(|body| body["details"]["reason"] == "idempotency_key_in_use"))
    }
}

/// The `Idempotency-Key` of each write a command sends: a fresh random one, or with
/// `--idempotency-key K`, `K` for the first write and `K-2`, `K-3`… for the next, so
/// the same command run again (a CI job's retry) repeats each write with its key.
pub struct WriteKeys {
    given: Option<String>,
    sent: Cell<u32>,
}

impl WriteKeys {
    /// Room kept in a given key for the `-N` of later writes.
    const SUFFIX_ROOM: usize = 5;

    /// Keys from `given`, refused (a usage error) unless it is a valid key with room
    /// for the suffixes.
    pub fn new(given: Option<String>) -> CliResult<Self> {
        if let Some(key) = &given {
            let room = cutover_domain::idempotency::MAX_KEY_CHARS - Self::SUFFIX_ROOM;
            if key.len() > room || IdempotencyKey::parse(key).is_err() {
                return Err(CliError::usage(format!(
                    "--idempotency-key: {key:?} is not 1–{room} printable ASCII characters"
                )));
            }
        }
        Ok(Self {
            given,
            sent: Cell::new(0),
        })
    }

    fn next(&self) -> IdempotencyKey {
        let sent = self.sent.get() + 1;
        self.sent.set(sent);
        let Some(given) = &self.given else {
            return IdempotencyKey::random("cutover-cli-");
        };
        let text = if sent == 1 {
            given.clone()
        } else {
            format!("{given}-{sent}")
        };
        IdempotencyKey::parse(&text).unwrap_or_else(|_| IdempotencyKey::random("cutover-cli-"))
    }
}

/// A client of one server, with or without a token.
pub struct Api {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: Url,
    token: Option<String>,
    retries: Retries,
    keys: WriteKeys,
}

impl Api {
    /// Checks the URL and builds the client; nothing is sent yet.
    pub fn new(
        url: &str,
        token: Option<String>,
        timeout: Duration,
        retries: Retries,
        keys: WriteKeys,
    ) -> CliResult<Self> {
        let base = parse_base(url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::local(format!("cannot start the I/O runtime: {e}")))?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("cutover-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .map_err(|e| CliError::local(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            runtime,
            client,
            base,
            token,
            retries,
            keys,
        })
    }

    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// The full URL of `path` (which starts with `/`) with `query` appended.
    fn url(&self, path: &str, query: &[(&str, String)]) -> CliResult<Url> {
        let mut url = Url::parse(&format!("{}{path}", self.base()))
            .map_err(|e| CliError::usage(format!("cannot build a URL for {path}: {e}")))?;
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    /// Sends one request, trying again as [`Retries`] says; any answer outside 2xx
    /// becomes an error. A write carries its `Idempotency-Key` ([`WriteKeys`])
    /// through all its tries.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> CliResult<Answer> {
        self.send_with(method, path, query, body, &[])
    }

    /// Like [`Self::send`], with `headers` added to every attempt.
    pub fn send_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> CliResult<Answer> {
        let url = self.url(path, query)?;
        let write = matches!(method, Method::POST | Method::PATCH | Method::DELETE);
        let key = write.then(|| self.keys.next());
        let mut attempt = 0;
        loop {
            let tried = self.try_once(&method, &url, body, key.as_ref(), headers);
            let wait = match &tried {
                Err(_) => Some(self.retries.wait(attempt, None)),
                Ok(tried) if tried.worth_retrying() => {
                    Some(self.retries.wait(attempt, tried.retry_after))
                }
                Ok(_) => None,
            };
            match wait {
                Some(wait) if attempt < self.retries.times => {
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                _ => {
                    let tried = tried.map_err(|e| transport_error(&e, &method, &url))?;
                    return if (200..300).contains(&tried.status) {
                        Ok(Answer {
                            status: tried.status,
                            body: tried.body,
                        })
                    } else {
                        Err(answer_error(
                            tried.status,
                            &tried.reason,
                            tried.request_id.as_deref(),
                            &tried.body,
                        ))
                    };
                }
            }
        }
    }

    fn try_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
        key: Option<&IdempotencyKey>,
        headers: &[(&str, String)],
    ) -> Result<Tried, reqwest::Error> {
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("idempotency-key", key.as_str());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.runtime.block_on(async move {
            let response = request.send().await?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let request_id = header("x-request-id");
            let retry_after = header("retry-after")
                .and_then(|seconds| seconds.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let status = response.status().as_u16();
            let reason = response
                .status()
                .canonical_reason()
                .unwrap_or("")
                .to_owned();
            let body = response.bytes().await?.to_vec();
            Ok(Tried {
                status,
                reason,
                request_id,
                retry_after,
                body,
            })
        })
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> CliResult<Answer> {
        self.send(Method::GET, path, query, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> CliResult<Answer> {
        self.send(Method::POST, path, &[], Some(body))
    }

    pub fn patch(&self, path: &str, body: &Value) -> CliResult<Answer> {
        self.send(Method::PATCH, path, &[], Some(body))
    }

    pub fn delete(&self, path: &str) -> CliResult<Answer> {
        self.send(Method::DELETE, path, &[], None)
    }
}

/// Accepts `http://host[:port][/prefix]` (and `https://` when built with TLS).
fn parse_base(text: &str) -> CliResult<Url> {
    let url = Url::parse(text).map_err(|e| {
        CliError::usage(format!(
            "server URL {text:?} is not a URL ({e}); expected e.g. http://127.0.0.1:8080"
        ))
    })?;
    match url.scheme() {
        "http" => {}
        "https" if TLS => {}
        "https" => {
            return Err(CliError::usage(format!(
                "server URL {text:?} uses https, but this cutover was built without TLS \
                 (build it with `--features https`); see docs/CLI.md"
            )));
        }
        other => {
            return Err(CliError::usage(format!(
                "server URL {text:?} has scheme {other:?}; expected http:// or https://"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(CliError::usage(format!(
            "server URL {text:?} names no host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(CliError::usage(format!(
            "server URL {text:?} must not carry a query or fragment"
        )));
    }
    Ok(url)
}

/// A request that got no answer: the server is unreachable (exit 5).
fn transport_error(error: &reqwest::Error, method: &Method, url: &Url) -> CliError {
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(err) = source {
        let text = err.to_string();
        if !causes.iter().any(|c: &String| c.contains(&text)) {
            causes.push(text);
        }
        source = err.source();
    }
    // reqwest's own top line repeats the URL; the innermost causes say why.
    let why = causes
        .iter()
        .rev()
        .take(2)
        .rev()
        .cloned()
        .collect::<Vec<_>>()
        .join(": ");
    let what = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "the request failed"
    };
    let mut shown = url.clone();
    shown.set_query(None);
    CliError::unreachable(format!("{what} to {method} {shown}: {why}"))
}

/// An error answer: the server's message, its code and the request id, on one line.
pub fn answer_error(status: u16, reason: &str, request_id: Option<&str>, body: &[u8]) -> CliError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let mut tags: Vec<String> = Vec::new();
    let message = match &parsed {
        // The error envelope: {error, message, details, ...}.
        Some(Value::Object(map)) if map.get("error").is_some_and(Value::is_string) => {
            let code = map["error"].as_str().unwrap_or_default();
            let details = map.get("details").and_then(Value::as_object);
            match details
                .and_then(|d| d.get("reason"))
                .and_then(Value::as_str)
            {
                Some(reason) => tags.push(format!("{code}: {reason}")),
                None => tags.push(code.to_owned()),
            }
            if let Some(permission) = details
                .and_then(|d| d.get("required_permission"))
                .and_then(Value::as_str)
            {
                tags.push(format!("needs {permission}"));
            }
            if let Some(after) = details.and_then(|d| d.get("retry_after")) {
                tags.push(format!("retry after {after}s"));
            }
            map.get("message")
                .and_then(Value::as_str)
                .unwrap_or(reason)
                .to_owned()
        }
        // FastAPI's 422 shape: {"detail": [{loc, msg, type, ...}]}.
        Some(Value::Object(map)) if map.get("detail").is_some_and(Value::is_array) => {
            let issues = map["detail"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            if let Some(kind) = issues
                .first()
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
            {
                tags.push(kind.to_owned());
            }
            let lines: Vec<String> = issues.iter().map(describe_issue).collect();
            format!("invalid request: {}", lines.join("; "))
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().next().unwrap_or("").trim();
            let first: String = first.chars().take(200).collect();
            if first.is_empty() {
                reason.to_owned()
            } else {
                format!("{reason}: {first}")
            }
        }
    };
    tags.push(format!("HTTP {status}"));
    tags.push(format!("request {}", request_id.unwrap_or("-")));
    CliError::http(status, format!("{message} ({})", tags.join(", ")))
}

/// `body.release_tag: String should match pattern ...` from one 422 issue.
fn describe_issue(issue: &Value) -> String {
    let location = issue
        .get("loc")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default();
    let message = issue
        .get("msg")
        .and_then(Value::as_str)
        .unwrap_or("invalid");
    if location.is_empty() {
        message.to_owned()
    } else {
        format!("{location}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_key_names_the_first_write_and_numbers_the_next() {
        let keys = WriteKeys::new(Some("job-7".into())).unwrap();
        let sent: Vec<String> = (0..3).map(|_| keys.next().as_str().to_owned()).collect();
        assert_eq!(sent, ["job-7", "job-7-2", "job-7-3"]);
        let fresh = WriteKeys::new(None).unwrap();
        let (one, two) = (fresh.next(), fresh.next());
        assert!(one.as_str().starts_with("cutover-cli-") && one != two);
        assert!(WriteKeys::new(Some("k".repeat(250))).is_ok());
        assert!(WriteKeys::new(Some("k".repeat(251))).is_err());
    }
}
