//! Shared by the tests that run the real `cutover` binary: building its command line
//! with a clean environment, starting `cutover serve` on an ephemeral 127.0.0.1 port
//! (the bound address is read from its "listening on" line), signalling it, and
//! running one-shot commands with a time limit. Every child is killed and reaped when
//! its guard is dropped, so a failing test never leaves a process behind.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What `cutover serve` prints on standard error once it accepts connections.
pub const READY_LINE: &str = "cutover: listening on http://";

/// How long a server may take to say it listens.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The `cutover` binary with an environment the test controls: no `CUTOVER_*`,
/// `RUST_LOG` or `RUST_BACKTRACE` variable is inherited from whoever runs the tests.
pub fn cutover() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    for (key, _) in std::env::vars_os() {
        let inherited = key.to_str().is_some_and(|key| {
            key.starts_with("CUTOVER_") || key == "RUST_LOG" || key == "RUST_BACKTRACE"
        });
        if inherited {
            command.env_remove(&key);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// The URL of the SQLite file at `path`.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `cutover serve` on an ephemeral 127.0.0.1 port over the SQLite file `database`.
pub fn serve(database: &Path) -> Command {
    let mut command = cutover();
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(sqlite_url(database));
    command
}

/// `cutover serve` on an ephemeral 127.0.0.1 port over the database at `url` (a
/// `postgres://…` or `sqlite://…` URL).
pub fn serve_url(url: &str) -> Command {
    let mut command = cutover();
    command
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
        .arg(url);
    command
}

/// A running `cutover serve`, killed (SIGKILL) and reaped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
    exited: Option<ExitStatus>,
}

impl Server {
    /// Starts `command` (a `cutover serve` with `--bind 127.0.0.1:0`) and waits until
    /// it says where it listens; panics with its standard error when it does not.
    pub fn spawn(command: &mut Command) -> Self {
        Self::try_spawn(command).unwrap_or_else(|message| panic!("{message}"))
    }

    /// [`Server::spawn`] that answers why the server did not start (with its
    /// standard error) instead of panicking; the process is killed and reaped then.
    pub fn try_spawn(command: &mut Command) -> Result<Self, String> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cutover starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready, address) = mpsc::channel();
        let lines = Arc::clone(&log);
        // Drains standard error for the process's whole life, so it never blocks on
        // a full pipe.
        let reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(READY_LINE) {
                    let _ = ready.send(rest.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut server = Self {
            child,
            base: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
            reader: Some(reader),
            exited: None,
        };
        match address.recv_timeout(START_TIMEOUT) {
            Ok(address) => {
                server.addr = address
                    .parse()
                    .map_err(|_| format!("cutover listens on a socket address: {address}"))?;
                server.base = format!("http://{address}");
            }
            Err(_) => return Err(format!("cutover did not start:\n{}", server.log())),
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Standard error so far, one line per line.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Standard error so far.
    pub fn log(&self) -> String {
        self.lines().join("\n")
    }

    /// Whether a line containing `needle` shows up in standard error within `within`:
    /// the server writes its log from a logging thread, so a line can arrive a moment
    /// after the answer it belongs to.
    pub fn logs_within(&self, needle: &str, within: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        loop {
            if self.lines().iter().any(|line| line.contains(needle)) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed on the way out.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.exited = Some(self.child.wait().expect("the killed server is reaped"));
    }

    /// Sends `signal` ("TERM", "INT", ...) with `kill(1)`.
    pub fn signal(&self, signal: &str) {
        assert!(self.exited.is_none(), "the server was already reaped");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .stdin(Stdio::null())
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Waits up to `timeout` for the process to exit on its own (panicking with its
    /// log when it does not), then for its standard error to be fully read.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let status = match self.exited {
            Some(status) => status,
            None => {
                let status = wait_timeout(&mut self.child, timeout).unwrap_or_else(|| {
                    panic!(
                        "cutover did not exit within {timeout:?}; log:\n{}",
                        self.log()
                    )
                });
                self.exited = Some(status);
                status
            }
        };
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the stderr reader ends");
        }
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `child` until it exits or `timeout` passes.
fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Kills and reaps a child on the way out of [`run`], even when it panics.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs a command that is expected to finish by itself within `timeout` (a
/// subcommand that exits, or a `serve` that refuses to start); panics when it keeps
/// running, after killing it.
pub fn run(command: &mut Command, timeout: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cutover starts");
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));
    let mut child = Reaper(child);
    let status = wait_timeout(&mut child.0, timeout);
    let Some(status) = status else {
        drop(child);
        let stderr = stderr.join().unwrap_or_default();
        panic!(
            "{command:?} was still running after {timeout:?}; stderr:\n{}",
            String::from_utf8_lossy(&stderr)
        );
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout is read"),
        stderr: stderr.join().expect("stderr is read"),
    }
}

/// Text of an output stream, for assertions and messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
