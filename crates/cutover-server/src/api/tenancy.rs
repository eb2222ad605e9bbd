//! Organisations and their workspaces (tokens are in `tokens`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::model::{Org, Workspace};
use cutover_domain::permission::Operation;

use super::{created, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::ErrorEnvelope;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{OrgPath, WorkspacePath};
use crate::openapi::bodies::{NewOrgBody, NewWorkspaceBody};
use crate::openapi::lists::{OrgList, WorkspaceList};
use crate::openapi::params::ListQuery;
use crate::openapi::responses::{BodyErrors, Errors, NotFound};
use crate::state::AppState;

/// List orgs
///
/// The orgs the token can see: all of them for a platform token, its own for an org
/// token.
#[utoipa::path(
    get,
    path = "/v1/orgs",
    operation_id = Operation::OrgsList.as_str(),
    tag = "orgs",
    params(ListQuery),
    responses((status = 200, description = "A page of orgs", body = OrgList), Errors),
)]
pub async fn list_orgs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<OrgList>> {
    caller.authorize_global(Operation::OrgsList)?;
    let page = page_request(&state, &query, "orgs", "")?;
    let orgs = state
        .store
        .tenancy()
        .list_orgs(caller.0.org_id.as_ref(), page)
        .await?;
    Ok(page_body(&state, "", orgs))
}

/// Create an org
#[utoipa::path(
    post,
    path = "/v1/orgs",
    operation_id = Operation::OrgsCreate.as_str(),
    tag = "orgs",
    request_body(content = NewOrgBody),
    responses(
        (status = 201, description = "The new org", body = Org,
            headers(("Location" = String, description = "The new org's path"))),
        (status = 409, description = "`org_slug_taken`: another org has this slug",
            body = ErrorEnvelope),
        BodyErrors, Errors,
    ),
)]
pub async fn create_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    caller.authorize_global(Operation::OrgsCreate)?;
    let new = inputs::new_org(&body.object()?, &state.limits)?;
    let org = state
        .store
        .tenancy()
        .create_org(new, &caller.actor())
        .await?;
    Ok(created(&uri, org.org_id.as_str(), &org))
}

/// Get an org
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}",
    operation_id = Operation::OrgsGet.as_str(),
    tag = "orgs",
    params(OrgPath),
    responses((status = 200, description = "The org", body = Org), NotFound, Errors),
)]
pub async fn get_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: OrgPath,
) -> ApiResult<Json<Org>> {
    let org_id = &ids.org_id;
    caller.authorize_org(Operation::OrgsGet, org_id)?;
    Ok(Json(state.store.tenancy().get_org(org_id).await?))
}

/// Create a workspace
///
/// Tokens limited to some workspaces cannot create workspaces (403).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces",
    operation_id = Operation::WorkspacesCreate.as_str(),
    tag = "workspaces",
    params(OrgPath),
    request_body(content = NewWorkspaceBody),
    responses(
        (status = 201, description = "The new workspace", body = Workspace,
            headers(("Location" = String, description = "The new workspace's path"))),
        (status = 409, description = "`workspace_name_taken`: the org has a workspace of this \
            name; `limit_reached`: the org has as many workspaces as allowed (`details.limit`)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_workspace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: OrgPath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let org_id = &ids.org_id;
    caller.authorize_org(Operation::WorkspacesCreate, org_id)?;
    if caller.0.workspace_ids.is_some() {
        return Err(ApiError::Forbidden {
            required_permission: Operation::WorkspacesCreate
                .required_permission()
                .to_string(),
            message: "A token limited to some workspaces cannot create workspaces".into(),
            extra: Default::default(),
        });
    }
    let new = inputs::new_workspace(&body.object()?, &state.limits)?;
    let workspace = state
        .store
        .tenancy()
        .create_workspace(org_id, new, &caller.actor())
        .await?;
    Ok(created(&uri, workspace.workspace_id.as_str(), &workspace))
}

/// Get a workspace
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}",
    operation_id = Operation::WorkspacesGet.as_str(),
    tag = "workspaces",
    params(WorkspacePath),
    responses((status = 200, description = "The workspace", body = Workspace), NotFound, Errors),
)]
pub async fn get_workspace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: WorkspacePath,
) -> ApiResult<Json<Workspace>> {
    let scope = ids.workspace();
    caller.authorize_workspace(Operation::WorkspacesGet, &scope)?;
    Ok(Json(state.store.tenancy().get_workspace(&scope).await?))
}

/// List workspaces
///
/// The org's workspaces; a workspace-limited token sees only its own.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces",
    operation_id = Operation::WorkspacesList.as_str(),
    tag = "workspaces",
    params(OrgPath, ListQuery),
    responses((status = 200, description = "A page of workspaces", body = WorkspaceList),
        NotFound, Errors),
)]
pub async fn list_workspaces(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: OrgPath,
    query: QueryParams,
) -> ApiResult<Json<WorkspaceList>> {
    let org_id = &ids.org_id;
    caller.authorize_org(Operation::WorkspacesList, org_id)?;
    let page = page_request(&state, &query, "workspaces", org_id.as_str())?;
    let workspaces = state
        .store
        .tenancy()
        .list_workspaces(org_id, caller.0.workspace_ids.as_deref(), page)
        .await?;
    Ok(page_body(&state, org_id.as_str(), workspaces))
}
