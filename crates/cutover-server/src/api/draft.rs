//! The draft of an app: its endpoints and augmentations.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::permission::Operation;
use serde_json::Value;

use super::{created, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{JsonBody, PathIds, QueryParams};
use crate::state::AppState;

pub async fn create_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::EndpointsCreate, &scope)?;
    let new = inputs::new_endpoint(&body.object()?, &state.limits)?;
    let endpoint = state
        .store
        .create_endpoint(&scope, new, &caller.actor())
        .await?;
    Ok(created(&uri, endpoint.endpoint_id.as_str(), &endpoint))
}

pub async fn list_endpoints(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::EndpointsList, &scope)?;
    let page = page_request(&state, &query, "endpoints", scope.app_id.as_str())?;
    let endpoints = state.store.list_endpoints(&scope, page).await?;
    Ok(page_body(
        &state,
        "endpoints",
        scope.app_id.as_str(),
        endpoints,
    ))
}

pub async fn get_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Endpoint>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::EndpointsGet, &scope)?;
    Ok(Json(
        state.store.get_endpoint(&scope, ids.endpoint()?).await?,
    ))
}

pub async fn update_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    body: JsonBody,
) -> ApiResult<Json<Endpoint>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::EndpointsUpdate, &scope)?;
    let patch = inputs::endpoint_patch(&body.object()?, &state.limits)?;
    let endpoint = state
        .store
        .update_endpoint(&scope, ids.endpoint()?, patch, &caller.actor())
        .await?;
    Ok(Json(endpoint))
}

pub async fn delete_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::EndpointsDelete, &scope)?;
    state.store.delete_endpoint(&scope, ids.endpoint()?).await?;
    Ok(deleted())
}

pub async fn create_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AugmentationsCreate, &scope)?;
    let new = inputs::new_augmentation(&body.object()?, &state.limits)?;
    let augmentation = state
        .store
        .create_augmentation(&scope, new, &caller.actor())
        .await?;
    Ok(created(
        &uri,
        augmentation.augmentation_id.as_str(),
        &augmentation,
    ))
}

pub async fn list_augmentations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AugmentationsList, &scope)?;
    let page = page_request(&state, &query, "augmentations", scope.app_id.as_str())?;
    let augmentations = state.store.list_augmentations(&scope, page).await?;
    Ok(page_body(
        &state,
        "augmentations",
        scope.app_id.as_str(),
        augmentations,
    ))
}

pub async fn get_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Augmentation>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AugmentationsGet, &scope)?;
    Ok(Json(
        state
            .store
            .get_augmentation(&scope, ids.augmentation()?)
            .await?,
    ))
}

pub async fn update_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
    body: JsonBody,
) -> ApiResult<Json<Augmentation>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AugmentationsUpdate, &scope)?;
    let patch = inputs::augmentation_patch(&body.object()?, &state.limits)?;
    let augmentation = state
        .store
        .update_augmentation(&scope, ids.augmentation()?, patch, &caller.actor())
        .await?;
    Ok(Json(augmentation))
}

pub async fn delete_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: PathIds,
) -> ApiResult<Json<Value>> {
    let scope = ids.app_scope()?;
    caller.authorize_app(Operation::AugmentationsDelete, &scope)?;
    state
        .store
        .delete_augmentation(&scope, ids.augmentation()?)
        .await?;
    Ok(deleted())
}
