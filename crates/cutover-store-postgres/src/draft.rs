//! The draft: endpoints and augmentations of an app. Each change locks the app row
//! first (so limits, uniqueness checks and the draft hash see every earlier change),
//! and records itself as a commit on the app's timeline and refreshes the app's draft
//! hash in the same transaction.

use cutover_domain::conflict::Conflict;
use cutover_domain::draft::{AugmentationPatch, EndpointPatch, NewAugmentation, NewEndpoint};
use cutover_domain::limits::{Limits, check_draft_bytes};
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::precondition::{self, IfMatch};
use cutover_domain::timeline::Change;
use cutover_domain::{AugmentationId, EndpointId, Timestamp};
use cutover_store::timeline::EventRow;
use cutover_store::{AppScope, Page, PageRequest, Prepared, StoreError};
use serde_json::Value;
use sqlx::{PgConnection, Row};

use crate::apps::{draft_bytes, lock_app, refresh_draft_hash, require_app};
use crate::error::{Outcome, unique_or};
use crate::rows::{
    PgQuery, after_key, all, bodies, count, fetch_limit, from_json_text, not_found, optional,
};
use crate::timeline;

/// Refuses a write that would take the app's draft past its byte limit.
async fn check_draft_room(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    table: &str,
    replaced: Option<&str>,
    added: u64,
) -> Outcome<()> {
    let (total, own) = draft_bytes(connection, &scope.app_id, table, replaced).await?;
    check_draft_bytes(total, own, added, limits.max_draft_bytes).map_err(StoreError::from)?;
    Ok(())
}

/// Refuses a create once the app has `limit` entities (counted by `count_query`).
async fn check_room(
    connection: &mut PgConnection,
    count_query: PgQuery,
    limit: u32,
    what: &'static str,
) -> Outcome<()> {
    let existing = count(connection, count_query).await?;
    if existing >= u64::from(limit) {
        return Err(StoreError::from(Conflict::DraftEntitiesLimit { what, limit }).into());
    }
    Ok(())
}

async fn require_augmentation_of_app(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &AugmentationId,
) -> Outcome<()> {
    optional(
        connection,
        sqlx::query("SELECT 1 FROM augmentations WHERE augmentation_id = $1 AND app_id = $2")
            .bind(id.as_str())
            .bind(scope.app_id.as_str()),
        |_| Ok(()),
    )
    .await?
    .ok_or_else(|| {
        StoreError::InvalidReference {
            field: "augmentation_id",
            message: "must name an augmentation of this app".into(),
            input: Value::String(id.to_string()),
        }
        .into()
    })
}

fn route_taken(endpoint: &Endpoint, existing: Option<String>) -> StoreError {
    Conflict::EndpointRouteTaken {
        method: endpoint.method.to_string(),
        path: endpoint.path.clone(),
        other_endpoint_id: existing,
    }
    .into()
}

fn endpoint_name_taken(endpoint: &Endpoint) -> StoreError {
    Conflict::EndpointNameTaken {
        name: endpoint.name.clone(),
    }
    .into()
}

/// Finds which unique rule an endpoint write would break, the route first (as the
/// SQLite store reports it). Exact, because the caller holds the app lock.
async fn endpoint_conflict(
    connection: &mut PgConnection,
    scope: &AppScope,
    endpoint: &Endpoint,
) -> Outcome<Option<StoreError>> {
    let clash = optional(
        connection,
        sqlx::query(
            "SELECT endpoint_id, (method = $2 AND path = $3) AS same_route FROM endpoints
             WHERE app_id = $1 AND endpoint_id <> $5
               AND ((method = $2 AND path = $3) OR name = $4)
             ORDER BY same_route DESC, endpoint_id LIMIT 1",
        )
        .bind(scope.app_id.as_str())
        .bind(endpoint.method.as_str())
        .bind(&endpoint.path)
        .bind(&endpoint.name)
        .bind(endpoint.endpoint_id.as_str()),
        |row| Ok((row.try_get::<String, _>(0)?, row.try_get::<bool, _>(1)?)),
    )
    .await?;
    Ok(clash.map(|(existing, same_route)| {
        if same_route {
            route_taken(endpoint, Some(existing))
        } else {
            endpoint_name_taken(endpoint)
        }
    }))
}

async fn write_endpoint(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    prepared: &Prepared<Endpoint>,
    insert: bool,
    commit: &EventRow,
) -> Outcome<()> {
    let endpoint = &prepared.entity;
    if let Some(conflict) = endpoint_conflict(&mut *connection, scope, endpoint).await? {
        return Err(conflict.into());
    }
    let replaced = (!insert).then_some(endpoint.endpoint_id.as_str());
    check_draft_room(
        &mut *connection,
        limits,
        scope,
        "endpoints",
        replaced,
        prepared.stored_bytes(),
    )
    .await?;
    let sql = if insert {
        "INSERT INTO endpoints (endpoint_id, app_id, name, method, path, augmentation_id, body,
                                content_hash, digest, canonical, body_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    } else {
        "UPDATE endpoints SET name = $3, method = $4, path = $5, augmentation_id = $6, body = $7,
                content_hash = $8, digest = $9, canonical = $10, body_bytes = $11
         WHERE endpoint_id = $1 AND app_id = $2"
    };
    sqlx::query(sql)
        .bind(endpoint.endpoint_id.as_str())
        .bind(scope.app_id.as_str())
        .bind(&endpoint.name)
        .bind(endpoint.method.as_str())
        .bind(&endpoint.path)
        .bind(endpoint.augmentation_id.as_str())
        .bind(&prepared.body)
        .bind(&prepared.digest.hash)
        .bind(prepared.digest.to_text())
        .bind(&prepared.canonical)
        .bind(prepared.stored_bytes() as i64)
        .execute(&mut *connection)
        .await
        .map_err(|err| {
            unique_or(err, |constraint| match constraint {
                "endpoints_app_route_unique" => Some(route_taken(endpoint, None)),
                "endpoints_app_name_unique" => Some(endpoint_name_taken(endpoint)),
                _ => None,
            })
        })?;
    timeline::record(&mut *connection, &scope.app_id, commit).await?;
    refresh_draft_hash(connection, &scope.app_id).await
}

pub(crate) async fn create_endpoint(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    new: &NewEndpoint,
    actor: &str,
) -> Outcome<Endpoint> {
    lock_app(&mut *connection, scope).await?;
    require_augmentation_of_app(&mut *connection, scope, &new.augmentation_id).await?;
    check_room(
        &mut *connection,
        sqlx::query("SELECT count(*) FROM endpoints WHERE app_id = $1").bind(scope.app_id.as_str()),
        limits.max_endpoints_per_app,
        "endpoints",
    )
    .await?;
    let at = Timestamp::now();
    let prepared = Prepared::endpoint(new.clone().into_endpoint(actor, at))?;
    let commit = EventRow::commit(actor, Change::of_endpoint(None, Some(&prepared.entity)), at)?;
    write_endpoint(connection, limits, scope, &prepared, true, &commit).await?;
    Ok(prepared.entity)
}

pub(crate) async fn get_endpoint(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &EndpointId,
) -> Outcome<Endpoint> {
    require_app(&mut *connection, scope).await?;
    let body = optional(
        connection,
        sqlx::query("SELECT body FROM endpoints WHERE endpoint_id = $1 AND app_id = $2")
            .bind(id.as_str())
            .bind(scope.app_id.as_str()),
        |row| row.try_get::<String, _>(0),
    )
    .await?
    .ok_or_else(|| not_found("endpoint", id))?;
    from_json_text(&body)
}

pub(crate) async fn list_endpoints(
    connection: &mut PgConnection,
    scope: &AppScope,
    page: &PageRequest,
) -> Outcome<Page<Endpoint>> {
    require_app(&mut *connection, scope).await?;
    let items: Vec<Endpoint> = bodies(
        &mut *connection,
        sqlx::query(
            "SELECT body FROM endpoints WHERE app_id = $1 AND endpoint_id > $2
             ORDER BY endpoint_id LIMIT $3",
        )
        .bind(scope.app_id.as_str())
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
    )
    .await?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM endpoints WHERE app_id = $1").bind(scope.app_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |e| {
        e.endpoint_id.to_string()
    }))
}

pub(crate) async fn update_endpoint(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    id: &EndpointId,
    patch: &EndpointPatch,
    actor: &str,
    if_match: Option<&IfMatch>,
) -> Outcome<Endpoint> {
    lock_app(&mut *connection, scope).await?;
    let mut endpoint = get_endpoint(&mut *connection, scope, id).await?;
    precondition::check_entity(if_match, "endpoint", &endpoint).map_err(StoreError::from)?;
    if let Some(augmentation_id) = &patch.augmentation_id {
        require_augmentation_of_app(&mut *connection, scope, augmentation_id).await?;
    }
    let (old, at) = (endpoint.clone(), Timestamp::now());
    patch.clone().apply_to(&mut endpoint, actor, at);
    let commit = EventRow::commit(actor, Change::of_endpoint(Some(&old), Some(&endpoint)), at)?;
    let prepared = Prepared::endpoint(endpoint)?;
    write_endpoint(connection, limits, scope, &prepared, false, &commit).await?;
    Ok(prepared.entity)
}

pub(crate) async fn delete_endpoint(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &EndpointId,
    actor: &str,
    if_match: Option<&IfMatch>,
) -> Outcome<()> {
    lock_app(&mut *connection, scope).await?;
    let endpoint = get_endpoint(&mut *connection, scope, id).await?;
    precondition::check_entity(if_match, "endpoint", &endpoint).map_err(StoreError::from)?;
    sqlx::query("DELETE FROM endpoints WHERE endpoint_id = $1 AND app_id = $2")
        .bind(id.as_str())
        .bind(scope.app_id.as_str())
        .execute(&mut *connection)
        .await?;
    let commit = EventRow::commit(
        actor,
        Change::of_endpoint(Some(&endpoint), None),
        Timestamp::now(),
    )?;
    timeline::record(&mut *connection, &scope.app_id, &commit).await?;
    refresh_draft_hash(connection, &scope.app_id).await
}

async fn write_augmentation(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    prepared: &Prepared<Augmentation>,
    insert: bool,
    commit: &EventRow,
) -> Outcome<()> {
    let augmentation = &prepared.entity;
    let replaced = (!insert).then_some(augmentation.augmentation_id.as_str());
    check_draft_room(
        &mut *connection,
        limits,
        scope,
        "augmentations",
        replaced,
        prepared.stored_bytes(),
    )
    .await?;
    let sql = if insert {
        "INSERT INTO augmentations (augmentation_id, app_id, name, body, content_hash, digest,
                                    canonical, body_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    } else {
        "UPDATE augmentations SET name = $3, body = $4, content_hash = $5, digest = $6,
                canonical = $7, body_bytes = $8
         WHERE augmentation_id = $1 AND app_id = $2"
    };
    sqlx::query(sql)
        .bind(augmentation.augmentation_id.as_str())
        .bind(scope.app_id.as_str())
        .bind(&augmentation.name)
        .bind(&prepared.body)
        .bind(&prepared.digest.hash)
        .bind(prepared.digest.to_text())
        .bind(&prepared.canonical)
        .bind(prepared.stored_bytes() as i64)
        .execute(&mut *connection)
        .await
        .map_err(|err| {
            unique_or(err, |constraint| {
                (constraint == "augmentations_app_name_unique").then(|| {
                    StoreError::from(Conflict::AugmentationNameTaken {
                        name: augmentation.name.clone(),
                    })
                })
            })
        })?;
    timeline::record(&mut *connection, &scope.app_id, commit).await?;
    refresh_draft_hash(connection, &scope.app_id).await
}

pub(crate) async fn create_augmentation(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    new: &NewAugmentation,
    actor: &str,
) -> Outcome<Augmentation> {
    lock_app(&mut *connection, scope).await?;
    check_room(
        &mut *connection,
        sqlx::query("SELECT count(*) FROM augmentations WHERE app_id = $1")
            .bind(scope.app_id.as_str()),
        limits.max_augmentations_per_app,
        "augmentations",
    )
    .await?;
    let at = Timestamp::now();
    let prepared = Prepared::augmentation(new.clone().into_augmentation(actor, at))?;
    let change = Change::of_augmentation(None, Some(&prepared.entity));
    let commit = EventRow::commit(actor, change, at)?;
    write_augmentation(connection, limits, scope, &prepared, true, &commit).await?;
    Ok(prepared.entity)
}

pub(crate) async fn get_augmentation(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &AugmentationId,
) -> Outcome<Augmentation> {
    require_app(&mut *connection, scope).await?;
    let body = optional(
        connection,
        sqlx::query("SELECT body FROM augmentations WHERE augmentation_id = $1 AND app_id = $2")
            .bind(id.as_str())
            .bind(scope.app_id.as_str()),
        |row| row.try_get::<String, _>(0),
    )
    .await?
    .ok_or_else(|| not_found("augmentation", id))?;
    from_json_text(&body)
}

pub(crate) async fn list_augmentations(
    connection: &mut PgConnection,
    scope: &AppScope,
    page: &PageRequest,
) -> Outcome<Page<Augmentation>> {
    require_app(&mut *connection, scope).await?;
    let items: Vec<Augmentation> = bodies(
        &mut *connection,
        sqlx::query(
            "SELECT body FROM augmentations WHERE app_id = $1 AND augmentation_id > $2
             ORDER BY augmentation_id LIMIT $3",
        )
        .bind(scope.app_id.as_str())
        .bind(after_key(page))
        .bind(fetch_limit(page.limit)),
    )
    .await?;
    let total = count(
        connection,
        sqlx::query("SELECT count(*) FROM augmentations WHERE app_id = $1")
            .bind(scope.app_id.as_str()),
    )
    .await?;
    Ok(Page::from_over_fetch(items, page, total, |a| {
        a.augmentation_id.to_string()
    }))
}

pub(crate) async fn update_augmentation(
    connection: &mut PgConnection,
    limits: &Limits,
    scope: &AppScope,
    id: &AugmentationId,
    patch: &AugmentationPatch,
    actor: &str,
    if_match: Option<&IfMatch>,
) -> Outcome<Augmentation> {
    lock_app(&mut *connection, scope).await?;
    let mut augmentation = get_augmentation(&mut *connection, scope, id).await?;
    precondition::check_entity(if_match, "augmentation", &augmentation)
        .map_err(StoreError::from)?;
    let (old, at) = (augmentation.clone(), Timestamp::now());
    patch.clone().apply_to(&mut augmentation, actor, at);
    let change = Change::of_augmentation(Some(&old), Some(&augmentation));
    let commit = EventRow::commit(actor, change, at)?;
    let prepared = Prepared::augmentation(augmentation)?;
    write_augmentation(connection, limits, scope, &prepared, false, &commit).await?;
    Ok(prepared.entity)
}

pub(crate) async fn delete_augmentation(
    connection: &mut PgConnection,
    scope: &AppScope,
    id: &AugmentationId,
    actor: &str,
    if_match: Option<&IfMatch>,
) -> Outcome<()> {
    lock_app(&mut *connection, scope).await?;
    let augmentation = get_augmentation(&mut *connection, scope, id).await?;
    precondition::check_entity(if_match, "augmentation", &augmentation)
        .map_err(StoreError::from)?;
    let users = all(
        &mut *connection,
        sqlx::query(
            "SELECT endpoint_id FROM endpoints WHERE augmentation_id = $1
             ORDER BY endpoint_id LIMIT 20",
        )
        .bind(id.as_str()),
        |row| row.try_get::<String, _>(0),
    )
    .await?;
    if !users.is_empty() {
        return Err(StoreError::from(Conflict::AugmentationInUse {
            endpoint_ids: users,
        })
        .into());
    }
    sqlx::query("DELETE FROM augmentations WHERE augmentation_id = $1")
        .bind(id.as_str())
        .execute(&mut *connection)
        .await?;
    let change = Change::of_augmentation(Some(&augmentation), None);
    let commit = EventRow::commit(actor, change, Timestamp::now())?;
    timeline::record(&mut *connection, &scope.app_id, &commit).await?;
    refresh_draft_hash(connection, &scope.app_id).await
}
