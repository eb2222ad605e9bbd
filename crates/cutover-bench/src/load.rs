//! The load generator: exactly N keep-alive connections, each sending its next
//! request as soon as the previous answer is read (a closed loop), an unmeasured
//! warm-up, then a measuring window whose every latency goes into a histogram; and
//! `Rounds`, several windows of one row merged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use tokio::task::JoinSet;

use crate::client::{Answer, Conn, Req};
use crate::stats::{Latencies, Summary};

/// How long past the end of the window a request may still take before the row
/// gives up on it (a stalled server must not hang the harness).
const STRAGGLER_GRACE: Duration = Duration::from_secs(10);

/// One request a connection sends next.
pub struct Step {
    pub req: Req,
    /// The status that counts as success.
    pub expect: StatusCode,
    /// False for bookkeeping requests (e.g. re-arming a rollback chain) that are
    /// sent but neither timed nor counted.
    pub measured: bool,
}

/// A row's traffic: hands each connection its own request source.
pub trait Workload: Send + Sync {
    fn connection(&self, index: usize) -> Box<dyn ConnWork>;
}

/// The requests of one connection, and what it learns from their answers.
pub trait ConnWork: Send {
    fn next(&mut self) -> Step;
    /// Called with every answer (`ok` when its status was the expected one).
    fn answered(&mut self, _answer: &Answer, _ok: bool) {}
}

/// How one row went.
pub struct RowOutcome {
    pub summary: Summary,
    /// Every measured latency, for merging rounds of one row.
    pub latencies: Latencies,
    /// The first unexpected answer or failure, for the report.
    pub first_error: Option<String>,
    /// Bookkeeping requests sent during the window (not in the summary).
    pub unmeasured: u64,
}

struct ConnResult {
    latencies: Latencies,
    errors: u64,
    unmeasured: u64,
    first_error: Option<String>,
}

/// Runs `workload` over `connections` connections: `warmup`, then `window`.
pub async fn run_row(
    addr: SocketAddr,
    token: Option<Arc<str>>,
    connections: usize,
    warmup: Duration,
    window: Duration,
    workload: Arc<dyn Workload>,
) -> Result<RowOutcome, String> {
    // Connect everything first so connection set-up is not part of the row.
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(addr, token.as_deref()).await?);
    }
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let mut tasks = JoinSet::new();
    for (index, conn) in conns.into_iter().enumerate() {
        let work = workload.connection(index);
        let token = token.clone();
        tasks.spawn(drive(addr, token, conn, work, measure_from, end));
    }
    let mut latencies = Latencies::default();
    let (mut errors, mut unmeasured, mut first_error) = (0, 0, None);
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(|e| format!("a load connection failed: {e}"))?;
        latencies.merge(&result.latencies);
        errors += result.errors;
        unmeasured += result.unmeasured;
        first_error = first_error.or(result.first_error);
    }
    Ok(RowOutcome {
        summary: latencies.summary(window, errors),
        latencies,
        first_error,
        unmeasured,
    })
}

async fn drive(
    addr: SocketAddr,
    token: Option<Arc<str>>,
    mut conn: Conn,
    mut work: Box<dyn ConnWork>,
    measure_from: Instant,
    end: Instant,
) -> ConnResult {
    let mut out = ConnResult {
        latencies: Latencies::default(),
        errors: 0,
        unmeasured: 0,
        first_error: None,
    };
    let deadline = end + STRAGGLER_GRACE;
    loop {
        let sent_at = Instant::now();
        if sent_at >= end {
            break;
        }
        let step = work.next();
        let answer = match tokio::time::timeout(
            deadline.saturating_duration_since(sent_at),
            conn.send(&step.req),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{} {}: no answer in time",
                step.req.method, step.req.path
            )),
        };
        let latency = sent_at.elapsed();
        let failure = match &answer {
            Ok(answer) => {
                let ok = answer.status == step.expect;
                work.answered(answer, ok);
                (!ok).then(|| {
                    format!(
                        "{} {} answered {} (expected {}): {}",
                        step.req.method,
                        step.req.path,
                        answer.status,
                        step.expect,
                        String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                    )
                })
            }
            Err(e) => Some(e.clone()),
        };
        if sent_at >= measure_from {
            if !step.measured {
                out.unmeasured += 1;
            } else {
                out.latencies.record(latency);
                if failure.is_some() {
                    out.errors += 1;
                }
            }
        }
        if let Some(message) = failure {
            out.first_error.get_or_insert(message);
        }
        if answer.is_err() {
            // The connection may be gone: replace it, or stop if the server is.
            match Conn::open(addr, token.as_deref()).await {
                Ok(fresh) => conn = fresh,
                Err(_) if Instant::now() >= end => break,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
    out
}

/// A small, fast, seedable random source (SplitMix64), so rows pick apps and
/// releases the same way on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The rounds of one row, merged.
#[derive(Default)]
pub struct Rounds {
    latencies: Latencies,
    errors: u64,
    pub per_second: Vec<f64>,
    pub first_error: Option<String>,
}

impl Rounds {
    pub fn push(&mut self, outcome: RowOutcome) {
        self.latencies.merge(&outcome.latencies);
        self.errors += outcome.summary.errors;
        self.per_second.push(outcome.summary.per_second);
        self.first_error = self.first_error.take().or(outcome.first_error);
    }

    pub fn last_per_second(&self) -> f64 {
        self.per_second.last().copied().unwrap_or(0.0)
    }

    /// The merged rounds as one row measured for `window` in all.
    pub fn summary(&self, window: Duration) -> Summary {
        self.latencies.summary(window, self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn rng_is_deterministic_and_spreads() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            seen[x] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
