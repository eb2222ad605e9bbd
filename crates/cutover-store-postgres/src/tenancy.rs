//! Organisations, workspaces, tokens and server secrets.

use cutover_domain::draft::{NewOrg, NewWorkspace};
use cutover_domain::model::{Org, Workspace};
use cutover_domain::token::Token;
use cutover_domain::{OrgId, Timestamp, TokenId, WorkspaceId};
use cutover_store::{Page, PageRequest, StoreError, TokenToStore, WorkspaceScope};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::{Failure, Outcome, unique_or};
use crate::rows::{
    after_key, all, count, fetch_limit, from_json_text, into_page, not_found, optional, to_json,
};

pub(crate) async fn server_secret(connection: &mut PgConnection, name: &str) -> Outcome<Vec<u8>> {
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh)
        .map_err(|err| StoreError::Internal(format!("no randomness: {err}")))?;
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
    .ok_or_else(|| Failure::Store(StoreError::Internal("server secret vanished".into())))
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
    let org = Org {
        org_id: OrgId::generate(),
        name: new.name.clone(),
        slug: new.slug.clone(),
        created_at: Timestamp::now(),
        created_by: actor.to_owned(),
    };
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
                StoreError::conflict_with(
                    "org_slug_taken",
                    format!("An organisation with slug '{}' already exists", org.slug),
                    [("slug", org.slug.clone().into())],
                )
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
    Ok(into_page(items, page, total, |org| org.org_id.to_string()))
}

macro_rules! workspace_columns {
    () => {
        "workspace_id, org_id, name, description, created_at, created_by"
    };
}

fn workspace_from_row(row: &PgRow) -> sqlx::Result<Workspace> {
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
    let workspace = Workspace {
        workspace_id: WorkspaceId::generate(),
        org_id: org_id.clone(),
        name: new.name.clone(),
        description: new.description.clone(),
        created_at: Timestamp::now(),
        created_by: actor.to_owned(),
    };
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
    .execute(connection)
    .await
    .map_err(|err| {
        unique_or(err, |constraint| {
            (constraint == "workspaces_org_name_unique").then(|| {
                StoreError::conflict_with(
                    "workspace_name_taken",
                    format!(
                        "A workspace named '{}' already exists in this org",
                        workspace.name
                    ),
                    [("name", workspace.name.clone().into())],
                )
            })
        })
    })?;
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
    Ok(into_page(items, page, total, |ws| {
        ws.workspace_id.to_string()
    }))
}

macro_rules! token_columns {
    () => {
        "token_id, org_id, name, prefix, permissions, workspace_ids, expires_at, \
         created_at, created_by, revoked_at"
    };
}

/// Decodes a token row; its JSON columns are decoded by [`finish_token`].
fn token_row(row: &PgRow) -> sqlx::Result<(Token, String, Option<String>)> {
    Ok((
        Token {
            token_id: TokenId::from_trusted(row.try_get(0)?),
            org_id: row
                .try_get::<Option<String>, _>(1)?
                .map(OrgId::from_trusted),
            name: row.try_get(2)?,
            prefix: row.try_get(3)?,
            permissions: Vec::new(),
            workspace_ids: None,
            expires_at: row
                .try_get::<Option<i64>, _>(6)?
                .map(Timestamp::from_micros),
            created_at: Timestamp::from_micros(row.try_get(7)?),
            created_by: row.try_get(8)?,
            revoked_at: row
                .try_get::<Option<i64>, _>(9)?
                .map(Timestamp::from_micros),
        },
        row.try_get(4)?,
        row.try_get(5)?,
    ))
}

fn finish_token(
    (mut token, permissions, workspaces): (Token, String, Option<String>),
) -> Outcome<Token> {
    token.permissions = from_json_text(&permissions)?;
    token.workspace_ids = workspaces.as_deref().map(from_json_text).transpose()?;
    Ok(token)
}

pub(crate) async fn count_tokens(connection: &mut PgConnection) -> Outcome<u64> {
    count(connection, sqlx::query("SELECT count(*) FROM tokens")).await
}

/// Creates `token` only if the table is empty. The table lock (which conflicts with
/// itself and with every insert) makes the check and the insert atomic across
/// servers starting together.
pub(crate) async fn create_first_token(
    connection: &mut PgConnection,
    token: &TokenToStore,
) -> Outcome<Option<Token>> {
    sqlx::query("LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *connection)
        .await?;
    if count_tokens(&mut *connection).await? > 0 {
        return Ok(None);
    }
    create_token(connection, token).await.map(Some)
}

pub(crate) async fn create_token(
    connection: &mut PgConnection,
    token: &TokenToStore,
) -> Outcome<Token> {
    if let Some(org_id) = &token.org_id {
        get_org(&mut *connection, org_id).await?;
    }
    let stored = Token {
        token_id: token.token_id.clone(),
        org_id: token.org_id.clone(),
        name: token.spec.name.clone(),
        prefix: token.prefix.clone(),
        permissions: token.spec.permissions.clone(),
        workspace_ids: token.spec.workspace_ids.clone(),
        expires_at: token.spec.expires_at,
        created_at: Timestamp::now(),
        created_by: token.created_by.clone(),
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO tokens (token_id, org_id, name, prefix, secret_digest, permissions,
                             workspace_ids, expires_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(stored.token_id.as_str())
    .bind(stored.org_id.as_ref().map(OrgId::as_str))
    .bind(&stored.name)
    .bind(&stored.prefix)
    .bind(&token.secret_digest)
    .bind(to_json(&stored.permissions)?)
    .bind(stored.workspace_ids.as_ref().map(to_json).transpose()?)
    .bind(stored.expires_at.map(Timestamp::as_micros))
    .bind(stored.created_at.as_micros())
    .bind(&stored.created_by)
    .execute(connection)
    .await
    .map_err(|err| {
        unique_or(err, |constraint| {
            (constraint == "tokens_secret_digest_unique").then(|| {
                StoreError::conflict("token_exists", "A token with this secret already exists")
            })
        })
    })?;
    Ok(stored)
}

pub(crate) async fn find_token(
    connection: &mut PgConnection,
    digest: &str,
) -> Outcome<Option<Token>> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE secret_digest = $1"
        ))
        .bind(digest),
        token_row,
    )
    .await?
    .map(finish_token)
    .transpose()
}

pub(crate) async fn get_token(
    connection: &mut PgConnection,
    org_id: &OrgId,
    token_id: &TokenId,
) -> Outcome<Token> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE token_id = $1 AND org_id = $2 AND revoked_at IS NULL"
        ))
        .bind(token_id.as_str())
        .bind(org_id.as_str()),
        token_row,
    )
    .await?
    .map(finish_token)
    .transpose()?
    .ok_or_else(|| not_found("token", token_id))
}

pub(crate) async fn list_tokens(
    connection: &mut PgConnection,
    org_id: &OrgId,
    page: &PageRequest,
) -> Outcome<Page<Token>> {
    get_org(&mut *connection, org_id).await?;
    let rows = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE org_id = $1 AND revoked_at IS NULL AND token_id > $2
             ORDER BY token_id LIMIT $3"
        ))
        .bind(org_id.as_str())
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        token_row,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(finish_token)
        .collect::<Outcome<Vec<_>>>()?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM tokens WHERE org_id = $1 AND revoked_at IS NULL")
            .bind(org_id.as_str()),
    )
    .await?;
    Ok(into_page(items, page, total, |token| {
        token.token_id.to_string()
    }))
}

pub(crate) async fn revoke_token(
    connection: &mut PgConnection,
    org_id: &OrgId,
    token_id: &TokenId,
) -> Outcome<()> {
    let changed = sqlx::query(
        "UPDATE tokens SET revoked_at = $3
         WHERE token_id = $1 AND org_id = $2 AND revoked_at IS NULL",
    )
    .bind(token_id.as_str())
    .bind(org_id.as_str())
    .bind(Timestamp::now().as_micros())
    .execute(connection)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(not_found("token", token_id));
    }
    Ok(())
}
