//! The app's timeline in PostgreSQL: each write that makes an event calls [`record`]
//! in its own transaction, which holds the app's lock (so an app's sequence is the
//! order its events committed in); [`list_timeline`] pages the events newest first;
//! and [`backfill`] gives apps from before migration 6 the events their releases and
//! deployment records stand for.

use cutover_domain::timeline::ReleaseAction;
use cutover_domain::{AppId, DeploymentId, ReleaseId, Timestamp};
use cutover_store::timeline::{EventRow, TimelinePage, before_sequence};
use cutover_store::{AppScope, PageRequest};
use sqlx::{PgConnection, Row};

use crate::apps::require_app;
use crate::deployment_records;
use crate::error::Outcome;
use crate::releases::summary;
use crate::rows::{all, fetch_limit};

/// Rows read per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

/// Appends one event to `app_id`'s timeline.
pub(crate) async fn record(
    connection: &mut PgConnection,
    app_id: &AppId,
    event: &EventRow,
) -> Outcome<()> {
    sqlx::query(
        "INSERT INTO timeline_events (app_id, event_type, at, body) VALUES ($1, $2, $3, $4)",
    )
    .bind(app_id.as_str())
    .bind(event.event_type.as_str())
    .bind(event.at.as_micros())
    .bind(&event.body)
    .execute(connection)
    .await?;
    Ok(())
}

pub(crate) async fn list_timeline(
    connection: &mut PgConnection,
    scope: &AppScope,
    page: &PageRequest,
) -> Outcome<TimelinePage> {
    require_app(&mut *connection, scope).await?;
    let rows = all(
        connection,
        sqlx::query(
            "SELECT sequence, body FROM timeline_events WHERE app_id = $1 AND sequence < $2
             ORDER BY sequence DESC LIMIT $3",
        )
        .bind(scope.app_id.as_str())
        .bind(before_sequence(page.after.as_deref()))
        .bind(fetch_limit(page.limit)),
        |row| Ok((row.try_get(0)?, row.try_get(1)?)),
    )
    .await?;
    Ok(TimelinePage::from_over_fetch(rows, page.limit)?)
}

/// Gives every app awaiting it (a row of `timeline_backfill`) its earlier history:
/// a release event for each release at its cut, and an event for each deployment
/// record, oldest first. The caller holds the migration lock. Answers how many
/// events it wrote.
pub(crate) async fn backfill(connection: &mut PgConnection) -> Outcome<u64> {
    let mut written = 0;
    loop {
        let pending = all(
            &mut *connection,
            sqlx::query(
                "SELECT b.app_id, a.workspace_id, a.org_id FROM timeline_backfill b
                 JOIN apps a ON a.app_id = b.app_id LIMIT $1",
            )
            .bind(BATCH),
            crate::carry_over::scope_from_row,
        )
        .await?;
        if pending.is_empty() {
            return Ok(written);
        }
        for scope in &pending {
            written += history(&mut *connection, scope).await?;
            sqlx::query("DELETE FROM timeline_backfill WHERE app_id = $1")
                .bind(scope.app_id.as_str())
                .execute(&mut *connection)
                .await?;
        }
    }
}

/// Where the merged walk of one app's releases and records has got to: the time,
/// then releases before records, then release number or record sequence.
type Position = (i64, i32, i64);

async fn history(connection: &mut PgConnection, scope: &AppScope) -> Outcome<u64> {
    let mut after: Position = (i64::MIN, 0, 0);
    let mut written = 0;
    loop {
        let batch = all(
            &mut *connection,
            sqlx::query(
                "SELECT at, kind, key, id FROM (
                     SELECT created_at AS at, 0 AS kind, release_number AS key, release_id AS id
                     FROM releases WHERE app_id = $1
                     UNION ALL
                     SELECT deployed_at, 1, sequence, deployment_id
                     FROM deployments WHERE app_id = $1) AS history
                 WHERE (at, kind, key) > ($2, $3, $4)
                 ORDER BY at, kind, key LIMIT $5",
            )
            .bind(scope.app_id.as_str())
            .bind(after.0)
            .bind(after.1)
            .bind(after.2)
            .bind(BATCH),
            |row| {
                Ok((
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                    row.try_get::<String, _>(3)?,
                ))
            },
        )
        .await?;
        let Some((last, _)) = batch.last() else {
            return Ok(written);
        };
        after = *last;
        for ((at, kind, _), id) in batch {
            let event = if kind == 0 {
                let release =
                    summary(&mut *connection, scope, &ReleaseId::from_trusted(id)).await?;
                let by = release.created_by.clone();
                EventRow::release(
                    release,
                    ReleaseAction::Cut,
                    &by,
                    None,
                    Timestamp::from_micros(at),
                )?
            } else {
                let id = DeploymentId::from_trusted(id);
                let record =
                    deployment_records::record(&mut *connection, &scope.app_id, &id).await?;
                EventRow::deployment(&record)?
            };
            record(&mut *connection, &scope.app_id, &event).await?;
            written += 1;
        }
    }
}
