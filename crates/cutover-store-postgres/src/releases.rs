//! Releases: cutting a snapshot of the draft (planned by `cutover_store::cut`, under
//! the app row's lock) and reading releases. The lifecycle transitions are in
//! `lifecycle`.

use cutover_domain::conflict::Conflict;
use cutover_domain::deployment::{DeployTerms, DeploymentAction};
use cutover_domain::digest::Manifest;
use cutover_domain::draft::NewRelease;
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{ReleaseStatus, ReleaseSummary, UnknownStoredValue};
use cutover_domain::timeline::ReleaseAction;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::cut::{CutFacts, NewestRelease, PreviousRelease, plan_release};
use cutover_store::digests::{self, AugmentationRow, DraftTexts, EndpointRow};
use cutover_store::timeline::EventRow;
use cutover_store::{AppScope, ReleaseDocument, ReleasePage, ReleaseQuery, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::apps::{lock_app, require_app};
use crate::deployments;
use crate::error::{Outcome, unique_or};
use crate::rows::{all, count, fetch_limit, get_u32, not_found, optional};
use crate::timeline;

macro_rules! summary_columns {
    () => {
        "release_id, app_id, workspace_id, org_id, release_tag, release_number, status, \
         description, endpoint_count, augmentation_count, content_hash, activated_at, \
         activated_by, created_at, created_by"
    };
}

/// A column whose stored text is outside its closed set.
pub(crate) fn unreadable(column: &str, err: UnknownStoredValue) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(err),
    }
}

pub(crate) fn summary_from_row(row: &PgRow) -> sqlx::Result<ReleaseSummary> {
    let status: String = row.try_get(6)?;
    Ok(ReleaseSummary {
        release_id: ReleaseId::from_trusted(row.try_get(0)?),
        app_id: AppId::from_trusted(row.try_get(1)?),
        workspace_id: WorkspaceId::from_trusted(row.try_get(2)?),
        org_id: OrgId::from_trusted(row.try_get(3)?),
        release_tag: ReleaseTag::from_trusted(row.try_get(4)?),
        release_number: row.try_get(5)?,
        status: ReleaseStatus::from_stored(&status).map_err(|err| unreadable("status", err))?,
        description: row.try_get(7)?,
        endpoint_count: get_u32(row, 8)?,
        augmentation_count: get_u32(row, 9)?,
        content_hash: row.try_get(10)?,
        activated_at: row
            .try_get::<Option<i64>, _>(11)?
            .map(Timestamp::from_micros),
        activated_by: row.try_get(12)?,
        created_at: Timestamp::from_micros(row.try_get(13)?),
        created_by: row.try_get(14)?,
    })
}

pub(crate) async fn summary(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
) -> Outcome<ReleaseSummary> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM releases WHERE release_id = $1 AND app_id = $2"
        ))
        .bind(id.as_str())
        .bind(scope.app_id.as_str()),
        summary_from_row,
    )
    .await?
    .ok_or_else(|| not_found("release", id))
}

async fn document(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
) -> Outcome<ReleaseDocument> {
    let row = optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            summary_columns!(),
            ", change_log, previous_release_id, snapshot
             FROM releases WHERE release_id = $1 AND app_id = $2"
        ))
        .bind(id.as_str())
        .bind(scope.app_id.as_str()),
        |row| {
            Ok(ReleaseDocument {
                summary: summary_from_row(row)?,
                change_log: row.try_get(15)?,
                previous_release_id: row
                    .try_get::<Option<String>, _>(16)?
                    .map(ReleaseId::from_trusted),
                content: row.try_get(17)?,
            })
        },
    )
    .await?;
    row.ok_or_else(|| not_found("release", id))
}

async fn tag_taken(
    connection: &mut PgConnection,
    scope: &AppScope,
    tag: &ReleaseTag,
) -> Outcome<Option<StoreError>> {
    let existing = optional(
        connection,
        sqlx::query(
            "SELECT release_id, release_number FROM releases WHERE app_id = $1 AND release_tag = $2",
        )
        .bind(scope.app_id.as_str())
        .bind(tag.as_str()),
        |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?)),
    )
    .await?;
    Ok(existing.map(|(release_id, number)| {
        StoreError::from(Conflict::ReleaseTagExists {
            tag: tag.as_str().to_owned(),
            existing: Some((release_id, number)),
        })
    }))
}

pub(crate) async fn create_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    new: &NewRelease,
    actor: &str,
) -> Outcome<ReleaseDocument> {
    lock_app(&mut *connection, scope).await?;
    if let Some(conflict) = tag_taken(&mut *connection, scope, &new.release_tag).await? {
        return Err(conflict.into());
    }
    let plan = plan_release(cut_facts(&mut *connection, scope).await?);
    let number: i64 = sqlx::query(
        "UPDATE apps SET release_seq = release_seq + 1 WHERE app_id = $1 RETURNING release_seq",
    )
    .bind(scope.app_id.as_str())
    .fetch_one(&mut *connection)
    .await?
    .try_get(0)?;
    let release_id = ReleaseId::generate();
    sqlx::query(
        "INSERT INTO releases (release_id, app_id, workspace_id, org_id, release_tag, release_number,
             status, description, endpoint_count, augmentation_count, content_hash, created_at,
             created_by, previous_release_id, change_log, snapshot, manifest, manifest_digest)
         VALUES ($1, $2, $3, $4, $5, $6, 'ready', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $17)",
    )
    .bind(release_id.as_str())
    .bind(scope.app_id.as_str())
    .bind(scope.workspace_id.as_str())
    .bind(scope.org_id.as_str())
    .bind(new.release_tag.as_str())
    .bind(number)
    .bind(&new.description)
    .bind(i64::from(plan.endpoint_count))
    .bind(i64::from(plan.augmentation_count))
    .bind(&plan.content_hash)
    .bind(Timestamp::now().as_micros())
    .bind(actor)
    .bind(plan.previous_release_id.as_ref().map(ReleaseId::as_str))
    .bind(&plan.change_log)
    .bind(&plan.content)
    .bind(&plan.manifest)
    .bind(&plan.draft_digest)
    .execute(&mut *connection)
    .await
    .map_err(|err| {
        unique_or(err, |constraint| {
            (constraint == "releases_app_tag_unique").then(|| {
                StoreError::from(Conflict::ReleaseTagExists {
                    tag: new.release_tag.as_str().to_owned(),
                    existing: None,
                })
            })
        })
    })?;
    let release = summary(&mut *connection, scope, &release_id).await?;
    let cut = EventRow::release(
        release.clone(),
        ReleaseAction::Cut,
        actor,
        None,
        release.created_at,
    )?;
    timeline::record(&mut *connection, &scope.app_id, &cut).await?;
    if let Some(deploy) = &new.deploy {
        let workspace = scope.workspace();
        let environment = match &deploy.environment {
            Some(reference) => deployments::target_held(&mut *connection, &workspace, reference)
                .await
                .map_err(|err| deployments::in_body(err, "environment", reference))?,
            None => deployments::default_target(&mut *connection, &workspace).await?,
        };
        deploy
            .authority
            .check(&environment)
            .map_err(StoreError::from)?;
        deployments::deploy_release(
            &mut *connection,
            scope,
            &environment,
            &release,
            DeployTerms::unconditional(DeploymentAction::Deploy),
            actor,
        )
        .await?;
    }
    // The content was just written from memory. Deploying changed the lifecycle fields
    // (status, activated_*), which are then read back.
    let release = match new.deploy {
        Some(_) => summary(&mut *connection, scope, &release_id).await?,
        None => release,
    };
    Ok(ReleaseDocument {
        summary: release,
        change_log: plan.change_log,
        previous_release_id: plan.previous_release_id,
        content: plan.content,
    })
}

/// Reads what a cut starts from (the caller holds the app lock): the draft's digest
/// and stored texts, and the newest release with its manifest when the change log
/// needs it.
async fn cut_facts(connection: &mut PgConnection, scope: &AppScope) -> Outcome<CutFacts> {
    let draft_digest: String = sqlx::query("SELECT draft_hash FROM apps WHERE app_id = $1")
        .bind(scope.app_id.as_str())
        .fetch_one(&mut *connection)
        .await?
        .try_get(0)?;
    let draft = load_draft_texts(&mut *connection, &scope.app_id).await?;
    let newest = optional(
        &mut *connection,
        sqlx::query(
            "SELECT release_id, release_tag, release_number, manifest_digest FROM releases
             WHERE app_id = $1 ORDER BY release_number DESC LIMIT 1",
        )
        .bind(scope.app_id.as_str()),
        |row| {
            Ok(NewestRelease {
                release_id: ReleaseId::from_trusted(row.try_get(0)?),
                release_tag: row.try_get(1)?,
                release_number: row.try_get(2)?,
                manifest_digest: row.try_get(3)?,
            })
        },
    )
    .await?;
    let previous = match newest {
        Some(newest) => {
            let manifest = if newest.needs_manifest(&draft_digest) {
                stored_manifest(&mut *connection, &newest.release_id).await?
            } else {
                None
            };
            Some(PreviousRelease { newest, manifest })
        }
        None => None,
    };
    Ok(CutFacts {
        draft_digest,
        draft,
        previous,
    })
}

/// The draft's rows as a cut reads them, each list ordered by id.
async fn load_draft_texts(connection: &mut PgConnection, app_id: &AppId) -> Outcome<DraftTexts> {
    let endpoints = all(
        &mut *connection,
        sqlx::query(
            "SELECT body, canonical, digest, endpoint_id, name, method, path FROM endpoints
             WHERE app_id = $1 ORDER BY endpoint_id",
        )
        .bind(app_id.as_str()),
        |row| {
            Ok(EndpointRow {
                body: row.try_get(0)?,
                canonical: row.try_get(1)?,
                digest: row.try_get(2)?,
                id: row.try_get(3)?,
                name: row.try_get(4)?,
                method: row.try_get(5)?,
                path: row.try_get(6)?,
            })
        },
    )
    .await?;
    let augmentations = all(
        &mut *connection,
        sqlx::query(
            "SELECT body, canonical, digest, augmentation_id, name FROM augmentations
             WHERE app_id = $1 ORDER BY augmentation_id",
        )
        .bind(app_id.as_str()),
        |row| {
            Ok(AugmentationRow {
                body: row.try_get(0)?,
                canonical: row.try_get(1)?,
                digest: row.try_get(2)?,
                id: row.try_get(3)?,
                name: row.try_get(4)?,
            })
        },
    )
    .await?;
    Ok(DraftTexts::from_rows(endpoints, augmentations)?)
}

/// The manifest kept for a release; `None` when its content could not be read when
/// the manifest was made (see `backfill`).
async fn stored_manifest(
    connection: &mut PgConnection,
    id: &ReleaseId,
) -> Outcome<Option<Manifest>> {
    let text: Option<String> = optional(
        connection,
        sqlx::query("SELECT manifest FROM releases WHERE release_id = $1").bind(id.as_str()),
        |row| row.try_get(0),
    )
    .await?
    .flatten();
    Ok(digests::stored_manifest(text)?)
}

pub(crate) async fn list_releases(
    connection: &mut PgConnection,
    scope: &AppScope,
    query: &ReleaseQuery,
) -> Outcome<ReleasePage> {
    require_app(&mut *connection, scope).await?;
    let mut releases = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM releases
             WHERE app_id = $1 AND ($2 OR status <> 'archived') AND release_number < $3
             ORDER BY release_number DESC LIMIT $4"
        ))
        .bind(scope.app_id.as_str())
        .bind(query.include_archived)
        .bind(query.before_number.unwrap_or(i64::MAX))
        .bind(fetch_limit(query.limit)),
        summary_from_row,
    )
    .await?;
    let next_before_number = if releases.len() > query.limit as usize {
        releases.truncate(query.limit as usize);
        releases.last().map(|release| release.release_number)
    } else {
        None
    };
    // Both counts can be answered from the (app_id, status) index.
    let total = count(
        &mut *connection,
        sqlx::query(if query.include_archived {
            "SELECT count(*) FROM releases WHERE app_id = $1"
        } else {
            "SELECT count(*) FROM releases WHERE app_id = $1 AND status <> 'archived'"
        })
        .bind(scope.app_id.as_str()),
    )
    .await?;
    let active_release_id = deployments::default_release_id(connection, &scope.app_id).await?;
    Ok(ReleasePage {
        releases,
        total,
        next_before_number,
        active_release_id,
    })
}

pub(crate) async fn get_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &ReleaseId,
) -> Outcome<ReleaseDocument> {
    require_app(&mut *connection, scope).await?;
    document(connection, scope, id).await
}

pub(crate) async fn get_active_release(
    connection: &mut PgConnection,
    scope: &AppScope,
) -> Outcome<Option<ReleaseDocument>> {
    require_app(&mut *connection, scope).await?;
    match deployments::default_release_id(&mut *connection, &scope.app_id).await? {
        Some(active) => document(connection, scope, &active).await.map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn get_deployed_release(
    connection: &mut PgConnection,
    scope: &AppScope,
    environment: &EnvironmentRef,
) -> Outcome<Option<ReleaseDocument>> {
    require_app(&mut *connection, scope).await?;
    let environment =
        deployments::target(&mut *connection, &scope.workspace(), environment).await?;
    let deployed = optional(
        &mut *connection,
        sqlx::query("SELECT release_id FROM deployed WHERE app_id = $1 AND environment_id = $2")
            .bind(scope.app_id.as_str())
            .bind(environment.environment_id.as_str()),
        |row| Ok(ReleaseId::from_trusted(row.try_get(0)?)),
    )
    .await?;
    match deployed {
        Some(release_id) => document(connection, scope, &release_id).await.map(Some),
        None => Ok(None),
    }
}
