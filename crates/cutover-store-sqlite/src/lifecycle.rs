//! The lifecycle transitions of releases, decided by `cutover_domain::lifecycle` and
//! applied here: activate and roll back (deployments to the workspace's default
//! environment, written by `deployments`), archive and delete, and reading the
//! activation history (the default environment's records).

use cutover_domain::deployment::{ActivationRequest, Deployment, DeploymentAction};
use cutover_domain::lifecycle::{self, ActivationPlan, ArchivePlan, ReleaseFacts};
use cutover_domain::model::{Activation, ReleaseSummary};
use cutover_domain::timeline::ReleaseAction;
use cutover_domain::{ReleaseId, Timestamp};
use cutover_store::timeline::EventRow;
use cutover_store::{ActivationOutcome, AppScope, Page, PageRequest, StoreResult};
use rusqlite::{Connection, params};

use crate::apps::require_app;
use crate::deployments::{self, default_release_id, deployed_in, had_before};
use crate::error::from_sqlite;
use crate::releases::{summary, unreadable};
use crate::rows::{all, count, execute};
use crate::timeline;

pub(crate) fn activate_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
    request: ActivationRequest,
    actor: &str,
) -> StoreResult<ActivationOutcome> {
    require_app(connection, scope)?;
    let environment = deployments::default_target(connection, &scope.workspace())?;
    let target = summary(connection, scope, id)?;
    let active = match default_release_id(connection, &scope.app_id)? {
        Some(active) => Some(summary(connection, scope, &active)?),
        None => None,
    };
    let deployed_here = active
        .as_ref()
        .is_some_and(|active| active.release_id == *id);
    let was_here = had_before(connection, &scope.app_id, &environment.environment_id, id)?;
    let ActivationRequest {
        action,
        reason,
        precondition,
    } = request;
    precondition.check(active.as_ref())?;
    let plan = lifecycle::plan_activation(
        action,
        &ReleaseFacts::in_environment(&target, deployed_here, was_here),
        active
            .as_ref()
            .map(|active| ReleaseFacts::in_environment(active, true, true))
            .as_ref(),
    )?;
    let ActivationPlan::Switch { replaced } = plan else {
        return Ok(ActivationOutcome::unchanged(target));
    };
    let record = Deployment::new(
        &environment,
        &target,
        DeploymentAction::of_activation(action),
        replaced.clone(),
        reason,
        actor,
        Timestamp::now(),
    );
    deployments::switch(connection, &scope.workspace_id, record, target.status)?;
    Ok(ActivationOutcome::switched(
        summary(connection, scope, id)?,
        replaced,
    ))
}

pub(crate) fn archive_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
    actor: &str,
    reason: Option<String>,
) -> StoreResult<ReleaseSummary> {
    require_app(connection, scope)?;
    let target = summary(connection, scope, id)?;
    match lifecycle::plan_archive(target.status, deployed_in(connection, id)?)? {
        ArchivePlan::AlreadyArchived => Ok(target),
        ArchivePlan::Archive => {
            execute(
                connection,
                "UPDATE releases SET status = 'archived' WHERE release_id = ?1",
                [id.as_str()],
            )
            .map_err(from_sqlite)?;
            let archived = summary(connection, scope, id)?;
            let event = EventRow::release(
                archived.clone(),
                ReleaseAction::Archive,
                actor,
                reason,
                Timestamp::now(),
            )?;
            timeline::record(connection, &scope.app_id, &event)?;
            Ok(archived)
        }
    }
}

pub(crate) fn delete_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
    actor: &str,
    reason: Option<String>,
) -> StoreResult<()> {
    require_app(connection, scope)?;
    let release = summary(connection, scope, id)?;
    lifecycle::check_delete(deployed_in(connection, id)?)?;
    let event = EventRow::release(
        release,
        ReleaseAction::Delete,
        actor,
        reason,
        Timestamp::now(),
    )?;
    timeline::record(connection, &scope.app_id, &event)?;
    execute(
        connection,
        "DELETE FROM releases WHERE release_id = ?1",
        [id.as_str()],
    )
    .map_err(from_sqlite)?;
    Ok(())
}

pub(crate) fn list_activations(
    connection: &Connection,
    scope: &AppScope,
    page: &PageRequest,
) -> StoreResult<Page<Activation>> {
    require_app(connection, scope)?;
    let after: i64 = page
        .after
        .as_deref()
        .and_then(|key| key.parse().ok())
        .unwrap_or(0);
    let items = all(
        connection,
        "SELECT sequence, release_id, previous_release_id, action, deployed_by, deployed_at, reason
         FROM deployments WHERE app_id = ?1 AND environment_id = (
             SELECT environment_id FROM environments WHERE workspace_id = ?2 AND is_default = 1)
           AND sequence > ?3
         ORDER BY sequence LIMIT ?4",
        params![
            scope.app_id.as_str(),
            scope.workspace_id.as_str(),
            after,
            page.limit + 1
        ],
        |row| {
            let action: String = row.get(3)?;
            let action =
                DeploymentAction::from_stored(&action).map_err(|err| unreadable(3, err))?;
            Ok(Activation {
                sequence: row.get(0)?,
                release_id: ReleaseId::from_trusted(row.get(1)?),
                replaced_release_id: row
                    .get::<_, Option<String>>(2)?
                    .map(ReleaseId::from_trusted),
                action: cutover_domain::deployment::Deployment::activation_action(action),
                actor: row.get(4)?,
                at: Timestamp::from_micros(row.get(5)?),
                reason: row.get(6)?,
            })
        },
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM deployments WHERE app_id = ?1 AND environment_id = (
             SELECT environment_id FROM environments WHERE workspace_id = ?2 AND is_default = 1)",
        [scope.app_id.as_str(), scope.workspace_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |activation| {
        activation.sequence.to_string()
    }))
}
