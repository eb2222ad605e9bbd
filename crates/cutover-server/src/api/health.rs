//! Liveness and readiness probes and the metrics page (no authentication).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long `/readyz` waits for the database before saying 503.
const READY_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers and the server is not shutting down; 503 (with
/// Retry-After) otherwise.
pub async fn readyz(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    if state.draining.load(Ordering::SeqCst) {
        return Err(ApiError::Unavailable {
            cause: "shutting down".into(),
        });
    }
    // A probe must answer promptly even when the database hangs or the pool waits
    // for a connection that will not come.
    match tokio::time::timeout(READY_PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready"}))),
        Ok(Err(error)) => Err(ApiError::Unavailable {
            cause: error.to_string(),
        }),
        Err(_) => Err(ApiError::Unavailable {
            cause: format!("the database did not answer within {READY_PROBE_TIMEOUT:?}"),
        }),
    }
}

/// Request counters and latency histograms in the Prometheus text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
