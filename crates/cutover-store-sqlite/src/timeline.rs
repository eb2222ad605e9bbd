//! The app's timeline in SQLite: each write that makes an event calls [`record`] in
//! its own transaction; [`list_timeline`] pages the events newest first; and
//! [`backfill`] gives apps from before migration 6 the events their releases and
//! deployment records stand for.

use cutover_domain::ReleaseId;
use cutover_domain::timeline::ReleaseAction;
use cutover_domain::{AppId, DeploymentId, Timestamp};
use cutover_store::timeline::{EventRow, TimelinePage, before_sequence};
use cutover_store::{AppScope, PageRequest, StoreResult};
use rusqlite::{Connection, params};

use crate::apps::require_app;
use crate::deployment_records;
use crate::error::from_sqlite;
use crate::releases::summary;
use crate::rows::{all, execute, optional};

/// Rows read per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

/// Appends one event to `app_id`'s timeline.
pub(crate) fn record(connection: &Connection, app_id: &AppId, event: &EventRow) -> StoreResult<()> {
    connection
        .prepare_cached(
            "INSERT INTO timeline_events (app_id, event_type, at, body) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                app_id.as_str(),
                event.event_type.as_str(),
                event.at.as_micros(),
                event.body
            ])
        })
        .map(|_| ())
        .map_err(from_sqlite)
}

pub(crate) fn list_timeline(
    connection: &Connection,
    scope: &AppScope,
    page: &PageRequest,
) -> StoreResult<TimelinePage> {
    require_app(connection, scope)?;
    let rows = all(
        connection,
        "SELECT sequence, body FROM timeline_events WHERE app_id = ?1 AND sequence < ?2
         ORDER BY sequence DESC LIMIT ?3",
        params![
            scope.app_id.as_str(),
            before_sequence(page.after.as_deref()),
            page.limit + 1
        ],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    TimelinePage::from_over_fetch(rows, page.limit)
}

/// Gives every app awaiting it (a row of `timeline_backfill`) its earlier history:
/// a release event for each release at its cut, and an event for each deployment
/// record, oldest first. Answers how many events it wrote.
pub(crate) fn backfill(connection: &Connection) -> StoreResult<u64> {
    let mut written = 0;
    loop {
        let pending = all(
            connection,
            "SELECT b.app_id, a.workspace_id, a.org_id FROM timeline_backfill b
             JOIN apps a ON a.app_id = b.app_id LIMIT ?1",
            [BATCH],
            crate::carry_over::scope_from_row,
        )?;
        if pending.is_empty() {
            return Ok(written);
        }
        for scope in &pending {
            written += history(connection, scope)?;
            execute(
                connection,
                "DELETE FROM timeline_backfill WHERE app_id = ?1",
                [scope.app_id.as_str()],
            )
            .map_err(from_sqlite)?;
        }
    }
}

/// Where the merged walk of one app's releases and records has got to: the time,
/// then releases before records, then release number or record sequence.
type Position = (i64, i64, i64);

fn history(connection: &Connection, scope: &AppScope) -> StoreResult<u64> {
    let mut after: Position = (i64::MIN, 0, 0);
    let mut written = 0;
    loop {
        let batch = all(
            connection,
            "SELECT at, kind, key, id FROM (
                 SELECT created_at AS at, 0 AS kind, release_number AS key, release_id AS id
                 FROM releases WHERE app_id = ?1
                 UNION ALL
                 SELECT deployed_at, 1, sequence, deployment_id FROM deployments WHERE app_id = ?1)
             WHERE (at, kind, key) > (?2, ?3, ?4)
             ORDER BY at, kind, key LIMIT ?5",
            params![scope.app_id.as_str(), after.0, after.1, after.2, BATCH],
            |row| {
                Ok((
                    (row.get(0)?, row.get(1)?, row.get(2)?),
                    row.get::<_, String>(3)?,
                ))
            },
        )?;
        let Some((last, _)) = batch.last() else {
            return Ok(written);
        };
        after = *last;
        for ((at, kind, _), id) in batch {
            let event = if kind == 0 {
                let release = summary(connection, scope, &ReleaseId::from_trusted(id))?;
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
                EventRow::deployment(&deployment_records::record(connection, &scope.app_id, &id)?)?
            };
            record(connection, &scope.app_id, &event)?;
            written += 1;
        }
    }
}

/// Whether any app still awaits its backfill (one row read).
pub(crate) fn backfill_pending(connection: &Connection) -> StoreResult<bool> {
    Ok(optional(
        connection,
        "SELECT 1 FROM timeline_backfill LIMIT 1",
        [],
        |_| Ok(()),
    )?
    .is_some())
}
