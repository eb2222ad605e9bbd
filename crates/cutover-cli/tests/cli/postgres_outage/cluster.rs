//! A private, throwaway PostgreSQL cluster (`initdb` into a temporary directory, trust
//! auth, 127.0.0.1 and a free port only) that the tests stop and start at will.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::common::text;

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only. When
/// dropped it is stopped (`-m immediate`) and its directory removed.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// Whether commands run as the `postgres` OS user (`initdb` refuses root).
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `pg_ctl`, or what
/// `pg_config --bindir` says.
fn postgres_bin() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, bin)) = candidates.pop() {
        return Ok(bin);
    }
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| {
            format!("no initdb/pg_ctl under /usr/lib/postgresql/*/bin and no pg_config ({err})")
        })?;
    let bin = PathBuf::from(text(&output.stdout).trim());
    if output.status.success() && has_tools(&bin) {
        Ok(bin)
    } else {
        Err("no initdb/pg_ctl under /usr/lib/postgresql/*/bin or pg_config --bindir".into())
    }
}

/// A port nobody listens on right now (bound to 127.0.0.1:0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("an ephemeral port")
        .port()
}

/// Waits for `command` to finish within `timeout`; kills it when it does not.
fn finish(command: &mut Command, output: &Path, timeout: Duration) -> Result<ExitStatus, String> {
    let log =
        File::create(output).map_err(|err| format!("creating {}: {err}", output.display()))?;
    let log2 = log.try_clone().map_err(|err| err.to_string())?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{command:?} did not finish within {timeout:?}"));
            }
        }
    }
}

impl Cluster {
    /// Makes a cluster with `initdb` and starts it on a free port (trying another
    /// port when the one picked was taken in the meantime).
    pub fn create() -> Result<Self, String> {
        let bin = postgres_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("cutover-pg-outage-")
            .tempdir()
            .map_err(|err| format!("temporary directory: {err}"))?;
        let as_postgres = std::fs::metadata("/proc/self")
            .map(|meta| meta.uid() == 0)
            .unwrap_or(false);
        let mut cluster = Self {
            dir,
            bin,
            port: 0,
            as_postgres,
        };
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(cluster.dir.path())
                .stdin(Stdio::null())
                .status()
                .map_err(|err| format!("chown: {err}"))?;
            if !status.success() {
                return Err(format!(
                    "chown postgres {} failed ({status}); is there a postgres user?",
                    cluster.dir.path().display()
                ));
            }
        }
        let data = cluster.data();
        let mut initdb = cluster.tool("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .env("LC_ALL", "C");
        cluster.run(&mut initdb, "initdb", Duration::from_secs(30))?;
        let mut last = String::new();
        for _ in 0..5 {
            cluster.port = free_port();
            match cluster.start() {
                Ok(()) => return Ok(cluster),
                Err(why) => last = why,
            }
        }
        Err(last)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL `cutover` connects with (trust auth: no password).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `name` from the PostgreSQL bin directory, as the `postgres` user when we are root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    /// Runs `command` to completion; the error carries what it printed.
    fn run(&self, command: &mut Command, what: &str, timeout: Duration) -> Result<(), String> {
        let output = self.dir.path().join(format!("{what}.out"));
        let status = finish(command, &output, timeout)?;
        if status.success() {
            Ok(())
        } else {
            let printed = std::fs::read_to_string(&output).unwrap_or_default();
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            Err(format!(
                "{what} failed ({status}): {} {}",
                printed.trim(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
        }
    }

    /// `pg_ctl start -w` on 127.0.0.1:`port` only, sockets in the temporary directory.
    pub fn start(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='{}' \
             -c fsync=off -c shared_buffers=16MB -c max_connections=40",
            self.port,
            self.dir.path().display()
        );
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "15", "-o", &options, "start"]);
        self.run(&mut command, "pg_ctl start", Duration::from_secs(20))
    }

    /// `pg_ctl stop -w -m <mode>`.
    pub fn stop(&self, mode: &str) -> Result<(), String> {
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "15", "-m", mode, "stop"]);
        self.run(&mut command, "pg_ctl stop", Duration::from_secs(20))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Fails harmlessly when it is already stopped; the directory goes with `dir`.
        let mut command = self.tool("pg_ctl");
        command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "10", "-m", "immediate", "stop"]);
        let output = self.dir.path().join("final-stop.out");
        let _ = finish(&mut command, &output, Duration::from_secs(15));
    }
}

/// A started private cluster. These tests are built to run only where
/// `TEST_POSTGRES_URL` says PostgreSQL is installed, so a cluster that cannot be made
/// fails the test (with why) instead of letting it pass without having run.
pub fn private_cluster() -> Cluster {
    Cluster::create()
        .unwrap_or_else(|why| panic!("cannot start a private PostgreSQL cluster: {why}"))
}
