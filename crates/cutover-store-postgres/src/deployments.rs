//! Deployments: what of each app every environment has (`deployed`, one row per app
//! and environment) and the append-only records (`deployments`). The rules are
//! `cutover_domain::deployment`'s; this module reads the facts and writes what they
//! decide; the records are read in `deployment_records`. Every write locks the app
//! row first, so an environment's records form one chain across servers, and shares
//! the environment's row, so the environment cannot be deleted under it.

use cutover_domain::conflict::Conflict;
use cutover_domain::deployment::{
    self, DeployAuthority, DeployOutcome, DeployPlan, DeployRequest, DeploySource, DeployTarget,
    DeployTerms, DeployedRelease, Deployment, DeploymentAction, NOT_A_RELEASE, NOT_AN_ENVIRONMENT,
    RollbackRequest,
};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{ReleaseStatus, ReleaseSummary};
use cutover_domain::precondition::Precondition;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, DeploymentId, EnvironmentId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::timeline::EventRow;
use cutover_store::{AppScope, StoreError, WorkspaceScope};
use sqlx::{PgConnection, Row};

use crate::apps::lock_app;
use crate::deployment_records::{record, record_columns};
use crate::environments;
use crate::error::{Failure, Outcome};
use crate::releases::{summary, unreadable};
use crate::rows::{all, count, not_found, optional};
use crate::timeline;

/// The environment `reference` names in the workspace, as a deployment needs it.
pub(crate) async fn target(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> Outcome<DeployTarget> {
    let environment = environments::find(connection, scope, reference).await?;
    Ok(DeployTarget::of(&environment))
}

/// Like [`target`], holding the environment's row (shared) until the transaction
/// ends: a delete of the environment waits, then sees the deployment.
pub(crate) async fn target_held(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> Outcome<DeployTarget> {
    let environment = target(&mut *connection, scope, reference).await?;
    hold(connection, &environment).await?;
    Ok(environment)
}

async fn hold(connection: &mut PgConnection, environment: &DeployTarget) -> Outcome<()> {
    optional(
        connection,
        sqlx::query("SELECT 1 FROM environments WHERE environment_id = $1 FOR SHARE")
            .bind(environment.environment_id.as_str()),
        |_| Ok(()),
    )
    .await?
    .ok_or_else(|| not_found("environment", environment.slug.as_str()))
}

/// A `NotFound` for the environment a body's `field` names, as a 422 at the field.
pub(crate) fn in_body(err: Failure, field: &'static str, reference: &EnvironmentRef) -> Failure {
    err.in_body_field("environment", field, NOT_AN_ENVIRONMENT, reference.as_str())
}

/// The workspace's default environment, held as [`target_held`] holds one.
pub(crate) async fn default_target(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
) -> Outcome<DeployTarget> {
    let environment = environments::find_default(&mut *connection, scope).await?;
    let environment = DeployTarget::of(&environment);
    hold(connection, &environment).await?;
    Ok(environment)
}

/// What the environment has of the app now, and the record that put it there.
struct Current {
    release: DeployedRelease,
    deployment_id: DeploymentId,
}

async fn current(
    connection: &mut PgConnection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
) -> Outcome<Option<Current>> {
    optional(
        connection,
        sqlx::query(
            "SELECT d.release_id, r.release_number, d.deployment_id
             FROM deployed d JOIN releases r ON r.release_id = d.release_id
             WHERE d.app_id = $1 AND d.environment_id = $2",
        )
        .bind(app_id.as_str())
        .bind(environment_id.as_str()),
        |row| {
            Ok(Current {
                release: DeployedRelease {
                    release_id: ReleaseId::from_trusted(row.try_get(0)?),
                    release_number: row.try_get(1)?,
                },
                deployment_id: DeploymentId::from_trusted(row.try_get(2)?),
            })
        },
    )
    .await
}

/// The release the default environment has of the app, if any.
pub(crate) async fn default_release_id(
    connection: &mut PgConnection,
    app_id: &AppId,
) -> Outcome<Option<ReleaseId>> {
    optional(
        connection,
        sqlx::query(
            "SELECT d.release_id FROM deployed d
             JOIN environments e ON e.environment_id = d.environment_id AND e.is_default
             WHERE d.app_id = $1",
        )
        .bind(app_id.as_str()),
        |row| Ok(ReleaseId::from_trusted(row.try_get(0)?)),
    )
    .await
}

/// The releases the environment had, newest deployment first, that still exist.
async fn history(
    connection: &mut PgConnection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
) -> Outcome<Vec<DeployedRelease>> {
    all(
        connection,
        sqlx::query(
            "SELECT r.release_id, r.release_number, max(d.sequence) AS last
             FROM deployments d JOIN releases r ON r.release_id = d.release_id
             WHERE d.app_id = $1 AND d.environment_id = $2
             GROUP BY r.release_id, r.release_number ORDER BY last DESC",
        )
        .bind(app_id.as_str())
        .bind(environment_id.as_str()),
        |row| {
            Ok(DeployedRelease {
                release_id: ReleaseId::from_trusted(row.try_get(0)?),
                release_number: row.try_get(1)?,
            })
        },
    )
    .await
}

/// Whether the environment ever had the release.
pub(crate) async fn had_before(
    connection: &mut PgConnection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
    release_id: &ReleaseId,
) -> Outcome<bool> {
    let found = count(
        connection,
        sqlx::query(
            "SELECT count(*) FROM (SELECT 1 FROM deployments
             WHERE app_id = $1 AND environment_id = $2 AND release_id = $3 LIMIT 1) AS found",
        )
        .bind(app_id.as_str())
        .bind(environment_id.as_str())
        .bind(release_id.as_str()),
    )
    .await?;
    Ok(found > 0)
}

/// The slugs of the environments that have the release, in the order they were made.
pub(crate) async fn deployed_in(
    connection: &mut PgConnection,
    release_id: &ReleaseId,
) -> Outcome<Vec<String>> {
    all(
        connection,
        sqlx::query(
            "SELECT e.slug FROM deployed d JOIN environments e ON e.environment_id = d.environment_id
             WHERE d.release_id = $1 ORDER BY e.environment_id",
        )
        .bind(release_id.as_str()),
        |row| row.try_get(0),
    )
    .await
}

/// Any release of the app deployed anywhere (the default environment's first).
pub(crate) async fn any_deployed(
    connection: &mut PgConnection,
    app_id: &AppId,
) -> Outcome<Option<ReleaseId>> {
    optional(
        connection,
        sqlx::query(
            "SELECT d.release_id FROM deployed d JOIN environments e
             ON e.environment_id = d.environment_id
             WHERE d.app_id = $1 ORDER BY e.is_default DESC LIMIT 1",
        )
        .bind(app_id.as_str()),
        |row| Ok(ReleaseId::from_trusted(row.try_get(0)?)),
    )
    .await
}

/// Writes `record` (made by `Deployment::new`): the record itself, the environment's
/// row, and the statuses of its release (which had `status`) and of the one it
/// replaced (`deployment::status_after`).
pub(crate) async fn switch(
    connection: &mut PgConnection,
    workspace_id: &WorkspaceId,
    record: Deployment,
    status: ReleaseStatus,
) -> Outcome<Deployment> {
    insert_record(&mut *connection, &record, None).await?;
    let event = EventRow::deployment(&record)?;
    timeline::record(&mut *connection, &record.app_id, &event).await?;
    sqlx::query(
        "INSERT INTO deployed (app_id, environment_id, workspace_id, release_id, deployment_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_id, environment_id)
         DO UPDATE SET release_id = excluded.release_id, deployment_id = excluded.deployment_id",
    )
    .bind(record.app_id.as_str())
    .bind(record.environment_id.as_str())
    .bind(workspace_id.as_str())
    .bind(record.release_id.as_str())
    .bind(record.deployment_id.as_str())
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "UPDATE releases SET status = $2, activated_at = $3, activated_by = $4
         WHERE release_id = $1",
    )
    .bind(record.release_id.as_str())
    .bind(deployment::status_after(status, true).as_str())
    .bind(record.deployed_at.as_micros())
    .bind(&record.deployed_by)
    .execute(&mut *connection)
    .await?;
    if let Some(previous) = &record.previous_release_id {
        settle_status(connection, previous).await?;
    }
    Ok(record)
}

/// Writes a record; `sequence` is given only when carrying over an earlier history.
pub(crate) async fn insert_record(
    connection: &mut PgConnection,
    record: &Deployment,
    sequence: Option<i64>,
) -> Outcome<()> {
    sqlx::query(concat!(
        "INSERT INTO deployments (",
        record_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                   COALESCE($14, nextval(pg_get_serial_sequence('deployments', 'sequence'))))"
    ))
    .bind(record.deployment_id.as_str())
    .bind(record.app_id.as_str())
    .bind(record.environment_id.as_str())
    .bind(&record.environment_slug)
    .bind(&record.environment_name)
    .bind(record.release_id.as_str())
    .bind(record.release_tag.as_ref().map(ReleaseTag::as_str))
    .bind(record.release_number)
    .bind(record.action.as_str())
    .bind(record.previous_release_id.as_ref().map(ReleaseId::as_str))
    .bind(&record.reason)
    .bind(&record.deployed_by)
    .bind(record.deployed_at.as_micros())
    .bind(sequence)
    .execute(connection)
    .await?;
    Ok(())
}

/// Brings a release's status in line with where it is deployed now.
async fn settle_status(connection: &mut PgConnection, release_id: &ReleaseId) -> Outcome<()> {
    let Some((status, anywhere)) = optional(
        &mut *connection,
        sqlx::query(
            "SELECT status, EXISTS (SELECT 1 FROM deployed WHERE release_id = $1)
             FROM releases WHERE release_id = $1",
        )
        .bind(release_id.as_str()),
        |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<bool, _>(1)?)),
    )
    .await?
    else {
        return Ok(());
    };
    let status = ReleaseStatus::from_stored(&status).map_err(|err| unreadable("status", err))?;
    let settled = deployment::status_after(status, anywhere);
    if settled != status {
        sqlx::query("UPDATE releases SET status = $2 WHERE release_id = $1")
            .bind(release_id.as_str())
            .bind(settled.as_str())
            .execute(connection)
            .await?;
    }
    Ok(())
}

/// Deploys `release` to `environment` as `deployment::plan_deploy` decides.
/// Checks `precondition` against what the environment has now (`now`), reading the
/// release only when the condition needs more than its id.
async fn check(
    connection: &mut PgConnection,
    scope: &AppScope,
    precondition: &Precondition,
    now: Option<&Current>,
) -> Outcome<()> {
    if precondition.is_none() {
        return Ok(());
    }
    let current = match now {
        Some(now) => Some(summary(connection, scope, &now.release.release_id).await?),
        None => None,
    };
    Ok(precondition
        .check(current.as_ref())
        .map_err(StoreError::from)?)
}

pub(crate) async fn deploy_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    environment: &DeployTarget,
    release: &ReleaseSummary,
    terms: DeployTerms,
    actor: &str,
) -> Outcome<DeployOutcome> {
    let now = current(&mut *connection, &scope.app_id, &environment.environment_id).await?;
    check(&mut *connection, scope, &terms.precondition, now.as_ref()).await?;
    let plan = deployment::plan_deploy(
        &release.release_id,
        release.status,
        now.as_ref().map(|now| &now.release.release_id),
    )
    .map_err(StoreError::from)?;
    match (plan, now) {
        (DeployPlan::AlreadyDeployed, Some(now)) => Ok(DeployOutcome {
            deployment: record(connection, &scope.app_id, &now.deployment_id).await?,
            changed: false,
        }),
        (DeployPlan::AlreadyDeployed, None) => {
            Err(StoreError::internal("a deploy planned as a no-op found nothing deployed").into())
        }
        (DeployPlan::Switch { previous }, _) => {
            let record = Deployment::new(
                environment,
                release,
                terms.action,
                previous,
                terms.reason,
                actor,
                Timestamp::now(),
            );
            Ok(DeployOutcome {
                deployment: switch(connection, &scope.workspace_id, record, release.status).await?,
                changed: true,
            })
        }
    }
}

pub(crate) async fn deploy(
    connection: &mut PgConnection,
    scope: &AppScope,
    request: &DeployRequest,
    authority: DeployAuthority,
    actor: &str,
) -> Outcome<DeployOutcome> {
    lock_app(&mut *connection, scope).await?;
    let workspace = scope.workspace();
    let environment = target_held(&mut *connection, &workspace, &request.environment)
        .await
        .map_err(|err| in_body(err, "environment", &request.environment))?;
    authority.check(&environment).map_err(StoreError::from)?;
    let (release_id, action) = match &request.source {
        DeploySource::Release(id) => (id.clone(), DeploymentAction::Deploy),
        DeploySource::Environment(from) => {
            let source = target(&mut *connection, &workspace, from)
                .await
                .map_err(|err| in_body(err, "from_environment", from))?;
            let there = current(&mut *connection, &scope.app_id, &source.environment_id)
                .await?
                .ok_or_else(|| {
                    StoreError::from(Conflict::NothingToPromote { slug: source.slug })
                })?;
            (there.release.release_id, DeploymentAction::Promote)
        }
    };
    let release = summary(&mut *connection, scope, &release_id)
        .await
        .map_err(|err| {
            err.in_body_field("release", "release_id", NOT_A_RELEASE, release_id.as_str())
        })?;
    deploy_release(
        connection,
        scope,
        &environment,
        &release,
        DeployTerms {
            action,
            reason: request.reason.clone(),
            precondition: request.precondition.clone(),
        },
        actor,
    )
    .await
}

pub(crate) async fn rollback_environment(
    connection: &mut PgConnection,
    scope: &AppScope,
    request: &RollbackRequest,
    authority: DeployAuthority,
    actor: &str,
) -> Outcome<Deployment> {
    lock_app(&mut *connection, scope).await?;
    let environment =
        target_held(&mut *connection, &scope.workspace(), &request.environment).await?;
    authority.check(&environment).map_err(StoreError::from)?;
    let now = current(&mut *connection, &scope.app_id, &environment.environment_id).await?;
    check(&mut *connection, scope, &request.precondition, now.as_ref()).await?;
    let history = history(&mut *connection, &scope.app_id, &environment.environment_id).await?;
    let to = deployment::plan_rollback(
        now.as_ref().map(|now| &now.release),
        &history,
        request.release_id.as_ref(),
    )
    .map_err(StoreError::from)?;
    let release = summary(&mut *connection, scope, &to).await?;
    let record = Deployment::new(
        &environment,
        &release,
        DeploymentAction::Rollback,
        now.map(|now| now.release.release_id),
        request.reason.clone(),
        actor,
        Timestamp::now(),
    );
    switch(connection, &scope.workspace_id, record, release.status).await
}
