//! Servers and HTTP: the `cutover serve` command every test starts, and a client that
//! addresses the servers by index and records each answer with its request id.

use std::process::Command;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::serve_url;
use crate::multiprocess::{REQUEST_TIMEOUT, TOKEN};

/// A `cutover serve` on `url` with the shared bootstrap token.
pub fn server_command(url: &str) -> Command {
    let mut command = serve_url(url);
    command
        .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
        .env("CUTOVER_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn");
    command
}

/// One answer, or why there was none.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub request_id: String,
}

pub type Outcome = Result<Answer, String>;

/// The three servers, addressed by index.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    bases: Arc<Vec<String>>,
}

impl Api {
    pub fn new(bases: Vec<String>) -> Self {
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

    pub async fn call(
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
    pub async fn expect(
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

    /// A new org, workspace and app, each made on the next server in turn; answers
    /// the app's path (`/v1/orgs/…/apps/app_…`).
    pub async fn an_app(&self, org_name: &str) -> String {
        let servers = self.bases.len();
        let org = self
            .expect(
                0,
                Method::POST,
                "/v1/orgs",
                Some(json!({"name": org_name})),
                201,
            )
            .await;
        let org = text(&org, "org_id");
        let workspace = self
            .expect(
                1 % servers,
                Method::POST,
                &format!("/v1/orgs/{org}/workspaces"),
                Some(json!({"name": "main"})),
                201,
            )
            .await;
        let workspace = text(&workspace, "workspace_id");
        let app = self
            .expect(
                2 % servers,
                Method::POST,
                &format!("/v1/orgs/{org}/workspaces/{workspace}/apps"),
                Some(json!({"name": "bot"})),
                201,
            )
            .await;
        format!(
            "/v1/orgs/{org}/workspaces/{workspace}/apps/{}",
            text(&app, "app_id")
        )
    }

    /// Every item of a paginated list, `limit` at a time, asking each next page of
    /// the next server (cursors are signed with a key every server shares).
    pub async fn collect(
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

pub fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {value}"))
        .to_owned()
}

pub fn optional_text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

pub fn run_blocking<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}
