//! Apps inside a workspace.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use cutover_domain::model::App;
use cutover_domain::permission::Operation;
use serde_json::Value;

use super::{created_tagged, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::conditional::tagged;
use crate::http::error::ApiResult;
use crate::http::error::ErrorEnvelope;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppPath, WorkspacePath};
use crate::http::precondition;
use crate::openapi::bodies::{AppPatchBody, NewAppBody};
use crate::openapi::lists::{AppList, Deleted};
use crate::openapi::params::{IfMatchEntity, ListQuery};
use crate::openapi::responses::{BodyErrors, Errors, NotFound, PreconditionErrors};
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
            headers(("Location" = String, description = "The new app's path"), ("ETag" = String, description = "This version's tag, for `If-Match`"))),
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
    created_tagged(&uri, app.app_id.as_str(), &app)
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
    responses((status = 200, description = "The app", body = App, headers(("ETag" = String, description = "This version's tag, for `If-Match`"))),
        NotFound, Errors),
)]
pub async fn get_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::AppsGet, &scope)?;
    tagged(StatusCode::OK, &state.store.apps().get_app(&scope).await?)
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
    params(AppPath, IfMatchEntity),
    request_body(content = AppPatchBody),
    responses(
        (status = 200, description = "The updated app", body = App, headers(("ETag" = String, description = "This version's tag, for `If-Match`"))),
        (status = 409, description = "`app_name_taken`: the workspace has an app of this name",
            body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn update_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::AppsUpdate, &scope)?;
    let patch = inputs::app_patch(&body.object()?, &state.limits)?;
    let if_match = precondition::if_match(&headers)?;
    let app = state
        .store
        .apps()
        .update_app(&scope, patch, if_match.as_ref())
        .await?;
    tagged(StatusCode::OK, &app)
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
    params(AppPath, IfMatchEntity),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "`app_has_active_release`: a release of the app is \
            deployed in an environment (`details.active_release_id` names one)",
            body = ErrorEnvelope),
        PreconditionErrors, NotFound, Errors,
    ),
)]
pub async fn delete_app(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let scope = ids.into_app();
    caller.authorize_app(Operation::AppsDelete, &scope)?;
    let if_match = precondition::if_match(&headers)?;
    state
        .store
        .apps()
        .delete_app(scope, if_match.as_ref())
        .await?;
    Ok(deleted())
}
