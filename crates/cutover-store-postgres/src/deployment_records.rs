//! Deployment records as read: one record, and the app's records newest first
//! (filtered by environment), paged by their sequence. The writes are in
//! `deployments`.

use cutover_domain::deployment::{Deployment, DeploymentAction};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, DeploymentId, EnvironmentId, ReleaseId, Timestamp};
use cutover_store::{AppScope, Page, PageRequest};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::apps::require_app;
use crate::deployments::target;
use crate::error::Outcome;
use crate::releases::unreadable;
use crate::rows::{all, count, fetch_limit, not_found, optional};

/// Every column of a record, `sequence` last, in the order [`record_from_row`] reads.
macro_rules! record_columns {
    () => {
        "deployment_id, app_id, environment_id, environment_slug, environment_name, release_id, \
         release_tag, release_number, action, previous_release_id, reason, deployed_by, \
         deployed_at, sequence"
    };
}
pub(crate) use record_columns;

/// A record, and its `sequence` (the order records were written in, for cursors).
pub(crate) fn record_from_row(row: &PgRow) -> sqlx::Result<(Deployment, i64)> {
    let action: String = row.try_get(8)?;
    let record = Deployment {
        deployment_id: DeploymentId::from_trusted(row.try_get(0)?),
        app_id: AppId::from_trusted(row.try_get(1)?),
        environment_id: EnvironmentId::from_trusted(row.try_get(2)?),
        environment_slug: row.try_get(3)?,
        environment_name: row.try_get(4)?,
        release_id: ReleaseId::from_trusted(row.try_get(5)?),
        release_tag: row
            .try_get::<Option<String>, _>(6)?
            .map(ReleaseTag::from_trusted),
        release_number: row.try_get(7)?,
        action: DeploymentAction::from_stored(&action).map_err(|err| unreadable("action", err))?,
        previous_release_id: row
            .try_get::<Option<String>, _>(9)?
            .map(ReleaseId::from_trusted),
        reason: row.try_get(10)?,
        deployed_by: row.try_get(11)?,
        deployed_at: Timestamp::from_micros(row.try_get(12)?),
    };
    Ok((record, row.try_get(13)?))
}

pub(crate) async fn record(
    connection: &mut PgConnection,
    app_id: &AppId,
    id: &DeploymentId,
) -> Outcome<Deployment> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM deployments WHERE deployment_id = $1 AND app_id = $2"
        ))
        .bind(id.as_str())
        .bind(app_id.as_str()),
        record_from_row,
    )
    .await?
    .map(|(record, _)| record)
    .ok_or_else(|| not_found("deployment", id))
}

pub(crate) async fn list_deployments(
    connection: &mut PgConnection,
    scope: &AppScope,
    environment: Option<&EnvironmentRef>,
    page: &PageRequest,
) -> Outcome<Page<Deployment>> {
    require_app(&mut *connection, scope).await?;
    let environment_id = match environment {
        Some(reference) => Some(
            target(&mut *connection, &scope.workspace(), reference)
                .await?
                .environment_id,
        ),
        None => None,
    };
    let before: i64 = page
        .after
        .as_deref()
        .and_then(|key| key.parse().ok())
        .unwrap_or(i64::MAX);
    let filter = environment_id.as_ref().map(|id| id.as_str().to_owned());
    let rows = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM deployments
             WHERE app_id = $1 AND ($2::text IS NULL OR environment_id = $2) AND sequence < $3
             ORDER BY sequence DESC LIMIT $4"
        ))
        .bind(scope.app_id.as_str())
        .bind(filter.clone())
        .bind(before)
        .bind(fetch_limit(page.limit)),
        record_from_row,
    )
    .await?;
    let total = count(
        connection,
        sqlx::query(
            "SELECT count(*) FROM deployments
             WHERE app_id = $1 AND ($2::text IS NULL OR environment_id = $2)",
        )
        .bind(scope.app_id.as_str())
        .bind(filter),
    )
    .await?;
    Ok(
        Page::from_over_fetch(rows, page, total, |(_, sequence)| sequence.to_string())
            .map(|(record, _)| record),
    )
}

pub(crate) async fn get_deployment(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &DeploymentId,
) -> Outcome<Deployment> {
    require_app(&mut *connection, scope).await?;
    record(connection, &scope.app_id, id).await
}
