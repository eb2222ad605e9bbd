//! Liveness and readiness probes (no authentication).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers; 503 (with Retry-After) while it does not.
pub async fn readyz(State(state): State<Arc<AppState>>) -> ApiResult<Json<Value>> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(error) => Err(ApiError::Unavailable {
            cause: error.to_string(),
        }),
    }
}
