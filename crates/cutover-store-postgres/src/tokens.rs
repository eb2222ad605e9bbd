//! Tokens: org tokens and platform tokens (no org), the bootstrap registration, and
//! the listing a workspace-limited caller is allowed to see.

use cutover_domain::conflict::Conflict;
use cutover_domain::token::{BOOTSTRAP_ACTOR, BOOTSTRAP_TOKEN_NAME, Token};
use cutover_domain::{OrgId, Timestamp, TokenId, WorkspaceId};
use cutover_store::{
    Bootstrap, BootstrapState, Page, PageRequest, StoreError, StoreResult, StoredToken,
    TokenToStore,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::{Failure, Outcome, unique_or};
use crate::rows::{after_key, all, count, fetch_limit, not_found, optional, to_json};
use crate::tenancy::get_org;

macro_rules! token_columns {
    () => {
        "token_id, org_id, name, prefix, permissions, workspace_ids, expires_at, \
         created_at, created_by, revoked_at"
    };
}

/// Live tokens of one owner (`$1`, `NULL` for platform tokens); with `$2`, only
/// tokens limited to a non-empty subset of those workspaces.
macro_rules! listed {
    () => {
        "(org_id = $1 OR ($1::text IS NULL AND org_id IS NULL)) AND revoked_at IS NULL
         AND ($2::text[] IS NULL OR (workspace_ids IS NOT NULL
              AND jsonb_array_length(workspace_ids::jsonb) > 0
              AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(workspace_ids::jsonb)
                                            AS mine (id)
                              WHERE mine.id <> ALL ($2))))"
    };
}

/// Reads a token row; [`StoredToken::into_token`] decodes its JSON columns.
fn token_row(row: &PgRow) -> sqlx::Result<StoredToken> {
    Ok(StoredToken {
        token: Token {
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
        permissions: row.try_get(4)?,
        workspace_ids: row.try_get(5)?,
    })
}

pub(crate) async fn count_tokens(connection: &mut PgConnection) -> Outcome<u64> {
    count(connection, sqlx::query("SELECT count(*) FROM tokens")).await
}

/// Live (neither revoked nor expired) tokens of an org, as `tokens_per_org` counts.
pub(crate) async fn count_live_tokens(connection: &mut PgConnection, org_id: &str) -> Outcome<u64> {
    count(
        connection,
        sqlx::query(
            "SELECT count(*) FROM tokens WHERE org_id = $1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(org_id)
        .bind(Timestamp::now().as_micros()),
    )
    .await
}

/// Takes the lock that makes "look at the tokens, then insert" atomic across servers
/// starting together: it conflicts with itself and with every insert.
async fn lock_tokens(connection: &mut PgConnection) -> Outcome<()> {
    sqlx::query("LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE")
        .execute(connection)
        .await?;
    Ok(())
}

/// Creates `token` only if the table is empty.
pub(crate) async fn create_first_token(
    connection: &mut PgConnection,
    token: &TokenToStore,
) -> Outcome<Option<Token>> {
    lock_tokens(&mut *connection).await?;
    if count_tokens(&mut *connection).await? > 0 {
        return Ok(None);
    }
    create_token(connection, token).await.map(Some)
}

/// See `Store::register_bootstrap_token`: under the table lock, so servers starting
/// together (with the same secret or not) leave exactly one live bootstrap token.
pub(crate) async fn register_bootstrap_token(
    connection: &mut PgConnection,
    token: &TokenToStore,
) -> Outcome<Bootstrap> {
    lock_tokens(&mut *connection).await?;
    let known = find_token(&mut *connection, &token.secret_digest).await?;
    let state = BootstrapState::given(known.as_ref());
    match state {
        BootstrapState::Revoked => return Ok(Bootstrap::stays_revoked()),
        BootstrapState::Registered => {
            create_token(&mut *connection, token).await?;
        }
        BootstrapState::AlreadyKnown => {}
    }
    let retired = sqlx::query(
        "UPDATE tokens SET revoked_at = $1
         WHERE org_id IS NULL AND name = $2 AND created_by = $3 AND revoked_at IS NULL
           AND secret_digest <> $4",
    )
    .bind(Timestamp::now().as_micros())
    .bind(BOOTSTRAP_TOKEN_NAME)
    .bind(BOOTSTRAP_ACTOR)
    .bind(&token.secret_digest)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(Bootstrap { state, retired })
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
            (constraint == "tokens_secret_digest_unique")
                .then(|| StoreError::from(Conflict::TokenExists))
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
    .map(StoredToken::into_token)
    .transpose()
    .map_err(Failure::from)
}

pub(crate) async fn get_token(
    connection: &mut PgConnection,
    org_id: Option<&OrgId>,
    token_id: &TokenId,
) -> Outcome<Token> {
    optional(
        connection,
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE token_id = $3 AND ",
            listed!()
        ))
        .bind(org_id.map(OrgId::as_str))
        .bind(None::<Vec<String>>)
        .bind(token_id.as_str()),
        token_row,
    )
    .await?
    .map(StoredToken::into_token)
    .transpose()?
    .ok_or_else(|| not_found("token", token_id))
}

pub(crate) async fn list_tokens(
    connection: &mut PgConnection,
    org_id: Option<&OrgId>,
    within: Option<&[WorkspaceId]>,
    page: &PageRequest,
) -> Outcome<Page<Token>> {
    if let Some(org_id) = org_id {
        get_org(&mut *connection, org_id).await?;
    }
    let owner = org_id.map(OrgId::as_str);
    let within: Option<Vec<String>> =
        within.map(|ids| ids.iter().map(|id| id.as_str().to_owned()).collect());
    let rows = all(
        &mut *connection,
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM tokens WHERE ",
            listed!(),
            " AND token_id > $3 ORDER BY token_id LIMIT $4"
        ))
        .bind(owner)
        .bind(&within)
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
        token_row,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(StoredToken::into_token)
        .collect::<StoreResult<Vec<_>>>()?;
    let total = count(
        connection,
        sqlx::query(concat!("SELECT count(*) FROM tokens WHERE ", listed!()))
            .bind(owner)
            .bind(&within),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |token| {
        token.token_id.to_string()
    }))
}

pub(crate) async fn revoke_token(
    connection: &mut PgConnection,
    org_id: Option<&OrgId>,
    token_id: &TokenId,
) -> Outcome<()> {
    let changed = sqlx::query(
        "UPDATE tokens SET revoked_at = $3
         WHERE token_id = $2 AND (org_id = $1 OR ($1::text IS NULL AND org_id IS NULL))
           AND revoked_at IS NULL",
    )
    .bind(org_id.map(OrgId::as_str))
    .bind(token_id.as_str())
    .bind(Timestamp::now().as_micros())
    .execute(connection)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(not_found("token", token_id));
    }
    Ok(())
}
