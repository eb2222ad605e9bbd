//! What every handler shares: the store, the limits, the cursor codec and the
//! optional rate limiter,
//! and the request metrics.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cutover_domain::limits::Limits;
use cutover_store::Store;

use crate::http::auth::RateLimiter;
use crate::http::metrics::Metrics;
use crate::http::pagination::CursorCodec;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    pub cursors: CursorCodec,
    pub rate_limiter: Option<RateLimiter>,
    pub metrics: Arc<Metrics>,
    /// Set once shutdown begins: `/readyz` then answers 503.
    pub draining: Arc<AtomicBool>,
}
