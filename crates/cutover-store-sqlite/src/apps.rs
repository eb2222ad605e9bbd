//! Apps, and the draft digest that tells whether an app's draft differs from its
//! newest release.

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
use rusqlite::{Connection, Row, params};

use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{after_key, all, count, execute, not_found, optional, to_json};
use crate::tenancy::get_workspace;

/// Every column an [`App`] is built from, including the release facts it shows.
const APP_SELECT: &str = "
    SELECT a.app_id, a.org_id, a.workspace_id, a.name, a.description, a.parameters, a.draft_hash,
           a.created_by, a.created_at, a.updated_at,
           (SELECT d.release_id FROM deployed d JOIN environments e
             ON e.environment_id = d.environment_id AND e.is_default = 1
             WHERE d.app_id = a.app_id),
           (SELECT count(*) FROM releases r WHERE r.app_id = a.app_id),
           (SELECT max(r.created_at) FROM releases r WHERE r.app_id = a.app_id),
           (SELECT r.manifest_digest FROM releases r WHERE r.app_id = a.app_id
             ORDER BY r.release_number DESC LIMIT 1)
    FROM apps a";

fn app_row(row: &Row<'_>) -> rusqlite::Result<StoredApp> {
    Ok(StoredApp {
        app: App {
            app_id: AppId::from_trusted(row.get(0)?),
            org_id: OrgId::from_trusted(row.get(1)?),
            workspace_id: WorkspaceId::from_trusted(row.get(2)?),
            name: row.get(3)?,
            description: row.get(4)?,
            active_release_id: row
                .get::<_, Option<String>>(10)?
                .map(ReleaseId::from_trusted),
            total_releases: row.get::<_, i64>(11)?.max(0) as u64,
            draft_has_changes: false,
            last_release_at: row.get::<_, Option<i64>>(12)?.map(Timestamp::from_micros),
            parameters: Default::default(),
            created_by: row.get(7)?,
            created_at: Timestamp::from_micros(row.get(8)?),
            updated_at: Timestamp::from_micros(row.get(9)?),
        },
        parameters: row.get(5)?,
        draft_digest: row.get(6)?,
        newest_release_digest: row.get(13)?,
    })
}

/// The app at `scope`, or `NotFound` if it is not under exactly those parents.
pub(crate) fn get_app(connection: &Connection, scope: &AppScope) -> StoreResult<App> {
    optional(
        connection,
        &format!("{APP_SELECT} WHERE a.app_id = ?1 AND a.workspace_id = ?2 AND a.org_id = ?3"),
        [
            scope.app_id.as_str(),
            scope.workspace_id.as_str(),
            scope.org_id.as_str(),
        ],
        app_row,
    )?
    .map(StoredApp::into_app)
    .transpose()?
    .ok_or_else(|| not_found("app", &scope.app_id))
}

/// Checks that the app exists under `scope` without building it.
pub(crate) fn require_app(connection: &Connection, scope: &AppScope) -> StoreResult<()> {
    optional(
        connection,
        "SELECT 1 FROM apps WHERE app_id = ?1 AND workspace_id = ?2 AND org_id = ?3",
        [
            scope.app_id.as_str(),
            scope.workspace_id.as_str(),
            scope.org_id.as_str(),
        ],
        |_| Ok(()),
    )?
    .ok_or_else(|| not_found("app", &scope.app_id))
}

fn name_taken(name: &str) -> StoreError {
    Conflict::AppNameTaken {
        name: name.to_owned(),
    }
    .into()
}

pub(crate) fn create_app(
    connection: &Connection,
    scope: &WorkspaceScope,
    new: NewApp,
    actor: &str,
) -> StoreResult<App> {
    get_workspace(connection, scope)?;
    let app = new.into_app(
        scope.org_id.clone(),
        scope.workspace_id.clone(),
        actor,
        Timestamp::now(),
    );
    execute(
        connection,
        "INSERT INTO apps (app_id, org_id, workspace_id, name, description, parameters, draft_hash,
                               created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            app.app_id.as_str(),
            app.org_id.as_str(),
            app.workspace_id.as_str(),
            app.name,
            app.description,
            to_json(&app.parameters)?,
            empty_draft_digest(),
            app.created_by,
            app.created_at.as_micros(),
            app.updated_at.as_micros(),
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            name_taken(&app.name)
        } else {
            from_sqlite(err)
        }
    })?;
    Ok(app)
}

pub(crate) fn list_apps(
    connection: &Connection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> StoreResult<Page<App>> {
    get_workspace(connection, scope)?;
    let rows = all(
        connection,
        &format!(
            "{APP_SELECT} WHERE a.workspace_id = ?1 AND a.app_id > ?2 ORDER BY a.app_id LIMIT ?3"
        ),
        params![scope.workspace_id.as_str(), after_key(page), page.limit + 1],
        app_row,
    )?;
    let items = rows
        .into_iter()
        .map(StoredApp::into_app)
        .collect::<StoreResult<Vec<_>>>()?;
    let total = count(
        connection,
        "SELECT count(*) FROM apps WHERE workspace_id = ?1",
        [scope.workspace_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |app| {
        app.app_id.to_string()
    }))
}

pub(crate) fn update_app(
    connection: &Connection,
    scope: &AppScope,
    patch: AppPatch,
    if_match: Option<&IfMatch>,
) -> StoreResult<App> {
    let mut app = get_app(connection, scope)?;
    precondition::check_entity(if_match, "app", &app)?;
    patch.apply_to(&mut app, Timestamp::now());
    execute(
            connection,
            "UPDATE apps SET name = ?2, description = ?3, parameters = ?4, updated_at = ?5 WHERE app_id = ?1",
            params![
                app.app_id.as_str(),
                app.name,
                app.description,
                to_json(&app.parameters)?,
                app.updated_at.as_micros()
            ],
        )
        .map_err(|err| if is_unique_violation(&err) { name_taken(&app.name) } else { from_sqlite(err) })?;
    Ok(app)
}

pub(crate) fn delete_app(
    connection: &Connection,
    scope: &AppScope,
    if_match: Option<&IfMatch>,
) -> StoreResult<()> {
    require_app(connection, scope)?;
    if if_match.is_some() {
        precondition::check_entity(if_match, "app", &get_app(connection, scope)?)?;
    }
    if let Some(active) = crate::deployments::any_deployed(connection, &scope.app_id)? {
        return Err(Conflict::AppHasActiveRelease {
            active_release_id: active.to_string(),
        }
        .into());
    }
    let id = [scope.app_id.as_str()];
    for sql in [
        "DELETE FROM activations WHERE app_id = ?1",
        "DELETE FROM deployments WHERE app_id = ?1",
        "DELETE FROM releases WHERE app_id = ?1",
        "DELETE FROM endpoints WHERE app_id = ?1",
        "DELETE FROM augmentations WHERE app_id = ?1",
        "DELETE FROM apps WHERE app_id = ?1",
    ] {
        execute(connection, sql, id).map_err(from_sqlite)?;
    }
    Ok(())
}

/// Recomputes the stored draft digest and size after a draft change, in the same
/// transaction, from the entities' content hashes and sizes alone (read from the two
/// covering indexes).
pub(crate) fn refresh_draft_hash(connection: &Connection, app_id: &AppId) -> StoreResult<()> {
    let hashes = |sql: &str| {
        all(connection, sql, [app_id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })
    };
    let endpoints = hashes(
        "SELECT endpoint_id, content_hash, body_bytes FROM endpoints
         INDEXED BY endpoints_content_hashes WHERE app_id = ?1 ORDER BY endpoint_id",
    )?;
    let augmentations = hashes(
        "SELECT augmentation_id, content_hash, body_bytes FROM augmentations
         INDEXED BY augmentations_content_hashes WHERE app_id = ?1 ORDER BY augmentation_id",
    )?;
    let (digest, bytes) = draft_digest_and_bytes(&endpoints, &augmentations);
    execute(
        connection,
        "UPDATE apps SET draft_hash = ?2, draft_bytes = ?3 WHERE app_id = ?1",
        params![app_id.as_str(), digest, bytes],
    )
    .map_err(from_sqlite)?;
    Ok(())
}

/// Bytes the app's draft holds now, and how many of them the entity `entity_id` (of
/// `table`, if it exists) takes: what a write checks against `max_draft_bytes`.
pub(crate) fn draft_bytes(
    connection: &Connection,
    app_id: &AppId,
    table: &str,
    entity_id: Option<&str>,
) -> StoreResult<(u64, u64)> {
    let total: i64 = optional(
        connection,
        "SELECT draft_bytes FROM apps WHERE app_id = ?1",
        [app_id.as_str()],
        |row| row.get(0),
    )?
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
                connection,
                &format!("SELECT body_bytes FROM {table} WHERE app_id = ?1 AND {key} = ?2"),
                [app_id.as_str(), id],
                |row| row.get::<_, i64>(0),
            )?
            .unwrap_or(0)
        }
    };
    Ok((total.max(0) as u64, own.max(0) as u64))
}
