//! The test harness: [`TestApp`] starts the real application on port 0 with a fresh
//! database of its own (a SQLite file, or a PostgreSQL database created for the test
//! and dropped after it), and offers request helpers per resource so tests read like
//! the API. [`on_every_backend!`] runs each test once per backend.

use std::sync::Arc;

use cutover_server::{Application, ServeConfig};
use cutover_test_support::ScratchDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const ADMIN_TOKEN: &str = "cut_test_platform_admin_0123456789abcdef";

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares, for each named `async fn name(backend: Backend)`, a test `sqlite::name`
/// and a test `postgres::name`. The PostgreSQL one is ignored (the runners count it
/// as skipped) unless `TEST_POSTGRES_URL` was set when the tests were built.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::harness::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[cutover_test_gates::needs_postgres]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::harness::Backend::Postgres).await
                }
            )*
        }
    };
}

/// One answer: status, headers and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `details.reason` of a 409.
    pub fn reason(&self) -> &str {
        self.body["details"]["reason"].as_str().unwrap_or("")
    }

    pub fn str(&self, key: &str) -> String {
        self.body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key} in {}", self.body))
            .to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin: String,
    /// Holds the SQLite file (`cutover.db`) on the SQLite backend.
    pub dir: Arc<TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
    /// The configuration it was started with, to start again with.
    config: ServeConfig,
    postgres: Option<ScratchDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Dropping the database (WITH FORCE) ends the server's connections to it.
        self.postgres.take();
    }
}

/// A connection straight to a test app's database, behind the server's back: for
/// tests that break or lock the database to see how the server answers.
pub enum DirectDatabase {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx::PgConnection),
}

impl DirectDatabase {
    pub async fn execute(&mut self, sql: &str) {
        match self {
            Self::Sqlite(connection) => connection.execute_batch(sql).expect("statement runs"),
            Self::Postgres(connection) => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(connection)
                    .await
                    .expect("statement runs");
            }
        }
    }

    /// Starts a transaction that holds a lock every write of the server needs,
    /// until [`DirectDatabase::unlock`].
    pub async fn lock_writes(&mut self) {
        match self {
            Self::Sqlite(connection) => {
                connection.busy_timeout(std::time::Duration::ZERO).unwrap();
                connection.execute_batch("BEGIN EXCLUSIVE").unwrap();
            }
            Self::Postgres(_) => {
                self.execute("BEGIN; LOCK TABLE apps IN ACCESS EXCLUSIVE MODE")
                    .await
            }
        }
    }

    pub async fn unlock(&mut self) {
        self.execute("COMMIT").await;
    }
}

/// An app created through the API, with the path prefix of its resources.
#[derive(Debug, Clone)]
pub struct AppPath {
    pub org_id: String,
    pub workspace_id: String,
    pub app_id: String,
}

impl AppPath {
    pub fn path(&self) -> String {
        format!(
            "/v1/orgs/{}/workspaces/{}/apps/{}",
            self.org_id, self.workspace_id, self.app_id
        )
    }

    pub fn releases(&self) -> String {
        format!("{}/releases", self.path())
    }

    pub fn release(&self, id: &str) -> String {
        format!("{}/releases/{id}", self.path())
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the app on `backend` after `adjust` has changed its configuration.
    /// Stops the server and starts a new one on the same database (with the same
    /// configuration), as a restart would: what it answers then comes from the
    /// database alone.
    pub async fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("the server task ends");
        }
        // The old store lets its SQLite file go as it is dropped.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let app = loop {
            match Application::build(self.config.clone()).await {
                Ok(app) => break app,
                Err(error) if std::time::Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(error) => panic!("the app starts again: {error}"),
            }
        };
        self.serve(app);
    }

    fn serve(&mut self, app: Application) {
        self.base = format!("http://{}", app.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        self.served = Some(tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let (postgres, url) = match backend {
            Backend::Sqlite => (
                None,
                format!("sqlite://{}", dir.path().join("cutover.db").display()),
            ),
            Backend::Postgres => {
                let database = ScratchDatabase::for_test();
                let url = database.url().to_owned();
                (Some(database), url)
            }
        };
        let mut config = ServeConfig::new(url);
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.bootstrap_token = Some(ADMIN_TOKEN.to_owned());
        adjust(&mut config);
        let app = Application::build(config.clone())
            .await
            .expect("app builds");
        let mut test_app = Self {
            base: String::new(),
            client: reqwest::Client::new(),
            admin: ADMIN_TOKEN.to_owned(),
            dir: Arc::new(dir),
            stop: None,
            served: None,
            config,
            postgres,
        };
        test_app.serve(app);
        test_app
    }

    /// The PostgreSQL URL of this app's database (`None` on SQLite, whose file only
    /// the running server may open as a store).
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|database| database.url().to_owned())
    }

    /// Opens a connection straight to this app's database.
    pub async fn direct_database(&self) -> DirectDatabase {
        match &self.postgres {
            None => DirectDatabase::Sqlite(
                rusqlite::Connection::open(self.dir.path().join("cutover.db"))
                    .expect("open the SQLite file"),
            ),
            Some(database) => {
                use sqlx::Connection;
                DirectDatabase::Postgres(
                    sqlx::PgConnection::connect(database.url())
                        .await
                        .expect("connect to the test database"),
                )
            }
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.send_with_headers(method, path, token, &[], body).await
    }

    /// Like [`Self::send`], with `headers` added (`If-Match`, `X-Cutover-Reason`).
    pub async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, reqwest::header::HeaderValue)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, value.clone());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(&self.admin), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    /// A POST without a body (activate, rollback, archive).
    pub async fn act(&self, path: &str) -> Reply {
        self.send(Method::POST, path, Some(&self.admin), None).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(&self.admin), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(&self.admin), None)
            .await
    }

    pub async fn create_org(&self, name: &str) -> String {
        self.post("/v1/orgs", json!({"name": name}))
            .await
            .expect(201)
            .str("org_id")
    }

    pub async fn create_workspace(&self, org_id: &str, name: &str) -> String {
        self.post(
            &format!("/v1/orgs/{org_id}/workspaces"),
            json!({"name": name}),
        )
        .await
        .expect(201)
        .str("workspace_id")
    }

    /// A fresh org, workspace and app.
    pub async fn create_app(&self) -> AppPath {
        let org_id = self.create_org(&format!("org {}", uuid_like())).await;
        let workspace_id = self.create_workspace(&org_id, "main").await;
        self.create_app_in(&org_id, &workspace_id, "app").await
    }

    pub async fn create_app_in(&self, org_id: &str, workspace_id: &str, name: &str) -> AppPath {
        let app_id = self
            .post(
                &format!("/v1/orgs/{org_id}/workspaces/{workspace_id}/apps"),
                json!({"name": name}),
            )
            .await
            .expect(201)
            .str("app_id");
        AppPath {
            org_id: org_id.to_owned(),
            workspace_id: workspace_id.to_owned(),
            app_id,
        }
    }

    pub async fn add_augmentation(&self, app: &AppPath, name: &str) -> String {
        self.post(
            &format!("{}/augmentations", app.path()),
            json!({
                "name": name,
                "stages": [{"name": "answer", "execution_mode": "sequential",
                            "steps": [{"name": "llm", "type": "inference", "config": {"model": "m"}}]}],
                "tags": ["test"]
            }),
        )
        .await
        .expect(201)
        .str("augmentation_id")
    }

    pub async fn add_endpoint(
        &self,
        app: &AppPath,
        name: &str,
        path: &str,
        augmentation_id: &str,
    ) -> String {
        self.post(
            &format!("{}/endpoints", app.path()),
            json!({"name": name, "path": path, "method": "POST", "augmentation_id": augmentation_id}),
        )
        .await
        .expect(201)
        .str("endpoint_id")
    }

    /// Cuts a release and answers its id.
    pub async fn cut(&self, app: &AppPath, tag: &str) -> String {
        self.post(&app.releases(), json!({"release_tag": tag}))
            .await
            .expect(201)
            .str("release_id")
    }

    /// Cuts a release with `activate: true` and answers its id.
    pub async fn cut_active(&self, app: &AppPath, tag: &str) -> String {
        self.post(
            &app.releases(),
            json!({"release_tag": tag, "activate": true}),
        )
        .await
        .expect(201)
        .str("release_id")
    }

    /// Creates an org token with `body` (name, role/permissions, workspace_ids) and
    /// answers its secret.
    pub async fn mint(&self, org_id: &str, body: Value) -> String {
        self.post(&format!("/v1/orgs/{org_id}/tokens"), body)
            .await
            .expect(201)
            .str("token")
    }
}

/// A short unique suffix for names.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Stores a platform admin token straight in the database (the API mints only org
/// tokens; platform tokens come from the bootstrap) and answers its id and secret.
pub async fn insert_platform_token_with_secret(app: &TestApp, name: &str) -> (String, String) {
    let token_id = cutover_domain::TokenId::generate().to_string();
    let secret = cutover_domain::token::generate_secret();
    let digest = cutover_domain::token::digest_secret(&secret);
    let prefix = cutover_domain::token::display_prefix(&secret);
    let now = cutover_domain::Timestamp::now().as_micros();
    app.direct_database()
        .await
        .execute(&format!(
            "INSERT INTO tokens (token_id, org_id, name, prefix, secret_digest, permissions,
                                 workspace_ids, expires_at, created_at, created_by)
             VALUES ('{token_id}', NULL, '{name}', '{prefix}', '{digest}', '[\"*\"]',
                     NULL, NULL, {now}, 'test')"
        ))
        .await;
    (token_id, secret)
}

/// Like [`insert_platform_token_with_secret`], answering only the id.
pub async fn insert_platform_token(app: &TestApp, name: &str) -> String {
    insert_platform_token_with_secret(app, name).await.0
}
