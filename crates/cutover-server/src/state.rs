//! What every handler shares: the store, the limits, the cursor codec and the
//! optional rate limiter.

use std::sync::Arc;

use cutover_domain::limits::Limits;
use cutover_store::Store;

use crate::http::auth::RateLimiter;
use crate::http::pagination::CursorCodec;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    pub cursors: CursorCodec,
    pub rate_limiter: Option<RateLimiter>,
}
