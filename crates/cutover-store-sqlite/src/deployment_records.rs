//! Deployment records as read: one record, and the app's records newest first
//! (filtered by environment), paged by their sequence. The writes are in
//! `deployments`.

use cutover_domain::deployment::{Deployment, DeploymentAction};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, DeploymentId, EnvironmentId, ReleaseId, Timestamp};
use cutover_store::{AppScope, Page, PageRequest, StoreResult};
use rusqlite::{Connection, Row, params};

use crate::apps::require_app;
use crate::deployments::target;
use crate::releases::unreadable;
use crate::rows::{all, count, not_found, optional};

/// Every column of a record, `sequence` last, in the order [`record_from_row`] reads.
pub(crate) const RECORD_COLUMNS: &str = "deployment_id, app_id, environment_id, environment_slug, \
     environment_name, release_id, release_tag, release_number, action, previous_release_id, \
     reason, deployed_by, deployed_at, sequence";

/// A record, and its `sequence` (the order records were written in, for cursors).
pub(crate) fn record_from_row(row: &Row<'_>) -> rusqlite::Result<(Deployment, i64)> {
    let action: String = row.get(8)?;
    let record = Deployment {
        deployment_id: DeploymentId::from_trusted(row.get(0)?),
        app_id: AppId::from_trusted(row.get(1)?),
        environment_id: EnvironmentId::from_trusted(row.get(2)?),
        environment_slug: row.get(3)?,
        environment_name: row.get(4)?,
        release_id: ReleaseId::from_trusted(row.get(5)?),
        release_tag: row
            .get::<_, Option<String>>(6)?
            .map(ReleaseTag::from_trusted),
        release_number: row.get(7)?,
        action: DeploymentAction::from_stored(&action).map_err(|err| unreadable(8, err))?,
        previous_release_id: row
            .get::<_, Option<String>>(9)?
            .map(ReleaseId::from_trusted),
        reason: row.get(10)?,
        deployed_by: row.get(11)?,
        deployed_at: Timestamp::from_micros(row.get(12)?),
    };
    Ok((record, row.get(13)?))
}

pub(crate) fn record(
    connection: &Connection,
    app_id: &AppId,
    id: &DeploymentId,
) -> StoreResult<Deployment> {
    optional(
        connection,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM deployments WHERE deployment_id = ?1 AND app_id = ?2"
        ),
        [id.as_str(), app_id.as_str()],
        record_from_row,
    )?
    .map(|(record, _)| record)
    .ok_or_else(|| not_found("deployment", id))
}

pub(crate) fn list_deployments(
    connection: &Connection,
    scope: &AppScope,
    environment: Option<&EnvironmentRef>,
    page: &PageRequest,
) -> StoreResult<Page<Deployment>> {
    require_app(connection, scope)?;
    let environment_id = match environment {
        Some(reference) => Some(target(connection, &scope.workspace(), reference)?.environment_id),
        None => None,
    };
    let before: i64 = page
        .after
        .as_deref()
        .and_then(|key| key.parse().ok())
        .unwrap_or(i64::MAX);
    let filter = environment_id.as_ref().map(EnvironmentId::as_str);
    let rows = all(
        connection,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM deployments
             WHERE app_id = ?1 AND (?2 IS NULL OR environment_id = ?2) AND sequence < ?3
             ORDER BY sequence DESC LIMIT ?4"
        ),
        params![scope.app_id.as_str(), filter, before, page.limit + 1],
        record_from_row,
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM deployments WHERE app_id = ?1 AND (?2 IS NULL OR environment_id = ?2)",
        params![scope.app_id.as_str(), filter],
    )?;
    Ok(
        Page::from_over_fetch(rows, page, total, |(_, sequence)| sequence.to_string())
            .map(|(record, _)| record),
    )
}

pub(crate) fn get_deployment(
    connection: &Connection,
    scope: &AppScope,
    id: &DeploymentId,
) -> StoreResult<Deployment> {
    require_app(connection, scope)?;
    record(connection, &scope.app_id, id)
}
