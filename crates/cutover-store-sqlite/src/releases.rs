//! Releases: cutting a snapshot of the draft (planned by `cutover_store::cut`) and
//! reading releases. The lifecycle transitions are in `lifecycle`.

use cutover_domain::conflict::Conflict;
use cutover_domain::deployment::{DeployTerms, DeploymentAction};
use cutover_domain::digest::Manifest;
use cutover_domain::draft::NewRelease;
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{ReleaseStatus, ReleaseSummary, UnknownStoredValue};
use cutover_domain::timeline::ReleaseAction;
use cutover_domain::values::ReleaseTag;
use cutover_domain::{AppId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::cut::{CutFacts, NewestRelease, PreviousRelease, ReleasePlan};
use cutover_store::digests::{self, AugmentationRow, DraftTexts, EndpointRow};
use cutover_store::timeline::EventRow;
use cutover_store::{
    AppScope, ReleaseDocument, ReleasePage, ReleaseQuery, StoreError, StoreResult,
};
use rusqlite::{Connection, Row, params};

use crate::apps::require_app;
use crate::deployments;
use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{all, count, execute, not_found, optional};
use crate::timeline;

const SUMMARY_COLUMNS: &str = "release_id, app_id, workspace_id, org_id, release_tag, release_number, \
     status, description, endpoint_count, augmentation_count, content_hash, activated_at, activated_by, \
     created_at, created_by";

/// [`SUMMARY_COLUMNS`] of a `releases` table named `r`, for joins.
pub(crate) const SUMMARY_COLUMNS_OF_R: &str = "r.release_id, r.app_id, r.workspace_id, r.org_id, \
     r.release_tag, r.release_number, r.status, r.description, r.endpoint_count, \
     r.augmentation_count, r.content_hash, r.activated_at, r.activated_by, r.created_at, r.created_by";

/// Picks, in [`document_sql`], the release the default environment has.
pub(crate) const DEFAULT_DEPLOYED: &str = "release_id = (SELECT d.release_id FROM deployed d
     JOIN environments e ON e.environment_id = d.environment_id AND e.is_default = 1
     WHERE d.app_id = ?1)";

/// Picks, in [`document_sql`], the release the environment `?4` has.
const DEPLOYED_IN: &str =
    "release_id = (SELECT release_id FROM deployed WHERE app_id = ?1 AND environment_id = ?4)";

/// A column whose stored text is outside its closed set.
pub(crate) fn unreadable(column: usize, err: UnknownStoredValue) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(err))
}

pub(crate) fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<ReleaseSummary> {
    let status: String = row.get(6)?;
    Ok(ReleaseSummary {
        release_id: ReleaseId::from_trusted(row.get(0)?),
        app_id: AppId::from_trusted(row.get(1)?),
        workspace_id: WorkspaceId::from_trusted(row.get(2)?),
        org_id: OrgId::from_trusted(row.get(3)?),
        release_tag: ReleaseTag::from_trusted(row.get(4)?),
        release_number: row.get(5)?,
        status: ReleaseStatus::from_stored(&status).map_err(|err| unreadable(6, err))?,
        description: row.get(7)?,
        endpoint_count: row.get(8)?,
        augmentation_count: row.get(9)?,
        content_hash: row.get(10)?,
        activated_at: row.get::<_, Option<i64>>(11)?.map(Timestamp::from_micros),
        activated_by: row.get(12)?,
        created_at: Timestamp::from_micros(row.get(13)?),
        created_by: row.get(14)?,
    })
}

pub(crate) fn summary(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
) -> StoreResult<ReleaseSummary> {
    optional(
        connection,
        &format!("SELECT {SUMMARY_COLUMNS} FROM releases WHERE release_id = ?1 AND app_id = ?2"),
        [id.as_str(), scope.app_id.as_str()],
        summary_from_row,
    )?
    .ok_or_else(|| not_found("release", id))
}

fn tag_taken(
    connection: &Connection,
    scope: &AppScope,
    tag: &ReleaseTag,
) -> StoreResult<Option<StoreError>> {
    let existing = optional(
        connection,
        "SELECT release_id, release_number FROM releases WHERE app_id = ?1 AND release_tag = ?2",
        [scope.app_id.as_str(), tag.as_str()],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
    )?;
    Ok(existing.map(|(release_id, number)| {
        StoreError::from(Conflict::ReleaseTagExists {
            tag: tag.as_str().to_owned(),
            existing: Some((release_id, number)),
        })
    }))
}

/// Reads what a cut starts from (on a reader thread): the draft's digest and stored
/// texts, and the newest release with its manifest when the change log needs it.
pub(crate) fn cut_facts(connection: &Connection, scope: &AppScope) -> StoreResult<CutFacts> {
    require_app(connection, scope)?;
    let draft_digest: String = connection
        .prepare_cached("SELECT draft_hash FROM apps WHERE app_id = ?1")
        .and_then(|mut statement| statement.query_row([scope.app_id.as_str()], |row| row.get(0)))
        .map_err(from_sqlite)?;
    let draft = load_draft_texts(connection, &scope.app_id)?;
    let newest = optional(
        connection,
        "SELECT release_id, release_tag, release_number, manifest_digest FROM releases
         WHERE app_id = ?1 ORDER BY release_number DESC LIMIT 1",
        [scope.app_id.as_str()],
        |row| {
            Ok(NewestRelease {
                release_id: ReleaseId::from_trusted(row.get(0)?),
                release_tag: row.get(1)?,
                release_number: row.get(2)?,
                manifest_digest: row.get(3)?,
            })
        },
    )?;
    let previous = match newest {
        Some(newest) => {
            let manifest = if newest.needs_manifest(&draft_digest) {
                stored_manifest(connection, &newest.release_id)?
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

/// Writes a planned release (on the writer), or answers `None` when the draft or the
/// newest release changed since the facts were read, so the caller plans again.
pub(crate) fn create_release(
    connection: &Connection,
    scope: &AppScope,
    new: NewRelease,
    planned: ReleasePlan,
    actor: &str,
) -> StoreResult<Option<ReleaseDocument>> {
    require_app(connection, scope)?;
    if let Some(conflict) = tag_taken(connection, scope, &new.release_tag)? {
        return Err(conflict);
    }
    let (draft_digest, newest): (String, Option<String>) = connection
        .prepare_cached(
            "SELECT draft_hash, (SELECT release_id FROM releases WHERE app_id = ?1
                                 ORDER BY release_number DESC LIMIT 1)
             FROM apps WHERE app_id = ?1",
        )
        .and_then(|mut statement| {
            statement.query_row([scope.app_id.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
        })
        .map_err(from_sqlite)?;
    if !planned.still_current(&draft_digest, newest.as_deref()) {
        return Ok(None);
    }
    let number: i64 = connection
        .prepare_cached(
            "UPDATE apps SET release_seq = release_seq + 1 WHERE app_id = ?1 RETURNING release_seq",
        )
        .and_then(|mut statement| statement.query_row([scope.app_id.as_str()], |row| row.get(0)))
        .map_err(from_sqlite)?;
    let release_id = ReleaseId::generate();
    let ReleasePlan {
        previous_release_id,
        change_log,
        content_hash,
        content,
        manifest,
        endpoint_count,
        augmentation_count,
        draft_digest,
    } = planned;
    connection
        .prepare_cached(
            "INSERT INTO releases (release_id, app_id, workspace_id, org_id, release_tag, release_number,
                 status, description, endpoint_count, augmentation_count, content_hash, created_at,
                 created_by, previous_release_id, manifest_digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ready', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                release_id.as_str(),
                scope.app_id.as_str(),
                scope.workspace_id.as_str(),
                scope.org_id.as_str(),
                new.release_tag.as_str(),
                number,
                new.description,
                endpoint_count,
                augmentation_count,
                content_hash,
                Timestamp::now().as_micros(),
                actor,
                previous_release_id.as_ref().map(ReleaseId::as_str),
                draft_digest,
            ])
        })
        .map_err(|err| {
            if is_unique_violation(&err) {
                StoreError::from(Conflict::ReleaseTagExists {
                    tag: new.release_tag.as_str().to_owned(),
                    existing: None,
                })
            } else {
                from_sqlite(err)
            }
        })?;
    connection
        .prepare_cached(
            "INSERT INTO release_contents (release_id, change_log, snapshot) VALUES (?1, ?2, ?3)",
        )
        .and_then(|mut statement| {
            statement.execute(params![release_id.as_str(), change_log, content])
        })
        .map_err(from_sqlite)?;
    execute(
        connection,
        "INSERT INTO release_manifests (release_id, manifest) VALUES (?1, ?2)",
        params![release_id.as_str(), manifest],
    )
    .map_err(from_sqlite)?;
    let release = summary(connection, scope, &release_id)?;
    let cut = EventRow::release(
        release.clone(),
        ReleaseAction::Cut,
        actor,
        None,
        release.created_at,
    )?;
    timeline::record(connection, &scope.app_id, &cut)?;
    let deployed = new.deploy.is_some();
    if let Some(deploy) = new.deploy {
        let workspace = scope.workspace();
        let environment = match &deploy.environment {
            Some(reference) => {
                deployments::body_target(connection, &workspace, reference, "environment")?
            }
            None => deployments::default_target(connection, &workspace)?,
        };
        deploy.authority.check(&environment)?;
        deployments::deploy_release(
            connection,
            scope,
            &environment,
            &release,
            DeployTerms::unconditional(DeploymentAction::Deploy),
            actor,
        )?;
    }
    // The content was just written from memory. Deploying changed the lifecycle fields
    // (status, activated_*), which are then read back.
    let release = if deployed {
        summary(connection, scope, &release_id)?
    } else {
        release
    };
    Ok(Some(ReleaseDocument {
        summary: release,
        change_log,
        previous_release_id,
        content,
    }))
}

/// The draft's rows as a cut reads them, each list ordered by id.
fn load_draft_texts(connection: &Connection, app_id: &AppId) -> StoreResult<DraftTexts> {
    let endpoints = all(
        connection,
        "SELECT body, canonical, digest, endpoint_id, name, method, path FROM endpoints
         WHERE app_id = ?1 ORDER BY endpoint_id",
        [app_id.as_str()],
        |row| {
            Ok(EndpointRow {
                body: row.get(0)?,
                canonical: row.get(1)?,
                digest: row.get(2)?,
                id: row.get(3)?,
                name: row.get(4)?,
                method: row.get(5)?,
                path: row.get(6)?,
            })
        },
    )?;
    let augmentations = all(
        connection,
        "SELECT body, canonical, digest, augmentation_id, name FROM augmentations
         WHERE app_id = ?1 ORDER BY augmentation_id",
        [app_id.as_str()],
        |row| {
            Ok(AugmentationRow {
                body: row.get(0)?,
                canonical: row.get(1)?,
                digest: row.get(2)?,
                id: row.get(3)?,
                name: row.get(4)?,
            })
        },
    )?;
    DraftTexts::from_rows(endpoints, augmentations)
}

/// The manifest kept for a release; `None` when its content could not be read when
/// the manifest was made (see `backfill`).
fn stored_manifest(connection: &Connection, id: &ReleaseId) -> StoreResult<Option<Manifest>> {
    let text: Option<String> = optional(
        connection,
        "SELECT manifest FROM release_manifests WHERE release_id = ?1",
        [id.as_str()],
        |row| row.get(0),
    )?
    .flatten();
    digests::stored_manifest(text)
}

pub(crate) fn list_releases(
    connection: &Connection,
    scope: &AppScope,
    query: &ReleaseQuery,
) -> StoreResult<ReleasePage> {
    require_app(connection, scope)?;
    let mut releases = all(
        connection,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM releases
             WHERE app_id = ?1 AND (?2 OR status != 'archived') AND release_number < ?3
             ORDER BY release_number DESC LIMIT ?4"
        ),
        params![
            scope.app_id.as_str(),
            query.include_archived,
            query.before_number.unwrap_or(i64::MAX),
            query.limit + 1
        ],
        summary_from_row,
    )?;
    let next_before_number = if releases.len() > query.limit as usize {
        releases.truncate(query.limit as usize);
        releases.last().map(|release| release.release_number)
    } else {
        None
    };
    // Both counts are answered from the (app_id, status) index alone.
    let total = count(
        connection,
        if query.include_archived {
            "SELECT count(*) FROM releases INDEXED BY releases_by_app_status WHERE app_id = ?1"
        } else {
            "SELECT count(*) FROM releases INDEXED BY releases_by_app_status
             WHERE app_id = ?1 AND status != 'archived'"
        },
        [scope.app_id.as_str()],
    )?;
    let active_release_id = deployments::default_release_id(connection, &scope.app_id)?;
    Ok(ReleasePage {
        releases,
        total,
        next_before_number,
        active_release_id,
    })
}

/// The statement behind [`document_where`].
pub(crate) fn document_sql(condition: &str) -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS}, c.change_log, previous_release_id, c.snapshot
         FROM releases JOIN release_contents AS c USING (release_id)
         WHERE app_id = ?1 AND {condition} AND EXISTS (
             SELECT 1 FROM apps AS a WHERE a.app_id = ?1 AND a.workspace_id = ?2 AND a.org_id = ?3)"
    )
}

/// The release of the app under `scope` that `condition` picks (in which `?4` may
/// name a release or environment id), read with the check of its path in one
/// statement; `None` also when the app is not there.
fn document_where(
    connection: &Connection,
    scope: &AppScope,
    condition: &str,
    fourth: Option<&str>,
) -> StoreResult<Option<ReleaseDocument>> {
    let sql = document_sql(condition);
    let path = [
        scope.app_id.as_str(),
        scope.workspace_id.as_str(),
        scope.org_id.as_str(),
    ];
    let from_row = |row: &Row<'_>| {
        Ok(ReleaseDocument {
            summary: summary_from_row(row)?,
            change_log: row.get(15)?,
            previous_release_id: row
                .get::<_, Option<String>>(16)?
                .map(ReleaseId::from_trusted),
            content: row.get(17)?,
        })
    };
    match fourth {
        Some(id) => {
            let [app, workspace, org] = path;
            optional(connection, &sql, [app, workspace, org, id], from_row)
        }
        None => optional(connection, &sql, path, from_row),
    }
}

pub(crate) fn get_release(
    connection: &Connection,
    scope: &AppScope,
    id: &ReleaseId,
) -> StoreResult<ReleaseDocument> {
    match document_where(connection, scope, "release_id = ?4", Some(id.as_str()))? {
        Some(document) => Ok(document),
        // Say which part of the path is missing.
        None => {
            require_app(connection, scope)?;
            Err(not_found("release", id))
        }
    }
}

pub(crate) fn get_active_release(
    connection: &Connection,
    scope: &AppScope,
) -> StoreResult<Option<ReleaseDocument>> {
    match document_where(connection, scope, DEFAULT_DEPLOYED, None)? {
        Some(document) => Ok(Some(document)),
        None => require_app(connection, scope).map(|()| None),
    }
}

pub(crate) fn get_deployed_release(
    connection: &Connection,
    scope: &AppScope,
    environment: &EnvironmentRef,
) -> StoreResult<Option<ReleaseDocument>> {
    require_app(connection, scope)?;
    let environment_id = deployments::environment_id(connection, scope, environment)?;
    document_where(
        connection,
        scope,
        DEPLOYED_IN,
        Some(environment_id.as_str()),
    )
}
