//! Organisations, workspaces and server secrets (tokens are in `tokens`).

use cutover_domain::conflict::Conflict;
use cutover_domain::draft::{NewOrg, NewWorkspace};
use cutover_domain::model::{Org, Workspace};
use cutover_domain::{OrgId, Timestamp, WorkspaceId};
use cutover_store::{Page, PageRequest, StoreError, WorkspaceScope};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::environments;
use crate::error::{Failure, Outcome, unique_or};
use crate::rows::{after_key, all, count, fetch_limit, not_found, optional};

pub(crate) async fn server_secret(connection: &mut PgConnection, name: &str) -> Outcome<Vec<u8>> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh).map_err(|err| StoreError::internal_from("no randomness", err))?;
    sqlx::query(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(&fresh[..])
    .execute(&mut *connection)
    .await?;
    optional(
        connection,
        sqlx::query("SELECT value FROM server_secrets WHERE name = $1").bind(name),
        |row| row.try_get::<Vec<u8>, _>(0),
    )
    .await?
    .ok_or_else(|| Failure::Store(StoreError::internal("server secret vanished")))
}

macro_rules! org_columns {
    () => {
        "org_id, name, slug, created_at, created_by"
    };
}

fn org_from_row(row: &PgRow) -> sqlx::Result<Org> {
    Ok(Org {
        org_id: OrgId::from_trusted(row.try_get(0)?),
        name: row.try_get(1)?,
        slug: row.try_get(2)?,
        created_at: Timestamp::from_micros(row.try_get(3)?),
        created_by: row.try_get(4)?,
    })
}

pub(crate) async fn create_org(
    connection: &mut PgConnection,
    new: &NewOrg,
    actor: &str,
) -> Outcome<Org> {
    let org = new.clone().into_org(actor, Timestamp::now());
    sqlx::query(
        "INSERT INTO orgs (org_id, name, slug, created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org.org_id.as_str())
    .bind(&org.name)
    .bind(&org.slug)
    .bind(org.created_at.as_micros())
    .bind(&org.created_by)
    .execute(connection)
    .await
    .map_err(|err| {
        unique_or(err, |constraint| {
            (constraint == "orgs_slug_unique").then(|| {
                StoreError::from(Conflict::OrgSlugTaken {
                    slug: org.slug.clone(),
                })
            })
        })
    })?;
    Ok(org)
}

pub(crate) async fn get_org(connection: &mut PgConnection, org_id: &OrgId) -> Outcome<Org> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            org_columns!(),
            " FROM orgs WHERE org_id = $1"
        ))
        .bind(org_id.as_str()),
        org_from_row,
    )
    .await?
    .ok_or_else(|| not_found("org", org_id))
}

pub(crate) async fn list_orgs(
    connection: &mut PgConnection,
    only: Option<&OrgId>,
    page: &PageRequest,
) -> Outcome<Page<Org>> {
    let only = only.map(|id| id.as_str().to_owned());
    let items = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            org_columns!(),
            " FROM orgs WHERE ($1::text IS NULL OR org_id = $1) AND org_id > $2
             ORDER BY org_id LIMIT $3"
        ))
        .bind(&only)
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        org_from_row,
    )
    .await?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM orgs WHERE ($1::text IS NULL OR org_id = $1)")
            .bind(&only),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |org| {
        org.org_id.to_string()
    }))
}

macro_rules! workspace_columns {
    () => {
        "workspace_id, org_id, name, description, created_at, created_by"
    };
}
pub(crate) use workspace_columns;

pub(crate) fn workspace_from_row(row: &PgRow) -> sqlx::Result<Workspace> {
    Ok(Workspace {
        workspace_id: WorkspaceId::from_trusted(row.try_get(0)?),
        org_id: OrgId::from_trusted(row.try_get(1)?),
        name: row.try_get(2)?,
        description: row.try_get(3)?,
        created_at: Timestamp::from_micros(row.try_get(4)?),
        created_by: row.try_get(5)?,
    })
}

pub(crate) async fn create_workspace(
    connection: &mut PgConnection,
    org_id: &OrgId,
    new: &NewWorkspace,
    actor: &str,
) -> Outcome<Workspace> {
    get_org(&mut *connection, org_id).await?;
    let workspace = new
        .clone()
        .into_workspace(org_id.clone(), actor, Timestamp::now());
    sqlx::query(
        "INSERT INTO workspaces (workspace_id, org_id, name, description, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(workspace.workspace_id.as_str())
    .bind(org_id.as_str())
    .bind(&workspace.name)
    .bind(&workspace.description)
    .bind(workspace.created_at.as_micros())
    .bind(&workspace.created_by)
    .execute(&mut *connection)
    .await
    .map_err(|err| {
        unique_or(err, |constraint| {
            (constraint == "workspaces_org_name_unique").then(|| {
                StoreError::from(Conflict::WorkspaceNameTaken {
                    name: workspace.name.clone(),
                })
            })
        })
    })?;
    environments::create_starting(connection, &workspace).await?;
    Ok(workspace)
}

pub(crate) async fn get_workspace(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
) -> Outcome<Workspace> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            workspace_columns!(),
            " FROM workspaces WHERE workspace_id = $1 AND org_id = $2"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(scope.org_id.as_str()),
        workspace_from_row,
    )
    .await?
    .ok_or_else(|| not_found("workspace", &scope.workspace_id))
}

pub(crate) async fn list_workspaces(
    connection: &mut PgConnection,
    org_id: &OrgId,
    only: Option<&[WorkspaceId]>,
    page: &PageRequest,
) -> Outcome<Page<Workspace>> {
    get_org(&mut *connection, org_id).await?;
    let only: Option<Vec<String>> =
        only.map(|ids| ids.iter().map(|id| id.as_str().to_owned()).collect());
    let items = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            workspace_columns!(),
            " FROM workspaces
             WHERE org_id = $1 AND ($2::text[] IS NULL OR workspace_id = ANY ($2))
               AND workspace_id > $3
             ORDER BY workspace_id LIMIT $4"
        ))
        .bind(org_id.as_str())
        .bind(&only)
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        workspace_from_row,
    )
    .await?;
    let total = count(
        connection,
        sqlx::query(
            "SELECT count(*) FROM workspaces
             WHERE org_id = $1 AND ($2::text[] IS NULL OR workspace_id = ANY ($2))",
        )
        .bind(org_id.as_str())
        .bind(&only),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |ws| {
        ws.workspace_id.to_string()
    }))
}
