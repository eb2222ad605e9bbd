//! The processes under test: building the release `cutover` binary, spawning it (or
//! the ceiling), timing start-up to `/readyz`, sampling its memory, stopping it.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Conn, Req};

/// How long a process may take to answer `/readyz` (or `/healthz`) with 200.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How often memory is sampled.
const RSS_PERIOD: Duration = Duration::from_millis(100);

/// The workspace root (this crate lives in `crates/cutover-bench`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds `cutover` in release mode with cargo and returns its path.
pub fn build_server() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let root = workspace_root();
    eprintln!("building the server: cargo build --release -p cutover-cli --bin cutover");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "cutover-cli",
            "--bin",
            "cutover",
        ])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release failed ({status})"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("cutover"))
}

/// A free loopback port (taken from the kernel, then released for the child).
pub fn free_addr() -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// A spawned process that answers HTTP on `addr`, with its memory sampled.
pub struct Process {
    child: Child,
    pub started_in: Duration,
    memory: Arc<Memory>,
}

/// Memory samples of one process, in bytes.
#[derive(Default)]
pub struct Memory {
    /// Highest VmRSS seen since the last [`Memory::take_window_peak`].
    window_peak: AtomicU64,
    /// Highest VmRSS seen at all.
    peak: AtomicU64,
    /// The kernel's own peak (VmHWM) at the last sample.
    hwm: AtomicU64,
    stop: AtomicBool,
}

impl Memory {
    pub fn take_window_peak(&self) -> u64 {
        self.window_peak.swap(0, Ordering::Relaxed)
    }

    /// The highest of the sampled VmRSS and the kernel's VmHWM.
    pub fn peak(&self) -> u64 {
        self.peak
            .load(Ordering::Relaxed)
            .max(self.hwm.load(Ordering::Relaxed))
    }
}

impl Process {
    /// Spawns `command` (stdout and stderr to `log`), then waits until `probe`
    /// answers 200; the time from spawn to that answer is `started_in`.
    pub async fn spawn(
        mut command: Command,
        addr: SocketAddr,
        log: &Path,
        probe: &str,
    ) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "the process exited at start ({status}); see {}",
                    log.display()
                ));
            }
            if spawned.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                return Err(format!("no 200 from {probe} within {START_TIMEOUT:?}"));
            }
            if let Ok(mut conn) = Conn::open(addr, None).await
                && let Ok(answer) = conn.send(&Req::get(probe)).await
                && answer.status.is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let started_in = spawned.elapsed();
        let memory = Arc::new(Memory::default());
        sample_memory(child.id(), memory.clone());
        Ok(Self {
            child,
            started_in,
            memory,
        })
    }

    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// SIGTERM, then wait for a clean exit (SIGKILL after `grace`).
    pub async fn stop(mut self, grace: Duration) -> Result<(), String> {
        self.memory.stop.store(true, Ordering::Relaxed);
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let asked = Instant::now();
        while asked.elapsed() < grace {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err(format!("process did not stop within {grace:?}; killed"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.memory.stop.store(true, Ordering::Relaxed);
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Samples `/proc/<pid>/status` on a thread of its own until told to stop.
fn sample_memory(pid: u32, memory: Arc<Memory>) {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        while !memory.stop.load(Ordering::Relaxed) {
            let Ok(status) = std::fs::read_to_string(&path) else {
                break;
            };
            if let Some(rss) = status_kib(&status, "VmRSS:") {
                memory.window_peak.fetch_max(rss * 1024, Ordering::Relaxed);
                memory.peak.fetch_max(rss * 1024, Ordering::Relaxed);
            }
            if let Some(hwm) = status_kib(&status, "VmHWM:") {
                memory.hwm.fetch_max(hwm * 1024, Ordering::Relaxed);
            }
            std::thread::sleep(RSS_PERIOD);
        }
    });
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Bytes a SQLite database takes on disk: the file plus its WAL.
pub fn sqlite_bytes(db: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    size(db) + size(Path::new(&wal))
}

#[cfg(test)]
mod tests {
    use super::status_kib;

    #[test]
    fn reads_proc_status_fields() {
        let status = "Name:\tcutover\nVmHWM:\t   81234 kB\nVmRSS:\t   70000 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(81234));
        assert_eq!(status_kib(status, "VmRSS:"), Some(70000));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }
}
