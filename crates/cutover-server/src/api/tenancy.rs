//! Organisations, their tokens and their workspaces.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::TokenId;
use cutover_domain::model::{Org, Workspace};
use cutover_domain::permission::Operation;
use cutover_domain::token::{NewToken, digest_secret, display_prefix, generate_secret};
use cutover_store::{TokenToStore, WorkspaceScope};
use serde_json::Value;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, from_denial};
use crate::http::extract::{JsonBody, PathIds, QueryParams};
use crate::http::validation::Issue;
use crate::state::AppState;

pub async fn list_orgs(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    caller.authorize_global(Operation::OrgsList)?;
    let page = page_request(&state, &query, "orgs", "")?;
    let orgs = state
        .store
        .list_orgs(caller.0.org_id.as_ref(), page)
        .await?;
    Ok(page_body(&state, "orgs", "", orgs))
}

pub async fn create_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    caller.authorize_global(Operation::OrgsCreate)?;
    let new = inputs::new_org(&body.object()?, &state.limits)?;
    let org = state.store.create_org(new, &caller.actor()).await?;
    Ok(created(&uri, org.org_id.as_str(), &org))
}

pub async fn get_org(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Org>> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::OrgsGet, org_id)?;
    Ok(Json(state.store.get_org(org_id).await?))
}

pub async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::TokensCreate, org_id)?;
    let new = inputs::new_token(&body.object()?, &state.limits)?;
    caller
        .0
        .may_mint(&new)
        .map_err(|denial| from_denial(denial, "org", org_id.as_str()))?;
    for (index, workspace_id) in new.workspace_ids.iter().flatten().enumerate() {
        let scope = WorkspaceScope {
            org_id: org_id.clone(),
            workspace_id: workspace_id.clone(),
        };
        if let Err(cutover_store::StoreError::NotFound { .. }) =
            state.store.get_workspace(&scope).await
        {
            return Err(ApiError::Validation(vec![Issue::value_error(
                vec!["body".into(), "workspace_ids".into(), index.into()],
                "must name a workspace of this org",
                Value::String(workspace_id.to_string()),
            )]));
        }
    }
    let secret = generate_secret();
    let token = state
        .store
        .create_token(TokenToStore {
            token_id: TokenId::generate(),
            org_id: Some(org_id.clone()),
            spec: new,
            prefix: display_prefix(&secret),
            secret_digest: digest_secret(&secret),
            created_by: caller.actor(),
        })
        .await?;
    let mut body = serde_json::to_value(&token).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Value::Object(map) = &mut body {
        map.insert("token".into(), Value::String(secret));
    }
    Ok(created(&uri, token.token_id.as_str(), &body))
}

pub async fn list_tokens(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::TokensList, org_id)?;
    let page = page_request(&state, &query, "tokens", org_id.as_str())?;
    let tokens = state.store.list_tokens(org_id, page).await?;
    Ok(page_body(&state, "tokens", org_id.as_str(), tokens))
}

pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::TokensRevoke, org_id)?;
    let token_id = ids.token()?;
    if caller.0.workspace_ids.is_some() {
        // A workspace-limited caller manages only tokens limited within its own
        // workspaces, the same rule that bounds what it may mint.
        let target = state.store.get_token(org_id, token_id).await?;
        caller
            .0
            .may_mint(&NewToken {
                name: target.name,
                permissions: Vec::new(),
                workspace_ids: target.workspace_ids,
                expires_at: None,
            })
            .map_err(|denial| from_denial(denial, "org", org_id.as_str()))?;
    }
    state.store.revoke_token(org_id, token_id).await?;
    Ok(deleted())
}

pub async fn create_workspace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let org_id = ids.org()?;
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
        .create_workspace(org_id, new, &caller.actor())
        .await?;
    Ok(created(&uri, workspace.workspace_id.as_str(), &workspace))
}

pub async fn get_workspace(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Workspace>> {
    let scope = ids.workspace_scope()?;
    caller.authorize_workspace(Operation::WorkspacesGet, &scope)?;
    Ok(Json(state.store.get_workspace(&scope).await?))
}

pub async fn list_workspaces(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::WorkspacesList, org_id)?;
    let page = page_request(&state, &query, "workspaces", org_id.as_str())?;
    let workspaces = state
        .store
        .list_workspaces(org_id, caller.0.workspace_ids.as_deref(), page)
        .await?;
    Ok(page_body(&state, "workspaces", org_id.as_str(), workspaces))
}
