//! Releases: cut, list, read, activate, roll back, archive, delete; and the
//! activation history.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::ReleaseId;
use cutover_domain::model::{ActivationAction, ReleaseDetail, ReleaseSummary};
use cutover_domain::permission::Operation;
use cutover_store::{ActivationOutcome, ReleaseQuery};
use serde::Serialize;
use serde_json::Value;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, PathIds, QueryParams};
use crate::http::pagination::list_envelope;
use crate::state::AppState;

pub async fn create_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesCreate, &scope)?;
    let new = inputs::new_release(&body.object()?, &state.limits)?;
    if new.activate {
        // Creating with activate: true also needs the right to activate.
        caller.authorize_app(Operation::ReleasesActivate, &scope)?;
    }
    let release = state
        .store
        .create_release(&scope, new, &caller.actor())
        .await?;
    Ok(created(&uri, release.summary.release_id.as_str(), &release))
}

pub async fn list_releases(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesList, &scope)?;
    let mut issues = Vec::new();
    let include_archived = query.flag("include_archived", false, &mut issues);
    // The filter is part of the cursor's list name: a cursor never crosses filters.
    let list = if include_archived {
        "releases+archived"
    } else {
        "releases"
    };
    let page = match page_request(&state, &query, list, scope.app_id.as_str()) {
        Ok(page) => page,
        Err(ApiError::Validation(more)) => {
            issues.extend(more);
            return Err(ApiError::Validation(issues));
        }
        Err(other) => return Err(other),
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let before_number = page
        .after
        .map(|position| position.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::internal("a signed release cursor held no number"))?;
    let result = state
        .store
        .list_releases(
            &scope,
            ReleaseQuery {
                limit: page.limit,
                before_number,
                include_archived,
            },
        )
        .await?;
    let next = result.next_before_number.map(|number| {
        state
            .cursors
            .encode(list, scope.app_id.as_str(), &number.to_string())
    });
    let mut body = list_envelope("releases", &result.releases, result.total, next);
    body.insert(
        "active_release_id".into(),
        result
            .active_release_id
            .map_or(Value::Null, |id| Value::String(id.to_string())),
    );
    Ok(Json(Value::Object(body)))
}

pub async fn get_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<ReleaseDetail>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesGet, &scope)?;
    Ok(Json(state.store.get_release(&scope, ids.release()?).await?))
}

pub async fn get_active_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<ReleaseDetail>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesGetActive, &scope)?;
    let active = state.store.get_active_release(&scope).await?;
    active
        .map(Json)
        .ok_or_else(|| ApiError::not_found("release", "active"))
}

/// The answer of activate and rollback.
#[derive(Serialize)]
struct ActivationAnswer {
    message: String,
    release: ReleaseSummary,
    previous_active_release_id: Option<ReleaseId>,
}

fn activation_answer(action: ActivationAction, outcome: ActivationOutcome) -> ActivationAnswer {
    let release = &outcome.release;
    let label = format!("{} (#{})", release.release_tag, release.release_number);
    let message = match (outcome.changed, action) {
        (false, _) => format!("Release {label} is already active"),
        (true, ActivationAction::Activate) => format!("Release {label} activated"),
        (true, ActivationAction::Rollback) => format!("Rolled back to release {label}"),
    };
    ActivationAnswer {
        message,
        release: outcome.release,
        previous_active_release_id: outcome.previous_active_release_id,
    }
}

async fn switch(
    state: &AppState,
    caller: &Caller,
    ids: &PathIds,
    action: ActivationAction,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    let operation = match action {
        ActivationAction::Activate => Operation::ReleasesActivate,
        ActivationAction::Rollback => Operation::ReleasesRollback,
    };
    caller.authorize_app(operation, &scope)?;
    let outcome = state
        .store
        .activate_release(&scope, ids.release()?, action, &caller.actor())
        .await?;
    let answer = activation_answer(action, outcome);
    Ok(Json(
        serde_json::to_value(answer).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

pub async fn activate_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    switch(&state, &caller, &ids, ActivationAction::Activate).await
}

pub async fn rollback_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    switch(&state, &caller, &ids, ActivationAction::Rollback).await
}

pub async fn archive_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<ReleaseSummary>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesArchive, &scope)?;
    Ok(Json(
        state.store.archive_release(&scope, ids.release()?).await?,
    ))
}

pub async fn delete_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ReleasesDelete, &scope)?;
    state.store.delete_release(&scope, ids.release()?).await?;
    Ok(deleted())
}

pub async fn list_activations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::ActivationsList, &scope)?;
    let page = page_request(&state, &query, "activations", scope.app_id.as_str())?;
    let history = state.store.list_activations(&scope, page).await?;
    Ok(page_body(
        &state,
        "activations",
        scope.app_id.as_str(),
        history,
    ))
}
