//! The backfill of migration 5 (`deployments`): an earlier version's activation
//! history becomes the default environment's deployment records (same sequence,
//! actor, time and releases), and each app's active release becomes its deployment
//! there. Runs in the backfill's transaction, under the migrations' advisory lock, and
//! finds nothing to do once it has run.

use cutover_domain::deployment::Deployment;
use cutover_domain::model::{Activation, ActivationAction};
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::AppScope;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::deployments::{self, insert_record};
use crate::error::Outcome;
use crate::releases::{summary, unreadable};
use crate::rows::{all, optional};

/// Rows read per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

/// Carries every app's history over; answers how many records it wrote.
pub(crate) async fn run(connection: &mut PgConnection) -> Outcome<u64> {
    // Every release an earlier version activated has a row in `activations`, and the
    // carry-over empties the table, so an empty table means nothing is left to do
    // (one row read, not a scan of the releases at every start).
    let pending: bool = sqlx::query("SELECT EXISTS (SELECT 1 FROM activations)")
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    if !pending {
        return Ok(0);
    }
    let mut written = 0;
    loop {
        let apps = all(
            &mut *connection,
            sqlx::query(
                "SELECT DISTINCT a.app_id, a.workspace_id, a.org_id FROM activations v
                 JOIN apps a ON a.app_id = v.app_id LIMIT $1",
            )
            .bind(BATCH),
            scope_from_row,
        )
        .await?;
        if apps.is_empty() {
            break;
        }
        for scope in &apps {
            written += history(&mut *connection, scope).await?;
        }
    }
    // Rows of apps deleted without their history (no foreign key stopped it).
    sqlx::query("DELETE FROM activations")
        .execute(&mut *connection)
        .await?;
    // New records number after the carried-over ones.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('deployments', 'sequence'),
                       (SELECT max(sequence) FROM deployments))
         WHERE EXISTS (SELECT 1 FROM deployments)",
    )
    .execute(&mut *connection)
    .await?;
    loop {
        let live = all(
            &mut *connection,
            sqlx::query(
                "SELECT r.app_id, r.workspace_id, r.org_id, r.release_id FROM releases r
                 WHERE r.status = 'active' AND NOT EXISTS
                     (SELECT 1 FROM deployed d WHERE d.release_id = r.release_id)
                 LIMIT $1",
            )
            .bind(BATCH),
            |row| {
                Ok((
                    scope_from_row(row)?,
                    ReleaseId::from_trusted(row.try_get(3)?),
                ))
            },
        )
        .await?;
        if live.is_empty() {
            break;
        }
        for (scope, release_id) in &live {
            written += deploy_active(&mut *connection, scope, release_id).await?;
        }
    }
    Ok(written)
}

pub(crate) fn scope_from_row(row: &PgRow) -> sqlx::Result<AppScope> {
    Ok(AppScope {
        app_id: AppId::from_trusted(row.try_get(0)?),
        workspace_id: WorkspaceId::from_trusted(row.try_get(1)?),
        org_id: OrgId::from_trusted(row.try_get(2)?),
    })
}

/// One app's activations, oldest first, as records of its default environment; then
/// they are gone from `activations`.
async fn history(connection: &mut PgConnection, scope: &AppScope) -> Outcome<u64> {
    let environment = deployments::default_target(&mut *connection, &scope.workspace()).await?;
    let mut after = 0_i64;
    let mut written = 0;
    loop {
        let rows = all(
            &mut *connection,
            sqlx::query(
                "SELECT v.sequence, v.release_id, v.replaced_release_id, v.action, v.actor, v.at,
                        r.release_tag, r.release_number
                 FROM activations v LEFT JOIN releases r ON r.release_id = v.release_id
                 WHERE v.app_id = $1 AND v.sequence > $2 ORDER BY v.sequence LIMIT $3",
            )
            .bind(scope.app_id.as_str())
            .bind(after)
            .bind(BATCH),
            |row| {
                let action: String = row.try_get(3)?;
                let activation = Activation {
                    sequence: row.try_get(0)?,
                    release_id: ReleaseId::from_trusted(row.try_get(1)?),
                    replaced_release_id: row
                        .try_get::<Option<String>, _>(2)?
                        .map(ReleaseId::from_trusted),
                    action: ActivationAction::from_stored(&action)
                        .map_err(|err| unreadable("action", err))?,
                    actor: row.try_get(4)?,
                    at: Timestamp::from_micros(row.try_get(5)?),
                    reason: None,
                };
                let tag: Option<String> = row.try_get(6)?;
                let number: Option<i64> = row.try_get(7)?;
                Ok((activation, tag.map(ReleaseTag::from_trusted).zip(number)))
            },
        )
        .await?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = last.sequence;
        for (activation, release) in rows {
            let record =
                Deployment::carried_over(&scope.app_id, &environment, &activation, release);
            insert_record(&mut *connection, &record, Some(activation.sequence)).await?;
            written += 1;
        }
    }
    sqlx::query("DELETE FROM activations WHERE app_id = $1")
        .bind(scope.app_id.as_str())
        .execute(&mut *connection)
        .await?;
    Ok(written)
}

/// Deploys an app's active release in its default environment, pointing at the
/// newest record that put it there (written now, from its activation, when the
/// history had none). Answers the records written.
async fn deploy_active(
    connection: &mut PgConnection,
    scope: &AppScope,
    release_id: &ReleaseId,
) -> Outcome<u64> {
    let environment = deployments::default_target(&mut *connection, &scope.workspace()).await?;
    let newest = optional(
        &mut *connection,
        sqlx::query(
            "SELECT deployment_id FROM deployments
             WHERE app_id = $1 AND environment_id = $2 AND release_id = $3
             ORDER BY sequence DESC LIMIT 1",
        )
        .bind(scope.app_id.as_str())
        .bind(environment.environment_id.as_str())
        .bind(release_id.as_str()),
        |row| row.try_get::<String, _>(0),
    )
    .await?;
    let (deployment_id, written) = match newest {
        Some(id) => (id, 0),
        None => {
            let release = summary(&mut *connection, scope, release_id).await?;
            let record = Deployment::carried_over_live(&environment, &release);
            insert_record(&mut *connection, &record, None).await?;
            (record.deployment_id.to_string(), 1)
        }
    };
    sqlx::query(
        "INSERT INTO deployed (app_id, environment_id, workspace_id, release_id, deployment_id)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(scope.app_id.as_str())
    .bind(environment.environment_id.as_str())
    .bind(scope.workspace_id.as_str())
    .bind(release_id.as_str())
    .bind(deployment_id)
    .execute(connection)
    .await?;
    Ok(written)
}
