//! Organisations, workspaces and server secrets (tokens are in `tokens`).

use cutover_domain::conflict::Conflict;
use cutover_domain::draft::{NewOrg, NewWorkspace};
use cutover_domain::model::{Org, Workspace};
use cutover_domain::{OrgId, Timestamp, WorkspaceId};
use cutover_store::{Page, PageRequest, StoreError, StoreResult, WorkspaceScope};
use rusqlite::{Connection, Row, params};

use crate::environments;
use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{after_key, all, count, execute, not_found, optional, to_json};

pub(crate) fn server_secret(connection: &Connection, name: &str) -> StoreResult<Vec<u8>> {
    let mut fresh = [0u8; 32];
    getrandom_fill(&mut fresh)?;
    execute(
        connection,
        "INSERT INTO server_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![name, &fresh[..]],
    )
    .map_err(from_sqlite)?;
    optional(
        connection,
        "SELECT value FROM server_secrets WHERE name = ?1",
        [name],
        |row| row.get::<_, Vec<u8>>(0),
    )?
    .ok_or_else(|| StoreError::internal("server secret vanished"))
}

fn getrandom_fill(bytes: &mut [u8]) -> StoreResult<()> {
    getrandom::fill(bytes).map_err(|err| StoreError::internal_from("no randomness", err))
}

fn org_from_row(row: &Row<'_>) -> rusqlite::Result<Org> {
    Ok(Org {
        org_id: OrgId::from_trusted(row.get(0)?),
        name: row.get(1)?,
        slug: row.get(2)?,
        created_at: Timestamp::from_micros(row.get(3)?),
        created_by: row.get(4)?,
    })
}

const ORG_COLUMNS: &str = "org_id, name, slug, created_at, created_by";

pub(crate) fn create_org(connection: &Connection, new: NewOrg, actor: &str) -> StoreResult<Org> {
    let org = new.into_org(actor, Timestamp::now());
    execute(
        connection,
        "INSERT INTO orgs (org_id, name, slug, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            org.org_id.as_str(),
            org.name,
            org.slug,
            org.created_at.as_micros(),
            org.created_by
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            Conflict::OrgSlugTaken {
                slug: org.slug.clone(),
            }
            .into()
        } else {
            from_sqlite(err)
        }
    })?;
    Ok(org)
}

pub(crate) fn get_org(connection: &Connection, org_id: &OrgId) -> StoreResult<Org> {
    optional(
        connection,
        &format!("SELECT {ORG_COLUMNS} FROM orgs WHERE org_id = ?1"),
        [org_id.as_str()],
        org_from_row,
    )?
    .ok_or_else(|| not_found("org", org_id))
}

pub(crate) fn list_orgs(
    connection: &Connection,
    only: Option<&OrgId>,
    page: &PageRequest,
) -> StoreResult<Page<Org>> {
    let only = only.map(|id| id.as_str().to_owned());
    let items = all(
        connection,
        &format!(
            "SELECT {ORG_COLUMNS} FROM orgs WHERE (?1 IS NULL OR org_id = ?1) AND org_id > ?2
             ORDER BY org_id LIMIT ?3"
        ),
        params![only, after_key(page), page.limit + 1],
        org_from_row,
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM orgs WHERE (?1 IS NULL OR org_id = ?1)",
        [&only],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |org| {
        org.org_id.to_string()
    }))
}

pub(crate) fn workspace_from_row(row: &Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        workspace_id: WorkspaceId::from_trusted(row.get(0)?),
        org_id: OrgId::from_trusted(row.get(1)?),
        name: row.get(2)?,
        description: row.get(3)?,
        created_at: Timestamp::from_micros(row.get(4)?),
        created_by: row.get(5)?,
    })
}

pub(crate) const WORKSPACE_COLUMNS: &str =
    "workspace_id, org_id, name, description, created_at, created_by";

pub(crate) fn create_workspace(
    connection: &Connection,
    org_id: &OrgId,
    new: NewWorkspace,
    actor: &str,
) -> StoreResult<Workspace> {
    get_org(connection, org_id)?;
    let workspace = new.into_workspace(org_id.clone(), actor, Timestamp::now());
    execute(
        connection,
        "INSERT INTO workspaces (workspace_id, org_id, name, description, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            workspace.workspace_id.as_str(),
            org_id.as_str(),
            workspace.name,
            workspace.description,
            workspace.created_at.as_micros(),
            workspace.created_by
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            Conflict::WorkspaceNameTaken {
                name: workspace.name.clone(),
            }
            .into()
        } else {
            from_sqlite(err)
        }
    })?;
    environments::create_starting(connection, &workspace)?;
    Ok(workspace)
}

pub(crate) fn get_workspace(
    connection: &Connection,
    scope: &WorkspaceScope,
) -> StoreResult<Workspace> {
    optional(
        connection,
        &format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE workspace_id = ?1 AND org_id = ?2"
        ),
        [scope.workspace_id.as_str(), scope.org_id.as_str()],
        workspace_from_row,
    )?
    .ok_or_else(|| not_found("workspace", &scope.workspace_id))
}

pub(crate) fn list_workspaces(
    connection: &Connection,
    org_id: &OrgId,
    only: Option<&[WorkspaceId]>,
    page: &PageRequest,
) -> StoreResult<Page<Workspace>> {
    get_org(connection, org_id)?;
    let only = only.map(|ids| to_json(&ids)).transpose()?;
    let filter =
        "org_id = ?1 AND (?2 IS NULL OR workspace_id IN (SELECT value FROM json_each(?2)))";
    let items = all(
        connection,
        &format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces WHERE {filter} AND workspace_id > ?3
             ORDER BY workspace_id LIMIT ?4"
        ),
        params![org_id.as_str(), only, after_key(page), page.limit + 1],
        workspace_from_row,
    )?;
    let total = count(
        connection,
        &format!("SELECT count(*) FROM workspaces WHERE {filter}"),
        params![org_id.as_str(), only],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |ws| {
        ws.workspace_id.to_string()
    }))
}
