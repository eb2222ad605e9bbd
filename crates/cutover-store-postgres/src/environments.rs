//! The environments of a workspace: the starting three, created with it, and the
//! ones a team adds. The rules are `cutover_domain::environment`'s; this module reads
//! the facts and writes what they decide. Every write locks the workspace row first,
//! so writers of one workspace's environments (on any server) queue up, and moving
//! the default flag never races.

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
use cutover_store::{AppScope, Page, PageRequest, StoreError, WorkspaceScope};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::apps::require_app;
use crate::error::{Outcome, unique_or};
use crate::quota;
use crate::releases::summary_from_row;
use crate::rows::{after_key, all, count, fetch_limit, not_found, optional};
use crate::tenancy::{get_workspace, workspace_columns, workspace_from_row};

macro_rules! columns {
    () => {
        "environment_id, workspace_id, name, slug, description, is_default, protected, \
         created_by, created_at, updated_at"
    };
}

/// An environment row, without its deployments (see [`with_deployments`]).
fn from_row(org_id: &OrgId) -> impl Fn(&PgRow) -> sqlx::Result<Environment> + '_ {
    move |row| {
        Ok(Environment {
            environment_id: EnvironmentId::from_trusted(row.try_get(0)?),
            workspace_id: WorkspaceId::from_trusted(row.try_get(1)?),
            org_id: org_id.clone(),
            name: row.try_get(2)?,
            slug: row.try_get(3)?,
            description: row.try_get(4)?,
            is_default: row.try_get(5)?,
            protected: row.try_get(6)?,
            active_deployments: BTreeMap::new(),
            status: EnvironmentStatus::Active,
            created_by: row.try_get(7)?,
            created_at: Timestamp::from_micros(row.try_get(8)?),
            updated_at: Timestamp::from_micros(row.try_get(9)?),
        })
    }
}

/// Fills in what is deployed in `environment`.
async fn with_deployments(
    connection: &mut PgConnection,
    mut environment: Environment,
) -> Outcome<Environment> {
    let deployed = all(
        connection,
        sqlx::query("SELECT app_id, release_id FROM deployed WHERE environment_id = $1")
            .bind(environment.environment_id.as_str()),
        |row| {
            Ok((
                AppId::from_trusted(row.try_get(0)?),
                ReleaseId::from_trusted(row.try_get(1)?),
            ))
        },
    )
    .await?;
    environment.active_deployments = deployed.into_iter().collect();
    Ok(environment)
}

async fn insert(connection: &mut PgConnection, environment: &Environment) -> Outcome<()> {
    sqlx::query(concat!(
        "INSERT INTO environments (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(environment.environment_id.as_str())
    .bind(environment.workspace_id.as_str())
    .bind(&environment.name)
    .bind(&environment.slug)
    .bind(&environment.description)
    .bind(environment.is_default)
    .bind(environment.protected)
    .bind(&environment.created_by)
    .bind(environment.created_at.as_micros())
    .bind(environment.updated_at.as_micros())
    .execute(connection)
    .await
    .map_err(|err| slug_taken_or(err, &environment.slug))?;
    Ok(())
}

fn slug_taken_or(err: sqlx::Error, slug: &str) -> crate::error::Failure {
    unique_or(err, |constraint| {
        (constraint == "environments_workspace_slug_unique").then(|| {
            StoreError::from(Conflict::EnvironmentSlugTaken {
                slug: slug.to_owned(),
            })
        })
    })
}

/// Gives a new workspace its starting environments, created by whoever created it.
pub(crate) async fn create_starting(
    connection: &mut PgConnection,
    workspace: &Workspace,
) -> Outcome<()> {
    for new in starting_environments() {
        let environment = new.into_environment(
            workspace.org_id.clone(),
            workspace.workspace_id.clone(),
            &workspace.created_by,
            workspace.created_at,
        );
        insert(&mut *connection, &environment).await?;
    }
    Ok(())
}

/// Reads and locks the workspace row (after checking it is under the org): every
/// environment write of the workspace holds it until its transaction ends.
async fn lock_workspace(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
) -> Outcome<Workspace> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            workspace_columns!(),
            " FROM workspaces WHERE workspace_id = $1 AND org_id = $2 FOR NO KEY UPDATE"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(scope.org_id.as_str()),
        workspace_from_row,
    )
    .await?
    .ok_or_else(|| not_found("workspace", &scope.workspace_id))
}

/// Takes the default flag from whichever environment of the workspace holds it.
async fn clear_default(connection: &mut PgConnection, workspace_id: &WorkspaceId) -> Outcome<()> {
    sqlx::query(
        "UPDATE environments SET is_default = false WHERE workspace_id = $1 AND is_default",
    )
    .bind(workspace_id.as_str())
    .execute(connection)
    .await?;
    Ok(())
}

pub(crate) async fn create_environment(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &WorkspaceScope,
    new: &NewEnvironment,
    actor: &str,
) -> Outcome<Environment> {
    let workspace = lock_workspace(&mut *connection, scope).await?;
    give_starting_if_none(&mut *connection, &workspace).await?;
    quota::require_room(
        &mut *connection,
        limits,
        Counted::EnvironmentsPerWorkspace,
        scope.workspace_id.as_str(),
    )
    .await?;
    let environment = new.clone().into_environment(
        scope.org_id.clone(),
        scope.workspace_id.clone(),
        actor,
        Timestamp::now(),
    );
    if environment.is_default {
        clear_default(&mut *connection, &scope.workspace_id).await?;
    }
    insert(&mut *connection, &environment).await?;
    with_deployments(connection, environment).await
}

/// Gives a workspace without environments (created by a server of an earlier version
/// after this one migrated the database) its starting ones, before anything else is
/// added to it, so it never ends up without a default. The caller holds the
/// workspace's row.
pub(crate) async fn give_starting_if_none(
    connection: &mut PgConnection,
    workspace: &Workspace,
) -> Outcome<()> {
    let existing = count(
        &mut *connection,
        sqlx::query("SELECT count(*) FROM environments WHERE workspace_id = $1")
            .bind(workspace.workspace_id.as_str()),
    )
    .await?;
    if existing == 0 {
        create_starting(connection, workspace).await?;
    }
    Ok(())
}

/// The workspace's default environment, without its deployments. A workspace an
/// earlier version made without environments gets its starting ones first (under the
/// workspace's lock, as every environment write).
pub(crate) async fn find_default(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
) -> Outcome<Environment> {
    let read = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM environments WHERE workspace_id = $1 AND is_default"
    ));
    if let Some(found) = optional(
        &mut *connection,
        read.bind(scope.workspace_id.as_str()),
        from_row(&scope.org_id),
    )
    .await?
    {
        return Ok(found);
    }
    let workspace = lock_workspace(&mut *connection, scope).await?;
    give_starting_if_none(&mut *connection, &workspace).await?;
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM environments WHERE workspace_id = $1 AND is_default"
        ))
        .bind(scope.workspace_id.as_str()),
        from_row(&scope.org_id),
    )
    .await?
    .ok_or_else(|| StoreError::internal("a workspace has environments but no default").into())
}

/// The environment `reference` names in the workspace, without its deployments.
pub(crate) async fn find(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> Outcome<Environment> {
    let query = match reference {
        EnvironmentRef::Id(id) => sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM environments WHERE workspace_id = $1 AND environment_id = $2"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(id.as_str()),
        EnvironmentRef::Slug(slug) => sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM environments WHERE workspace_id = $1 AND slug = $2"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(slug.as_str()),
    };
    optional(connection, query, from_row(&scope.org_id))
        .await?
        .ok_or_else(|| not_found("environment", reference.as_str()))
}

pub(crate) async fn get_environment(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> Outcome<Environment> {
    get_workspace(&mut *connection, scope).await?;
    let environment = find(&mut *connection, scope, reference).await?;
    with_deployments(connection, environment).await
}

pub(crate) async fn list_environments(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> Outcome<Page<Environment>> {
    get_workspace(&mut *connection, scope).await?;
    let mut listed = page_of(&mut *connection, scope, page).await?;
    let mut items = Vec::with_capacity(listed.items.len());
    for environment in std::mem::take(&mut listed.items) {
        items.push(with_deployments(&mut *connection, environment).await?);
    }
    listed.items = items;
    Ok(listed)
}

pub(crate) async fn app_board(
    connection: &mut PgConnection,
    scope: &AppScope,
    page: &PageRequest,
) -> Outcome<Page<BoardEntry>> {
    require_app(&mut *connection, scope).await?;
    let workspace = scope.workspace();
    let listed = page_of(&mut *connection, &workspace, page).await?;
    let mut deployed: BTreeMap<EnvironmentId, Deployed> = all(
        connection,
        sqlx::query(
            "SELECT r.release_id, r.app_id, r.workspace_id, r.org_id, r.release_tag,
                    r.release_number, r.status, r.description, r.endpoint_count,
                    r.augmentation_count, r.content_hash, r.activated_at, r.activated_by,
                    r.created_at, r.created_by, d.environment_id, rec.deployed_at, rec.deployed_by
             FROM deployed d JOIN releases r ON r.release_id = d.release_id
             JOIN deployments rec ON rec.deployment_id = d.deployment_id
             WHERE d.app_id = $1",
        )
        .bind(scope.app_id.as_str()),
        |row| {
            Ok((
                EnvironmentId::from_trusted(row.try_get(15)?),
                Deployed {
                    release: summary_from_row(row)?,
                    deployed_at: Timestamp::from_micros(row.try_get(16)?),
                    deployed_by: row.try_get(17)?,
                },
            ))
        },
    )
    .await?
    .into_iter()
    .collect();
    Ok(listed.map(|environment| {
        let here = deployed.remove(&environment.environment_id);
        BoardEntry::of(&environment, here)
    }))
}

/// A page of the workspace's environments, without their deployments.
async fn page_of(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    page: &PageRequest,
) -> Outcome<Page<Environment>> {
    let rows = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM environments WHERE workspace_id = $1 AND environment_id > $2
             ORDER BY environment_id LIMIT $3"
        ))
        .bind(scope.workspace_id.as_str())
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        from_row(&scope.org_id),
    )
    .await?;
    let total = count(
        &mut *connection,
        sqlx::query("SELECT count(*) FROM environments WHERE workspace_id = $1")
            .bind(scope.workspace_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(rows, page, total, |environment| {
        environment.environment_id.to_string()
    }))
}

pub(crate) async fn update_environment(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
    patch: &EnvironmentPatch,
) -> Outcome<Environment> {
    lock_workspace(&mut *connection, scope).await?;
    let current = find(&mut *connection, scope, reference).await?;
    let makes_default = patch.makes_default(&current);
    let changed = patch
        .clone()
        .apply(&current, Timestamp::now())
        .map_err(StoreError::from)?;
    if makes_default {
        clear_default(&mut *connection, &scope.workspace_id).await?;
    }
    sqlx::query(
        "UPDATE environments SET name = $2, slug = $3, description = $4, is_default = $5,
             protected = $6, updated_at = $7
         WHERE environment_id = $1",
    )
    .bind(changed.environment_id.as_str())
    .bind(&changed.name)
    .bind(&changed.slug)
    .bind(&changed.description)
    .bind(changed.is_default)
    .bind(changed.protected)
    .bind(changed.updated_at.as_micros())
    .execute(&mut *connection)
    .await
    .map_err(|err| slug_taken_or(err, &changed.slug))?;
    with_deployments(connection, changed).await
}

pub(crate) async fn delete_environment(
    connection: &mut PgConnection,
    scope: &WorkspaceScope,
    reference: &EnvironmentRef,
) -> Outcome<()> {
    lock_workspace(&mut *connection, scope).await?;
    let found = find(&mut *connection, scope, reference).await?;
    // A deploy to it holds its row shared: wait for it, then see what it deployed.
    sqlx::query("SELECT 1 FROM environments WHERE environment_id = $1 FOR UPDATE")
        .bind(found.environment_id.as_str())
        .execute(&mut *connection)
        .await?;
    // The default is refused as such; only another one's deployments need reading.
    let environment = match found.is_default {
        true => found,
        false => with_deployments(&mut *connection, found).await?,
    };
    check_delete(&environment).map_err(StoreError::from)?;
    sqlx::query("DELETE FROM environments WHERE environment_id = $1")
        .bind(environment.environment_id.as_str())
        .execute(connection)
        .await?;
    Ok(())
}

/// Workspaces created before environments existed, a batch at a time, for the
/// backfill, each row locked as an environment write locks it (so a live server's
/// create in the same workspace waits, then finds the three).
pub(crate) async fn workspaces_without_environments(
    connection: &mut PgConnection,
    batch: i64,
) -> Outcome<Vec<Workspace>> {
    all(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            workspace_columns!(),
            " FROM workspaces w WHERE NOT EXISTS
                 (SELECT 1 FROM environments e WHERE e.workspace_id = w.workspace_id)
             LIMIT $1 FOR NO KEY UPDATE"
        ))
        .bind(batch),
        workspace_from_row,
    )
    .await
}
