//! Rehearsing a write (`cutover_store::rehearsal`): with the app row locked (so no
//! other server writes its records meanwhile), the write's own statements run inside
//! a savepoint, what they changed is read, and the savepoint is rolled back; the
//! transaction then commits nothing.

use cutover_domain::deployment::Deployment;
use cutover_domain::dry_run::{HISTORY_LOOKBACK, ReleaseState};
use cutover_domain::limits::Limits;
use cutover_domain::model::ReleaseStatus;
use cutover_domain::quota::Counted;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, ReleaseId};
use cutover_store::AppScope;
use cutover_store::rehearsal::{Rehearsal, Rehearsed, RehearsedChange};
use sqlx::{PgConnection, Row};

use crate::apps::lock_app;
use crate::deployment_records::{record_columns, record_from_row};
use crate::error::{Failure, Outcome};
use crate::releases::unreadable;
use crate::rows::{all, optional};
use crate::{deployments, lifecycle, quota, releases};

/// Runs `write` and undoes it; what the write answered is the report's `outcome`.
pub(crate) async fn rehearse(
    connection: &mut PgConnection,
    scope: &AppScope,
    write: &Rehearsal,
    actor: &str,
    limits: &Limits,
) -> Outcome<Rehearsed> {
    lock_app(&mut *connection, scope).await?;
    sqlx::query("SAVEPOINT rehearsal")
        .execute(&mut *connection)
        .await?;
    let seen = look(&mut *connection, scope, write, actor, limits).await;
    let undone = sqlx::query("ROLLBACK TO SAVEPOINT rehearsal")
        .execute(&mut *connection)
        .await;
    let mut seen = seen?;
    undone?;
    if let Ok(change) = &seen.outcome {
        seen.before = states(&mut *connection, &change.touched(&seen.records)).await?;
        if let Some(last) = seen.records.last() {
            seen.history = history(&mut *connection, last).await?;
        }
    }
    Ok(seen)
}

/// Runs the write and reads what it changed, still inside the savepoint. A database
/// error is passed on (the transaction runner retries a serialization failure).
async fn look(
    connection: &mut PgConnection,
    scope: &AppScope,
    write: &Rehearsal,
    actor: &str,
    limits: &Limits,
) -> Outcome<Rehearsed> {
    let last: i64 = optional(
        &mut *connection,
        sqlx::query("SELECT coalesce(max(sequence), 0) FROM deployments WHERE app_id = $1")
            .bind(scope.app_id.as_str()),
        |row| row.try_get(0),
    )
    .await?
    .unwrap_or(0);
    let change = match run_write(&mut *connection, scope, write, actor, limits).await {
        Ok(change) => change,
        Err(Failure::Store(refusal)) => return Ok(Rehearsed::refused(refusal)),
        Err(sql) => return Err(sql),
    };
    let records = records_after(&mut *connection, &scope.app_id, last).await?;
    let after = states(&mut *connection, &change.touched(&records)).await?;
    Ok(Rehearsed {
        outcome: Ok(change),
        before: Vec::new(),
        after,
        records,
        history: Vec::new(),
    })
}

/// Runs the write `write` names exactly as its own store method does.
async fn run_write(
    connection: &mut PgConnection,
    scope: &AppScope,
    write: &Rehearsal,
    actor: &str,
    limits: &Limits,
) -> Outcome<RehearsedChange> {
    Ok(match write {
        Rehearsal::CreateRelease(release) => {
            let app = scope.app_id.as_str();
            quota::require_room(&mut *connection, limits, Counted::ReleasesPerApp, app).await?;
            RehearsedChange::Created(
                releases::create_release(connection, scope, release, actor).await?,
            )
        }
        Rehearsal::Activate {
            release_id,
            request,
        } => RehearsedChange::Activated(
            lifecycle::activate_release(connection, scope, release_id, request.clone(), actor)
                .await?,
        ),
        Rehearsal::Deploy { request, authority } => RehearsedChange::Deployed(
            deployments::deploy(connection, scope, request, *authority, actor).await?,
        ),
        Rehearsal::RollbackEnvironment { request, authority } => RehearsedChange::RolledBack(
            deployments::rollback_environment(connection, scope, request, *authority, actor)
                .await?,
        ),
        Rehearsal::Archive { release_id, reason } => RehearsedChange::Archived(
            lifecycle::archive_release(connection, scope, release_id, actor, reason.clone())
                .await?,
        ),
        Rehearsal::Delete { release_id, reason } => {
            lifecycle::delete_release(connection, scope, release_id, actor, reason.clone()).await?;
            RehearsedChange::Deleted(release_id.clone())
        }
    })
}

/// The app's records written after `sequence`, in order.
async fn records_after(
    connection: &mut PgConnection,
    app_id: &AppId,
    sequence: i64,
) -> Outcome<Vec<Deployment>> {
    all(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM deployments WHERE app_id = $1 AND sequence > $2 ORDER BY sequence"
        ))
        .bind(app_id.as_str())
        .bind(sequence),
        |row| record_from_row(row).map(|(record, _)| record),
    )
    .await
}

/// The releases `ids` names that exist, as they are now.
async fn states(connection: &mut PgConnection, ids: &[ReleaseId]) -> Outcome<Vec<ReleaseState>> {
    let mut states = Vec::with_capacity(ids.len());
    for id in ids {
        let state = optional(
            &mut *connection,
            sqlx::query(
                "SELECT release_tag, release_number, status FROM releases WHERE release_id = $1",
            )
            .bind(id.as_str()),
            |row| {
                let status: String = row.try_get(2)?;
                Ok(ReleaseState {
                    release_id: id.clone(),
                    release_tag: ReleaseTag::from_trusted(row.try_get(0)?),
                    release_number: row.try_get(1)?,
                    status: ReleaseStatus::from_stored(&status)
                        .map_err(|err| unreadable("status", err))?,
                })
            },
        )
        .await?;
        states.extend(state);
    }
    Ok(states)
}

/// The latest records of `record`'s environment, newest first.
async fn history(connection: &mut PgConnection, record: &Deployment) -> Outcome<Vec<Deployment>> {
    all(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM deployments WHERE app_id = $1 AND environment_id = $2
             ORDER BY sequence DESC LIMIT $3"
        ))
        .bind(record.app_id.as_str())
        .bind(record.environment_id.as_str())
        .bind(i64::from(HISTORY_LOOKBACK)),
        |row| record_from_row(row).map(|(record, _)| record),
    )
    .await
}
