//! Deployments: what of each app every environment has (`deployed`, one row per app
//! and environment) and the append-only records (`deployments`). The rules are
//! `cutover_domain::deployment`'s; this module reads the facts and writes what they
//! decide; the records are read in `deployment_records`. Every write here runs on
//! the one writer, so an environment's records form one chain.

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
use cutover_store::{AppScope, StoreResult, WorkspaceScope};
use rusqlite::{Connection, params};

use crate::apps::require_app;
use crate::deployment_records::{RECORD_COLUMNS, record};
use crate::environments;
use crate::error::from_sqlite;
use crate::releases::{summary, unreadable};
use crate::rows::{all, count, execute, optional};
use crate::timeline;

/// The environment `reference` names in the workspace, as a deployment needs it.
pub(crate) fn target(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> StoreResult<DeployTarget> {
    environments::find(connection, scope, reference)
        .map(|environment| DeployTarget::of(&environment))
}

/// The environment a body's `field` names (422 at the field when there is none).
pub(crate) fn body_target(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
    field: &'static str,
) -> StoreResult<DeployTarget> {
    target(connection, scope, reference).map_err(|err| {
        err.in_body_field("environment", field, NOT_AN_ENVIRONMENT, reference.as_str())
    })
}

/// The workspace's default environment.
pub(crate) fn default_target(
    connection: &Connection,
    scope: &WorkspaceScope,
) -> StoreResult<DeployTarget> {
    environments::find_default(connection, scope).map(|environment| DeployTarget::of(&environment))
}

/// What the environment has of the app now, and the record that put it there.
struct Current {
    release: DeployedRelease,
    deployment_id: DeploymentId,
}

fn current(
    connection: &Connection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
) -> StoreResult<Option<Current>> {
    optional(
        connection,
        "SELECT d.release_id, r.release_number, d.deployment_id
         FROM deployed d JOIN releases r ON r.release_id = d.release_id
         WHERE d.app_id = ?1 AND d.environment_id = ?2",
        [app_id.as_str(), environment_id.as_str()],
        |row| {
            Ok(Current {
                release: DeployedRelease {
                    release_id: ReleaseId::from_trusted(row.get(0)?),
                    release_number: row.get(1)?,
                },
                deployment_id: DeploymentId::from_trusted(row.get(2)?),
            })
        },
    )
}

/// The release the default environment has of the app, if any.
pub(crate) fn default_release_id(
    connection: &Connection,
    app_id: &AppId,
) -> StoreResult<Option<ReleaseId>> {
    optional(
        connection,
        "SELECT d.release_id FROM deployed d
         JOIN environments e ON e.environment_id = d.environment_id AND e.is_default = 1
         WHERE d.app_id = ?1",
        [app_id.as_str()],
        |row| Ok(ReleaseId::from_trusted(row.get(0)?)),
    )
}

/// The releases the environment had, newest deployment first, that still exist.
fn history(
    connection: &Connection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
) -> StoreResult<Vec<DeployedRelease>> {
    all(
        connection,
        "SELECT r.release_id, r.release_number, max(d.sequence) AS last
         FROM deployments d JOIN releases r ON r.release_id = d.release_id
         WHERE d.app_id = ?1 AND d.environment_id = ?2
         GROUP BY r.release_id ORDER BY last DESC",
        [app_id.as_str(), environment_id.as_str()],
        |row| {
            Ok(DeployedRelease {
                release_id: ReleaseId::from_trusted(row.get(0)?),
                release_number: row.get(1)?,
            })
        },
    )
}

/// Whether the environment ever had the release.
pub(crate) fn had_before(
    connection: &Connection,
    app_id: &AppId,
    environment_id: &EnvironmentId,
    release_id: &ReleaseId,
) -> StoreResult<bool> {
    count(
        connection,
        "SELECT EXISTS (SELECT 1 FROM deployments
                        WHERE app_id = ?1 AND environment_id = ?2 AND release_id = ?3)",
        [
            app_id.as_str(),
            environment_id.as_str(),
            release_id.as_str(),
        ],
    )
    .map(|found| found > 0)
}

/// The slugs of the environments that have the release, in the order they were made.
pub(crate) fn deployed_in(
    connection: &Connection,
    release_id: &ReleaseId,
) -> StoreResult<Vec<String>> {
    all(
        connection,
        "SELECT e.slug FROM deployed d JOIN environments e ON e.environment_id = d.environment_id
         WHERE d.release_id = ?1 ORDER BY e.environment_id",
        [release_id.as_str()],
        |row| row.get(0),
    )
}

/// Any release of the app deployed anywhere (the default environment's first).
pub(crate) fn any_deployed(
    connection: &Connection,
    app_id: &AppId,
) -> StoreResult<Option<ReleaseId>> {
    optional(
        connection,
        "SELECT d.release_id FROM deployed d JOIN environments e ON e.environment_id = d.environment_id
         WHERE d.app_id = ?1 ORDER BY e.is_default DESC LIMIT 1",
        [app_id.as_str()],
        |row| Ok(ReleaseId::from_trusted(row.get(0)?)),
    )
}

/// Writes `record` (made by `Deployment::new`): the record itself, the environment's
/// row, and the statuses of its release (which had `status`) and of the one it
/// replaced (`deployment::status_after`).
pub(crate) fn switch(
    connection: &Connection,
    workspace_id: &WorkspaceId,
    record: Deployment,
    status: ReleaseStatus,
) -> StoreResult<Deployment> {
    insert_record(connection, &record, None)?;
    timeline::record(connection, &record.app_id, &EventRow::deployment(&record)?)?;
    execute(
        connection,
        "INSERT INTO deployed (app_id, environment_id, workspace_id, release_id, deployment_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (app_id, environment_id)
         DO UPDATE SET release_id = excluded.release_id, deployment_id = excluded.deployment_id",
        params![
            record.app_id.as_str(),
            record.environment_id.as_str(),
            workspace_id.as_str(),
            record.release_id.as_str(),
            record.deployment_id.as_str(),
        ],
    )
    .map_err(from_sqlite)?;
    execute(
        connection,
        "UPDATE releases SET status = ?2, activated_at = ?3, activated_by = ?4 WHERE release_id = ?1",
        params![
            record.release_id.as_str(),
            deployment::status_after(status, true).as_str(),
            record.deployed_at.as_micros(),
            record.deployed_by,
        ],
    )
    .map_err(from_sqlite)?;
    if let Some(previous) = &record.previous_release_id {
        settle_status(connection, previous)?;
    }
    Ok(record)
}

/// Writes a record; `sequence` is given only when carrying over an earlier history.
pub(crate) fn insert_record(
    connection: &Connection,
    record: &Deployment,
    sequence: Option<i64>,
) -> StoreResult<()> {
    execute(
        connection,
        &format!(
            "INSERT INTO deployments ({RECORD_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        params![
            record.deployment_id.as_str(),
            record.app_id.as_str(),
            record.environment_id.as_str(),
            record.environment_slug,
            record.environment_name,
            record.release_id.as_str(),
            record.release_tag.as_ref().map(ReleaseTag::as_str),
            record.release_number,
            record.action.as_str(),
            record.previous_release_id.as_ref().map(ReleaseId::as_str),
            record.reason,
            record.deployed_by,
            record.deployed_at.as_micros(),
            sequence,
        ],
    )
    .map(|_| ())
    .map_err(from_sqlite)
}

/// Brings a release's status in line with where it is deployed now.
fn settle_status(connection: &Connection, release_id: &ReleaseId) -> StoreResult<()> {
    let Some((status, anywhere)) = optional(
        connection,
        "SELECT status, EXISTS (SELECT 1 FROM deployed WHERE release_id = ?1)
         FROM releases WHERE release_id = ?1",
        [release_id.as_str()],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?)),
    )?
    else {
        return Ok(());
    };
    let status =
        ReleaseStatus::from_stored(&status).map_err(|err| from_sqlite(unreadable(0, err)))?;
    let settled = deployment::status_after(status, anywhere);
    if settled != status {
        execute(
            connection,
            "UPDATE releases SET status = ?2 WHERE release_id = ?1",
            [release_id.as_str(), settled.as_str()],
        )
        .map_err(from_sqlite)?;
    }
    Ok(())
}

/// Checks `precondition` against what the environment has now (`now`), reading the
/// release only when the condition needs more than its id.
fn check(
    connection: &Connection,
    scope: &AppScope,
    precondition: &Precondition,
    now: Option<&Current>,
) -> StoreResult<()> {
    if precondition.is_none() {
        return Ok(());
    }
    let current = match now {
        Some(now) => Some(summary(connection, scope, &now.release.release_id)?),
        None => None,
    };
    Ok(precondition.check(current.as_ref())?)
}

/// Deploys `release` to `environment` as `deployment::plan_deploy` decides, when
/// `precondition` holds.
pub(crate) fn deploy_release(
    connection: &Connection,
    scope: &AppScope,
    environment: &DeployTarget,
    release: &ReleaseSummary,
    terms: DeployTerms,
    actor: &str,
) -> StoreResult<DeployOutcome> {
    let now = current(connection, &scope.app_id, &environment.environment_id)?;
    check(connection, scope, &terms.precondition, now.as_ref())?;
    let plan = deployment::plan_deploy(
        &release.release_id,
        release.status,
        now.as_ref().map(|now| &now.release.release_id),
    )?;
    match (plan, now) {
        (DeployPlan::AlreadyDeployed, Some(now)) => Ok(DeployOutcome {
            deployment: record(connection, &scope.app_id, &now.deployment_id)?,
            changed: false,
        }),
        (DeployPlan::AlreadyDeployed, None) => Err(cutover_store::StoreError::internal(
            "a deploy planned as a no-op found nothing deployed",
        )),
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
                deployment: switch(connection, &scope.workspace_id, record, release.status)?,
                changed: true,
            })
        }
    }
}

pub(crate) fn deploy(
    connection: &Connection,
    scope: &AppScope,
    request: DeployRequest,
    authority: DeployAuthority,
    actor: &str,
) -> StoreResult<DeployOutcome> {
    require_app(connection, scope)?;
    let workspace = scope.workspace();
    let environment = body_target(connection, &workspace, &request.environment, "environment")?;
    authority.check(&environment)?;
    let (release_id, action) = match request.source {
        DeploySource::Release(id) => (id, DeploymentAction::Deploy),
        DeploySource::Environment(from) => {
            let source = body_target(connection, &workspace, &from, "from_environment")?;
            let there = current(connection, &scope.app_id, &source.environment_id)?
                .ok_or(Conflict::NothingToPromote { slug: source.slug })?;
            (there.release.release_id, DeploymentAction::Promote)
        }
    };
    let release = summary(connection, scope, &release_id).map_err(|err| {
        err.in_body_field("release", "release_id", NOT_A_RELEASE, release_id.as_str())
    })?;
    deploy_release(
        connection,
        scope,
        &environment,
        &release,
        DeployTerms {
            action,
            reason: request.reason,
            precondition: request.precondition,
        },
        actor,
    )
}

pub(crate) fn rollback_environment(
    connection: &Connection,
    scope: &AppScope,
    request: RollbackRequest,
    authority: DeployAuthority,
    actor: &str,
) -> StoreResult<Deployment> {
    require_app(connection, scope)?;
    let environment = target(connection, &scope.workspace(), &request.environment)?;
    authority.check(&environment)?;
    let now = current(connection, &scope.app_id, &environment.environment_id)?;
    check(connection, scope, &request.precondition, now.as_ref())?;
    let history = history(connection, &scope.app_id, &environment.environment_id)?;
    let to = deployment::plan_rollback(
        now.as_ref().map(|now| &now.release),
        &history,
        request.release_id.as_ref(),
    )?;
    let release = summary(connection, scope, &to)?;
    let record = Deployment::new(
        &environment,
        &release,
        DeploymentAction::Rollback,
        now.map(|now| now.release.release_id),
        request.reason,
        actor,
        Timestamp::now(),
    );
    switch(connection, &scope.workspace_id, record, release.status)
}

/// The id of the environment `reference` names, for reading what it has.
pub(crate) fn environment_id(
    connection: &Connection,
    scope: &AppScope,
    reference: &EnvironmentRef,
) -> StoreResult<EnvironmentId> {
    target(connection, &scope.workspace(), reference).map(|environment| environment.environment_id)
}
