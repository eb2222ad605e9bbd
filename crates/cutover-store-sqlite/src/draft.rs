//! The draft: endpoints and augmentations of an app. Entities arrive prepared
//! (encoded, canonical, digested: `cutover_store::Prepared`), so a write here only
//! checks and writes rows; each also refreshes the app's draft digest and size in the
//! same transaction, from an index.

use cutover_domain::conflict::Conflict;
use cutover_domain::limits::{Limits, check_draft_bytes};
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::{AugmentationId, EndpointId};
use cutover_store::timeline::EventRow;
use cutover_store::{AppScope, Page, PageRequest, Prepared, StoreError, StoreResult};
use rusqlite::{Connection, params};
use serde_json::Value;

use crate::apps::{draft_bytes, refresh_draft_hash, require_app};
use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{after_key, bodies, count, execute, from_json_text, not_found, optional};
use crate::timeline;

fn check_room(
    connection: &Connection,
    table: &str,
    scope: &AppScope,
    limit: u32,
    what: &'static str,
) -> StoreResult<()> {
    let existing = count(
        connection,
        &format!("SELECT count(*) FROM {table} WHERE app_id = ?1"),
        [scope.app_id.as_str()],
    )?;
    if existing >= u64::from(limit) {
        return Err(Conflict::DraftEntitiesLimit { what, limit }.into());
    }
    Ok(())
}

fn require_augmentation_of_app(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
) -> StoreResult<()> {
    optional(
        connection,
        "SELECT 1 FROM augmentations WHERE augmentation_id = ?1 AND app_id = ?2",
        [id.as_str(), scope.app_id.as_str()],
        |_| Ok(()),
    )?
    .ok_or_else(|| StoreError::InvalidReference {
        field: "augmentation_id",
        message: "must name an augmentation of this app".into(),
        input: Value::String(id.to_string()),
    })
}

/// Tells apart which unique rule an endpoint write broke.
fn endpoint_conflict(connection: &Connection, scope: &AppScope, endpoint: &Endpoint) -> StoreError {
    let same_route = optional(
        connection,
        "SELECT endpoint_id FROM endpoints WHERE app_id = ?1 AND method = ?2 AND path = ?3 AND endpoint_id != ?4",
        params![
            scope.app_id.as_str(),
            endpoint.method.as_str(),
            endpoint.path,
            endpoint.endpoint_id.as_str()
        ],
        |row| row.get::<_, String>(0),
    );
    match same_route {
        Ok(Some(existing)) => Conflict::EndpointRouteTaken {
            method: endpoint.method.to_string(),
            path: endpoint.path.clone(),
            other_endpoint_id: Some(existing),
        }
        .into(),
        _ => Conflict::EndpointNameTaken {
            name: endpoint.name.clone(),
        }
        .into(),
    }
}

/// Refuses a write that would take the app's draft past its byte limit.
fn check_draft_room(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    table: &str,
    replaced: Option<&str>,
    added: u64,
) -> StoreResult<()> {
    let (total, own) = draft_bytes(connection, &scope.app_id, table, replaced)?;
    check_draft_bytes(total, own, added, limits.max_draft_bytes)?;
    Ok(())
}

/// The content hash stored with an entity of `table`, for the optimistic check of
/// an update prepared from an earlier read.
fn stored_content_hash(
    connection: &Connection,
    table: &str,
    key: &str,
    scope: &AppScope,
    id: &str,
) -> StoreResult<Option<String>> {
    optional(
        connection,
        &format!("SELECT content_hash FROM {table} WHERE {key} = ?1 AND app_id = ?2"),
        [id, scope.app_id.as_str()],
        |row| row.get(0),
    )
}

fn write_endpoint(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: &Prepared<Endpoint>,
    insert: bool,
    commit: &EventRow,
) -> StoreResult<()> {
    let endpoint = &prepared.entity;
    let replaced = (!insert).then_some(endpoint.endpoint_id.as_str());
    check_draft_room(
        connection,
        limits,
        scope,
        "endpoints",
        replaced,
        prepared.stored_bytes(),
    )?;
    let sql = if insert {
        "INSERT INTO endpoints (endpoint_id, app_id, name, method, path, augmentation_id, body,
                                content_hash, digest, canonical, body_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    } else {
        "UPDATE endpoints SET name = ?3, method = ?4, path = ?5, augmentation_id = ?6, body = ?7,
                content_hash = ?8, digest = ?9, canonical = ?10, body_bytes = ?11
         WHERE endpoint_id = ?1 AND app_id = ?2"
    };
    execute(
        connection,
        sql,
        params![
            endpoint.endpoint_id.as_str(),
            scope.app_id.as_str(),
            endpoint.name,
            endpoint.method.as_str(),
            endpoint.path,
            endpoint.augmentation_id.as_str(),
            prepared.body,
            prepared.digest.hash,
            prepared.digest.to_text(),
            prepared.canonical,
            prepared.stored_bytes() as i64,
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            endpoint_conflict(connection, scope, endpoint)
        } else {
            from_sqlite(err)
        }
    })?;
    timeline::record(connection, &scope.app_id, commit)?;
    refresh_draft_hash(connection, &scope.app_id)
}

pub(crate) fn create_endpoint(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: Prepared<Endpoint>,
    commit: &EventRow,
) -> StoreResult<Endpoint> {
    require_app(connection, scope)?;
    require_augmentation_of_app(connection, scope, &prepared.entity.augmentation_id)?;
    check_room(
        connection,
        "endpoints",
        scope,
        limits.max_endpoints_per_app,
        "endpoints",
    )?;
    write_endpoint(connection, limits, scope, &prepared, true, commit)?;
    Ok(prepared.entity)
}

pub(crate) fn get_endpoint(
    connection: &Connection,
    scope: &AppScope,
    id: &EndpointId,
) -> StoreResult<Endpoint> {
    require_app(connection, scope)?;
    let body = optional(
        connection,
        "SELECT body FROM endpoints WHERE endpoint_id = ?1 AND app_id = ?2",
        [id.as_str(), scope.app_id.as_str()],
        |row| row.get::<_, String>(0),
    )?
    .ok_or_else(|| not_found("endpoint", id))?;
    from_json_text(&body)
}

pub(crate) fn list_endpoints(
    connection: &Connection,
    scope: &AppScope,
    page: &PageRequest,
) -> StoreResult<Page<Endpoint>> {
    require_app(connection, scope)?;
    let items: Vec<Endpoint> = bodies(
        connection,
        "SELECT body FROM endpoints WHERE app_id = ?1 AND endpoint_id > ?2 ORDER BY endpoint_id LIMIT ?3",
        params![scope.app_id.as_str(), after_key(page), page.limit + 1],
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM endpoints WHERE app_id = ?1",
        [scope.app_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |e| {
        e.endpoint_id.to_string()
    }))
}

/// An endpoint and the content hash stored with it: what an update is prepared from.
pub(crate) fn endpoint_for_update(
    connection: &Connection,
    scope: &AppScope,
    id: &EndpointId,
) -> StoreResult<(Endpoint, Option<String>)> {
    let endpoint = get_endpoint(connection, scope, id)?;
    let hash = stored_content_hash(connection, "endpoints", "endpoint_id", scope, id.as_str())?;
    Ok((endpoint, hash))
}

/// Writes an update prepared from the version whose content hash was `read_hash`;
/// `None` when the endpoint changed since (the caller prepares it again).
pub(crate) fn update_endpoint(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: Prepared<Endpoint>,
    read_hash: Option<&str>,
    commit: &EventRow,
) -> StoreResult<Option<Endpoint>> {
    require_app(connection, scope)?;
    let id = prepared.entity.endpoint_id.as_str();
    match stored_content_hash(connection, "endpoints", "endpoint_id", scope, id)? {
        None => return Err(not_found("endpoint", id)),
        Some(hash) if Some(hash.as_str()) != read_hash => return Ok(None),
        Some(_) => {}
    }
    require_augmentation_of_app(connection, scope, &prepared.entity.augmentation_id)?;
    write_endpoint(connection, limits, scope, &prepared, false, commit)?;
    Ok(Some(prepared.entity))
}

/// Deletes the endpoint read with content hash `read_hash` (its commit prepared from
/// that read); `None` when it changed since (the caller prepares it again).
pub(crate) fn delete_endpoint(
    connection: &Connection,
    scope: &AppScope,
    id: &EndpointId,
    read_hash: Option<&str>,
    commit: &EventRow,
) -> StoreResult<Option<()>> {
    require_app(connection, scope)?;
    match stored_content_hash(connection, "endpoints", "endpoint_id", scope, id.as_str())? {
        None => return Err(not_found("endpoint", id)),
        Some(hash) if Some(hash.as_str()) != read_hash => return Ok(None),
        Some(_) => {}
    }
    execute(
        connection,
        "DELETE FROM endpoints WHERE endpoint_id = ?1 AND app_id = ?2",
        [id.as_str(), scope.app_id.as_str()],
    )
    .map_err(from_sqlite)?;
    timeline::record(connection, &scope.app_id, commit)?;
    refresh_draft_hash(connection, &scope.app_id).map(Some)
}

fn write_augmentation(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: &Prepared<Augmentation>,
    insert: bool,
    commit: &EventRow,
) -> StoreResult<()> {
    let augmentation = &prepared.entity;
    let replaced = (!insert).then_some(augmentation.augmentation_id.as_str());
    check_draft_room(
        connection,
        limits,
        scope,
        "augmentations",
        replaced,
        prepared.stored_bytes(),
    )?;
    let sql = if insert {
        "INSERT INTO augmentations (augmentation_id, app_id, name, body, content_hash, digest,
                                    canonical, body_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    } else {
        "UPDATE augmentations SET name = ?3, body = ?4, content_hash = ?5, digest = ?6,
                canonical = ?7, body_bytes = ?8
         WHERE augmentation_id = ?1 AND app_id = ?2"
    };
    execute(
        connection,
        sql,
        params![
            augmentation.augmentation_id.as_str(),
            scope.app_id.as_str(),
            augmentation.name,
            prepared.body,
            prepared.digest.hash,
            prepared.digest.to_text(),
            prepared.canonical,
            prepared.stored_bytes() as i64,
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            Conflict::AugmentationNameTaken {
                name: augmentation.name.clone(),
            }
            .into()
        } else {
            from_sqlite(err)
        }
    })?;
    timeline::record(connection, &scope.app_id, commit)?;
    refresh_draft_hash(connection, &scope.app_id)
}

pub(crate) fn create_augmentation(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: Prepared<Augmentation>,
    commit: &EventRow,
) -> StoreResult<Augmentation> {
    require_app(connection, scope)?;
    check_room(
        connection,
        "augmentations",
        scope,
        limits.max_augmentations_per_app,
        "augmentations",
    )?;
    write_augmentation(connection, limits, scope, &prepared, true, commit)?;
    Ok(prepared.entity)
}

pub(crate) fn get_augmentation(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
) -> StoreResult<Augmentation> {
    require_app(connection, scope)?;
    let body = optional(
        connection,
        "SELECT body FROM augmentations WHERE augmentation_id = ?1 AND app_id = ?2",
        [id.as_str(), scope.app_id.as_str()],
        |row| row.get::<_, String>(0),
    )?
    .ok_or_else(|| not_found("augmentation", id))?;
    from_json_text(&body)
}

pub(crate) fn list_augmentations(
    connection: &Connection,
    scope: &AppScope,
    page: &PageRequest,
) -> StoreResult<Page<Augmentation>> {
    require_app(connection, scope)?;
    let items: Vec<Augmentation> = bodies(
        connection,
        "SELECT body FROM augmentations WHERE app_id = ?1 AND augmentation_id > ?2 ORDER BY augmentation_id LIMIT ?3",
        params![scope.app_id.as_str(), after_key(page), page.limit + 1],
    )?;
    let total = count(
        connection,
        "SELECT count(*) FROM augmentations WHERE app_id = ?1",
        [scope.app_id.as_str()],
    )?;
    Ok(Page::from_over_fetch(items, page, total, |a| {
        a.augmentation_id.to_string()
    }))
}

/// An augmentation and the content hash stored with it: what an update is prepared from.
pub(crate) fn augmentation_for_update(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
) -> StoreResult<(Augmentation, Option<String>)> {
    let augmentation = get_augmentation(connection, scope, id)?;
    let hash = stored_content_hash(
        connection,
        "augmentations",
        "augmentation_id",
        scope,
        id.as_str(),
    )?;
    Ok((augmentation, hash))
}

/// Writes an update prepared from the version whose content hash was `read_hash`;
/// `None` when the augmentation changed since (the caller prepares it again).
pub(crate) fn update_augmentation(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    prepared: Prepared<Augmentation>,
    read_hash: Option<&str>,
    commit: &EventRow,
) -> StoreResult<Option<Augmentation>> {
    require_app(connection, scope)?;
    let id = prepared.entity.augmentation_id.as_str();
    match stored_content_hash(connection, "augmentations", "augmentation_id", scope, id)? {
        None => return Err(not_found("augmentation", id)),
        Some(hash) if Some(hash.as_str()) != read_hash => return Ok(None),
        Some(_) => {}
    }
    write_augmentation(connection, limits, scope, &prepared, false, commit)?;
    Ok(Some(prepared.entity))
}

/// Deletes the augmentation read with content hash `read_hash`, as
/// [`delete_endpoint`] does; refused while an endpoint uses it.
pub(crate) fn delete_augmentation(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
    read_hash: Option<&str>,
    commit: &EventRow,
) -> StoreResult<Option<()>> {
    require_app(connection, scope)?;
    match stored_content_hash(
        connection,
        "augmentations",
        "augmentation_id",
        scope,
        id.as_str(),
    )? {
        None => return Err(not_found("augmentation", id)),
        Some(hash) if Some(hash.as_str()) != read_hash => return Ok(None),
        Some(_) => {}
    }
    let users = crate::rows::all(
        connection,
        "SELECT endpoint_id FROM endpoints WHERE augmentation_id = ?1 ORDER BY endpoint_id LIMIT 20",
        [id.as_str()],
        |row| row.get::<_, String>(0),
    )?;
    if !users.is_empty() {
        return Err(Conflict::AugmentationInUse {
            endpoint_ids: users,
        }
        .into());
    }
    execute(
        connection,
        "DELETE FROM augmentations WHERE augmentation_id = ?1",
        [id.as_str()],
    )
    .map_err(from_sqlite)?;
    timeline::record(connection, &scope.app_id, commit)?;
    refresh_draft_hash(connection, &scope.app_id).map(Some)
}
