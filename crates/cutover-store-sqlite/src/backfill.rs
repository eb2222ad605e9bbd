//! Fills in what migrations could not compute in SQL, for rows written before them:
//! for migration 3 (`entity_digests`), each draft entity's canonical text and digest,
//! each release's manifest and manifest digest, then every app's draft digest; for
//! migration 4 (`environments`), every workspace's starting environments; for
//! migration 5 (`deployments`), the activation history carried over (`carry_over`);
//! for migration 6 (`timeline`), each earlier app's releases and deployment records
//! as timeline events. Runs when the store opens, after the migrations, and does
//! nothing once every row has them.

use cutover_domain::AppId;
use cutover_domain::digest::EntityKind;
use cutover_store::StoreResult;
use cutover_store::digests::{backfilled_entity, backfilled_manifest};
use rusqlite::{Connection, params};

use crate::apps::refresh_draft_hash;
use crate::environments;
use crate::error::from_sqlite;
use crate::rows::{all, execute};

/// Rows read and rewritten per statement, so memory stays bounded on big databases.
const BATCH: i64 = 200;

/// Brings every row up to the latest migration.
pub(crate) fn run(connection: &mut Connection) -> StoreResult<()> {
    digests(connection)?;
    starting_environments(connection)?;
    deployments(connection)?;
    timeline(connection)
}

/// Gives apps from before migration 6 the timeline events of their history, in one
/// transaction, after the deployment carry-over (whose records it reads).
fn timeline(connection: &mut Connection) -> StoreResult<()> {
    if !crate::timeline::backfill_pending(connection)? {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    let written = crate::timeline::backfill(&transaction)?;
    transaction.commit().map_err(from_sqlite)?;
    tracing::info!(
        events = written,
        "gave earlier apps the timeline events of their releases and deployments"
    );
    Ok(())
}

/// Carries an earlier version's activation history over into deployment records, in
/// one transaction.
fn deployments(connection: &mut Connection) -> StoreResult<()> {
    // Every release an earlier version activated has a row in `activations`, and the
    // carry-over empties the table, so an empty table means nothing is left to do
    // (one row read, not a scan of the releases at every start).
    let pending: bool = connection
        .query_row("SELECT EXISTS (SELECT 1 FROM activations)", [], |row| {
            row.get(0)
        })
        .map_err(from_sqlite)?;
    if !pending {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    let written = crate::carry_over::run(&transaction)?;
    transaction.commit().map_err(from_sqlite)?;
    tracing::info!(
        records = written,
        "carried the activation history over into deployment records"
    );
    Ok(())
}

/// Gives every workspace created before migration 4 (`environments`) its starting
/// environments, as if they had been created with it (by its creator, at its time).
fn starting_environments(connection: &mut Connection) -> StoreResult<()> {
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    let mut given = 0;
    loop {
        let workspaces = environments::workspaces_without_environments(&transaction, BATCH)?;
        if workspaces.is_empty() {
            break;
        }
        for workspace in &workspaces {
            environments::give_starting_if_none(&transaction, workspace)?;
        }
        given += workspaces.len();
    }
    if given > 0 {
        tracing::info!(
            workspaces = given,
            "gave workspaces their starting environments"
        );
    }
    transaction.commit().map_err(from_sqlite)
}

/// Digests for rows stored before migration 3, in one transaction.
fn digests(connection: &mut Connection) -> StoreResult<()> {
    // Answered from the partial indexes of migration 3, empty once all is done.
    let pending: bool = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM endpoints INDEXED BY endpoints_without_digest
                            WHERE content_hash IS NULL)
                 OR EXISTS (SELECT 1 FROM augmentations INDEXED BY augmentations_without_digest
                            WHERE content_hash IS NULL)
                 OR EXISTS (SELECT 1 FROM releases INDEXED BY releases_without_manifest
                            WHERE manifest_digest IS NULL)",
            [],
            |row| row.get(0),
        )
        .map_err(from_sqlite)?;
    if !pending {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(from_sqlite)?;
    let changed = entities(&transaction)? + releases(&transaction)?;
    if changed > 0 {
        let apps = all(&transaction, "SELECT app_id FROM apps", [], |row| {
            row.get::<_, String>(0)
        })?;
        for app_id in apps {
            refresh_draft_hash(&transaction, &AppId::from_trusted(app_id))?;
        }
        tracing::info!(
            rows = changed,
            "filled in digests for rows stored before them"
        );
    }
    transaction.commit().map_err(from_sqlite)
}

fn entities(connection: &Connection) -> StoreResult<u64> {
    let mut changed = 0;
    for (table, key, kind) in [
        ("endpoints", "endpoint_id", EntityKind::Endpoint),
        ("augmentations", "augmentation_id", EntityKind::Augmentation),
    ] {
        loop {
            let rows = all(
                connection,
                &format!("SELECT {key}, body FROM {table} WHERE content_hash IS NULL LIMIT ?1"),
                [BATCH],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )?;
            if rows.is_empty() {
                break;
            }
            for (id, body) in rows {
                let (hash, digest, canonical) = backfilled_entity(kind, &body)?;
                execute(
                    connection,
                    &format!(
                        "UPDATE {table} SET content_hash = ?2, digest = ?3, canonical = ?4
                         WHERE {key} = ?1"
                    ),
                    params![id, hash, digest, canonical],
                )
                .map_err(from_sqlite)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

fn releases(connection: &Connection) -> StoreResult<u64> {
    let mut changed = 0;
    loop {
        let rows = all(
            connection,
            "SELECT r.release_id, c.snapshot FROM releases r
             JOIN release_contents c USING (release_id)
             WHERE r.manifest_digest IS NULL LIMIT ?1",
            [BATCH],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?;
        if rows.is_empty() {
            break;
        }
        for (release_id, snapshot) in rows {
            let (manifest, digest) = backfilled_manifest(&snapshot);
            execute(
                connection,
                "INSERT INTO release_manifests (release_id, manifest) VALUES (?1, ?2)",
                params![release_id, manifest],
            )
            .map_err(from_sqlite)?;
            execute(
                connection,
                "UPDATE releases SET manifest_digest = ?2 WHERE release_id = ?1",
                params![release_id, digest],
            )
            .map_err(from_sqlite)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::{MIGRATIONS, apply};
    use cutover_domain::digest::EntityDigest;
    use cutover_domain::digest::Manifest;
    use cutover_domain::model::Stage;
    use cutover_domain::model::{Augmentation, Endpoint};
    use cutover_domain::snapshot::Snapshot;
    use cutover_domain::values::{EndpointType, ExecutionMode, HttpMethod};
    use cutover_domain::{AugmentationId, EndpointId, Timestamp};
    use cutover_store::digests::UNREADABLE_MANIFEST_DIGEST;
    use cutover_store::{AppScope, StoredContent};

    fn augmentation() -> Augmentation {
        Augmentation {
            augmentation_id: AugmentationId::generate(),
            name: "rag".into(),
            description: None,
            stages: vec![Stage {
                name: "s".into(),
                execution_mode: ExecutionMode::Sequential,
                steps: vec![],
            }],
            tags: vec!["t".into()],
            is_template: false,
            created_at: Timestamp::from_micros(1),
            created_by: "me".into(),
            updated_at: Timestamp::from_micros(1),
            updated_by: "me".into(),
        }
    }

    /// A database written before migration 3, with a draft equal to its newest
    /// release and an older release whose content cannot be read, comes through with
    /// digests that agree with the ones new writes make.
    #[test]
    fn rows_stored_before_digests_get_them_and_agree_with_new_ones() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                     applied_at TEXT NOT NULL DEFAULT 'then') STRICT;
                 INSERT INTO schema_migrations (version, name) VALUES (1, 'initial'), (2, 'lean');",
            )
            .unwrap();
        connection.execute_batch(MIGRATIONS[0].2).unwrap();
        connection.execute_batch(MIGRATIONS[1].2).unwrap();
        let pipeline = augmentation();
        let endpoint = Endpoint {
            endpoint_id: EndpointId::generate(),
            name: "chat".into(),
            path: "/chat".into(),
            method: HttpMethod::Post,
            description: None,
            endpoint_type: EndpointType::Sync,
            augmentation_id: pipeline.augmentation_id.clone(),
            input_schema: None,
            created_at: Timestamp::from_micros(1),
            created_by: "me".into(),
            updated_at: Timestamp::from_micros(1),
            updated_by: "me".into(),
        };
        let snapshot = Snapshot::new(vec![endpoint.clone()], vec![pipeline.clone()]);
        let content = StoredContent {
            endpoints: vec![endpoint.clone()],
            augmentations: vec![pipeline.clone()],
        }
        .to_text()
        .unwrap();
        connection
            .execute_batch(
                "INSERT INTO orgs VALUES ('org_1', 'o', 'o', 0, 'me');
                 INSERT INTO workspaces VALUES ('ws_1', 'org_1', 'w', NULL, 0, 'me');",
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO apps (app_id, org_id, workspace_id, name, parameters, draft_hash,
                     release_seq, created_by, created_at, updated_at)
                 VALUES ('app_1', 'org_1', 'ws_1', 'a', '{}', ?1, 2, 'me', 0, 0)",
                [snapshot.content_hash()],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO augmentations (augmentation_id, app_id, name, body)
                 VALUES (?1, 'app_1', 'rag', ?2)",
                params![
                    pipeline.augmentation_id.as_str(),
                    serde_json::to_string(&pipeline).unwrap()
                ],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO endpoints (endpoint_id, app_id, name, method, path, augmentation_id, body)
                 VALUES (?1, 'app_1', 'chat', 'POST', '/chat', ?2, ?3)",
                params![
                    endpoint.endpoint_id.as_str(),
                    pipeline.augmentation_id.as_str(),
                    serde_json::to_string(&endpoint).unwrap()
                ],
            )
            .unwrap();
        for (id, number, snapshot_text) in [
            ("rel_1", 1, "{\"endpoints\": not json".to_owned()),
            ("rel_2", 2, content.clone()),
        ] {
            connection
                .execute(
                    "INSERT INTO releases (release_id, app_id, workspace_id, org_id, release_tag,
                         release_number, status, endpoint_count, augmentation_count,
                         content_hash, created_at, created_by)
                     VALUES (?1, 'app_1', 'ws_1', 'org_1', ?1, ?2, 'ready', 1, 1, 'h', 0, 'me')",
                    params![id, number],
                )
                .unwrap();
            connection
                .execute(
                    "INSERT INTO release_contents (release_id, change_log, snapshot)
                     VALUES (?1, 'log', ?2)",
                    params![id, snapshot_text],
                )
                .unwrap();
        }

        assert_eq!(apply(&mut connection).unwrap(), vec![3, 4, 5, 6, 7]);
        run(&mut connection).unwrap();

        // The workspace stored before environments existed has the starting three, as
        // if made with it: by its creator, at its time, production the default.
        let environments: Vec<(String, bool, bool, String, i64)> = all(
            &connection,
            "SELECT slug, is_default, protected, created_by, created_at FROM environments
             WHERE workspace_id = 'ws_1' ORDER BY environment_id",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            },
        )
        .unwrap();
        let me = || "me".to_owned();
        assert_eq!(
            environments,
            [
                ("production".to_owned(), true, true, me(), 0),
                ("staging".to_owned(), false, false, me(), 0),
                ("development".to_owned(), false, false, me(), 0),
            ]
        );

        let stored_hash: String = connection
            .query_row("SELECT content_hash FROM endpoints", [], |row| row.get(0))
            .unwrap();
        assert_eq!(stored_hash, EntityDigest::of_endpoint(&endpoint).hash);
        let digests: Vec<(String, String)> = all(
            &connection,
            "SELECT release_id, manifest_digest FROM releases ORDER BY release_id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
        let draft_digest = Manifest::of_snapshot(&snapshot).digest();
        assert_eq!(
            digests[0],
            ("rel_1".to_owned(), UNREADABLE_MANIFEST_DIGEST.to_owned())
        );
        assert_eq!(digests[1], ("rel_2".to_owned(), draft_digest.clone()));
        let scope = AppScope {
            org_id: cutover_domain::OrgId::from_trusted("org_1".into()),
            workspace_id: cutover_domain::WorkspaceId::from_trusted("ws_1".into()),
            app_id: AppId::from_trusted("app_1".into()),
        };
        let app = crate::apps::get_app(&connection, &scope).unwrap();
        assert!(!app.draft_has_changes, "the draft is what rel_2 holds");
        // A second start finds nothing to do and changes nothing.
        run(&mut connection).unwrap();
        let again: String = connection
            .query_row("SELECT draft_hash FROM apps", [], |row| row.get(0))
            .unwrap();
        assert_eq!(again, draft_digest);
    }
}
