//! Authentication (bearer token → [`Caller`]) and the authorization check every
//! handler makes through the operation table of `cutover_domain::permission`.

use cutover_store::Store as _;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use cutover_domain::permission::Operation;
use cutover_domain::token::{Denial, Principal, digest_secret};
use cutover_domain::{OrgId, Timestamp, TokenId, WorkspaceId};
use cutover_store::{AppScope, WorkspaceScope};

use crate::http::error::{ApiError, ApiResult, from_denial};
use crate::state::AppState;

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let secret = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let token = state
            .store
            .find_token(&digest_secret(secret))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let now = Timestamp::now();
        if token.revoked_at.is_some() || token.expires_at.is_some_and(|expiry| expiry <= now) {
            return Err(ApiError::Unauthenticated);
        }
        if let Some(limiter) = &state.rate_limiter {
            limiter.check(&token.token_id)?;
        }
        Ok(Self(Principal::from_token(&token)))
    }
}

impl Caller {
    pub fn actor(&self) -> String {
        self.0.actor()
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

/// A token bucket per token: `per_second` requests on average, bursts up to `burst`.
/// Each server process keeps its own buckets.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<TokenId, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, token: &TokenId) -> ApiResult<()> {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle buckets rather than grow without bound; a full bucket is the
            // state an idle token would have anyway.
            let burst = self.burst;
            let rate = self.per_second;
            buckets.retain(|_, (level, at)| {
                *level + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (level, at) = buckets.entry(token.clone()).or_insert((self.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *level) / self.per_second).ceil().max(1.0) as u64;
            Err(ApiError::RateLimited {
                retry_after_seconds: wait,
            })
        }
    }
}
