//! Releases: cut, list, read, activate, roll back, archive, delete; and the
//! activation history.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use cutover_domain::ReleaseId;
use cutover_domain::model::{ActivationAction, ReleaseDetail, ReleaseSummary};
use cutover_domain::permission::Operation;
use cutover_store::rehearsal::Rehearsal;
use cutover_store::{ActivationOutcome, ReleaseQuery};
use serde::Serialize;
use utoipa::ToSchema;

use super::dry_runs::{self, DryRunAction};
use super::{
    deleted, deployment_inputs, inputs, location, page_body, page_request, page_request_after,
};
use crate::cache::RenderedRelease;
use crate::http::auth::Caller;
use crate::http::conditional::{not_modified, release_created, release_response};
use crate::http::error::ErrorEnvelope;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppPath, ReleasePath};
use crate::http::precondition;
use crate::openapi::bodies::{ActivationBody, NewReleaseBody, ReasonBody};
use crate::openapi::lists::{ActivationList, Deleted, ReleaseList};
use crate::openapi::params::{
    ArchivedQuery, EnvironmentQuery, IfMatchDeployed, IfNoneMatch, ListQuery, ReasonHeader,
};
use crate::openapi::responses::{
    ActiveReleaseRead, BodyErrors, Errors, NotFound, PreconditionErrors, ReleaseRead,
};
use crate::state::AppState;

/// Cut a release
///
/// Snapshots the whole draft atomically into a new `ready` release numbered one past
/// the highest number the app ever had. With `activate: true` it is also deployed in
/// the same transaction: to the workspace's default environment (as `activate`
/// does, so this needs `releases:activate` as well), or to the one `environment`
/// names (which needs `releases:deploy`, and `releases:activate` if it is protected).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases",
    operation_id = Operation::ReleasesCreate.as_str(),
    tag = "releases",
    params(AppPath),
    request_body(content = NewReleaseBody),
    responses(
        (status = 201, description = "The new release, with its snapshot and change log",
            body = ReleaseDetail,
            headers(("Location" = String, description = "The new release's path"),
                ("ETag" = String, description = "The tag its reads will carry while it reads \
                    the same (see `releases_get`)"))),
        (status = 409, description = "`release_tag_exists`: a release of the app has this \
            tag (`details.existing_release_id`, `details.existing_release_number`); \
            `limit_reached`: the app has as many releases as allowed (`details.limit`)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    uri: Uri,
    query: QueryParams,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.into_app();
    caller.authorize_app(Operation::ReleasesCreate, &scope)?;
    let dry_run = dry_runs::requested(&query)?;
    let new = inputs::new_release(&body.object()?, &state.limits, caller.deploy_authority())?;
    match new.deploy.as_ref().map(|deploy| &deploy.environment) {
        // Activating on create needs the right to activate.
        Some(None) => caller.authorize_app(Operation::ReleasesActivate, &scope)?,
        Some(Some(_)) => caller.authorize_app(Operation::DeploymentsCreate, &scope)?,
        None => {}
    }
    if dry_run {
        let write = Rehearsal::CreateRelease(new);
        return dry_runs::answer(&state, &caller, scope, DryRunAction::CreateRelease, write).await;
    }
    let release = state
        .store
        .releases()
        .create(scope, new, caller.actor())
        .await?;
    let location = location(&uri, release.summary.release_id.as_str());
    Ok(release_created(
        &location,
        &RenderedRelease::render(&release, None)?,
    ))
}

/// List releases
///
/// Newest (highest number) first; archived releases only with
/// `include_archived=true`.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases",
    operation_id = Operation::ReleasesList.as_str(),
    tag = "releases",
    params(AppPath, ListQuery, ArchivedQuery),
    responses((status = 200, description = "A page of releases", body = ReleaseList),
        NotFound, Errors),
)]
pub async fn list_releases(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<ReleaseList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::ReleasesList, &scope)?;
    let mut issues = Vec::new();
    let include_archived = query.flag("include_archived", false, &mut issues);
    // The filter is part of the cursor's list name: a cursor never crosses filters.
    let list = if include_archived {
        "releases+archived"
    } else {
        "releases"
    };
    let page = page_request_after(&state, &query, list, scope.app_id.as_str(), issues)?;
    let before_number = page
        .after
        .map(|position| position.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::internal("a signed release cursor held no number"))?;
    let result = state
        .store
        .releases()
        .list(
            &scope,
            ReleaseQuery {
                limit: page.limit,
                before_number,
                include_archived,
            },
        )
        .await?;
    let next = result.next_before_number.map(|number| {
        state
            .cursors
            .encode(list, scope.app_id.as_str(), &number.to_string())
    });
    Ok(Json(ReleaseList {
        total: result.total,
        has_more: next.is_some(),
        next_cursor: next,
        releases: result.releases,
        active_release_id: result.active_release_id,
    }))
}

/// Get a release
///
/// With its immutable snapshot (`endpoints`, `augmentations`) and change log. The
/// answer carries an `ETag`; sending it back in `If-None-Match` gets `304` and no
/// body while the release reads the same.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}",
    operation_id = Operation::ReleasesGet.as_str(),
    tag = "releases",
    params(ReleasePath, IfNoneMatch),
    responses(ReleaseRead, NotFound, Errors),
)]
pub async fn get_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::ReleasesGet, &scope)?;
    let release = state.store.releases().get(&scope, &ids.release_id).await?;
    Ok(release_response(&headers, &release))
}

/// Get the active release
///
/// What is live for the app in the workspace's default environment, or in the one
/// `environment` names; 404 (`resource_id: "active"`) when nothing is deployed
/// there. The answer
/// carries an `ETag`; a gateway that polls with it in `If-None-Match` gets `304` and
/// no body until the live release (or anything it says) changes.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/active",
    operation_id = Operation::ReleasesGetActive.as_str(),
    tag = "releases",
    params(AppPath, EnvironmentQuery, IfNoneMatch),
    responses(ActiveReleaseRead, NotFound, Errors),
)]
pub async fn get_active_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::ReleasesGetActive, &scope)?;
    let mut issues = Vec::new();
    let environment = query.environment(&mut issues);
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues.into()));
    }
    if let Some(environment) = environment {
        let deployed = state
            .store
            .releases()
            .deployed(&scope, &environment)
            .await?;
        let deployed = deployed.ok_or_else(|| ApiError::not_found("release", "active"))?;
        return Ok(release_response(&headers, &deployed));
    }
    // A poll whose tag is still current needs only the kept tag, not the body.
    if let Some(Some(tag)) = state.store.releases().kept_active_tag(&scope)
        && let Some(unchanged) = not_modified(&headers, &tag)
    {
        return Ok(unchanged);
    }
    let active = state.store.releases().active(&scope).await?;
    let active = active.ok_or_else(|| ApiError::not_found("release", "active"))?;
    Ok(release_response(&headers, &active))
}

/// The answer of activate and rollback.
#[derive(Serialize, ToSchema)]
pub struct ActivationAnswer {
    /// What happened, for people.
    #[schema(examples("Release v1.2.0 (#3) activated"))]
    message: String,
    /// The release that is now active.
    release: ReleaseSummary,
    /// The release that was active before (the release itself when it already was;
    /// null when none was).
    #[schema(required = true)]
    previous_active_release_id: Option<ReleaseId>,
}

fn activation_answer(action: ActivationAction, outcome: ActivationOutcome) -> ActivationAnswer {
    let release = &outcome.release;
    let label = format!("{} (#{})", release.release_tag, release.release_number);
    let message = match (outcome.changed, action) {
        (false, _) => format!("Release {label} is already active"),
        (true, ActivationAction::Activate) => format!("Release {label} activated"),
        (true, ActivationAction::Rollback) => format!("Rolled back to release {label}"),
    };
    ActivationAnswer {
        message,
        release: outcome.release,
        previous_active_release_id: outcome.previous_active_release_id,
    }
}

async fn switch(
    state: &AppState,
    caller: &Caller,
    ids: ReleasePath,
    action: ActivationAction,
    request: (&QueryParams, &HeaderMap, &JsonBody),
) -> ApiResult<Response> {
    let (query, headers, body) = request;
    let (scope, release_id) = ids.into_release();
    let (operation, dry_run_action) = match action {
        ActivationAction::Activate => (Operation::ReleasesActivate, DryRunAction::Activate),
        ActivationAction::Rollback => (Operation::ReleasesRollback, DryRunAction::Rollback),
    };
    caller.authorize_app(operation, &scope)?;
    let dry_run = dry_runs::requested(query)?;
    let request = deployment_inputs::activation_request(
        &body.object_or_empty()?,
        action,
        precondition::if_match(headers)?,
    )?;
    if dry_run {
        let write = Rehearsal::Activate {
            release_id,
            request,
        };
        return dry_runs::answer(state, caller, scope, dry_run_action, write).await;
    }
    let outcome = state
        .store
        .releases()
        .activate(scope, release_id, request, caller.actor())
        .await?;
    Ok(Json(activation_answer(action, outcome)).into_response())
}

/// Activate a release
///
/// A `ready` or `archived` release becomes `active`; the release that was active
/// becomes `archived`, in one transaction. Activating the active release changes
/// nothing. The body is optional: `reason` is kept on the deployment record, and
/// `expected_release_id` (or `If-Match`) makes the switch a compare-and-swap.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}/activate",
    operation_id = Operation::ReleasesActivate.as_str(),
    tag = "releases",
    params(ReleasePath, IfMatchDeployed),
    request_body(content = ActivationBody),
    responses(
        (status = 200, description = "The release is now active (or already was)",
            body = ActivationAnswer),
        (status = 409, description = "`release_awaiting_approval`: a `draft` release cannot \
            be activated", body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn activate_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    query: QueryParams,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let action = ActivationAction::Activate;
    switch(&state, &caller, ids, action, (&query, &headers, &body)).await
}

/// Roll back to a release
///
/// Like activate, but only to a release older (lower number) than the active one
/// that was active before. Takes the same optional body.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}/rollback",
    operation_id = Operation::ReleasesRollback.as_str(),
    tag = "releases",
    params(ReleasePath, IfMatchDeployed),
    request_body(content = ActivationBody),
    responses(
        (status = 200, description = "The release is now active (or already was)",
            body = ActivationAnswer),
        (status = 409, description = "`no_active_release`, `release_never_active`, \
            `release_not_older_than_active` or `release_awaiting_approval`",
            body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn rollback_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    query: QueryParams,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let action = ActivationAction::Rollback;
    switch(&state, &caller, ids, action, (&query, &headers, &body)).await
}

/// Archive a release
///
/// A `ready` (or `draft`) release becomes `archived`; an archived one stays so. The
/// body is optional: `reason` is kept on the timeline's event.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}/archive",
    operation_id = Operation::ReleasesArchive.as_str(),
    tag = "releases",
    params(ReleasePath),
    request_body(content = ReasonBody),
    responses(
        (status = 200, description = "The archived release", body = ReleaseSummary),
        (status = 409, description = "`release_is_deployed`: the release is deployed in \
            an environment (`details.environments`), so it cannot be archived", body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn archive_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    query: QueryParams,
    body: JsonBody,
) -> ApiResult<Response> {
    let (scope, release_id) = ids.into_release();
    caller.authorize_app(Operation::ReleasesArchive, &scope)?;
    let dry_run = dry_runs::requested(&query)?;
    let reason = deployment_inputs::reason_only(&body.object_or_empty()?)?;
    if dry_run {
        let write = Rehearsal::Archive { release_id, reason };
        return dry_runs::answer(&state, &caller, scope, DryRunAction::Archive, write).await;
    }
    let archived = state
        .store
        .releases()
        .archive(scope, release_id, caller.actor(), reason)
        .await?;
    Ok(Json(archived).into_response())
}

/// Delete a release
///
/// Its number is never reused; the activation history keeps its entries. Why it
/// goes may be said in `X-Cutover-Reason`, kept on the timeline's event.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/releases/{release_id}",
    operation_id = Operation::ReleasesDelete.as_str(),
    tag = "releases",
    params(ReleasePath, ReasonHeader),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "`release_is_deployed`: the release is deployed in \
            an environment (`details.environments`), so it cannot be deleted", body = ErrorEnvelope),
        NotFound, Errors,
    ),
)]
pub async fn delete_release(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: ReleasePath,
    query: QueryParams,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (scope, release_id) = ids.into_release();
    caller.authorize_app(Operation::ReleasesDelete, &scope)?;
    let dry_run = dry_runs::requested(&query)?;
    let reason = deployment_inputs::reason_header(&headers)?;
    if dry_run {
        let write = Rehearsal::Delete { release_id, reason };
        return dry_runs::answer(&state, &caller, scope, DryRunAction::Delete, write).await;
    }
    state
        .store
        .releases()
        .delete(scope, release_id, caller.actor(), reason)
        .await?;
    Ok(deleted().into_response())
}

/// List the activation history
///
/// Every activate and rollback, oldest first; entries outlive deleted releases.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/activations",
    operation_id = Operation::ActivationsList.as_str(),
    tag = "releases",
    params(AppPath, ListQuery),
    responses((status = 200, description = "A page of the history", body = ActivationList),
        NotFound, Errors),
)]
pub async fn list_activations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<ActivationList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::ActivationsList, &scope)?;
    let page = page_request(&state, &query, "activations", scope.app_id.as_str())?;
    let history = state.store.releases().history(&scope, page).await?;
    Ok(page_body(&state, scope.app_id.as_str(), history))
}
