//! Counting a parent's children for `cutover_domain::quota`, inside the creating
//! write (the single writer makes the count and the insert one step).

use cutover_domain::limits::Limits;
use cutover_domain::quota::{Counted, check_room};
use cutover_store::{StoreError, StoreResult};
use rusqlite::Connection;

use crate::rows::{count, optional};
use crate::tokens::count_live_tokens;

/// Refuses with `limit_reached` when `parent_id` already has as many `counted`
/// children as the limits allow. A parent that does not exist has none, so the
/// creation that follows answers its own 404.
pub(crate) fn require_room(
    connection: &Connection,
    limits: &Limits,
    counted: Counted,
    parent_id: &str,
) -> StoreResult<()> {
    let existing = match counted {
        Counted::WorkspacesPerOrg => count(
            connection,
            "SELECT count(*) FROM workspaces WHERE org_id = ?1",
            [parent_id],
        )?,
        Counted::AppsPerWorkspace => count(
            connection,
            "SELECT count(*) FROM apps WHERE workspace_id = ?1",
            [parent_id],
        )?,
        Counted::TokensPerOrg => count_live_tokens(connection, parent_id)?,
        Counted::EnvironmentsPerWorkspace => count(
            connection,
            "SELECT count(*) FROM environments WHERE workspace_id = ?1",
            [parent_id],
        )?,
        Counted::IdempotencyKeysPerOrg => optional(
            connection,
            "SELECT keys FROM idempotency_key_counts WHERE scope = ?1",
            [parent_id],
            |row| row.get::<_, i64>(0),
        )?
        .map_or(0, |keys| keys.max(0) as u64),
        Counted::ReleasesPerApp => {
            // Numbers are never reused, so an app has at most `release_seq` releases:
            // the count is needed only once that many could reach the limit.
            let numbered = optional(
                connection,
                "SELECT release_seq FROM apps WHERE app_id = ?1",
                [parent_id],
                |row| row.get::<_, i64>(0),
            )?
            .unwrap_or(0);
            if numbered < i64::from(counted.limit(limits)) {
                return Ok(());
            }
            count(
                connection,
                "SELECT count(*) FROM releases WHERE app_id = ?1",
                [parent_id],
            )?
        }
    };
    check_room(counted, existing, limits).map_err(StoreError::from)
}
