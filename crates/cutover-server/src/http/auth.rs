//! Authentication (bearer token → [`Caller`], with the rate limits of `limiter`) and
//! the authorization check every handler makes through the operation table of
//! `cutover_domain::permission`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cutover_domain::deployment::DeployAuthority;
use cutover_domain::permission::Operation;
use cutover_domain::token::{Denial, Principal, Token, digest_secret};
use cutover_domain::{OrgId, Timestamp, WorkspaceId};
use cutover_store::{AppScope, WorkspaceScope};

use crate::http::error::{ApiError, ApiResult, from_denial};
use crate::http::limiter::client_address;
use crate::state::AppState;

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

/// A caller authenticated before its handler ran, which the handler's [`Caller`]
/// takes instead of authenticating again (a request extension: only the server
/// sets it).
#[derive(Clone)]
pub struct Authenticated(pub Principal);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    /// A request that presents a credential from an address that has used up its
    /// budget of failed authentications is refused (429) before its token is looked
    /// up; each credential that fails counts against the address.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        // Authenticated already (by `http::idempotency`, which scopes keys to the
        // caller): not looked up, nor counted against its rate limit, twice.
        if let Some(Authenticated(principal)) = parts.extensions.remove() {
            return Ok(Self(principal));
        }
        let secret = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let guard = state
            .auth_failures
            .as_ref()
            .zip(client_address(&parts.extensions));
        if let Some((limiter, address)) = guard {
            limiter.admit(address)?;
        }
        let token = match authenticate(state, secret).await {
            Err(ApiError::Unauthenticated) => {
                if let Some((limiter, address)) = guard {
                    limiter.record_failure(address);
                }
                return Err(ApiError::Unauthenticated);
            }
            other => other?,
        };
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(&token.token_id)?;
        }
        Ok(Self(Principal::from_token(&token)))
    }
}

/// The live token behind `secret`, or `Unauthenticated`.
async fn authenticate(state: &AppState, secret: &str) -> ApiResult<Token> {
    let token = state
        .store
        .tokens()
        .find_token(&digest_secret(secret))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let now = Timestamp::now();
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|expiry| expiry <= now) {
        return Err(ApiError::Unauthenticated);
    }
    Ok(token)
}

impl Caller {
    /// Whose idempotency keys the caller's are: its token's org, or for a platform
    /// token, the token.
    pub fn key_scope(&self) -> String {
        match &self.0.org_id {
            Some(org_id) => org_id.to_string(),
            None => self.0.token_id.to_string(),
        }
    }

    pub fn actor(&self) -> String {
        self.0.actor()
    }

    /// Which environments the caller may deploy to (protected ones need
    /// `releases:activate`); the store checks it against the environment it reads.
    pub fn deploy_authority(&self) -> DeployAuthority {
        DeployAuthority::of(&self.0.grants)
    }

    fn check(
        &self,
        operation: Operation,
        org: Option<&OrgId>,
        workspace: Option<&WorkspaceId>,
    ) -> ApiResult<()> {
        let permission = operation.required_permission();
        if operation.needs_platform_token() && !self.0.is_platform() {
            return Err(from_denial(Denial::PlatformOnly(permission), "org", ""));
        }
        self.0
            .authorize(permission, org, workspace)
            .map_err(|denial| {
                let org_id = org.map(ToString::to_string).unwrap_or_default();
                from_denial(denial, "org", &org_id)
            })
    }

    /// Authorizes an operation that is not inside any org (listing or creating orgs).
    pub fn authorize_global(&self, operation: Operation) -> ApiResult<()> {
        self.check(operation, None, None)
    }

    pub fn authorize_org(&self, operation: Operation, org: &OrgId) -> ApiResult<()> {
        self.check(operation, Some(org), None)
    }

    pub fn authorize_workspace(
        &self,
        operation: Operation,
        scope: &WorkspaceScope,
    ) -> ApiResult<()> {
        self.check(operation, Some(&scope.org_id), Some(&scope.workspace_id))
    }

    pub fn authorize_app(&self, operation: Operation, scope: &AppScope) -> ApiResult<()> {
        self.check(operation, Some(&scope.org_id), Some(&scope.workspace_id))
    }
}
