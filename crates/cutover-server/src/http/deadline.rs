//! The whole-request deadline: a handler that has not produced its answer (reading
//! the body included) within `request_timeout` is abandoned, and the request answers
//! 503 in the envelope, with `Retry-After` and its request id like any other.
//!
//! It is a route layer, so it covers every route registered before it in
//! `crate::router`. Answers that are meant to wait (long polls and event streams,
//! issue 16) are exempted by registering their routes on a router merged after this
//! layer, with a bound of their own; nothing else needs to change here.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

/// Runs the rest of the request under the deadline. Dropping the handler's future is
/// safe, but a write it had begun may still take effect after the 503 (with the read
/// cache, writes run on as their own task; a PostgreSQL transaction dropped after
/// its commit was sent stays committed), so the message tells the caller to check
/// before repeating a write.
pub async fn enforce(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let deadline = state.request_timeout;
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::DeadlineExceeded { deadline }.into_response(),
    }
}
