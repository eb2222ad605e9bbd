//! Rehearsing a write (`cutover_store::rehearsal`): on the writer, inside a savepoint
//! of the job's transaction, the write's own statements run, what they changed is
//! read, and the savepoint is rolled back, so the batch commits nothing of it.

use cutover_domain::deployment::Deployment;
use cutover_domain::dry_run::{HISTORY_LOOKBACK, ReleaseState};
use cutover_domain::model::ReleaseStatus;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, ReleaseId};
use cutover_store::rehearsal::{Rehearsal, Rehearsed, RehearsedChange};
use cutover_store::{AppScope, StoreError, StoreResult};
use rusqlite::{Connection, params};

use crate::deployment_records::{RECORD_COLUMNS, record_from_row};
use crate::error::from_sqlite;
use crate::releases::unreadable;
use crate::rows::{all, optional};
use crate::{deployments, lifecycle};

/// Runs `write` and undoes it. `write` answering `Ok(None)` (a cut planned from a
/// read that is no longer current) is passed on as `None`, for the caller to plan
/// again.
pub(crate) fn rehearse(
    connection: &Connection,
    scope: &AppScope,
    write: impl FnOnce(&Connection) -> StoreResult<Option<RehearsedChange>>,
) -> StoreResult<Option<Rehearsed>> {
    connection
        .execute_batch("SAVEPOINT rehearsal")
        .map_err(from_sqlite)?;
    let seen = look(connection, &scope.app_id, write);
    let undone = connection
        .execute_batch("ROLLBACK TO rehearsal; RELEASE rehearsal")
        .map_err(from_sqlite);
    let seen = seen?;
    undone?;
    let Some(mut seen) = seen else {
        return Ok(None);
    };
    if let Ok(change) = &seen.outcome {
        seen.before = states(connection, &change.touched(&seen.records))?;
        if let Some(last) = seen.records.last() {
            seen.history = history(connection, last)?;
        }
    }
    Ok(Some(seen))
}

/// Runs the write `write` names exactly as its own store method does (a cut is
/// planned off the writer first: `SqliteStore::rehearsed_create_release`).
pub(crate) fn run_write(
    connection: &Connection,
    scope: &AppScope,
    write: Rehearsal,
    actor: &str,
) -> StoreResult<RehearsedChange> {
    Ok(match write {
        Rehearsal::CreateRelease(_) => {
            return Err(StoreError::internal(
                "a cut is rehearsed from its plan, not from here",
            ));
        }
        Rehearsal::Activate {
            release_id,
            request,
        } => RehearsedChange::Activated(lifecycle::activate_release(
            connection,
            scope,
            &release_id,
            request,
            actor,
        )?),
        Rehearsal::Deploy { request, authority } => RehearsedChange::Deployed(deployments::deploy(
            connection, scope, request, authority, actor,
        )?),
        Rehearsal::RollbackEnvironment { request, authority } => RehearsedChange::RolledBack(
            deployments::rollback_environment(connection, scope, request, authority, actor)?,
        ),
        Rehearsal::Archive { release_id, reason } => RehearsedChange::Archived(
            lifecycle::archive_release(connection, scope, &release_id, actor, reason)?,
        ),
        Rehearsal::Delete { release_id, reason } => {
            lifecycle::delete_release(connection, scope, &release_id, actor, reason)?;
            RehearsedChange::Deleted(release_id)
        }
    })
}

/// Runs the write and reads what it changed, still inside the savepoint.
fn look(
    connection: &Connection,
    app_id: &AppId,
    write: impl FnOnce(&Connection) -> StoreResult<Option<RehearsedChange>>,
) -> StoreResult<Option<Rehearsed>> {
    let last: i64 = optional(
        connection,
        "SELECT coalesce(max(sequence), 0) FROM deployments WHERE app_id = ?1",
        [app_id.as_str()],
        |row| row.get(0),
    )?
    .unwrap_or(0);
    let change = match write(connection) {
        Ok(Some(change)) => change,
        Ok(None) => return Ok(None),
        Err(refusal) => return Ok(Some(Rehearsed::refused(refusal))),
    };
    let records = all(
        connection,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM deployments
             WHERE app_id = ?1 AND sequence > ?2 ORDER BY sequence"
        ),
        params![app_id.as_str(), last],
        |row| record_from_row(row).map(|(record, _)| record),
    )?;
    let after = states(connection, &change.touched(&records))?;
    Ok(Some(Rehearsed {
        outcome: Ok(change),
        before: Vec::new(),
        after,
        records,
        history: Vec::new(),
    }))
}

/// The releases `ids` names that exist, as they are now.
fn states(connection: &Connection, ids: &[ReleaseId]) -> StoreResult<Vec<ReleaseState>> {
    let mut states = Vec::with_capacity(ids.len());
    for id in ids {
        let state = optional(
            connection,
            "SELECT release_tag, release_number, status FROM releases WHERE release_id = ?1",
            [id.as_str()],
            |row| {
                let status: String = row.get(2)?;
                Ok(ReleaseState {
                    release_id: id.clone(),
                    release_tag: ReleaseTag::from_trusted(row.get(0)?),
                    release_number: row.get(1)?,
                    status: ReleaseStatus::from_stored(&status)
                        .map_err(|err| unreadable(2, err))?,
                })
            },
        )?;
        states.extend(state);
    }
    Ok(states)
}

/// The latest records of `record`'s environment, newest first.
fn history(connection: &Connection, record: &Deployment) -> StoreResult<Vec<Deployment>> {
    all(
        connection,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM deployments
             WHERE app_id = ?1 AND environment_id = ?2 ORDER BY sequence DESC LIMIT ?3"
        ),
        params![
            record.app_id.as_str(),
            record.environment_id.as_str(),
            HISTORY_LOOKBACK
        ],
        |row| record_from_row(row).map(|(record, _)| record),
    )
}
