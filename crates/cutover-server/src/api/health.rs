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
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(error) => Err(ApiError::Unavailable {
            cause: error.to_string(),
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
