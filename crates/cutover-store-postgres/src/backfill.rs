//! Fills in what migration 3 (`entity_digests`) could not compute in SQL, for rows
//! written before it (as the SQLite store does): each draft entity's canonical text
//! and digest, each release's manifest and manifest digest, then every app's draft
//! digest; for migration 4 (`environments`), every workspace's starting
//! environments; for migration 5 (`deployments`), the activation history carried
//! over (`carry_over`); and for migration 6 (`timeline`), each earlier app's releases
//! and deployment records as timeline events (after the carry-over, whose records it
//! reads). Runs after the migrations under their advisory lock, so servers starting
//! together do it once; does nothing once every row has them.

use cutover_domain::AppId;
use cutover_domain::digest::EntityKind;
use cutover_store::StoreResult;
use cutover_store::digests::{backfilled_entity, backfilled_manifest};
use sqlx::{Connection, PgConnection, Row};

use crate::apps::refresh_draft_hash;
use crate::environments;
use crate::error::{Failure, Outcome, from_sqlx};
use crate::migrations::MIGRATION_LOCK;
use crate::rows::all;

/// Rows read and rewritten per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

pub(crate) async fn run(connection: &mut PgConnection) -> StoreResult<()> {
    let mut transaction = connection.begin().await.map_err(from_sqlx)?;
    let outcome: Outcome<(u64, usize, u64, u64)> = async {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *transaction)
            .await?;
        let pending: bool = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM endpoints WHERE content_hash IS NULL)
                 OR EXISTS (SELECT 1 FROM augmentations WHERE content_hash IS NULL)
                 OR EXISTS (SELECT 1 FROM releases WHERE manifest_digest IS NULL)",
        )
        .fetch_one(&mut *transaction)
        .await?
        .try_get(0)?;
        let given = starting_environments(&mut transaction).await?;
        let carried = crate::carry_over::run(&mut transaction).await?;
        let events = crate::timeline::backfill(&mut transaction).await?;
        if !pending {
            return Ok((0, given, carried, events));
        }
        let changed = entities(&mut transaction).await? + releases(&mut transaction).await?;
        let apps = all(
            &mut transaction,
            sqlx::query("SELECT app_id FROM apps"),
            |row| row.try_get::<String, _>(0),
        )
        .await?;
        for app_id in apps {
            refresh_draft_hash(&mut transaction, &AppId::from_trusted(app_id)).await?;
        }
        Ok((changed, given, carried, events))
    }
    .await;
    let (changed, given, carried, events) = outcome.map_err(Failure::into_store)?;
    transaction.commit().await.map_err(from_sqlx)?;
    if changed > 0 {
        tracing::info!(
            rows = changed,
            "filled in digests for rows stored before them"
        );
    }
    if given > 0 {
        tracing::info!(
            workspaces = given,
            "gave workspaces their starting environments"
        );
    }
    if carried > 0 {
        tracing::info!(
            records = carried,
            "carried the activation history over into deployment records"
        );
    }
    if events > 0 {
        tracing::info!(
            events,
            "gave earlier apps the timeline events of their releases and deployments"
        );
    }
    Ok(())
}

/// Gives every workspace created before migration 4 (`environments`) its starting
/// environments, as if they had been created with it (by its creator, at its time).
async fn starting_environments(connection: &mut PgConnection) -> Outcome<usize> {
    let mut given = 0;
    loop {
        let workspaces = environments::workspaces_without_environments(connection, BATCH).await?;
        if workspaces.is_empty() {
            return Ok(given);
        }
        for workspace in &workspaces {
            // Counted again under the row lock: a live server may have given it
            // the three since the batch was read.
            environments::give_starting_if_none(&mut *connection, workspace).await?;
        }
        given += workspaces.len();
    }
}

async fn entities(connection: &mut PgConnection) -> Outcome<u64> {
    let mut changed = 0;
    for (table, key, kind) in [
        ("endpoints", "endpoint_id", EntityKind::Endpoint),
        ("augmentations", "augmentation_id", EntityKind::Augmentation),
    ] {
        loop {
            let rows = all(
                &mut *connection,
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {key}, body FROM {table} WHERE content_hash IS NULL LIMIT $1"
                )))
                .bind(BATCH),
                |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)),
            )
            .await?;
            if rows.is_empty() {
                break;
            }
            for (id, body) in rows {
                let (hash, digest, canonical) = backfilled_entity(kind, &body)?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET content_hash = $2, digest = $3, canonical = $4
                     WHERE {key} = $1"
                )))
                .bind(id)
                .bind(hash)
                .bind(digest)
                .bind(canonical)
                .execute(&mut *connection)
                .await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

async fn releases(connection: &mut PgConnection) -> Outcome<u64> {
    let mut changed = 0;
    loop {
        let rows = all(
            &mut *connection,
            sqlx::query(
                "SELECT release_id, snapshot FROM releases WHERE manifest_digest IS NULL LIMIT $1",
            )
            .bind(BATCH),
            |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)),
        )
        .await?;
        if rows.is_empty() {
            break;
        }
        for (release_id, snapshot) in rows {
            let (manifest, digest) = backfilled_manifest(&snapshot);
            sqlx::query(
                "UPDATE releases SET manifest = $2, manifest_digest = $3 WHERE release_id = $1",
            )
            .bind(release_id)
            .bind(manifest)
            .bind(digest)
            .execute(&mut *connection)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
