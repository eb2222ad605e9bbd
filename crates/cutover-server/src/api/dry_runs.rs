//! Dry runs (`?dry_run=true`) of the writes that change releases or what is live:
//! the store rehearses the real write (`cutover_store::rehearsal`), and this module
//! renders what it saw: the release acted on and the one it would replace, status
//! changes, the real call's refusal as `blockers`, warnings (`cutover_domain::dry_run`)
//! and the diff of what the environment would have against what it has.

use axum::Json;
use axum::response::{IntoResponse, Response};
use cutover_domain::deployment::Deployment;
use cutover_domain::dry_run::{self, ReleaseBrief, StatusChange, Warning, WarningFacts};
use cutover_domain::permission::Operation;
use cutover_domain::{EnvironmentId, ReleaseId, Timestamp};
use cutover_store::rehearsal::{Rehearsal, RehearsedChange};
use cutover_store::{AppScope, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use super::diffs::{self, DiffAnswer, Side};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::QueryParams;
use crate::state::AppState;

/// The query flag that makes a write a dry run.
pub const FLAG: &str = "dry_run";

/// Whether the request asks for a dry run (`dry_run=true`); 422 for anything but
/// `true` or `false`.
pub fn requested(query: &QueryParams) -> ApiResult<bool> {
    let mut issues = Vec::new();
    let asked = query.flag(FLAG, false, &mut issues);
    if issues.is_empty() {
        Ok(asked)
    } else {
        Err(ApiError::Validation(issues.into()))
    }
}

/// The write a dry run rehearsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DryRunAction {
    CreateRelease,
    Activate,
    Rollback,
    Deploy,
    Promote,
    EnvironmentRollback,
    Archive,
    Delete,
}

/// The environment a dry run's write would change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnvironmentBrief {
    pub environment_id: EnvironmentId,
    pub slug: String,
    pub name: String,
}

impl EnvironmentBrief {
    fn of(record: &Deployment) -> Self {
        Self {
            environment_id: record.environment_id.clone(),
            slug: record.environment_slug.clone(),
            name: record.environment_name.clone(),
        }
    }
}

/// What a write would do: the answer (200) of every write asked with `dry_run=true`.
/// Nothing was written; the real call made next, with nothing changed in between,
/// does exactly this (or is refused exactly as `blockers` says).
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunAnswer {
    /// Always `true`: this answer changed nothing.
    pub dry_run: bool,
    pub action: DryRunAction,
    /// Whether the real call would go ahead (`blockers` is empty).
    pub allowed: bool,
    /// Whether the real call would change anything (`false` also when it would be
    /// refused).
    pub changes: bool,
    /// The environment whose release would change (null when none would: also for
    /// a deploy or activate of what it has already).
    #[schema(required = true)]
    pub environment: Option<EnvironmentBrief>,
    /// The release the write acts on: deployed, activated, rolled back to, cut (no
    /// id: the real cut picks it), archived or deleted. Null when refused.
    #[schema(required = true)]
    pub release: Option<ReleaseBrief>,
    /// The release `environment` has now, which `release` would replace.
    #[schema(required = true)]
    pub replaces: Option<ReleaseBrief>,
    /// Every release whose status would change.
    pub status_changes: Vec<StatusChange>,
    /// The refusal the real call would answer, exactly (its status, `error` and
    /// `details.reason`): a 403 for a protected environment, a 409, or a 412.
    pub blockers: Vec<ErrorEnvelope>,
    /// What would still go ahead but is worth knowing first.
    pub warnings: Vec<Warning>,
    /// What `environment` would have against what it has (a cut without a deploy:
    /// the new release against the newest one). Null when no environment would
    /// change, when refused, or when the token lacks `releases:read`.
    #[schema(required = true)]
    pub diff: Option<DiffAnswer>,
}

/// A refusal the real call answers because of what is stored (not because of what
/// the request says): reported as a blocker.
fn is_refusal(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Conflict { .. }
            | StoreError::Forbidden { .. }
            | StoreError::PreconditionFailed(_)
    )
}

/// Rehearses `write` and answers what it would do.
pub async fn answer(
    state: &AppState,
    caller: &Caller,
    scope: AppScope,
    action: DryRunAction,
    write: Rehearsal,
) -> ApiResult<Response> {
    let seen = state
        .store
        .releases()
        .rehearse(scope.clone(), write, caller.actor())
        .await?;
    let change = match seen.outcome {
        Ok(change) => change,
        Err(error) if is_refusal(&error) => return Ok(refused(action, error)),
        Err(error) => return Err(error.into()),
    };
    let status_changes = dry_run::status_changes(&seen.before, &seen.after);
    let last = seen.records.last();
    let release = dry_run::brief(&seen.before, &seen.after, change.release_id());
    let replaces = last
        .and_then(|record| record.previous_release_id.as_ref())
        .and_then(|id| dry_run::brief(&seen.before, &seen.after, id));
    let environment = last.map(EnvironmentBrief::of);
    let changes = !seen.records.is_empty() || !status_changes.is_empty();
    // Only a caller who may read releases is shown their content, or told (by a
    // warning) that two have the same.
    let may_read = caller
        .authorize_app(Operation::ReleasesDiff, &scope)
        .is_ok();
    let diff = match diff_sides(change, last) {
        Some((from, to)) if changes && may_read => {
            match diffs::between(state, &scope, from, to).await {
                Ok(diff) => Some(diff),
                // Deleted since the rehearsal read it: nothing left to compare.
                Err(ApiError::NotFound { .. }) => None,
                Err(error) => return Err(error),
            }
        }
        _ => None,
    };
    let same_as = diff
        .as_ref()
        .filter(|diff| diff.identical)
        .map(|diff| diffs::label(&diff.from));
    let warnings = dry_run::warnings(&WarningFacts {
        release: release.as_ref(),
        replaces: replaces.as_ref(),
        records: &seen.records,
        history: &seen.history,
        changes,
        same_content_as: same_as.as_deref(),
        now: Timestamp::now(),
    });
    Ok(Json(DryRunAnswer {
        dry_run: true,
        action,
        allowed: true,
        changes,
        environment,
        release,
        replaces,
        status_changes,
        blockers: Vec::new(),
        warnings,
        diff,
    })
    .into_response())
}

/// The answer of a dry run the real call would refuse.
fn refused(action: DryRunAction, error: StoreError) -> Response {
    Json(DryRunAnswer {
        dry_run: true,
        action,
        allowed: false,
        changes: false,
        environment: None,
        release: None,
        replaces: None,
        status_changes: Vec::new(),
        blockers: vec![ApiError::from(error).envelope(Timestamp::now())],
        warnings: Vec::new(),
        diff: None,
    })
    .into_response()
}

/// What to compare: what the environment has (or, for a cut that deploys nowhere,
/// the newest release) against what it would have.
fn diff_sides(change: RehearsedChange, last: Option<&Deployment>) -> Option<(Side, Side)> {
    let side = |id: Option<&ReleaseId>| id.cloned().map_or(Side::Nothing, Side::Release);
    match change {
        RehearsedChange::Created(document) => {
            let from = match last {
                Some(record) => record.previous_release_id.as_ref(),
                None => document.previous_release_id.as_ref(),
            };
            Some((side(from), Side::Cut(Box::new(document))))
        }
        RehearsedChange::Archived(_) | RehearsedChange::Deleted(_) => None,
        RehearsedChange::Activated(_)
        | RehearsedChange::Deployed(_)
        | RehearsedChange::RolledBack(_) => last.map(|record| {
            (
                side(record.previous_release_id.as_ref()),
                Side::Release(record.release_id.clone()),
            )
        }),
    }
}
