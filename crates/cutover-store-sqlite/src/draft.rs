//! The draft: endpoints and augmentations of an app. Each change also refreshes the
//! app's draft hash in the same transaction.

use cutover_domain::draft::{AugmentationPatch, EndpointPatch, NewAugmentation, NewEndpoint};
use cutover_domain::limits::Limits;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::{AugmentationId, EndpointId, Timestamp};
use cutover_store::{AppScope, Page, PageRequest, StoreError, StoreResult};
use rusqlite::{Connection, params};
use serde_json::Value;

use crate::apps::{refresh_draft_hash, require_app};
use crate::error::{from_sqlite, is_unique_violation};
use crate::rows::{
    after_key, bodies, count, execute, from_json_text, into_page, not_found, optional, to_json,
};

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
        return Err(StoreError::conflict_with(
            "draft_limit_reached",
            format!("An app can have at most {limit} {what}"),
            [("limit", limit.into())],
        ));
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
        Ok(Some(existing)) => StoreError::conflict_with(
            "endpoint_route_taken",
            format!(
                "Another endpoint of this app already answers {} {}",
                endpoint.method, endpoint.path
            ),
            [("endpoint_id", existing.into())],
        ),
        _ => StoreError::conflict_with(
            "endpoint_name_taken",
            format!(
                "Another endpoint of this app is already named '{}'",
                endpoint.name
            ),
            [("name", endpoint.name.clone().into())],
        ),
    }
}

fn write_endpoint(
    connection: &Connection,
    scope: &AppScope,
    endpoint: &Endpoint,
    insert: bool,
) -> StoreResult<()> {
    let sql = if insert {
        "INSERT INTO endpoints (endpoint_id, app_id, name, method, path, augmentation_id, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    } else {
        "UPDATE endpoints SET name = ?3, method = ?4, path = ?5, augmentation_id = ?6, body = ?7
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
            to_json(endpoint)?
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            endpoint_conflict(connection, scope, endpoint)
        } else {
            from_sqlite(err)
        }
    })?;
    refresh_draft_hash(connection, &scope.app_id)
}

pub(crate) fn create_endpoint(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    new: NewEndpoint,
    actor: &str,
) -> StoreResult<Endpoint> {
    require_app(connection, scope)?;
    require_augmentation_of_app(connection, scope, &new.augmentation_id)?;
    check_room(
        connection,
        "endpoints",
        scope,
        limits.max_endpoints_per_app,
        "endpoints",
    )?;
    let now = Timestamp::now();
    let endpoint = Endpoint {
        endpoint_id: EndpointId::generate(),
        name: new.name,
        path: new.path,
        method: new.method,
        description: new.description,
        endpoint_type: new.endpoint_type,
        augmentation_id: new.augmentation_id,
        input_schema: new.input_schema,
        created_at: now,
        created_by: actor.to_owned(),
        updated_at: now,
        updated_by: actor.to_owned(),
    };
    write_endpoint(connection, scope, &endpoint, true)?;
    Ok(endpoint)
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
    Ok(into_page(items, page, total, |e| e.endpoint_id.to_string()))
}

pub(crate) fn update_endpoint(
    connection: &Connection,
    scope: &AppScope,
    id: &EndpointId,
    patch: EndpointPatch,
    actor: &str,
) -> StoreResult<Endpoint> {
    let mut endpoint = get_endpoint(connection, scope, id)?;
    if let Some(augmentation_id) = &patch.augmentation_id {
        require_augmentation_of_app(connection, scope, augmentation_id)?;
    }
    patch.apply_to(&mut endpoint, actor, Timestamp::now());
    write_endpoint(connection, scope, &endpoint, false)?;
    Ok(endpoint)
}

pub(crate) fn delete_endpoint(
    connection: &Connection,
    scope: &AppScope,
    id: &EndpointId,
) -> StoreResult<()> {
    require_app(connection, scope)?;
    let deleted = execute(
        connection,
        "DELETE FROM endpoints WHERE endpoint_id = ?1 AND app_id = ?2",
        [id.as_str(), scope.app_id.as_str()],
    )
    .map_err(from_sqlite)?;
    if deleted == 0 {
        return Err(not_found("endpoint", id));
    }
    refresh_draft_hash(connection, &scope.app_id)
}

fn write_augmentation(
    connection: &Connection,
    scope: &AppScope,
    augmentation: &Augmentation,
    insert: bool,
) -> StoreResult<()> {
    let sql = if insert {
        "INSERT INTO augmentations (augmentation_id, app_id, name, body) VALUES (?1, ?2, ?3, ?4)"
    } else {
        "UPDATE augmentations SET name = ?3, body = ?4 WHERE augmentation_id = ?1 AND app_id = ?2"
    };
    execute(
        connection,
        sql,
        params![
            augmentation.augmentation_id.as_str(),
            scope.app_id.as_str(),
            augmentation.name,
            to_json(augmentation)?
        ],
    )
    .map_err(|err| {
        if is_unique_violation(&err) {
            StoreError::conflict_with(
                "augmentation_name_taken",
                format!(
                    "Another augmentation of this app is already named '{}'",
                    augmentation.name
                ),
                [("name", augmentation.name.clone().into())],
            )
        } else {
            from_sqlite(err)
        }
    })?;
    refresh_draft_hash(connection, &scope.app_id)
}

pub(crate) fn create_augmentation(
    connection: &Connection,
    limits: &Limits,
    scope: &AppScope,
    new: NewAugmentation,
    actor: &str,
) -> StoreResult<Augmentation> {
    require_app(connection, scope)?;
    check_room(
        connection,
        "augmentations",
        scope,
        limits.max_augmentations_per_app,
        "augmentations",
    )?;
    let now = Timestamp::now();
    let augmentation = Augmentation {
        augmentation_id: AugmentationId::generate(),
        name: new.name,
        description: new.description,
        stages: new.stages,
        tags: new.tags,
        is_template: new.is_template,
        created_at: now,
        created_by: actor.to_owned(),
        updated_at: now,
        updated_by: actor.to_owned(),
    };
    write_augmentation(connection, scope, &augmentation, true)?;
    Ok(augmentation)
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
    Ok(into_page(items, page, total, |a| {
        a.augmentation_id.to_string()
    }))
}

pub(crate) fn update_augmentation(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
    patch: AugmentationPatch,
    actor: &str,
) -> StoreResult<Augmentation> {
    let mut augmentation = get_augmentation(connection, scope, id)?;
    patch.apply_to(&mut augmentation, actor, Timestamp::now());
    write_augmentation(connection, scope, &augmentation, false)?;
    Ok(augmentation)
}

pub(crate) fn delete_augmentation(
    connection: &Connection,
    scope: &AppScope,
    id: &AugmentationId,
) -> StoreResult<()> {
    get_augmentation(connection, scope, id)?;
    let users = crate::rows::all(
        connection,
        "SELECT endpoint_id FROM endpoints WHERE augmentation_id = ?1 ORDER BY endpoint_id LIMIT 20",
        [id.as_str()],
        |row| row.get::<_, String>(0),
    )?;
    if !users.is_empty() {
        return Err(StoreError::conflict_with(
            "augmentation_in_use",
            "Endpoints still use this augmentation; point them elsewhere or delete them first",
            [("endpoint_ids", users.into())],
        ));
    }
    execute(
        connection,
        "DELETE FROM augmentations WHERE augmentation_id = ?1",
        [id.as_str()],
    )
    .map_err(from_sqlite)?;
    refresh_draft_hash(connection, &scope.app_id)
}
