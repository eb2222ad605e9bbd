//! Tokens: org tokens and platform tokens (no org), the bootstrap registration, and
//! the listing a workspace-limited caller is allowed to see.

use cutover_domain::conflict::Conflict;
use cutover_domain::token::{BOOTSTRAP_ACTOR, BOOTSTRAP_TOKEN_NAME, Token};
use cutover_domain::{OrgId, Timestamp, TokenId, WorkspaceId};
use cutover_store::{
    Bootstrap, BootstrapState, Page, PageRequest, StoreError, StoreResult, StoredToken,
    TokenToStore,
};
use rusqlite::{Connection, Row, params};

use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{after_key, all, count, execute, not_found, optional, to_json};
use crate::tenancy::get_org;

const TOKEN_COLUMNS: &str = "token_id, org_id, name, prefix, permissions, workspace_ids, expires_at, \
                             created_at, created_by, revoked_at";

/// Live tokens of one owner: `org_id IS ?1` also matches platform tokens (`NULL`).
/// With `?2` (a JSON list of workspace ids), only tokens limited to a non-empty
/// subset of it.
const LISTED: &str = "org_id IS ?1 AND revoked_at IS NULL
    AND (?2 IS NULL OR (workspace_ids IS NOT NULL AND json_array_length(workspace_ids) > 0
         AND NOT EXISTS (SELECT 1 FROM json_each(tokens.workspace_ids) AS mine
                         WHERE mine.value NOT IN (SELECT value FROM json_each(?2)))))";

/// Reads a token row; [`StoredToken::into_token`] decodes its JSON columns.
fn token_row(row: &Row<'_>) -> rusqlite::Result<StoredToken> {
    Ok(StoredToken {
        token: Token {
            token_id: TokenId::from_trusted(row.get(0)?),
            org_id: row.get::<_, Option<String>>(1)?.map(OrgId::from_trusted),
            name: row.get(2)?,
            prefix: row.get(3)?,
            permissions: Vec::new(),
            workspace_ids: None,
            expires_at: row.get::<_, Option<i64>>(6)?.map(Timestamp::from_micros),
            created_at: Timestamp::from_micros(row.get(7)?),
            created_by: row.get(8)?,
            revoked_at: row.get::<_, Option<i64>>(9)?.map(Timestamp::from_micros),
        },
        permissions: row.get(4)?,
        workspace_ids: row.get(5)?,
    })
}

pub(crate) fn count_tokens(connection: &Connection) -> StoreResult<u64> {
    count(connection, "SELECT count(*) FROM tokens", [])
}

/// Live (neither revoked nor expired) tokens of an org, as `tokens_per_org` counts.
pub(crate) fn count_live_tokens(connection: &Connection, org_id: &str) -> StoreResult<u64> {
    count(
        connection,
        "SELECT count(*) FROM tokens WHERE org_id = ?1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?2)",
        params![org_id, Timestamp::now().as_micros()],
    )
}

pub(crate) fn create_token(connection: &Connection, token: TokenToStore) -> StoreResult<Token> {
    if let Some(org_id) = &token.org_id {
        get_org(connection, org_id)?;
    }
    let stored = Token {
        token_id: token.token_id,
        org_id: token.org_id,
        name: token.spec.name,
        prefix: token.prefix,
        permissions: token.spec.permissions,
        workspace_ids: token.spec.workspace_ids,
        expires_at: token.spec.expires_at,
        created_at: Timestamp::now(),
        created_by: token.created_by,
        revoked_at: None,
    };
    execute(
        connection,
        "INSERT INTO tokens (token_id, org_id, name, prefix, secret_digest, permissions,
                                 workspace_ids, expires_at, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            stored.token_id.as_str(),
            stored.org_id.as_ref().map(OrgId::as_str),
            stored.name,
            stored.prefix,
            token.secret_digest,
            to_json(&stored.permissions)?,
            stored.workspace_ids.as_ref().map(to_json).transpose()?,
            stored.expires_at.map(Timestamp::as_micros),
            stored.created_at.as_micros(),
            stored.created_by,
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            StoreError::from(Conflict::TokenExists)
        } else {
            from_sqlite(err)
        }
    })?;
    Ok(stored)
}

/// See `Store::register_bootstrap_token`; the single writer makes it one atomic step.
pub(crate) fn register_bootstrap_token(
    connection: &Connection,
    token: TokenToStore,
) -> StoreResult<Bootstrap> {
    let digest = token.secret_digest.clone();
    let state = BootstrapState::given(find_token(connection, &digest)?.as_ref());
    match state {
        BootstrapState::Revoked => return Ok(Bootstrap::stays_revoked()),
        BootstrapState::Registered => {
            create_token(connection, token)?;
        }
        BootstrapState::AlreadyKnown => {}
    }
    let retired = execute(
        connection,
        "UPDATE tokens SET revoked_at = ?1
             WHERE org_id IS NULL AND name = ?2 AND created_by = ?3 AND revoked_at IS NULL
               AND secret_digest <> ?4",
        params![
            Timestamp::now().as_micros(),
            BOOTSTRAP_TOKEN_NAME,
            BOOTSTRAP_ACTOR,
            digest
        ],
    )
    .map_err(from_sqlite)?;
    Ok(Bootstrap {
        state,
        retired: retired as u64,
    })
}

pub(crate) fn find_token(connection: &Connection, digest: &str) -> StoreResult<Option<Token>> {
    optional(
        connection,
        &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE secret_digest = ?1"),
        [digest],
        token_row,
    )?
    .map(StoredToken::into_token)
    .transpose()
}

pub(crate) fn get_token(
    connection: &Connection,
    org_id: Option<&OrgId>,
    token_id: &TokenId,
) -> StoreResult<Token> {
    optional(
        connection,
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens
             WHERE token_id = ?1 AND org_id IS ?2 AND revoked_at IS NULL"
        ),
        params![token_id.as_str(), org_id.map(OrgId::as_str)],
        token_row,
    )?
    .map(StoredToken::into_token)
    .transpose()?
    .ok_or_else(|| not_found("token", token_id))
}

pub(crate) fn list_tokens(
    connection: &Connection,
    org_id: Option<&OrgId>,
    within: Option<&[WorkspaceId]>,
    page: &PageRequest,
) -> StoreResult<Page<Token>> {
    if let Some(org_id) = org_id {
        get_org(connection, org_id)?;
    }
    let owner = org_id.map(OrgId::as_str);
    let within = within.map(|ids| to_json(&ids)).transpose()?;
    let rows = all(
        connection,
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE {LISTED} AND token_id > ?3
             ORDER BY token_id LIMIT ?4"
        ),
        params![owner, within, after_key(page), page.limit + 1],
        token_row,
    )?;
    let items = rows
        .into_iter()
        .map(StoredToken::into_token)
        .collect::<StoreResult<Vec<_>>>()?;
    let total = count(
        connection,
        &format!("SELECT count(*) FROM tokens WHERE {LISTED}"),
        params![owner, within],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |token| {
        token.token_id.to_string()
    }))
}

pub(crate) fn revoke_token(
    connection: &Connection,
    org_id: Option<&OrgId>,
    token_id: &TokenId,
) -> StoreResult<()> {
    let changed = execute(
        connection,
        "UPDATE tokens SET revoked_at = ?3
             WHERE token_id = ?1 AND org_id IS ?2 AND revoked_at IS NULL",
        params![
            token_id.as_str(),
            org_id.map(OrgId::as_str),
            Timestamp::now().as_micros()
        ],
    )
    .map_err(from_sqlite)?;
    if changed == 0 {
        return Err(not_found("token", token_id));
    }
    Ok(())
}
