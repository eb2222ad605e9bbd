//! Requests and what they answered: a client that writes every answer (status,
//! `Retry-After`, request id, timing) in a shared journal, and what a 201 for a release
//! said.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::postgres_outage::TOKEN;

/// One request the load sent, and its answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub what: String,
    pub sent: Instant,
    pub done: Instant,
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    pub request_id: Option<String>,
    pub body: String,
    pub error: Option<String>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn is_success(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// Why this is neither a success nor a clean 503 envelope, if it is not.
    pub fn problem(&self) -> Option<String> {
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

    pub fn describe(&self) -> String {
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

pub type Journal = Arc<Mutex<Vec<Answer>>>;

pub struct Client {
    http: reqwest::Client,
    base: String,
    journal: Journal,
}

impl Client {
    pub fn new(base: &str, journal: &Journal) -> Self {
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
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
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
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let answer = self.send(method, path, body).await;
        assert_eq!(answer.status, Some(status), "{}", answer.describe());
        answer.json()
    }
}

/// What a 201 for a release said.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub release_id: String,
    pub release_tag: String,
    pub release_number: i64,
    pub content_hash: String,
}
