//! Deployments of an app: deploy a release to an environment or promote what another
//! has, roll one environment back, and read the append-only records.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_domain::deployment::{DeploySource, Deployment};
use cutover_domain::permission::Operation;
use cutover_store::rehearsal::Rehearsal;

use super::dry_runs::{self, DryRunAction};
use super::{created, deployment_inputs, page_body, page_request_after};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorEnvelope};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppEnvironmentPath, AppPath, DeploymentPath};
use crate::http::precondition;
use crate::openapi::bodies::{EnvironmentRollbackBody, NewDeploymentBody};
use crate::openapi::lists::DeploymentList;
use crate::openapi::lists::ListAnswer;
use crate::openapi::params::{EnvironmentQuery, IfMatchDeployed, ListQuery};
use crate::openapi::responses::{BodyErrors, Errors, NotFound, PreconditionErrors};
use crate::state::AppState;

/// Deploy a release, or promote another environment's
///
/// With `release_id`, that release goes to `environment` (`action: deploy`); with
/// `from_environment`, whatever that environment has goes (`action: promote`). The
/// release it replaces there stays `active` if another environment has it and
/// becomes `archived` otherwise. Deploying what the environment already has changes
/// nothing and answers 200 with the record that put it there. A `protected`
/// environment needs `releases:activate`; another needs `releases:deploy`.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/deployments",
    operation_id = Operation::DeploymentsCreate.as_str(),
    tag = "deployments",
    params(AppPath, IfMatchDeployed),
    request_body(content = NewDeploymentBody),
    responses(
        (status = 201, description = "The new deployment record", body = Deployment,
            headers(("Location" = String, description = "The record's path"))),
        (status = 200, description = "The environment already had the release: the \
            record that put it there", body = Deployment),
        (status = 403, description = "The environment is protected and the token lacks \
            `releases:activate` (`details.required_permission`)", body = ErrorEnvelope),
        (status = 409, description = "`nothing_to_promote`: `from_environment` has \
            nothing of the app; `release_awaiting_approval`", body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_deployment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    uri: Uri,
    query: QueryParams,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.into_app();
    caller.authorize_app(Operation::DeploymentsCreate, &scope)?;
    let dry_run = dry_runs::requested(&query)?;
    let request =
        deployment_inputs::deploy_request(&body.object()?, precondition::if_match(&headers)?)?;
    if dry_run {
        let action = match request.source {
            DeploySource::Release(_) => DryRunAction::Deploy,
            DeploySource::Environment(_) => DryRunAction::Promote,
        };
        let write = Rehearsal::Deploy {
            request,
            authority: caller.deploy_authority(),
        };
        return dry_runs::answer(&state, &caller, scope, action, write).await;
    }
    let outcome = state
        .store
        .releases()
        .deploy(scope, request, caller.deploy_authority(), caller.actor())
        .await?;
    let record = outcome.deployment;
    Ok(if outcome.changed {
        created(&uri, record.deployment_id.as_str(), &record)
    } else {
        (StatusCode::OK, Json(record)).into_response()
    })
}

/// List an app's deployments
///
/// Newest first; only `environment`'s when given. Records outlive deleted releases
/// and environments (their tag, number, slug and name are kept as they were).
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/deployments",
    operation_id = Operation::DeploymentsList.as_str(),
    tag = "deployments",
    params(AppPath, EnvironmentQuery, ListQuery),
    responses((status = 200, description = "A page of deployment records", body = DeploymentList),
        NotFound, Errors),
)]
pub async fn list_deployments(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<DeploymentList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::DeploymentsList, &scope)?;
    let mut issues = Vec::new();
    let environment = query.environment(&mut issues);
    // The filter is part of the cursor's scope: a cursor never crosses filters.
    let cursor_scope = match &environment {
        Some(environment) => format!("{}/{}", scope.app_id, environment.as_str()),
        None => scope.app_id.to_string(),
    };
    let page = page_request_after(&state, &query, DeploymentList::LIST, &cursor_scope, issues)?;
    let records = state
        .store
        .releases()
        .deployments(&scope, environment.as_ref(), page)
        .await?;
    Ok(page_body(&state, &cursor_scope, records))
}

/// Get a deployment record
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/deployments/{deployment_id}",
    operation_id = Operation::DeploymentsGet.as_str(),
    tag = "deployments",
    params(DeploymentPath),
    responses((status = 200, description = "The record", body = Deployment), NotFound, Errors),
)]
pub async fn get_deployment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: DeploymentPath,
) -> ApiResult<Json<Deployment>> {
    let scope = ids.app();
    caller.authorize_app(Operation::DeploymentsGet, &scope)?;
    let record = state
        .store
        .releases()
        .deployment(&scope, &ids.deployment_id)
        .await?;
    Ok(Json(record))
}

/// Roll one environment back
///
/// Without `release_id`, back to the newest release the environment had before
/// that is older (lower numbered) than its current one and still exists, so rolling
/// back twice walks back twice; with it, to that release, which the environment
/// must have had and which must be older. Other environments keep what they have.
/// The body may be empty. A `protected` environment needs `releases:activate`.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/environments/{environment}/rollback",
    operation_id = Operation::EnvironmentRollback.as_str(),
    tag = "deployments",
    params(AppEnvironmentPath, IfMatchDeployed),
    request_body(content = EnvironmentRollbackBody),
    responses(
        (status = 201, description = "The new record (`action: rollback`)", body = Deployment,
            headers(("Location" = String, description = "The record's path"))),
        (status = 403, description = "The environment is protected and the token lacks \
            `releases:activate` (`details.required_permission`)", body = ErrorEnvelope),
        (status = 409, description = "`no_deployment`, `nothing_to_roll_back_to`, \
            `not_previously_deployed` or `not_older_than_current`", body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn rollback_environment(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppEnvironmentPath,
    query: QueryParams,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let (scope, environment) = ids.into_parts();
    caller.authorize_app(Operation::EnvironmentRollback, &scope)?;
    let dry_run = dry_runs::requested(&query)?;
    let request = deployment_inputs::rollback_request(
        &body.object_or_empty()?,
        environment,
        precondition::if_match(&headers)?,
    )?;
    if dry_run {
        let write = Rehearsal::RollbackEnvironment {
            request,
            authority: caller.deploy_authority(),
        };
        let action = DryRunAction::EnvironmentRollback;
        return dry_runs::answer(&state, &caller, scope, action, write).await;
    }
    let records = format!(
        "/v1/orgs/{}/workspaces/{}/apps/{}/deployments",
        scope.org_id, scope.workspace_id, scope.app_id
    );
    let record = state
        .store
        .releases()
        .rollback_environment(scope, request, caller.deploy_authority(), caller.actor())
        .await?;
    let uri: Uri = records
        .parse()
        .map_err(|_| ApiError::internal("a deployments path did not parse"))?;
    Ok(created(&uri, record.deployment_id.as_str(), &record))
}
