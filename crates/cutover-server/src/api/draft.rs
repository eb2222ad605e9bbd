//! The draft of an app: its endpoints and augmentations.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::permission::Operation;
use serde_json::Value;

use super::{created_tagged, deleted, inputs, page_body, page_request};
use crate::http::auth::Caller;
use crate::http::conditional::tagged;
use crate::http::error::ApiResult;
use crate::http::error::ErrorEnvelope;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::path::{AppPath, AugmentationPath, EndpointPath};
use crate::http::precondition;
use crate::openapi::bodies::{
    AugmentationPatchBody, EndpointPatchBody, NewAugmentationBody, NewEndpointBody,
};
use crate::openapi::lists::{AugmentationList, Deleted, EndpointList};
use crate::openapi::params::{IfMatchEntity, ListQuery};
use crate::openapi::responses::{BodyErrors, Errors, NotFound, PreconditionErrors};
use crate::state::AppState;

/// Add an endpoint to the draft
///
/// `augmentation_id` must name an augmentation of the same app (422 otherwise).
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/endpoints",
    operation_id = Operation::EndpointsCreate.as_str(),
    tag = "endpoints",
    params(AppPath),
    request_body(content = NewEndpointBody),
    responses(
        (status = 201, description = "The new endpoint", body = Endpoint,
            headers(("Location" = String, description = "The new endpoint's path"),
                ("ETag" = String, description = "This version's tag, for `If-Match`"))),
        (status = 409, description = "`endpoint_name_taken` or `endpoint_route_taken` (same method and path): \
            another endpoint of the app has it; `draft_limit_reached`: the app has \
            the most endpoints allowed (`details.limit`), or the draft would pass its size \
            limit (`details.limit_bytes`, `details.draft_bytes`)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::EndpointsCreate, &scope)?;
    let new = inputs::new_endpoint(&body.object()?, &state.limits)?;
    let endpoint = state
        .store
        .drafts()
        .create_endpoint(&scope, new, &caller.actor())
        .await?;
    created_tagged(&uri, endpoint.endpoint_id.as_str(), &endpoint)
}

/// List the draft's endpoints
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/endpoints",
    operation_id = Operation::EndpointsList.as_str(),
    tag = "endpoints",
    params(AppPath, ListQuery),
    responses((status = 200, description = "A page of endpoints", body = EndpointList),
        NotFound, Errors),
)]
pub async fn list_endpoints(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<EndpointList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::EndpointsList, &scope)?;
    let page = page_request(&state, &query, "endpoints", scope.app_id.as_str())?;
    let endpoints = state.store.drafts().list_endpoints(&scope, page).await?;
    Ok(page_body(&state, scope.app_id.as_str(), endpoints))
}

/// Get an endpoint of the draft
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/endpoints/{endpoint_id}",
    operation_id = Operation::EndpointsGet.as_str(),
    tag = "endpoints",
    params(EndpointPath),
    responses((status = 200, description = "The endpoint", body = Endpoint,
        headers(("ETag" = String, description = "This version's tag, for `If-Match`"))), NotFound, Errors),
)]
pub async fn get_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EndpointPath,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::EndpointsGet, &scope)?;
    let endpoint = state
        .store
        .drafts()
        .get_endpoint(&scope, &ids.endpoint_id)
        .await?;
    tagged(StatusCode::OK, &endpoint)
}

/// Update an endpoint
///
/// Any subset of the create fields; `description` and `input_schema` take null.
#[utoipa::path(
    patch,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/endpoints/{endpoint_id}",
    operation_id = Operation::EndpointsUpdate.as_str(),
    tag = "endpoints",
    params(EndpointPath, IfMatchEntity),
    request_body(content = EndpointPatchBody),
    responses(
        (status = 200, description = "The updated endpoint", body = Endpoint,
            headers(("ETag" = String, description = "This version's tag, for `If-Match`"))),
        (status = 409, description = "`endpoint_name_taken` or `endpoint_route_taken`: another endpoint of the \
            app has it; `draft_limit_reached`: the draft would pass its size limit \
            (`details.limit_bytes`, `details.draft_bytes`)",
            body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn update_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EndpointPath,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::EndpointsUpdate, &scope)?;
    let patch = inputs::endpoint_patch(&body.object()?, &state.limits)?;
    let endpoint = state
        .store
        .drafts()
        .update_endpoint(
            &scope,
            &ids.endpoint_id,
            patch,
            &caller.actor(),
            precondition::if_match(&headers)?.as_ref(),
        )
        .await?;
    tagged(StatusCode::OK, &endpoint)
}

/// Remove an endpoint from the draft
///
/// Releases keep their copies.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/endpoints/{endpoint_id}",
    operation_id = Operation::EndpointsDelete.as_str(),
    tag = "endpoints",
    params(EndpointPath, IfMatchEntity),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        PreconditionErrors, NotFound, Errors,
    ),
)]
pub async fn delete_endpoint(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: EndpointPath,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let scope = ids.app();
    caller.authorize_app(Operation::EndpointsDelete, &scope)?;
    state
        .store
        .drafts()
        .delete_endpoint(
            &scope,
            &ids.endpoint_id,
            &caller.actor(),
            precondition::if_match(&headers)?.as_ref(),
        )
        .await?;
    Ok(deleted())
}

/// Add an augmentation to the draft
///
/// A pipeline: ordered stages, each running its steps in sequence or in parallel.
#[utoipa::path(
    post,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/augmentations",
    operation_id = Operation::AugmentationsCreate.as_str(),
    tag = "augmentations",
    params(AppPath),
    request_body(content = NewAugmentationBody),
    responses(
        (status = 201, description = "The new augmentation", body = Augmentation,
            headers(("Location" = String, description = "The new augmentation's path"),
                ("ETag" = String, description = "This version's tag, for `If-Match`"))),
        (status = 409, description = "`augmentation_name_taken`: another augmentation of the app has this name; \
            `draft_limit_reached`: the app has the most augmentations allowed \
            (`details.limit`), or the draft would pass its size limit \
            (`details.limit_bytes`, `details.draft_bytes`)",
            body = ErrorEnvelope),
        NotFound, BodyErrors, Errors,
    ),
)]
pub async fn create_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    uri: Uri,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::AugmentationsCreate, &scope)?;
    let new = inputs::new_augmentation(&body.object()?, &state.limits)?;
    let augmentation = state
        .store
        .drafts()
        .create_augmentation(&scope, new, &caller.actor())
        .await?;
    created_tagged(&uri, augmentation.augmentation_id.as_str(), &augmentation)
}

/// List the draft's augmentations
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/augmentations",
    operation_id = Operation::AugmentationsList.as_str(),
    tag = "augmentations",
    params(AppPath, ListQuery),
    responses((status = 200, description = "A page of augmentations", body = AugmentationList),
        NotFound, Errors),
)]
pub async fn list_augmentations(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<AugmentationList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::AugmentationsList, &scope)?;
    let page = page_request(&state, &query, "augmentations", scope.app_id.as_str())?;
    let augmentations = state
        .store
        .drafts()
        .list_augmentations(&scope, page)
        .await?;
    Ok(page_body(&state, scope.app_id.as_str(), augmentations))
}

/// Get an augmentation of the draft
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/augmentations/{augmentation_id}",
    operation_id = Operation::AugmentationsGet.as_str(),
    tag = "augmentations",
    params(AugmentationPath),
    responses((status = 200, description = "The augmentation", body = Augmentation,
        headers(("ETag" = String, description = "This version's tag, for `If-Match`"))), NotFound, Errors),
)]
pub async fn get_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AugmentationPath,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::AugmentationsGet, &scope)?;
    let augmentation = state
        .store
        .drafts()
        .get_augmentation(&scope, &ids.augmentation_id)
        .await?;
    tagged(StatusCode::OK, &augmentation)
}

/// Update an augmentation
///
/// Any subset of the create fields; `stages` and `tags` are replaced whole.
#[utoipa::path(
    patch,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/augmentations/{augmentation_id}",
    operation_id = Operation::AugmentationsUpdate.as_str(),
    tag = "augmentations",
    params(AugmentationPath, IfMatchEntity),
    request_body(content = AugmentationPatchBody),
    responses(
        (status = 200, description = "The updated augmentation", body = Augmentation,
            headers(("ETag" = String, description = "This version's tag, for `If-Match`"))),
        (status = 409, description = "`augmentation_name_taken`: another augmentation of the app has this name; \
            `draft_limit_reached`: the draft would pass its size limit \
            (`details.limit_bytes`, `details.draft_bytes`)",
            body = ErrorEnvelope),
        PreconditionErrors, NotFound, BodyErrors, Errors,
    ),
)]
pub async fn update_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AugmentationPath,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    let scope = ids.app();
    caller.authorize_app(Operation::AugmentationsUpdate, &scope)?;
    let patch = inputs::augmentation_patch(&body.object()?, &state.limits)?;
    let augmentation = state
        .store
        .drafts()
        .update_augmentation(
            &scope,
            &ids.augmentation_id,
            patch,
            &caller.actor(),
            precondition::if_match(&headers)?.as_ref(),
        )
        .await?;
    tagged(StatusCode::OK, &augmentation)
}

/// Remove an augmentation from the draft
///
/// Refused while an endpoint of the draft uses it. Releases keep their copies.
#[utoipa::path(
    delete,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/augmentations/{augmentation_id}",
    operation_id = Operation::AugmentationsDelete.as_str(),
    tag = "augmentations",
    params(AugmentationPath, IfMatchEntity),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "`augmentation_in_use`: an endpoint of the draft uses it", body = ErrorEnvelope),
        PreconditionErrors, NotFound, Errors,
    ),
)]
pub async fn delete_augmentation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AugmentationPath,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let scope = ids.app();
    caller.authorize_app(Operation::AugmentationsDelete, &scope)?;
    state
        .store
        .drafts()
        .delete_augmentation(
            &scope,
            &ids.augmentation_id,
            &caller.actor(),
            precondition::if_match(&headers)?.as_ref(),
        )
        .await?;
    Ok(deleted())
}
