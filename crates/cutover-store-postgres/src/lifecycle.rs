//! The lifecycle transitions of releases, decided by `cutover_domain::lifecycle` and
//! applied here: activate and roll back (deployments to the workspace's default
//! environment, written by `deployments`), archive and delete, and reading the
//! activation history (the default environment's records). Every write locks the app
//! row first, so two servers can never both believe they activated; the key of
//! `deployed` (one release per app and environment) is the backstop.

use cutover_domain::deployment::{ActivationRequest, Deployment, DeploymentAction};
use cutover_domain::lifecycle::{self, ActivationPlan, ArchivePlan, ReleaseFacts};
use cutover_domain::model::{Activation, ReleaseSummary};
use cutover_domain::timeline::ReleaseAction;
use cutover_domain::{ReleaseId, Timestamp};
use cutover_store::timeline::EventRow;
use cutover_store::{ActivationOutcome, AppScope, Page, PageRequest, StoreError};
use sqlx::{PgConnection, Row};

use crate::apps::{lock_app, require_app};
use crate::deployments::{self, default_release_id, deployed_in, had_before};
use crate::error::Outcome;
use crate::releases::{summary, unreadable};
use crate::rows::{all, count, fetch_limit};
use crate::timeline;

pub(crate) async fn activate_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
    request: ActivationRequest,
    actor: &str,
) -> Outcome<ActivationOutcome> {
    lock_app(&mut *connection, scope).await?;
    let environment = deployments::default_target(&mut *connection, &scope.workspace()).await?;
    let target = summary(&mut *connection, scope, id).await?;
    let active = match default_release_id(&mut *connection, &scope.app_id).await? {
        Some(active) => Some(summary(&mut *connection, scope, &active).await?),
        None => None,
    };
    let deployed_here = active
        .as_ref()
        .is_some_and(|active| active.release_id == *id);
    let was_here = had_before(
        &mut *connection,
        &scope.app_id,
        &environment.environment_id,
        id,
    )
    .await?;
    let ActivationRequest {
        action,
        reason,
        precondition,
    } = request;
    precondition
        .check(active.as_ref())
        .map_err(StoreError::from)?;
    let plan = lifecycle::plan_activation(
        action,
        &ReleaseFacts::in_environment(&target, deployed_here, was_here),
        active
            .as_ref()
            .map(|active| ReleaseFacts::in_environment(active, true, true))
            .as_ref(),
    )
    .map_err(StoreError::from)?;
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
    deployments::switch(&mut *connection, &scope.workspace_id, record, target.status).await?;
    Ok(ActivationOutcome::switched(
        summary(connection, scope, id).await?,
        replaced,
    ))
}

pub(crate) async fn archive_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
    actor: &str,
    reason: Option<String>,
) -> Outcome<ReleaseSummary> {
    lock_app(&mut *connection, scope).await?;
    let target = summary(&mut *connection, scope, id).await?;
    let deployed = deployed_in(&mut *connection, id).await?;
    match lifecycle::plan_archive(target.status, deployed).map_err(StoreError::from)? {
        ArchivePlan::AlreadyArchived => Ok(target),
        ArchivePlan::Archive => {
            sqlx::query("UPDATE releases SET status = 'archived' WHERE release_id = $1")
                .bind(id.as_str())
                .execute(&mut *connection)
                .await?;
            let archived = summary(&mut *connection, scope, id).await?;
            let event = EventRow::release(
                archived.clone(),
                ReleaseAction::Archive,
                actor,
                reason,
                Timestamp::now(),
            )?;
            timeline::record(connection, &scope.app_id, &event).await?;
            Ok(archived)
        }
    }
}

pub(crate) async fn delete_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
    actor: &str,
    reason: Option<String>,
) -> Outcome<()> {
    lock_app(&mut *connection, scope).await?;
    let release = summary(&mut *connection, scope, id).await?;
    let deployed = deployed_in(&mut *connection, id).await?;
    lifecycle::check_delete(deployed).map_err(StoreError::from)?;
    let event = EventRow::release(
        release,
        ReleaseAction::Delete,
        actor,
        reason,
        Timestamp::now(),
    )?;
    timeline::record(&mut *connection, &scope.app_id, &event).await?;
    sqlx::query("DELETE FROM releases WHERE release_id = $1")
        .bind(id.as_str())
        .execute(connection)
        .await?;
    Ok(())
}

pub(crate) async fn list_activations(
    connection: &mut PgConnection,
    scope: &AppScope,
    page: &PageRequest,
) -> Outcome<Page<Activation>> {
    require_app(&mut *connection, scope).await?;
    let after: i64 = page
        .after
        .as_deref()
        .and_then(|key| key.parse().ok())
        .unwrap_or(0);
    let items = all(
        &mut *connection,
        sqlx::query(
            "SELECT sequence, release_id, previous_release_id, action, deployed_by, deployed_at, reason
             FROM deployments WHERE app_id = $1 AND environment_id = (
                 SELECT environment_id FROM environments WHERE workspace_id = $2 AND is_default)
               AND sequence > $3
             ORDER BY sequence LIMIT $4",
        )
        .bind(scope.app_id.as_str())
        .bind(scope.workspace_id.as_str())
        .bind(after)
        .bind(fetch_limit(page.limit)),
        |row| {
            let action: String = row.try_get(3)?;
            let action =
                DeploymentAction::from_stored(&action).map_err(|err| unreadable("action", err))?;
            Ok(Activation {
                sequence: row.try_get(0)?,
                release_id: ReleaseId::from_trusted(row.try_get(1)?),
                replaced_release_id: row
                    .try_get::<Option<String>, _>(2)?
                    .map(ReleaseId::from_trusted),
                action: Deployment::activation_action(action),
                actor: row.try_get(4)?,
                at: Timestamp::from_micros(row.try_get(5)?),
                reason: row.try_get(6)?,
            })
        },
    )
    .await?;
    let total = count(
        connection,
        sqlx::query(
            "SELECT count(*) FROM deployments WHERE app_id = $1 AND environment_id = (
                 SELECT environment_id FROM environments WHERE workspace_id = $2 AND is_default)",
        )
        .bind(scope.app_id.as_str())
        .bind(scope.workspace_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |activation| {
        activation.sequence.to_string()
    }))
}
