//! Counting a parent's children for `cutover_domain::quota`, inside the creating
//! transaction. The parent's row is locked first (`FOR NO KEY UPDATE`, which leaves
//! other inserts' foreign-key checks alone but queues concurrent creators of the same
//! kind), so two servers creating at once cannot both take the last place.

use cutover_domain::limits::Limits;
use cutover_domain::quota::{Counted, check_room};
use cutover_store::StoreError;
use sqlx::{PgConnection, Row};

use crate::error::{Failure, Outcome};
use crate::rows::{count, optional};
use crate::tokens::count_live_tokens;

/// Refuses with `limit_reached` when `parent_id` already has as many `counted`
/// children as the limits allow. A parent that does not exist has none, so the
/// creation that follows answers its own 404.
pub(crate) async fn require_room(
    connection: &mut PgConnection,
    limits: &Limits,
    counted: Counted,
    parent_id: &str,
) -> Outcome<()> {
    let existing = match counted {
        Counted::WorkspacesPerOrg => {
            lock(
                &mut *connection,
                "SELECT 1 FROM orgs WHERE org_id = $1 FOR NO KEY UPDATE",
                parent_id,
            )
            .await?;
            count(
                connection,
                sqlx::query("SELECT count(*) FROM workspaces WHERE org_id = $1").bind(parent_id),
            )
            .await?
        }
        Counted::AppsPerWorkspace => {
            lock(
                &mut *connection,
                "SELECT 1 FROM workspaces WHERE workspace_id = $1 FOR NO KEY UPDATE",
                parent_id,
            )
            .await?;
            count(
                connection,
                sqlx::query("SELECT count(*) FROM apps WHERE workspace_id = $1").bind(parent_id),
            )
            .await?
        }
        Counted::EnvironmentsPerWorkspace => {
            lock(
                &mut *connection,
                "SELECT 1 FROM workspaces WHERE workspace_id = $1 FOR NO KEY UPDATE",
                parent_id,
            )
            .await?;
            count(
                connection,
                sqlx::query("SELECT count(*) FROM environments WHERE workspace_id = $1")
                    .bind(parent_id),
            )
            .await?
        }
        Counted::TokensPerOrg => {
            lock(
                &mut *connection,
                "SELECT 1 FROM orgs WHERE org_id = $1 FOR NO KEY UPDATE",
                parent_id,
            )
            .await?;
            count_live_tokens(connection, parent_id).await?
        }
        Counted::IdempotencyKeysPerOrg => {
            // The scope's count is its lock: made if missing, then locked.
            sqlx::query(
                "INSERT INTO idempotency_key_counts (scope, keys) VALUES ($1, 0)
                 ON CONFLICT (scope) DO NOTHING",
            )
            .bind(parent_id)
            .execute(&mut *connection)
            .await?;
            optional(
                &mut *connection,
                sqlx::query("SELECT keys FROM idempotency_key_counts WHERE scope = $1 FOR UPDATE")
                    .bind(parent_id),
                |row| row.try_get::<i64, _>(0),
            )
            .await?
            .map_or(0, |keys| keys.max(0) as u64)
        }
        Counted::ReleasesPerApp => {
            // The app row is the lock every release write takes first anyway. Numbers
            // are never reused, so an app has at most `release_seq` releases: the
            // count is needed only once that many could reach the limit.
            let numbered = optional(
                &mut *connection,
                sqlx::query("SELECT release_seq FROM apps WHERE app_id = $1 FOR UPDATE")
                    .bind(parent_id),
                |row| row.try_get::<i64, _>(0),
            )
            .await?
            .unwrap_or(0);
            if numbered < i64::from(counted.limit(limits)) {
                return Ok(());
            }
            count(
                connection,
                sqlx::query("SELECT count(*) FROM releases WHERE app_id = $1").bind(parent_id),
            )
            .await?
        }
    };
    check_room(counted, existing, limits).map_err(|full| Failure::Store(StoreError::from(full)))
}

async fn lock(connection: &mut PgConnection, sql: &'static str, id: &str) -> Outcome<()> {
    sqlx::query(sql).bind(id).fetch_optional(connection).await?;
    Ok(())
}
