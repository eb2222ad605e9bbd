//! Tokens: an org's tokens (minted, listed and revoked by its `tokens:manage`
//! holders) and platform tokens (no org; listed and revoked by platform admins).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::TokenId;
use cutover_domain::permission::Operation;
use cutover_domain::token::{Token, digest_secret, display_prefix, generate_secret};
use cutover_store::{TokenToStore, WorkspaceScope};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::ErrorEnvelope;
use crate::http::error::{ApiError, ApiResult, from_denial};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{OrgPath, PlatformTokenPath, TokenPath};
use crate::http::validation::Issue;
use crate::openapi::bodies::NewTokenBody;
use crate::openapi::lists::{Deleted, TokenList};
use crate::openapi::params::ListQuery;
use crate::openapi::responses::{BodyErrors, Errors, NotFound};
use crate::state::AppState;

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
/// can hold no permission and no workspace the caller lacks, and cannot outlive the
/// caller: under a caller that expires, an omitted `expires_at` inherits the caller's
/// expiry, and a later one or `null` is refused (403).
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
        (status = 409, description = "`token_exists`: the generated secret collided (retry); \
            `limit_reached`: the org has as many live tokens as allowed",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: OrgPath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let org_id = &ids.org_id;
    caller.authorize_org(Operation::TokensCreate, org_id)?;
    let (mut new, expiry) = inputs::new_token(&body.object()?, &state.limits)?;
    let refuse = |denial| from_denial(denial, "org", org_id.as_str());
    caller.0.may_mint(&new).map_err(refuse)?;
    new.expires_at = caller.0.child_expiry(expiry).map_err(refuse)?;
    if new
        .workspace_ids
        .as_ref()
        .is_some_and(|ids| !ids.is_empty())
    {
        // An org that does not exist is a 404 whatever the body names, as it is
        // without `workspace_ids`; only then are the names checked against it.
        state.store.tenancy().get_org(org_id).await?;
    }
    for (index, workspace_id) in new.workspace_ids.iter().flatten().enumerate() {
        let scope = WorkspaceScope {
            org_id: org_id.clone(),
            workspace_id: workspace_id.clone(),
        };
        if let Err(cutover_store::StoreError::NotFound { .. }) =
            state.store.tenancy().get_workspace(&scope).await
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
        .tokens()
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
/// The org's tokens that are not revoked, never with their secrets. A
/// workspace-limited caller sees only tokens limited to some of its own workspaces
/// (never an unlimited token).
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
    ids: OrgPath,
    query: QueryParams,
) -> ApiResult<Json<TokenList>> {
    let org_id = &ids.org_id;
    caller.authorize_org(Operation::TokensList, org_id)?;
    let page = page_request(&state, &query, "tokens", org_id.as_str())?;
    let within = caller.0.workspace_ids.as_deref();
    let tokens = state
        .store
        .tokens()
        .list_tokens(Some(org_id), within, page)
        .await?;
    Ok(page_body(&state, org_id.as_str(), tokens))
}

/// Revoke a token
///
/// From now on the token answers 401. A workspace-limited caller may revoke only
/// tokens limited to some of its own workspaces (403 otherwise).
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
    ids: TokenPath,
) -> ApiResult<Json<Value>> {
    let TokenPath { org_id, token_id } = ids;
    caller.authorize_org(Operation::TokensRevoke, &org_id)?;
    if caller.0.workspace_ids.is_some() {
        let target = state
            .store
            .tokens()
            .get_token(Some(&org_id), &token_id)
            .await?;
        caller
            .0
            .may_manage(&target)
            .map_err(|denial| from_denial(denial, "org", org_id.as_str()))?;
    }
    state
        .store
        .tokens()
        .revoke_token(Some(org_id), token_id)
        .await?;
    Ok(deleted())
}

/// List platform tokens
///
/// The live platform tokens (tokens of no org: the bootstrap token, the first-start
/// token), never with their secrets. Only platform tokens may call this.
#[utoipa::path(
    get,
    path = "/v1/tokens",
    operation_id = Operation::PlatformTokensList.as_str(),
    tag = "tokens",
    params(ListQuery),
    responses((status = 200, description = "A page of platform tokens", body = TokenList), Errors),
)]
pub async fn list_platform_tokens(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: QueryParams,
) -> ApiResult<Json<TokenList>> {
    caller.authorize_global(Operation::PlatformTokensList)?;
    // Cursors are signed for a scope; no org id can be `platform`.
    let page = page_request(&state, &query, "tokens", "platform")?;
    let tokens = state.store.tokens().list_tokens(None, None, page).await?;
    Ok(page_body(&state, "platform", tokens))
}

/// Revoke a platform token
///
/// From now on the token answers 401; a revoked bootstrap token stays revoked when
/// the server restarts with it configured (configure a new one). Only platform
/// tokens may call this; a token can revoke itself.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{token_id}",
    operation_id = Operation::PlatformTokensRevoke.as_str(),
    tag = "tokens",
    params(PlatformTokenPath),
    responses((status = 200, description = "Revoked", body = Deleted), NotFound, Errors),
)]
pub async fn revoke_platform_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PlatformTokenPath,
) -> ApiResult<Json<Value>> {
    caller.authorize_global(Operation::PlatformTokensRevoke)?;
    state
        .store
        .tokens()
        .revoke_token(None, ids.token_id)
        .await?;
    Ok(deleted())
}
