//! The backfill of migration 5 (`deployments`): an earlier version's activation
//! history becomes the default environment's deployment records (same sequence,
//! actor, time and releases), and each app's active release becomes its deployment
//! there. Runs when the store opens, after the starting environments are given, and
//! finds nothing to do once it has run.

use cutover_domain::deployment::Deployment;
use cutover_domain::model::{Activation, ActivationAction};
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::{AppScope, StoreResult};
use rusqlite::{Connection, params};

use crate::deployments::{self, insert_record};
use crate::error::from_sqlite;
use crate::releases::{summary, unreadable};
use crate::rows::{all, execute, optional};

/// Rows read per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

/// Carries every app's history over; answers how many records it wrote.
pub(crate) fn run(connection: &Connection) -> StoreResult<u64> {
    let mut written = 0;
    loop {
        let apps = all(
            connection,
            "SELECT DISTINCT a.app_id, a.workspace_id, a.org_id FROM activations v
             JOIN apps a ON a.app_id = v.app_id LIMIT ?1",
            [BATCH],
            scope_from_row,
        )?;
        if apps.is_empty() {
            break;
        }
        for scope in &apps {
            written += history(connection, scope)?;
        }
    }
    // Rows of apps deleted without their history (no foreign key stopped it).
    execute(connection, "DELETE FROM activations", []).map_err(from_sqlite)?;
    loop {
        let live = all(
            connection,
            "SELECT r.app_id, r.workspace_id, r.org_id, r.release_id FROM releases r
             WHERE r.status = 'active' AND NOT EXISTS
                 (SELECT 1 FROM deployed d WHERE d.release_id = r.release_id)
             LIMIT ?1",
            [BATCH],
            |row| Ok((scope_from_row(row)?, ReleaseId::from_trusted(row.get(3)?))),
        )?;
        if live.is_empty() {
            break;
        }
        for (scope, release_id) in &live {
            written += deploy_active(connection, scope, release_id)?;
        }
    }
    Ok(written)
}

pub(crate) fn scope_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AppScope> {
    Ok(AppScope {
        app_id: AppId::from_trusted(row.get(0)?),
        workspace_id: WorkspaceId::from_trusted(row.get(1)?),
        org_id: OrgId::from_trusted(row.get(2)?),
    })
}

/// One app's activations, oldest first, as records of its default environment; then
/// they are gone from `activations`.
fn history(connection: &Connection, scope: &AppScope) -> StoreResult<u64> {
    let environment = deployments::default_target(connection, &scope.workspace())?;
    let mut after = 0_i64;
    let mut written = 0;
    loop {
        let rows = all(
            connection,
            "SELECT v.sequence, v.release_id, v.replaced_release_id, v.action, v.actor, v.at,
                    r.release_tag, r.release_number
             FROM activations v LEFT JOIN releases r ON r.release_id = v.release_id
             WHERE v.app_id = ?1 AND v.sequence > ?2 ORDER BY v.sequence LIMIT ?3",
            params![scope.app_id.as_str(), after, BATCH],
            |row| {
                let action: String = row.get(3)?;
                let activation = Activation {
                    sequence: row.get(0)?,
                    release_id: ReleaseId::from_trusted(row.get(1)?),
                    replaced_release_id: row
                        .get::<_, Option<String>>(2)?
                        .map(ReleaseId::from_trusted),
                    action: ActivationAction::from_stored(&action)
                        .map_err(|err| unreadable(3, err))?,
                    actor: row.get(4)?,
                    at: Timestamp::from_micros(row.get(5)?),
                    reason: None,
                };
                let tag: Option<String> = row.get(6)?;
                let number: Option<i64> = row.get(7)?;
                Ok((activation, tag.map(ReleaseTag::from_trusted).zip(number)))
            },
        )?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = last.sequence;
        for (activation, release) in rows {
            let record =
                Deployment::carried_over(&scope.app_id, &environment, &activation, release);
            insert_record(connection, &record, Some(activation.sequence))?;
            written += 1;
        }
    }
    execute(
        connection,
        "DELETE FROM activations WHERE app_id = ?1",
        [scope.app_id.as_str()],
    )
    .map_err(from_sqlite)?;
    Ok(written)
}

/// Deploys an app's active release in its default environment, pointing at the
/// newest record that put it there (written now, from its activation, when the
/// history had none). Answers the records written.
fn deploy_active(
    connection: &Connection,
    scope: &AppScope,
    release_id: &ReleaseId,
) -> StoreResult<u64> {
    let environment = deployments::default_target(connection, &scope.workspace())?;
    let newest = optional(
        connection,
        "SELECT deployment_id FROM deployments
         WHERE app_id = ?1 AND environment_id = ?2 AND release_id = ?3
         ORDER BY sequence DESC LIMIT 1",
        [
            scope.app_id.as_str(),
            environment.environment_id.as_str(),
            release_id.as_str(),
        ],
        |row| row.get::<_, String>(0),
    )?;
    let (deployment_id, written) = match newest {
        Some(id) => (id, 0),
        None => {
            let release = summary(connection, scope, release_id)?;
            let record = Deployment::carried_over_live(&environment, &release);
            insert_record(connection, &record, None)?;
            (record.deployment_id.to_string(), 1)
        }
    };
    execute(
        connection,
        "INSERT INTO deployed (app_id, environment_id, workspace_id, release_id, deployment_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            scope.app_id.as_str(),
            environment.environment_id.as_str(),
            scope.workspace_id.as_str(),
            release_id.as_str(),
            deployment_id
        ],
    )
    .map_err(from_sqlite)?;
    Ok(written)
}
