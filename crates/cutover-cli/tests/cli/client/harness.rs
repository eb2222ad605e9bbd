//! A real `cutover serve` on an ephemeral port over a temp SQLite file, and the
//! `cutover` client run as a process against it with an environment the test owns:
//! HOME points into the temp directory, no inherited `CUTOVER_*` or XDG variable,
//! and the config file lives in the temp directory too.

use std::borrow::BorrowMut;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::{self, Server};

/// The platform admin token every test server starts with.
pub const TOKEN: &str = "cut_client_tests_platform_admin_0123456789";
/// A well-formed token the server never issued.
pub const UNKNOWN_TOKEN: &str = "cut_client_tests_never_issued_9876543210ab";

/// How long one client command may take before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The one error line a failed command prints.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one error line expected:\n{}", self.stderr);
        assert!(lines[0].starts_with("cutover: "), "{}", lines[0]);
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "{}",
            self.stderr
        );
        lines[0]
    }
}

/// The org, workspace and app a test works in.
#[derive(Debug, Clone)]
pub struct Context {
    pub org: String,
    pub workspace: String,
    pub app: String,
}

pub struct Env {
    pub dir: TempDir,
    pub server: Server,
    pub context: Option<Context>,
}

impl Env {
    /// A fresh server with its own database and a temp HOME.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
        let server = Server::spawn(
            common::serve(&dir.path().join("cutover.db")).env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN),
        );
        Self {
            dir,
            server,
            context: None,
        }
    }

    /// [`Env::start`], then an org, a workspace and an app made with the client.
    pub fn with_app() -> Self {
        let mut env = Self::start();
        let org = env.ok(&["orgs", "create", "Acme", "-o", "json"]).json()["org_id"]
            .as_str()
            .expect("org_id")
            .to_owned();
        let workspace = env
            .run_with(
                env.connected().env("CUTOVER_ORG", &org),
                &["workspaces", "create", "production", "-o", "json"],
            )
            .expect(0)
            .json()["workspace_id"]
            .as_str()
            .expect("workspace_id")
            .to_owned();
        let app = env
            .run_with(
                env.connected()
                    .env("CUTOVER_ORG", &org)
                    .env("CUTOVER_WORKSPACE", &workspace),
                &["apps", "create", "support-bot", "-o", "json"],
            )
            .expect(0)
            .json()["app_id"]
            .as_str()
            .expect("app_id")
            .to_owned();
        env.context = Some(Context {
            org,
            workspace,
            app,
        });
        env
    }

    pub fn context(&self) -> &Context {
        self.context.as_ref().expect("with_app() made a context")
    }

    pub fn url(&self) -> &str {
        &self.server.base
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Where `CUTOVER_CONFIG` points in [`Env::cli`].
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("conf").join("cutover.toml")
    }

    /// `cutover` with nothing but an isolated HOME: no server, token or context.
    pub fn bare(&self) -> Command {
        let mut command = common::cutover();
        command
            .env("HOME", self.home())
            .env_remove("XDG_CONFIG_HOME");
        command
    }

    /// [`Env::bare`] plus the server's URL, the admin token and the config path.
    pub fn connected(&self) -> Command {
        let mut command = self.bare();
        command
            .env("CUTOVER_URL", self.url())
            .env("CUTOVER_TOKEN", TOKEN)
            .env("CUTOVER_CONFIG", self.config_path());
        command
    }

    /// [`Env::connected`] plus the org, workspace and app when there are some.
    pub fn cli(&self) -> Command {
        let mut command = self.connected();
        if let Some(context) = &self.context {
            command
                .env("CUTOVER_ORG", &context.org)
                .env("CUTOVER_WORKSPACE", &context.workspace)
                .env("CUTOVER_APP", &context.app);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.cli(), args)
    }

    /// Runs `command` (owned, or borrowed from a builder chain) with `args`.
    pub fn run_with(&self, mut command: impl BorrowMut<Command>, args: &[&str]) -> Run {
        let command = command.borrow_mut();
        command.args(args);
        let output = common::run(command, COMMAND_TIMEOUT);
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: common::text(&output.stdout),
            stderr: common::text(&output.stderr),
        }
    }

    /// Runs `cutover login` with `command`, giving the server, the admin token and
    /// the whole context as flags.
    pub fn login_with_context(&self, command: impl BorrowMut<Command>) -> Run {
        let context = self.context();
        self.run_with(
            command,
            &[
                "login",
                "--url",
                self.url(),
                "--token",
                TOKEN,
                "--org",
                &context.org,
                "--workspace",
                &context.workspace,
                "--app",
                &context.app,
            ],
        )
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        self.run(args).expect(0)
    }

    /// Runs with `-o json` and asserts success.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        self.ok(&all).json()
    }

    /// An augmentation `answer` and two endpoints using it (`chat`, `status`).
    pub fn seed_draft(&self) {
        self.ok(&[
            "augmentations",
            "create",
            "answer",
            "--stages",
            r#"[{"name": "respond", "steps": [{"name": "llm", "type": "inference", "config": {"model": "small"}}]}]"#,
        ]);
        self.ok(&[
            "endpoints",
            "create",
            "chat",
            "--path",
            "/chat",
            "--method",
            "POST",
            "--augmentation",
            "answer",
        ]);
        self.ok(&[
            "endpoints",
            "create",
            "status",
            "--path",
            "/status",
            "--method",
            "GET",
            "--augmentation",
            "answer",
        ]);
    }

    /// `/v1/orgs/{org}/workspaces/{ws}/apps/{app}`.
    pub fn app_path(&self) -> String {
        let c = self.context();
        format!(
            "/v1/orgs/{}/workspaces/{}/apps/{}",
            c.org, c.workspace, c.app
        )
    }

    /// A GET straight to the server (not through the client), for comparing what the
    /// client prints with what the server sends.
    pub fn raw_get(&self, path: &str) -> (u16, String) {
        raw_get(&self.server.addr.to_string(), path)
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("cutover.db")
    }
}

fn raw_get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the test server");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read the answer");
    let reply = String::from_utf8(reply).expect("UTF-8 answer");
    let (head, body) = reply.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the test reader expects a Content-Length body:\n{head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

/// A 127.0.0.1 port nothing listens on: bound, then released.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// The Unix permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The data rows of a table (header dropped).
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}
