//! The lane that large request bodies take: at most a few are parsed, validated,
//! written and answered at once, and only so many of their bytes a second, so that
//! one tenant's maximum-size writes cannot take the cores and the disk from other
//! tenants' small requests (ARCHITECTURE.md, "Large bodies take one lane"). A body
//! waits for the lane after it has been read, holding only its bytes, and within the
//! request deadline.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Bodies of this many bytes or more take the lane. Below it, parsing and writing a
/// body costs less than a millisecond, and requests never wait for one another.
pub const LARGE_BODY_BYTES: usize = 64 * 1024;

/// How many large bodies are handled at once by default: half the cores (at least
/// one), so the other half always serves everything else.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get() / 2)
        .max(1)
}

/// Large-body bytes handled per second by default, on average: sixteen maximum-size
/// writes a second, far more than any deploy pipeline sends, and a fraction of what
/// the SQLite writer and its disk take, so other tenants keep the rest.
pub const DEFAULT_BYTES_PER_SECOND: u64 = 16 << 20;

/// How the lane is bounded (`serve --large-body-concurrency`,
/// `--large-body-mib-per-second`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LargeBodyLimits {
    /// Large bodies handled at once; 0 is taken as 1.
    pub concurrency: usize,
    /// Their bytes handled per second on average; 0 for no such bound.
    pub bytes_per_second: u64,
}

impl Default for LargeBodyLimits {
    fn default() -> Self {
        Self {
            concurrency: default_concurrency(),
            bytes_per_second: DEFAULT_BYTES_PER_SECOND,
        }
    }
}

pub struct LargeBodyLane {
    permits: Arc<Semaphore>,
    concurrency: usize,
    budget: Option<ByteBudget>,
    waiting: AtomicUsize,
    entered: AtomicU64,
    waited: AtomicU64,
    throttled: AtomicU64,
}

/// A place in the lane, held until the request it was taken for has been answered.
pub struct LanePlace {
    _permit: OwnedSemaphorePermit,
}

impl LargeBodyLane {
    /// A lane with `limits.concurrency` places (0 is taken as 1: large bodies are never
    /// refused for want of a place, only made to wait).
    pub fn new(limits: LargeBodyLimits) -> Self {
        let concurrency = limits.concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            budget: (limits.bytes_per_second > 0).then(|| ByteBudget::new(limits.bytes_per_second)),
            waiting: AtomicUsize::new(0),
            entered: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
        }
    }

    /// A place for a body of `body_bytes`: `None` at once for a small body, else once
    /// one of the lane's places is free and the byte budget allows it (the place is
    /// held while waiting for the budget, so bodies are let through in turn).
    pub async fn enter(&self, body_bytes: usize) -> Option<LanePlace> {
        if body_bytes < LARGE_BODY_BYTES {
            return None;
        }
        self.entered.fetch_add(1, Ordering::Relaxed);
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.waited.fetch_add(1, Ordering::Relaxed);
                let _waiting = Waiting::on(&self.waiting);
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the lane's semaphore is never closed")
            }
        };
        let wait = self
            .budget
            .as_ref()
            .map_or(Duration::ZERO, |budget| budget.take(body_bytes));
        if !wait.is_zero() {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            let _waiting = Waiting::on(&self.waiting);
            tokio::time::sleep(wait).await;
        }
        Some(LanePlace { _permit: permit })
    }

    /// Large bodies waiting for a place now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The lane's counters in the Prometheus text format, for `/metrics`.
    pub fn render(&self, out: &mut String) {
        let gauges = [
            (
                "cutover_large_bodies_concurrency",
                "gauge",
                "Large request bodies handled at once.",
                self.concurrency as u64,
            ),
            (
                "cutover_large_bodies_waiting",
                "gauge",
                "Large request bodies waiting for the lane now.",
                self.waiting() as u64,
            ),
            (
                "cutover_large_bodies_total",
                "counter",
                "Large request bodies that took the lane.",
                self.entered.load(Ordering::Relaxed),
            ),
            (
                "cutover_large_bodies_waited_total",
                "counter",
                "Large request bodies that found the lane full and waited.",
                self.waited.load(Ordering::Relaxed),
            ),
            (
                "cutover_large_bodies_throttled_total",
                "counter",
                "Large request bodies that waited for the lane's byte budget.",
                self.throttled.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
}

/// The lane's bytes per second: a body takes its bytes at once, and while that leaves
/// the budget in debt the next body waits until it is paid. Up to one second's worth
/// accumulates while the lane is idle.
struct ByteBudget {
    per_second: f64,
    /// Bytes available (negative: owed) as of the instant.
    state: Mutex<(f64, Instant)>,
}

impl ByteBudget {
    fn new(bytes_per_second: u64) -> Self {
        let per_second = bytes_per_second as f64;
        Self {
            per_second,
            state: Mutex::new((per_second, Instant::now())),
        }
    }

    /// Takes `bytes` from the budget and says how long their body must wait first.
    fn take(&self, bytes: usize) -> Duration {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (available, as_of) = *state;
        let now = Instant::now();
        let refilled = now.duration_since(as_of).as_secs_f64() * self.per_second;
        let left = (available + refilled).min(self.per_second) - bytes as f64;
        *state = (left, now);
        if left >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-left / self.per_second)
        }
    }
}

/// Counts one waiter for as long as it lives, including when the waiting request is
/// dropped (its client went away, or its deadline passed).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn on(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A lane of `concurrency` places and no byte budget.
    fn places(concurrency: usize) -> LargeBodyLimits {
        LargeBodyLimits {
            concurrency,
            bytes_per_second: 0,
        }
    }

    async fn until_waiting(lane: &LargeBodyLane, count: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while lane.waiting() != count {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the lane never had that many waiters");
    }

    #[tokio::test]
    async fn small_bodies_never_take_a_place() {
        let lane = LargeBodyLane::new(places(1));
        let _held = lane.enter(LARGE_BODY_BYTES).await.expect("a large body");
        for bytes in [0, 1, LARGE_BODY_BYTES - 1] {
            assert!(lane.enter(bytes).await.is_none(), "{bytes} bytes");
        }
        assert_eq!(lane.waiting(), 0);
    }

    #[tokio::test]
    async fn a_large_body_waits_while_every_place_is_taken() {
        let lane = Arc::new(LargeBodyLane::new(places(2)));
        let first = lane.enter(LARGE_BODY_BYTES).await.expect("a place");
        let _second = lane.enter(1 << 20).await.expect("a place");
        let third = tokio::spawn({
            let lane = lane.clone();
            async move { lane.enter(LARGE_BODY_BYTES).await.is_some() }
        });
        until_waiting(&lane, 1).await;
        assert!(!third.is_finished());
        drop(first);
        assert!(third.await.unwrap());
        assert_eq!(lane.waiting(), 0);
        let mut metrics = String::new();
        lane.render(&mut metrics);
        assert!(metrics.contains("cutover_large_bodies_concurrency 2\n"));
        assert!(metrics.contains("cutover_large_bodies_total 3\n"));
        assert!(metrics.contains("cutover_large_bodies_waited_total 1\n"));
    }

    #[tokio::test]
    async fn a_waiter_that_goes_away_leaves_the_count() {
        let lane = Arc::new(LargeBodyLane::new(places(1)));
        let _held = lane.enter(LARGE_BODY_BYTES).await.expect("a place");
        let waiter = tokio::spawn({
            let lane = lane.clone();
            async move { lane.enter(LARGE_BODY_BYTES).await.is_some() }
        });
        until_waiting(&lane, 1).await;
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert_eq!(lane.waiting(), 0);
    }

    /// At 1 MiB a second, three 1 MiB bodies sent at once are let through at 0, 1 and
    /// 2 seconds (the first from the second's worth kept while idle), one at a time.
    #[tokio::test(start_paused = true)]
    async fn the_byte_budget_lets_bodies_through_at_its_rate() {
        const MIB: usize = 1 << 20;
        let lane = Arc::new(LargeBodyLane::new(LargeBodyLimits {
            concurrency: 4,
            bytes_per_second: MIB as u64,
        }));
        let started = Instant::now();
        let through: Vec<_> = (0..3)
            .map(|_| {
                let lane = lane.clone();
                tokio::spawn(async move {
                    let place = lane.enter(MIB).await;
                    let at = started.elapsed();
                    drop(place);
                    at
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in through {
            times.push(task.await.unwrap().as_millis());
        }
        times.sort();
        assert_eq!(times, [0, 1000, 2000]);
        // Small bodies never wait for the budget.
        assert!(lane.enter(LARGE_BODY_BYTES - 1).await.is_none());
        assert_eq!(started.elapsed().as_millis(), 2000);
        let mut metrics = String::new();
        lane.render(&mut metrics);
        assert!(metrics.contains("cutover_large_bodies_throttled_total 2\n"));
    }

    #[test]
    fn zero_places_means_one() {
        let lane = LargeBodyLane::new(places(0));
        let mut metrics = String::new();
        lane.render(&mut metrics);
        assert!(metrics.contains("cutover_large_bodies_concurrency 1\n"));
        assert!(default_concurrency() >= 1);
    }
}
