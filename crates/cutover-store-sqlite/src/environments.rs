//! The environments of a workspace: the starting three, created with it, and the
//! ones a team adds. The rules are `cutover_domain::environment`'s; this module reads
//! the facts and writes what they decide.

use std::collections::BTreeMap;

use cutover_domain::conflict::Conflict;
use cutover_domain::environment::{
    BoardEntry, Deployed, Environment, EnvironmentPatch, EnvironmentRef, EnvironmentStatus,
    NewEnvironment, check_delete, starting_environments,
};
use cutover_domain::limits::Limits;
use cutover_domain::model::Workspace;
use cutover_domain::quota::Counted;
use cutover_domain::{AppId, EnvironmentId, OrgId, ReleaseId, Timestamp, WorkspaceId};
use cutover_store::{AppScope, Page, PageRequest, StoreResult, WorkspaceScope};
use rusqlite::{Connection, Row, params};

use crate::apps::require_app;
use crate::error::{from_sqlite, is_unique_violation};
use crate::quota;
use crate::releases::{SUMMARY_COLUMNS_OF_R, summary_from_row};
use crate::rows::{after_key, all, count, execute, not_found, optional};
use crate::tenancy::{WORKSPACE_COLUMNS, get_workspace, workspace_from_row};

const COLUMNS: &str = "environment_id, workspace_id, name, slug, description, is_default, \
                       protected, created_by, created_at, updated_at";

/// An environment row, without its deployments (see [`with_deployments`]).
fn from_row(org_id: &OrgId) -> impl Fn(&Row<'_>) -> rusqlite::Result<Environment> + '_ {
    move |row| {
        Ok(Environment {
            environment_id: EnvironmentId::from_trusted(row.get(0)?),
            workspace_id: WorkspaceId::from_trusted(row.get(1)?),
            org_id: org_id.clone(),
            name: row.get(2)?,
            slug: row.get(3)?,
            description: row.get(4)?,
            is_default: row.get(5)?,
            protected: row.get(6)?,
            active_deployments: BTreeMap::new(),
            status: EnvironmentStatus::Active,
            created_by: row.get(7)?,
            created_at: Timestamp::from_micros(row.get(8)?),
            updated_at: Timestamp::from_micros(row.get(9)?),
        })
    }
}

/// Fills in what is deployed in `environment`.
fn with_deployments(
    connection: &Connection,
    mut environment: Environment,
) -> StoreResult<Environment> {
    let deployed = all(
        connection,
        "SELECT app_id, release_id FROM deployed WHERE environment_id = ?1",
        [environment.environment_id.as_str()],
        |row| {
            Ok((
                AppId::from_trusted(row.get(0)?),
                ReleaseId::from_trusted(row.get(1)?),
            ))
        },
    )?;
    environment.active_deployments = deployed.into_iter().collect();
    Ok(environment)
}

fn insert(connection: &Connection, environment: &Environment) -> StoreResult<()> {
    execute(
        connection,
        &format!(
            "INSERT INTO environments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            environment.environment_id.as_str(),
            environment.workspace_id.as_str(),
            environment.name,
            environment.slug,
            environment.description,
            environment.is_default,
            environment.protected,
            environment.created_by,
            environment.created_at.as_micros(),
            environment.updated_at.as_micros(),
        ],
    )
    .map(|_| ())
    .map_err(|err| slug_taken_or(err, &environment.slug))
}

fn slug_taken_or(err: rusqlite::Error, slug: &str) -> cutover_store::StoreError {
    if is_unique_violation(&err) && err.to_string().contains("environments.slug") {
        Conflict::EnvironmentSlugTaken {
            slug: slug.to_owned(),
        }
        .into()
    } else {
        from_sqlite(err)
    }
}

/// Gives a new workspace its starting environments, created by whoever created it.
pub(crate) fn create_starting(connection: &Connection, workspace: &Workspace) -> StoreResult<()> {
    for new in starting_environments() {
        let environment = new.into_environment(
            workspace.org_id.clone(),
            workspace.workspace_id.clone(),
            &workspace.created_by,
            workspace.created_at,
        );
        insert(connection, &environment)?;
    }
    Ok(())
}

/// Takes the default flag from whichever environment of the workspace holds it.
fn clear_default(connection: &Connection, workspace_id: &WorkspaceId) -> StoreResult<()> {
    execute(
        connection,
        "UPDATE environments SET is_default = 0 WHERE workspace_id = ?1 AND is_default = 1",
        [workspace_id.as_str()],
    )
    .map(|_| ())
    .map_err(from_sqlite)
}

pub(crate) fn create_environment(
    connection: &Connection,
    limits: &Limits,
    scope: &WorkspaceScope,
    new: NewEnvironment,
    actor: &str,
) -> StoreResult<Environment> {
    let workspace = get_workspace(connection, scope)?;
    give_starting_if_none(connection, &workspace)?;
    quota::require_room(
        connection,
        limits,
        Counted::EnvironmentsPerWorkspace,
        scope.workspace_id.as_str(),
    )?;
    let environment = new.into_environment(
        scope.org_id.clone(),
        scope.workspace_id.clone(),
        actor,
        Timestamp::now(),
    );
    if environment.is_default {
        clear_default(connection, &scope.workspace_id)?;
    }
    insert(connection, &environment)?;
    with_deployments(connection, environment)
}

/// Gives a workspace without environments (created by a server of an earlier version
/// after this one migrated the database) its starting ones, before anything else is
/// added to it, so it never ends up without a default.
pub(crate) fn give_starting_if_none(
    connection: &Connection,
    workspace: &Workspace,
) -> StoreResult<()> {
    let existing = count(
        connection,
        "SELECT count(*) FROM environments WHERE workspace_id = ?1",
        [workspace.workspace_id.as_str()],
    )?;
    if existing == 0 {
        create_starting(connection, workspace)?;
    }
    Ok(())
}

/// The workspace's default environment, without its deployments. A workspace an
/// earlier version made without environments gets its starting ones first.
pub(crate) fn find_default(
    connection: &Connection,
    scope: &WorkspaceScope,
) -> StoreResult<Environment> {
    let read = || {
        optional(
            connection,
            &format!(
                "SELECT {COLUMNS} FROM environments WHERE workspace_id = ?1 AND is_default = 1"
            ),
            [scope.workspace_id.as_str()],
            from_row(&scope.org_id),
        )
    };
    if let Some(found) = read()? {
        return Ok(found);
    }
    give_starting_if_none(connection, &get_workspace(connection, scope)?)?;
    read()?.ok_or_else(|| {
        cutover_store::StoreError::internal("a workspace has environments but no default")
    })
}

/// The environment `reference` names in the workspace, without its deployments.
pub(crate) fn find(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> StoreResult<Environment> {
    get_workspace(connection, scope)?;
    let (column, value) = match reference {
        EnvironmentRef::Id(id) => ("environment_id", id.as_str()),
        EnvironmentRef::Slug(slug) => ("slug", slug.as_str()),
    };
    optional(
        connection,
        &format!("SELECT {COLUMNS} FROM environments WHERE workspace_id = ?1 AND {column} = ?2"),
        [scope.workspace_id.as_str(), value],
        from_row(&scope.org_id),
    )?
    .ok_or_else(|| not_found("environment", reference.as_str()))
}

pub(crate) fn get_environment(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> StoreResult<Environment> {
    let environment = find(connection, scope, reference)?;
    with_deployments(connection, environment)
}

pub(crate) fn list_environments(
    connection: &Connection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> StoreResult<Page<Environment>> {
    get_workspace(connection, scope)?;
    let mut listed = page_of(connection, scope, page)?;
    listed.items = std::mem::take(&mut listed.items)
        .into_iter()
        .map(|environment| with_deployments(connection, environment))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(listed)
}

pub(crate) fn app_board(
    connection: &Connection,
    scope: &AppScope,
    page: &PageRequest,
) -> StoreResult<Page<BoardEntry>> {
    require_app(connection, scope)?;
    let workspace = scope.workspace();
    let listed = page_of(connection, &workspace, page)?;
    let mut deployed: BTreeMap<EnvironmentId, Deployed> = all(
        connection,
        &format!(
            "SELECT {SUMMARY_COLUMNS_OF_R}, d.environment_id, rec.deployed_at, rec.deployed_by
             FROM deployed d JOIN releases r ON r.release_id = d.release_id
             JOIN deployments rec ON rec.deployment_id = d.deployment_id
             WHERE d.app_id = ?1"
        ),
        [scope.app_id.as_str()],
        |row| {
            Ok((
                EnvironmentId::from_trusted(row.get(15)?),
                Deployed {
                    release: summary_from_row(row)?,
                    deployed_at: Timestamp::from_micros(row.get(16)?),
                    deployed_by: row.get(17)?,
                },
            ))
        },
    )?
    .into_iter()
    .collect();
    Ok(listed.map(|environment| {
        let here = deployed.remove(&environment.environment_id);
        BoardEntry::of(&environment, here)
    }))
}

/// A page of the workspace's environments, without their deployments.
fn page_of(
    connection: &Connection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> StoreResult<Page<Environment>> {
    let rows = all(
        connection,
        &format!(
            "SELECT {COLUMNS} FROM environments WHERE workspace_id = ?1 AND environment_id > ?2
             ORDER BY environment_id LIMIT ?3"
        ),
        params![scope.workspace_id.as_str(), after_key(page), page.limit + 1],
        from_row(&scope.org_id),
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM environments WHERE workspace_id = ?1",
        [scope.workspace_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(rows, page, total, |environment| {
        environment.environment_id.to_string()
    }))
}

pub(crate) fn update_environment(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
    patch: EnvironmentPatch,
) -> StoreResult<Environment> {
    let current = find(connection, scope, reference)?;
    let makes_default = patch.makes_default(&current);
    let changed = patch.apply(&current, Timestamp::now())?;
    if makes_default {
        clear_default(connection, &scope.workspace_id)?;
    }
    execute(
        connection,
        "UPDATE environments SET name = ?2, slug = ?3, description = ?4, is_default = ?5,
             protected = ?6, updated_at = ?7
         WHERE environment_id = ?1",
        params![
            changed.environment_id.as_str(),
            changed.name,
            changed.slug,
            changed.description,
            changed.is_default,
            changed.protected,
            changed.updated_at.as_micros(),
        ],
    )
    .map_err(|err| slug_taken_or(err, &changed.slug))?;
    with_deployments(connection, changed)
}

pub(crate) fn delete_environment(
    connection: &Connection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> StoreResult<()> {
    let found = find(connection, scope, reference)?;
    // The default is refused as such; only another one's deployments need reading.
    let environment = match found.is_default {
        true => found,
        false => with_deployments(connection, found)?,
    };
    check_delete(&environment)?;
    execute(
        connection,
        "DELETE FROM environments WHERE environment_id = ?1",
        [environment.environment_id.as_str()],
    )
    .map(|_| ())
    .map_err(from_sqlite)
}

/// Workspaces created before environments existed, a batch at a time, for the
/// backfill.
pub(crate) fn workspaces_without_environments(
    connection: &Connection,
    batch: i64,
) -> StoreResult<Vec<Workspace>> {
    all(
        connection,
        &format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE NOT EXISTS
                 (SELECT 1 FROM environments e WHERE e.workspace_id = w.workspace_id)
             LIMIT ?1"
        ),
        [batch],
        workspace_from_row,
    )
}
