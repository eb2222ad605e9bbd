//! The lifecycle transitions of releases, decided by `cutover_domain::lifecycle` and
//! applied here: activate and roll back (with the activation history they append
//! to), archive and delete, and reading the history.

use cutover_domain::lifecycle::{self, ActivationPlan, ArchivePlan, ReleaseFacts};
use cutover_domain::model::{Activation, ActivationAction, ReleaseSummary};
use cutover_domain::{ReleaseId, Timestamp};
use cutover_store::{ActivationOutcome, AppScope, Page, PageRequest, StoreResult};
use rusqlite::{Connection, params};

use crate::apps::require_app;
use crate::error::from_sqlite;
use crate::releases::{active_summary, summary, unreadable};
use crate::rows::{after_key, all, count, execute};

pub(crate) fn activate_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
    action: ActivationAction,
    actor: &str,
) -> StoreResult<ActivationOutcome> {
    require_app(connection, scope)?;
    let target = summary(connection, scope, id)?;
    let active = active_summary(connection, &scope.app_id)?;
    let plan = lifecycle::plan_activation(
        action,
        &ReleaseFacts::of(&target),
        active.as_ref().map(ReleaseFacts::of).as_ref(),
    )?;
    let ActivationPlan::Switch { replaced } = plan else {
        return Ok(ActivationOutcome::unchanged(target));
    };
    let now = Timestamp::now();
    if let Some(replaced) = &replaced {
        execute(
            connection,
            "UPDATE releases SET status = 'archived' WHERE release_id = ?1",
            [replaced.as_str()],
        )
        .map_err(from_sqlite)?;
    }
    execute(
            connection,
            "UPDATE releases SET status = 'active', activated_at = ?2, activated_by = ?3 WHERE release_id = ?1",
            params![id.as_str(), now.as_micros(), actor],
        )
        .map_err(from_sqlite)?;
    execute(
        connection,
        "INSERT INTO activations (app_id, release_id, replaced_release_id, action, actor, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            scope.app_id.as_str(),
            id.as_str(),
            replaced.as_ref().map(ReleaseId::as_str),
            action.as_str(),
            actor,
            now.as_micros()
        ],
    )
    .map_err(from_sqlite)?;
    Ok(ActivationOutcome::switched(
        summary(connection, scope, id)?,
        replaced,
    ))
}

pub(crate) fn archive_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
) -> StoreResult<ReleaseSummary> {
    require_app(connection, scope)?;
    let target = summary(connection, scope, id)?;
    match lifecycle::plan_archive(&ReleaseFacts::of(&target))? {
        ArchivePlan::AlreadyArchived => Ok(target),
        ArchivePlan::Archive => {
            execute(
                connection,
                "UPDATE releases SET status = 'archived' WHERE release_id = ?1",
                [id.as_str()],
            )
            .map_err(from_sqlite)?;
            summary(connection, scope, id)
        }
    }
}

pub(crate) fn delete_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
) -> StoreResult<()> {
    require_app(connection, scope)?;
    let target = summary(connection, scope, id)?;
    lifecycle::check_delete(&ReleaseFacts::of(&target))?;
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
    let after: i64 = after_key(page).parse().unwrap_or(0);
    let items = all(
        connection,
        "SELECT sequence, release_id, replaced_release_id, action, actor, at FROM activations
         WHERE app_id = ?1 AND sequence > ?2 ORDER BY sequence LIMIT ?3",
        params![scope.app_id.as_str(), after, page.limit + 1],
        |row| {
            let action: String = row.get(3)?;
            Ok(Activation {
                sequence: row.get(0)?,
                release_id: ReleaseId::from_trusted(row.get(1)?),
                replaced_release_id: row
                    .get::<_, Option<String>>(2)?
                    .map(ReleaseId::from_trusted),
                action: ActivationAction::from_stored(&action).map_err(|err| unreadable(3, err))?,
                actor: row.get(4)?,
                at: Timestamp::from_micros(row.get(5)?),
            })
        },
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM activations WHERE app_id = ?1",
        [scope.app_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |activation| {
        activation.sequence.to_string()
    }))
}
