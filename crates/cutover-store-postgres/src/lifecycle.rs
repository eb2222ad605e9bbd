//! The lifecycle transitions of releases, decided by `cutover_domain::lifecycle` and
//! applied here: activate and roll back (with the activation history they append
//! to), archive and delete, and reading the history. Every write locks the app row
//! first, so two servers can never both believe they activated; the partial unique
//! index `releases_one_active_per_app` is the backstop.

use cutover_domain::lifecycle::{self, ActivationPlan, ArchivePlan, ReleaseFacts};
use cutover_domain::model::{Activation, ActivationAction, ReleaseSummary};
use cutover_domain::{ReleaseId, Timestamp};
use cutover_store::{ActivationOutcome, AppScope, Page, PageRequest, StoreError};
use sqlx::{PgConnection, Row};

use crate::apps::{lock_app, require_app};
use crate::error::Outcome;
use crate::releases::{active_summary, summary, unreadable};
use crate::rows::{after_key, all, count, fetch_limit};

pub(crate) async fn activate_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
    action: ActivationAction,
    actor: &str,
) -> Outcome<ActivationOutcome> {
    lock_app(&mut *connection, scope).await?;
    let target = summary(&mut *connection, scope, id).await?;
    let active = active_summary(&mut *connection, &scope.app_id).await?;
    let plan = lifecycle::plan_activation(
        action,
        &ReleaseFacts::of(&target),
        active.as_ref().map(ReleaseFacts::of).as_ref(),
    )
    .map_err(StoreError::from)?;
    let ActivationPlan::Switch { replaced } = plan else {
        return Ok(ActivationOutcome::unchanged(target));
    };
    let now = Timestamp::now();
    if let Some(replaced) = &replaced {
        sqlx::query("UPDATE releases SET status = 'archived' WHERE release_id = $1")
            .bind(replaced.as_str())
            .execute(&mut *connection)
            .await?;
    }
    sqlx::query(
        "UPDATE releases SET status = 'active', activated_at = $2, activated_by = $3
         WHERE release_id = $1",
    )
    .bind(id.as_str())
    .bind(now.as_micros())
    .bind(actor)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO activations (app_id, release_id, replaced_release_id, action, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(scope.app_id.as_str())
    .bind(id.as_str())
    .bind(replaced.as_ref().map(ReleaseId::as_str))
    .bind(action.as_str())
    .bind(actor)
    .bind(now.as_micros())
    .execute(&mut *connection)
    .await?;
    Ok(ActivationOutcome::switched(
        summary(connection, scope, id).await?,
        replaced,
    ))
}

pub(crate) async fn archive_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
) -> Outcome<ReleaseSummary> {
    lock_app(&mut *connection, scope).await?;
    let target = summary(&mut *connection, scope, id).await?;
    match lifecycle::plan_archive(&ReleaseFacts::of(&target)).map_err(StoreError::from)? {
        ArchivePlan::AlreadyArchived => Ok(target),
        ArchivePlan::Archive => {
            sqlx::query("UPDATE releases SET status = 'archived' WHERE release_id = $1")
                .bind(id.as_str())
                .execute(&mut *connection)
                .await?;
            summary(connection, scope, id).await
        }
    }
}

pub(crate) async fn delete_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
) -> Outcome<()> {
    lock_app(&mut *connection, scope).await?;
    let target = summary(&mut *connection, scope, id).await?;
    lifecycle::check_delete(&ReleaseFacts::of(&target)).map_err(StoreError::from)?;
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
    let after: i64 = after_key(page).parse().unwrap_or(0);
    let items = all(
        &mut *connection,
        sqlx::query(
            "SELECT sequence, release_id, replaced_release_id, action, actor, at FROM activations
             WHERE app_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
        )
        .bind(scope.app_id.as_str())
        .bind(after)
        .bind(fetch_limit(page.limit)),
        |row| {
            let action: String = row.try_get(3)?;
            Ok(Activation {
                sequence: row.try_get(0)?,
                release_id: ReleaseId::from_trusted(row.try_get(1)?),
                replaced_release_id: row
                    .try_get::<Option<String>, _>(2)?
                    .map(ReleaseId::from_trusted),
                action: ActivationAction::from_stored(&action)
                    .map_err(|err| unreadable("action", err))?,
                actor: row.try_get(4)?,
                at: Timestamp::from_micros(row.try_get(5)?),
            })
        },
    )
    .await?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM activations WHERE app_id = $1")
            .bind(scope.app_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |activation| {
        activation.sequence.to_string()
    }))
}
