//! Apps, the app-row lock every draft and release write takes first, and the draft
//! hash that tells whether an app's draft differs from its newest release.

use cutover_domain::conflict::Conflict;
use cutover_domain::digest::empty_draft_digest;
use cutover_domain::draft::{AppPatch, NewApp};
use cutover_domain::model::App;
use cutover_domain::precondition::{self, IfMatch};
use cutover_domain::{AppId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::digests::draft_digest_and_bytes;
use cutover_store::{
    AppScope, Page, PageRequest, StoreError, StoreResult, StoredApp, WorkspaceScope,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::{Outcome, unique_or};
use crate::rows::{after_key, all, count, fetch_limit, not_found, optional, to_json};
use crate::tenancy::get_workspace;

/// Every column an [`App`] is built from, including the release facts it shows.
macro_rules! app_select {
    () => {
        "SELECT a.app_id, a.org_id, a.workspace_id, a.name, a.description, a.parameters,
                a.draft_hash, a.created_by, a.created_at, a.updated_at,
                (SELECT d.release_id FROM deployed d JOIN environments e
                  ON e.environment_id = d.environment_id AND e.is_default
                  WHERE d.app_id = a.app_id),
                (SELECT count(*) FROM releases r WHERE r.app_id = a.app_id),
                (SELECT max(r.created_at) FROM releases r WHERE r.app_id = a.app_id),
                (SELECT r.manifest_digest FROM releases r WHERE r.app_id = a.app_id
                  ORDER BY r.release_number DESC LIMIT 1)
         FROM apps a"
    };
}

fn app_row(row: &PgRow) -> sqlx::Result<StoredApp> {
    Ok(StoredApp {
        app: App {
            app_id: AppId::from_trusted(row.try_get(0)?),
            org_id: OrgId::from_trusted(row.try_get(1)?),
            workspace_id: WorkspaceId::from_trusted(row.try_get(2)?),
            name: row.try_get(3)?,
            description: row.try_get(4)?,
            active_release_id: row
                .try_get::<Option<String>, _>(10)?
                .map(ReleaseId::from_trusted),
            total_releases: row.try_get::<i64, _>(11)?.max(0) as u64,
            draft_has_changes: false,
            last_release_at: row
                .try_get::<Option<i64>, _>(12)?
                .map(Timestamp::from_micros),
            parameters: Default::default(),
            created_by: row.try_get(7)?,
            created_at: Timestamp::from_micros(row.try_get(8)?),
            updated_at: Timestamp::from_micros(row.try_get(9)?),
        },
        parameters: row.try_get(5)?,
        draft_digest: row.try_get(6)?,
        newest_release_digest: row.try_get(13)?,
    })
}

/// The app at `scope`, or `NotFound` if it is not under exactly those parents.
pub(crate) async fn get_app(connection: &mut PgConnection, scope: &AppScope) -> Outcome<App> {
    optional(
        connection,
        sqlx::query(concat!(
            app_select!(),
            " WHERE a.app_id = $1 AND a.workspace_id = $2 AND a.org_id = $3"
        ))
        .bind(scope.app_id.as_str())
        .bind(scope.workspace_id.as_str())
        .bind(scope.org_id.as_str()),
        app_row,
    )
    .await?
    .map(StoredApp::into_app)
    .transpose()?
    .ok_or_else(|| not_found("app", &scope.app_id))
}

/// Checks that the app exists under `scope` without building it (for reads).
pub(crate) async fn require_app(connection: &mut PgConnection, scope: &AppScope) -> Outcome<()> {
    optional(
        connection,
        sqlx::query("SELECT 1 FROM apps WHERE app_id = $1 AND workspace_id = $2 AND org_id = $3")
            .bind(scope.app_id.as_str())
            .bind(scope.workspace_id.as_str())
            .bind(scope.org_id.as_str()),
        |_| Ok(()),
    )
    .await?
    .ok_or_else(|| not_found("app", &scope.app_id))
}

/// Checks that the app exists under `scope` and locks its row until the transaction
/// ends. Every write to an app, its draft or its releases takes this lock first, so
/// such writes to one app run one after another, on every server sharing the
/// database, and each sees what the previous one committed.
pub(crate) async fn lock_app(connection: &mut PgConnection, scope: &AppScope) -> Outcome<()> {
    optional(
        connection,
        sqlx::query(
            "SELECT 1 FROM apps WHERE app_id = $1 AND workspace_id = $2 AND org_id = $3
             FOR UPDATE",
        )
        .bind(scope.app_id.as_str())
        .bind(scope.workspace_id.as_str())
        .bind(scope.org_id.as_str()),
        |_| Ok(()),
    )
    .await?
    .ok_or_else(|| not_found("app", &scope.app_id))
}

fn name_taken(constraint: &str, name: &str) -> Option<StoreError> {
    (constraint == "apps_workspace_name_unique").then(|| {
        StoreError::from(Conflict::AppNameTaken {
            name: name.to_owned(),
        })
    })
}

pub(crate) async fn create_app(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    new: &NewApp,
    actor: &str,
) -> Outcome<App> {
    get_workspace(&mut *connection, scope).await?;
    let app = new.clone().into_app(
        scope.org_id.clone(),
        scope.workspace_id.clone(),
        actor,
        Timestamp::now(),
    );
    sqlx::query(
        "INSERT INTO apps (app_id, org_id, workspace_id, name, description, parameters, draft_hash,
                           created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(app.app_id.as_str())
    .bind(app.org_id.as_str())
    .bind(app.workspace_id.as_str())
    .bind(&app.name)
    .bind(&app.description)
    .bind(to_json(&app.parameters)?)
    .bind(empty_draft_digest())
    .bind(&app.created_by)
    .bind(app.created_at.as_micros())
    .bind(app.updated_at.as_micros())
    .execute(&mut *connection)
    .await
    .map_err(|err| unique_or(err, |constraint| name_taken(constraint, &app.name)))?;
    Ok(app)
}

pub(crate) async fn list_apps(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> Outcome<Page<App>> {
    get_workspace(&mut *connection, scope).await?;
    let rows = all(
        &mut *connection,
        sqlx::query(concat!(
            app_select!(),
            " WHERE a.workspace_id = $1 AND a.app_id > $2 ORDER BY a.app_id LIMIT $3"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        app_row,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(StoredApp::into_app)
        .collect::<StoreResult<Vec<_>>>()?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM apps WHERE workspace_id = $1")
            .bind(scope.workspace_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |app| {
        app.app_id.to_string()
    }))
}

pub(crate) async fn update_app(
    connection: &mut PgConnection,
    scope: &AppScope,
    patch: &AppPatch,
    if_match: Option<&IfMatch>,
) -> Outcome<App> {
    lock_app(&mut *connection, scope).await?;
    let mut app = get_app(&mut *connection, scope).await?;
    precondition::check_entity(if_match, "app", &app).map_err(StoreError::from)?;
    patch.clone().apply_to(&mut app, Timestamp::now());
    sqlx::query(
        "UPDATE apps SET name = $2, description = $3, parameters = $4, updated_at = $5
         WHERE app_id = $1",
    )
    .bind(app.app_id.as_str())
    .bind(&app.name)
    .bind(&app.description)
    .bind(to_json(&app.parameters)?)
    .bind(app.updated_at.as_micros())
    .execute(connection)
    .await
    .map_err(|err| unique_or(err, |constraint| name_taken(constraint, &app.name)))?;
    Ok(app)
}

pub(crate) async fn delete_app(
    connection: &mut PgConnection,
    scope: &AppScope,
    if_match: Option<&IfMatch>,
) -> Outcome<()> {
    lock_app(&mut *connection, scope).await?;
    if if_match.is_some() {
        let app = get_app(&mut *connection, scope).await?;
        precondition::check_entity(if_match, "app", &app).map_err(StoreError::from)?;
    }
    if let Some(active) = crate::deployments::any_deployed(&mut *connection, &scope.app_id).await? {
        return Err(StoreError::from(Conflict::AppHasActiveRelease {
            active_release_id: active.to_string(),
        })
        .into());
    }
    for sql in [
        "DELETE FROM activations WHERE app_id = $1",
        "DELETE FROM deployments WHERE app_id = $1",
        "DELETE FROM releases WHERE app_id = $1",
        "DELETE FROM endpoints WHERE app_id = $1",
        "DELETE FROM augmentations WHERE app_id = $1",
        "DELETE FROM apps WHERE app_id = $1",
    ] {
        sqlx::query(sql)
            .bind(scope.app_id.as_str())
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// Recomputes the stored draft digest and size after a draft change, in the same
/// transaction, from the entities' content hashes and sizes alone (index-only scans).
pub(crate) async fn refresh_draft_hash(
    connection: &mut PgConnection,
    app_id: &AppId,
) -> Outcome<()> {
    let read = |row: &PgRow| {
        Ok((
            row.try_get::<String, _>(0)?,
            row.try_get::<String, _>(1)?,
            row.try_get::<i64, _>(2)?,
        ))
    };
    let endpoints = all(
        &mut *connection,
        sqlx::query(
            "SELECT endpoint_id, content_hash, body_bytes FROM endpoints
             WHERE app_id = $1 ORDER BY endpoint_id",
        )
        .bind(app_id.as_str()),
        read,
    )
    .await?;
    let augmentations = all(
        &mut *connection,
        sqlx::query(
            "SELECT augmentation_id, content_hash, body_bytes FROM augmentations
             WHERE app_id = $1 ORDER BY augmentation_id",
        )
        .bind(app_id.as_str()),
        read,
    )
    .await?;
    let (digest, bytes) = draft_digest_and_bytes(&endpoints, &augmentations);
    sqlx::query("UPDATE apps SET draft_hash = $2, draft_bytes = $3 WHERE app_id = $1")
        .bind(app_id.as_str())
        .bind(digest)
        .bind(bytes)
        .execute(connection)
        .await?;
    Ok(())
}

/// Bytes the app's draft holds now, and how many of them the entity `entity_id` (of
/// `table`, if it exists) takes: what a write checks against `max_draft_bytes`.
pub(crate) async fn draft_bytes(
    connection: &mut PgConnection,
    app_id: &AppId,
    table: &str,
    entity_id: Option<&str>,
) -> Outcome<(u64, u64)> {
    let total: i64 = optional(
        &mut *connection,
        sqlx::query("SELECT draft_bytes FROM apps WHERE app_id = $1").bind(app_id.as_str()),
        |row| row.try_get(0),
    )
    .await?
    .unwrap_or(0);
    let own = match entity_id {
        None => 0,
        Some(id) => {
            let key = if table == "endpoints" {
                "endpoint_id"
            } else {
                "augmentation_id"
            };
            optional(
                &mut *connection,
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT body_bytes FROM {table} WHERE app_id = $1 AND {key} = $2"
                )))
                .bind(app_id.as_str().to_owned())
                .bind(id.to_owned()),
                |row| row.try_get::<i64, _>(0),
            )
            .await?
            .unwrap_or(0)
        }
    };
    Ok((total.max(0) as u64, own.max(0) as u64))
}
