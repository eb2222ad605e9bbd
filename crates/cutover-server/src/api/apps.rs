//! Apps inside a workspace.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::model::App;
use cutover_domain::permission::Operation;
use serde_json::Value;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{JsonBody, PathIds, QueryParams};
use crate::state::AppState;

pub async fn create_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.workspace_scope()?;
    caller.authorize_workspace(Operation::AppsCreate, &scope)?;
    let new = inputs::new_app(&body.object()?, &state.limits)?;
    let app = state.store.create_app(&scope, new, &caller.actor()).await?;
    Ok(created(&uri, app.app_id.as_str(), &app))
}

pub async fn list_apps(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let scope = ids.workspace_scope()?;
    caller.authorize_workspace(Operation::AppsList, &scope)?;
    let page = page_request(&state, &query, "apps", scope.workspace_id.as_str())?;
    let apps = state.store.list_apps(&scope, page).await?;
    Ok(page_body(&state, "apps", scope.workspace_id.as_str(), apps))
}

pub async fn get_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<App>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AppsGet, &scope)?;
    Ok(Json(state.store.get_app(&scope).await?))
}

pub async fn update_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    body: JsonBody,
) -> ApiResult<Json<App>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AppsUpdate, &scope)?;
    let patch = inputs::app_patch(&body.object()?, &state.limits)?;
    Ok(Json(state.store.update_app(&scope, patch).await?))
}

pub async fn delete_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AppsDelete, &scope)?;
    state.store.delete_app(&scope).await?;
    Ok(deleted())
}
