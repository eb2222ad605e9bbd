//! A workspace's environments (list, create, read, change, delete; a path names one
//! by its id or its slug) and an app's board: what of the app is deployed in each.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::environment::Environment;
use cutover_domain::permission::Operation;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{created, deleted, environment_inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::{ApiResult, ErrorEnvelope};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppPath, EnvironmentPath, WorkspacePath};
use crate::openapi::bodies::{EnvironmentPatchBody, NewEnvironmentBody};
use crate::openapi::lists::{AppBoard, Deleted, EnvironmentList};
use crate::openapi::params::ListQuery;
use crate::openapi::responses::{BodyErrors, Errors, NotFound};
use crate::state::AppState;

/// The answer of a create, in the platform's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvironmentCreated {
    /// `Environment created successfully`.
    #[schema(examples("Environment created successfully"))]
    pub message: &'static str,
    pub environment: Environment,
}

/// List a workspace's environments
///
/// In the order they were created: the three every workspace starts with
/// (`production`, the default; `staging`; `development`) first.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/environments",
    operation_id = Operation::EnvironmentsList.as_str(),
    tag = "environments",
    params(WorkspacePath, ListQuery),
    responses((status = 200, description = "A page of environments", body = EnvironmentList),
        NotFound, Errors),
)]
pub async fn list_environments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: WorkspacePath,
    query: QueryParams,
) -> ApiResult<Json<EnvironmentList>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::EnvironmentsList, &scope)?;
    let page = page_request(&state, &query, "environments", scope.workspace_id.as_str())?;
    let environments = state
        .store
        .environments()
        .list_environments(&scope, page)
        .await?;
    Ok(page_body(&state, scope.workspace_id.as_str(), environments))
}

/// Create an environment
///
/// With `is_default: true` it becomes the workspace's default, taking the flag from
/// the previous default.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/environments",
    operation_id = Operation::EnvironmentsCreate.as_str(),
    tag = "environments",
    params(WorkspacePath),
    request_body(content = NewEnvironmentBody),
    responses(
        (status = 201, description = "The new environment", body = EnvironmentCreated,
            headers(("Location" = String, description = "The new environment's path"))),
        (status = 409, description = "`environment_slug_taken`: the workspace has an \
            environment with this slug; `limit_reached`: it has as many environments as \
            allowed (`details.limit`)", body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_environment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: WorkspacePath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::EnvironmentsCreate, &scope)?;
    let new = environment_inputs::new_environment(&body.object()?, &state.limits)?;
    let environment = state
        .store
        .environments()
        .create_environment(&scope, new, &caller.actor())
        .await?;
    let id = environment.environment_id.clone();
    let answer = EnvironmentCreated {
        message: "Environment created successfully",
        environment,
    };
    Ok(created(&uri, id.as_str(), &answer))
}

/// Get an environment
///
/// `active_deployments` maps each app of the workspace with a release deployed here
/// to that release.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/environments/{environment}",
    operation_id = Operation::EnvironmentsGet.as_str(),
    tag = "environments",
    params(EnvironmentPath),
    responses((status = 200, description = "The environment", body = Environment),
        NotFound, Errors),
)]
pub async fn get_environment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EnvironmentPath,
) -> ApiResult<Json<Environment>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::EnvironmentsGet, &scope)?;
    Ok(Json(
        state
            .store
            .environments()
            .get_environment(&scope, &ids.environment)
            .await?,
    ))
}

/// Change an environment
///
/// Each field given is set. `is_default: true` makes it the default (the previous
/// default loses the flag); the default cannot be given `is_default: false` (make
/// another environment the default instead).
#[utoipa::path(
    patch,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/environments/{environment}",
    operation_id = Operation::EnvironmentsUpdate.as_str(),
    tag = "environments",
    params(EnvironmentPath),
    request_body(content = EnvironmentPatchBody),
    responses(
        (status = 200, description = "The changed environment", body = Environment),
        (status = 409, description = "`environment_slug_taken`: another environment of the \
            workspace has this slug; `environment_is_default`: the default keeps its flag",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn update_environment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EnvironmentPath,
    body: JsonBody,
) -> ApiResult<Json<Environment>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::EnvironmentsUpdate, &scope)?;
    let patch = environment_inputs::environment_patch(&body.object()?, &state.limits)?;
    Ok(Json(
        state
            .store
            .environments()
            .update_environment(&scope, &ids.environment, patch)
            .await?,
    ))
}

/// Delete an environment
///
/// Neither the default environment nor one with a release deployed in it can be
/// deleted.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/environments/{environment}",
    operation_id = Operation::EnvironmentsDelete.as_str(),
    tag = "environments",
    params(EnvironmentPath),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "`environment_is_default`: it is the workspace's default; \
            `environment_has_deployments`: releases are deployed in it (`details.app_ids`)",
            body = ErrorEnvelope),
        NotFound, Errors,
    ),
)]
pub async fn delete_environment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EnvironmentPath,
) -> ApiResult<Json<Value>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::EnvironmentsDelete, &scope)?;
    state
        .store
        .environments()
        .delete_environment(&scope, &ids.environment)
        .await?;
    Ok(deleted())
}

/// The app's board
///
/// One entry per environment of the app's workspace, oldest first, with the release
/// of the app deployed there (the full summary), and when and by whom the record
/// that put it there was written; null where nothing is.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/environments",
    operation_id = Operation::AppEnvironmentsList.as_str(),
    tag = "environments",
    params(AppPath, ListQuery),
    responses((status = 200, description = "A page of the app's board", body = AppBoard),
        NotFound, Errors),
)]
pub async fn list_app_environments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<AppBoard>> {
    let scope = ids.app();
    caller.authorize_app(Operation::AppEnvironmentsList, &scope)?;
    let page = page_request(&state, &query, "environments", scope.app_id.as_str())?;
    let board = state.store.environments().app_board(&scope, page).await?;
    Ok(page_body(&state, scope.app_id.as_str(), board))
}
