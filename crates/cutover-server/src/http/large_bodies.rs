//! The lane that large request bodies take: at most a few are parsed, validated,
//! written and answered at once, so that one tenant's maximum-size writes cannot take
//! every core from other tenants' small requests (ARCHITECTURE.md, "Large bodies take
//! one lane"). A body waits for the lane after it has been read, holding only its
//! bytes, and within the request deadline.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

pub struct LargeBodyLane {
    permits: Arc<Semaphore>,
    concurrency: usize,
    waiting: AtomicUsize,
    entered: AtomicU64,
    waited: AtomicU64,
}

/// A place in the lane, held until the request it was taken for has been answered.
pub struct LanePlace {
    _permit: OwnedSemaphorePermit,
}

impl LargeBodyLane {
    /// A lane of `concurrency` places (0 is taken as 1: large bodies are never refused
    /// for want of a place, only made to wait).
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            waiting: AtomicUsize::new(0),
            entered: AtomicU64::new(0),
            waited: AtomicU64::new(0),
        }
    }

    /// A place for a body of `body_bytes`: `None` at once for a small body, else once
    /// one of the lane's places is free.
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
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
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
        let lane = LargeBodyLane::new(1);
        let _held = lane.enter(LARGE_BODY_BYTES).await.expect("a large body");
        for bytes in [0, 1, LARGE_BODY_BYTES - 1] {
            assert!(lane.enter(bytes).await.is_none(), "{bytes} bytes");
        }
        assert_eq!(lane.waiting(), 0);
    }

    #[tokio::test]
    async fn a_large_body_waits_while_every_place_is_taken() {
        let lane = Arc::new(LargeBodyLane::new(2));
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
        let lane = Arc::new(LargeBodyLane::new(1));
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

    #[test]
    fn zero_places_means_one() {
        let lane = LargeBodyLane::new(0);
        let mut metrics = String::new();
        lane.render(&mut metrics);
        assert!(metrics.contains("cutover_large_bodies_concurrency 1\n"));
        assert!(default_concurrency() >= 1);
    }
}
