//! The API's handlers, one module per resource, and the route table that registers
//! them all in one place. Every handler reads: extract → authorize → call → render.

mod apps;
mod draft;
mod health;
pub mod inputs;
mod releases;
mod tenancy;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use cutover_store::{Page, PageRequest};
use serde::Serialize;
use serde_json::Value;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::http::pagination::{invalid_cursor, list_envelope};
use crate::state::AppState;

/// Every route of the service.
pub fn routes() -> Router<Arc<AppState>> {
    const WS: &str = "/v1/orgs/{org_id}/workspaces/{workspace_id}";
    const APP: &str = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}";
    const GET: &[&str] = &["GET", "HEAD"];
    const GET_POST: &[&str] = &["GET", "HEAD", "POST"];
    const GET_PATCH_DELETE: &[&str] = &["GET", "HEAD", "PATCH", "DELETE"];
    const GET_DELETE: &[&str] = &["GET", "HEAD", "DELETE"];
    const POST: &[&str] = &["POST"];
    const DELETE: &[&str] = &["DELETE"];
    Router::new()
        .route("/healthz", allow(GET, get(health::healthz)))
        .route("/readyz", allow(GET, get(health::readyz)))
        .route("/metrics", allow(GET, get(health::metrics)))
        .route(
            "/v1/orgs",
            allow(GET_POST, get(tenancy::list_orgs).post(tenancy::create_org)),
        )
        .route("/v1/orgs/{org_id}", allow(GET, get(tenancy::get_org)))
        .route(
            "/v1/orgs/{org_id}/tokens",
            allow(
                GET_POST,
                get(tenancy::list_tokens).post(tenancy::create_token),
            ),
        )
        .route(
            "/v1/orgs/{org_id}/tokens/{token_id}",
            allow(DELETE, axum::routing::delete(tenancy::revoke_token)),
        )
        .route(
            "/v1/orgs/{org_id}/workspaces",
            allow(
                GET_POST,
                get(tenancy::list_workspaces).post(tenancy::create_workspace),
            ),
        )
        .route(WS, allow(GET, get(tenancy::get_workspace)))
        .route(
            &format!("{WS}/apps"),
            allow(GET_POST, get(apps::list_apps).post(apps::create_app)),
        )
        .route(
            APP,
            allow(
                GET_PATCH_DELETE,
                get(apps::get_app)
                    .patch(apps::update_app)
                    .delete(apps::delete_app),
            ),
        )
        .route(
            &format!("{APP}/endpoints"),
            allow(
                GET_POST,
                get(draft::list_endpoints).post(draft::create_endpoint),
            ),
        )
        .route(
            &format!("{APP}/endpoints/{{endpoint_id}}"),
            allow(
                GET_PATCH_DELETE,
                get(draft::get_endpoint)
                    .patch(draft::update_endpoint)
                    .delete(draft::delete_endpoint),
            ),
        )
        .route(
            &format!("{APP}/augmentations"),
            allow(
                GET_POST,
                get(draft::list_augmentations).post(draft::create_augmentation),
            ),
        )
        .route(
            &format!("{APP}/augmentations/{{augmentation_id}}"),
            allow(
                GET_PATCH_DELETE,
                get(draft::get_augmentation)
                    .patch(draft::update_augmentation)
                    .delete(draft::delete_augmentation),
            ),
        )
        .route(
            &format!("{APP}/releases"),
            allow(
                GET_POST,
                get(releases::list_releases).post(releases::create_release),
            ),
        )
        .route(
            &format!("{APP}/releases/active"),
            allow(GET, get(releases::get_active_release)),
        )
        .route(
            &format!("{APP}/releases/{{release_id}}"),
            allow(
                GET_DELETE,
                get(releases::get_release).delete(releases::delete_release),
            ),
        )
        .route(
            &format!("{APP}/releases/{{release_id}}/activate"),
            allow(POST, post(releases::activate_release)),
        )
        .route(
            &format!("{APP}/releases/{{release_id}}/rollback"),
            allow(POST, post(releases::rollback_release)),
        )
        .route(
            &format!("{APP}/releases/{{release_id}}/archive"),
            allow(POST, post(releases::archive_release)),
        )
        .route(
            &format!("{APP}/activations"),
            allow(GET, get(releases::list_activations)),
        )
}

/// Gives a route its own 405 answer, listing the methods it serves in `Allow`.
fn allow(
    methods: &'static [&'static str],
    router: MethodRouter<Arc<AppState>>,
) -> MethodRouter<Arc<AppState>> {
    router.fallback(move || async move {
        ApiError::MethodNotAllowed {
            allowed: methods.iter().map(|m| (*m).to_owned()).collect(),
        }
        .into_response()
    })
}

/// 201 with the new object and a `Location` naming it under the request's path.
fn created<T: Serialize>(uri: &Uri, id: &str, body: &T) -> Response {
    let location = format!("{}/{id}", uri.path().trim_end_matches('/'));
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The `{}` body of a successful delete.
fn deleted() -> Json<Value> {
    Json(Value::Object(Default::default()))
}

/// Reads `limit` and `cursor` for list `list` under `scope` (422 on bad values).
fn page_request(
    state: &AppState,
    query: &QueryParams,
    list: &str,
    scope: &str,
) -> ApiResult<PageRequest> {
    let mut issues = Vec::new();
    let params = query.list(&mut issues);
    let after = match &params.cursor {
        Some(cursor) => {
            let position = state.cursors.decode(cursor, list, scope);
            if position.is_none() {
                issues.push(invalid_cursor(cursor));
            }
            position
        }
        None => None,
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(PageRequest {
        limit: params.limit,
        after,
    })
}

/// Renders a page in the list envelope, signing the next cursor.
fn page_body<T: Serialize>(
    state: &AppState,
    list: &str,
    scope: &str,
    page: Page<T>,
) -> Json<Value> {
    let next = page
        .next_after
        .map(|position| state.cursors.encode(list, scope, &position));
    Json(Value::Object(list_envelope(
        list,
        &page.items,
        page.total,
        next,
    )))
}
