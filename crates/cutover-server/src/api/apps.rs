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
use crate::http::error::ErrorEnvelope;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppPath, WorkspacePath};
use crate::openapi::bodies::{AppPatchBody, NewAppBody};
use crate::openapi::lists::{AppList, Deleted};
use crate::openapi::params::ListQuery;
use crate::openapi::responses::{BodyErrors, Errors, NotFound};
use crate::state::AppState;

/// Create an app
///
/// A new app has an empty draft and no releases.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps",
    operation_id = Operation::AppsCreate.as_str(),
    tag = "apps",
    params(WorkspacePath),
    request_body(content = NewAppBody),
    responses(
        (status = 201, description = "The new app", body = App,
            headers(("Location" = String, description = "The new app's path"))),
        (status = 409, description = "`app_name_taken`: the workspace has an app of this name; \
            `limit_reached`: the workspace has as many apps as allowed (`details.limit`)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: WorkspacePath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::AppsCreate, &scope)?;
    let new = inputs::new_app(&body.object()?, &state.limits)?;
    let app = state
        .store
        .apps()
        .create_app(&scope, new, &caller.actor())
        .await?;
    Ok(created(&uri, app.app_id.as_str(), &app))
}

/// List apps
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps",
    operation_id = Operation::AppsList.as_str(),
    tag = "apps",
    params(WorkspacePath, ListQuery),
    responses((status = 200, description = "A page of apps", body = AppList), NotFound, Errors),
)]
pub async fn list_apps(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: WorkspacePath,
    query: QueryParams,
) -> ApiResult<Json<AppList>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::AppsList, &scope)?;
    let page = page_request(&state, &query, "apps", scope.workspace_id.as_str())?;
    let apps = state.store.apps().list_apps(&scope, page).await?;
    Ok(page_body(&state, scope.workspace_id.as_str(), apps))
}

/// Get an app
///
/// With its active release id, release count, and whether the draft differs from
/// the newest release (`draft_has_changes`).
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}",
    operation_id = Operation::AppsGet.as_str(),
    tag = "apps",
    params(AppPath),
    responses((status = 200, description = "The app", body = App), NotFound, Errors),
)]
pub async fn get_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
) -> ApiResult<Json<App>> {
    let scope = ids.app();
    caller.authorize_app(Operation::AppsGet, &scope)?;
    Ok(Json(state.store.apps().get_app(&scope).await?))
}

/// Update an app
///
/// Any subset of `name`, `description`, `parameters`; `parameters` is replaced whole
/// (null resets it to `{}`).
#[utoipa::path(
    patch,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}",
    operation_id = Operation::AppsUpdate.as_str(),
    tag = "apps",
    params(AppPath),
    request_body(content = AppPatchBody),
    responses(
        (status = 200, description = "The updated app", body = App),
        (status = 409, description = "`app_name_taken`: the workspace has an app of this name",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn update_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    body: JsonBody,
) -> ApiResult<Json<App>> {
    let scope = ids.app();
    caller.authorize_app(Operation::AppsUpdate, &scope)?;
    let patch = inputs::app_patch(&body.object()?, &state.limits)?;
    Ok(Json(state.store.apps().update_app(&scope, patch).await?))
}

/// Delete an app
///
/// Removes the app with its draft, releases and deployment records. An app with a
/// release deployed in any environment cannot be deleted.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}",
    operation_id = Operation::AppsDelete.as_str(),
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "`app_has_active_release`: a release of the app is \
            deployed in an environment (`details.active_release_id` names one)",
            body = ErrorEnvelope),
        NotFound, Errors,
    ),
)]
pub async fn delete_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
) -> ApiResult<Json<Value>> {
    let scope = ids.into_app();
    caller.authorize_app(Operation::AppsDelete, &scope)?;
    state.store.apps().delete_app(scope).await?;
    Ok(deleted())
}
