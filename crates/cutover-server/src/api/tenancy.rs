//! Organisations, their tokens and their workspaces.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::TokenId;
use cutover_domain::model::{Org, Workspace};
use cutover_domain::permission::Operation;
use cutover_domain::token::{NewToken, Token, digest_secret, display_prefix, generate_secret};
use cutover_store::{Store as _, TokenToStore, WorkspaceScope};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::ErrorEnvelope;
use crate::http::error::{ApiError, ApiResult, from_denial};
use crate::http::extract::{JsonBody, PathIds, QueryParams};
use crate::http::validation::Issue;
use crate::openapi::bodies::{NewOrgBody, NewTokenBody, NewWorkspaceBody};
use crate::openapi::lists::{Deleted, OrgList, TokenList, WorkspaceList};
use crate::openapi::params::{ListQuery, OrgPath, TokenPath, WorkspacePath};
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
) -> ApiResult<Json<Value>> {
    caller.authorize_global(Operation::OrgsList)?;
    let page = page_request(&state, &query, "orgs", "")?;
    let orgs = state
        .store
        .list_orgs(caller.0.org_id.as_ref(), page)
        .await?;
    Ok(page_body(&state, "orgs", "", orgs))
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
    let org = state.store.create_org(new, &caller.actor()).await?;
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
    ids: PathIds,
) -> ApiResult<Json<Org>> {
    let org_id = ids.org()?;
    caller.authorize_org(Operation::OrgsGet, org_id)?;
    Ok(Json(state.store.get_org(org_id).await?))
}

/// A new token with its secret: the only answer that ever carries the secret.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub token: Token,
    /// The secret: send it as `Authorization: Bearer <token>`. Shown only here.
    #[serde(rename = "token")]
    #[schema(examples("cut_5j8d0k2m4n6p8r0t2v4w6x8y0z2a4b6c8d0e2f4g6h8j0k2m4n6p"))]
    pub secret: String,
}

/// Mint a token
///
/// The answer holds the secret (`token`) — the only time it is shown. The new token
/// can hold no permission and no workspace the caller lacks (403).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/tokens",
    operation_id = Operation::TokensCreate.as_str(),
    tag = "tokens",
    params(OrgPath),
    request_body(content = NewTokenBody),
    responses(
        (status = 201, description = "The new token, with its secret", body = TokenCreated,
            headers(("Location" = String, description = "The new token's path"))),
        (status = 409, description = "`token_exists`: the generated secret collided (retry)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
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
    if new
        .workspace_ids
        .as_ref()
        .is_some_and(|ids| !ids.is_empty())
    {
        // An org that does not exist is a 404 whatever the body names, as it is
        // without `workspace_ids`; only then are the names checked against it.
        state.store.get_org(org_id).await?;
    }
    for (index, workspace_id) in new.workspace_ids.iter().flatten().enumerate() {
        let scope = WorkspaceScope {
            org_id: org_id.clone(),
            workspace_id: workspace_id.clone(),
        };
        if let Err(cutover_store::StoreError::NotFound { .. }) =
            state.store.get_workspace(&scope).await
        {
            return Err(ApiError::Validation(
                Issue::value_error(
                    vec!["body".into(), "workspace_ids".into(), index.into()],
                    "must name a workspace of this org",
                    workspace_id.as_str(),
                )
                .into(),
            ));
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
    let token_id = token.token_id.clone();
    let body = TokenCreated { token, secret };
    Ok(created(&uri, token_id.as_str(), &body))
}

/// List tokens
///
/// The org's tokens that are not revoked, never with their secrets.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/tokens",
    operation_id = Operation::TokensList.as_str(),
    tag = "tokens",
    params(OrgPath, ListQuery),
    responses((status = 200, description = "A page of tokens", body = TokenList), NotFound, Errors),
)]
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

/// Revoke a token
///
/// From now on the token answers 401. A workspace-limited caller may revoke only
/// tokens limited within its own workspaces.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/tokens/{token_id}",
    operation_id = Operation::TokensRevoke.as_str(),
    tag = "tokens",
    params(TokenPath),
    responses((status = 200, description = "Revoked", body = Deleted), NotFound, Errors),
)]
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
        (status = 409, description = "`workspace_name_taken`: the org has a workspace of this name",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
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
    ids: PathIds,
) -> ApiResult<Json<Workspace>> {
    let scope = ids.workspace_scope()?;
    caller.authorize_workspace(Operation::WorkspacesGet, &scope)?;
    Ok(Json(state.store.get_workspace(&scope).await?))
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
