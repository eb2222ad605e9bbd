//! What every handler shares: the store (behind its read cache), the limits, the
//! cursor codec, the optional rate limiters, the request metrics, the request
//! deadline and the lane large bodies take.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use cutover_domain::limits::Limits;

use crate::cache::CachedStore;

use crate::http::large_bodies::LargeBodyLane;
use crate::http::limiter::{AuthFailureLimiter, RateLimiter};
use crate::http::metrics::Metrics;
use crate::http::pagination::CursorCodec;

pub struct AppState {
    /// The store, behind the read cache.
    pub store: Arc<CachedStore>,
    pub limits: Limits,
    pub cursors: CursorCodec,
    pub rate_limiter: Option<RateLimiter>,
    /// Failed authentications allowed per client address, if limited.
    pub auth_failures: Option<AuthFailureLimiter>,
    pub metrics: Arc<Metrics>,
    /// Set once shutdown begins: `/readyz` then answers 503.
    pub draining: Arc<AtomicBool>,
    /// How long a handler may take before its request answers 503 (`http::deadline`).
    pub request_timeout: Duration,
    /// The lane large request bodies wait for (`http::large_bodies`).
    pub large_bodies: LargeBodyLane,
    /// How long an idempotency key and its answer are kept (`http::idempotency`).
    pub idempotency_key_ttl: Duration,
}
