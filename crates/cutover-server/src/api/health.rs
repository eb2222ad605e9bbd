//! Liveness and readiness probes and the metrics page (no authentication).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::http::error::{ApiError, ApiResult};
use crate::openapi::lists::ProbeStatus;
use crate::openapi::responses::Unavailable;
use crate::state::AppState;

/// How long `/readyz` waits for the database before saying 503.
const READY_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Liveness probe
///
/// The process is up and serving HTTP. Never touches the database.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health_live",
    tag = "operations",
    responses(
        (status = 200, description = "The process is alive", body = ProbeStatus,
            example = json!({"status": "ok"})),
    ),
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness probe
///
/// The database answers (within a second) and the server is not shutting down;
/// 503 with `Retry-After` otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "health_ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = ProbeStatus,
            example = json!({"status": "ready"})),
        Unavailable,
    ),
)]
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

/// Metrics
///
/// Request counters and latency histograms in the Prometheus text format, labelled
/// by method, route template and status.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics_get",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition (version 0.0.4)",
            body = String, content_type = "text/plain"),
    ),
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = state.metrics.render();
            state.large_bodies.render(&mut text);
            text
        },
    )
}
