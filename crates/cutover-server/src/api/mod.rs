//! The API's handlers, one module per resource, and the route table that registers
//! them all in one place. Every handler reads: extract → authorize → call → render.

mod apps;
mod deployment_inputs;
mod deployments;
mod diffs;
mod draft;
pub mod dry_runs;
mod environment_inputs;
mod environments;
mod health;
pub mod inputs;
mod releases;
mod tenancy;
mod timeline;
mod tokens;

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use cutover_store::{Page, PageRequest};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::http::conditional::tagged;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{LimitBounds, QueryParams};
use crate::http::pagination::invalid_cursor;
use crate::http::validation::Issue;
use crate::openapi;
use crate::openapi::lists::ListAnswer;
use crate::state::AppState;

/// Every route of the service, each registered with its OpenAPI annotation: the
/// router and the document (`crate::openapi::document`) both come from here. One
/// `routes!` per path; [`allow`] gives each path its 405 from the same registration.
pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(allow(routes!(health::healthz)))
        .routes(allow(routes!(health::readyz)))
        .routes(allow(routes!(health::metrics)))
        .routes(allow(routes!(openapi::serve_document)))
        .routes(allow(routes!(tenancy::list_orgs, tenancy::create_org)))
        .routes(allow(routes!(tenancy::get_org)))
        .routes(allow(routes!(tokens::list_platform_tokens)))
        .routes(allow(routes!(tokens::revoke_platform_token)))
        .routes(allow(routes!(tokens::list_tokens, tokens::create_token)))
        .routes(allow(routes!(tokens::revoke_token)))
        .routes(allow(routes!(
            tenancy::list_workspaces,
            tenancy::create_workspace
        )))
        .routes(allow(routes!(tenancy::get_workspace)))
        .routes(allow(routes!(
            environments::list_environments,
            environments::create_environment
        )))
        .routes(allow(routes!(
            environments::get_environment,
            environments::update_environment,
            environments::delete_environment
        )))
        .routes(allow(routes!(apps::list_apps, apps::create_app)))
        .routes(allow(routes!(
            apps::get_app,
            apps::update_app,
            apps::delete_app
        )))
        .routes(allow(routes!(environments::list_app_environments)))
        .routes(allow(routes!(
            draft::list_endpoints,
            draft::create_endpoint
        )))
        .routes(allow(routes!(
            draft::get_endpoint,
            draft::update_endpoint,
            draft::delete_endpoint
        )))
        .routes(allow(routes!(
            draft::list_augmentations,
            draft::create_augmentation
        )))
        .routes(allow(routes!(
            draft::get_augmentation,
            draft::update_augmentation,
            draft::delete_augmentation
        )))
        .routes(allow(routes!(
            releases::list_releases,
            releases::create_release
        )))
        .routes(allow(routes!(releases::get_active_release)))
        .routes(allow(routes!(
            releases::get_release,
            releases::delete_release
        )))
        .routes(allow(routes!(releases::activate_release)))
        .routes(allow(routes!(releases::rollback_release)))
        .routes(allow(routes!(releases::archive_release)))
        .routes(allow(routes!(releases::list_activations)))
        .routes(allow(routes!(
            deployments::list_deployments,
            deployments::create_deployment
        )))
        .routes(allow(routes!(deployments::get_deployment)))
        .routes(allow(routes!(deployments::rollback_environment)))
        .routes(allow(routes!(timeline::list_timeline)))
        .routes(allow(routes!(diffs::diff_release)))
        .routes(allow(routes!(diffs::diff_draft)))
}

/// The order methods are listed in `Allow`.
const METHOD_ORDER: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

/// Gives one path its own 405 answer, listing in `Allow` the methods registered for
/// it (and HEAD wherever GET is, which axum answers with the GET handler).
fn allow(
    (schemas, mut paths, router): UtoipaMethodRouter<Arc<AppState>>,
) -> UtoipaMethodRouter<Arc<AppState>> {
    assert_eq!(
        paths.paths.len(),
        1,
        "one routes! registers the handlers of one path"
    );
    let mut registered: Vec<&str> = paths
        .paths
        .values_mut()
        .flat_map(openapi::operations_mut)
        .map(|(method, _)| method)
        .collect();
    if registered.contains(&"GET") {
        registered.push("HEAD");
    }
    let allowed: Vec<String> = METHOD_ORDER
        .iter()
        .filter(|method| registered.contains(method))
        .map(|method| (*method).to_owned())
        .collect();
    let router = router.fallback(move || {
        let allowed = allowed.clone();
        async move { ApiError::MethodNotAllowed { allowed }.into_response() }
    });
    (schemas, paths, router)
}

/// 201 with the new object and a `Location` naming it under the request's path.
/// The path of the resource `id` created by a POST to `uri`.
fn location(uri: &Uri, id: &str) -> String {
    format!("{}/{id}", uri.path().trim_end_matches('/'))
}

fn created<T: Serialize>(uri: &Uri, id: &str, body: &T) -> Response {
    let location = location(uri, id);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `201` with a draft entity or app, its `ETag` and `Location`.
fn created_tagged<T: Serialize>(uri: &Uri, id: &str, entity: &T) -> ApiResult<Response> {
    let mut response = tagged(StatusCode::CREATED, entity)?;
    if let Ok(value) = HeaderValue::from_str(&location(uri, id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
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
    page_request_after(state, query, list, scope, Vec::new())
}

/// Like [`page_request`], after the list's own query parameters were read with
/// `issues` found: every problem of the query answers in one 422.
fn page_request_after(
    state: &AppState,
    query: &QueryParams,
    list: &str,
    scope: &str,
    issues: Vec<Issue>,
) -> ApiResult<PageRequest> {
    page_request_within(state, query, LimitBounds::STANDARD, list, scope, issues)
}

/// Like [`page_request_after`], for a list whose `limit` has `bounds` of its own.
fn page_request_within(
    state: &AppState,
    query: &QueryParams,
    bounds: LimitBounds,
    list: &str,
    scope: &str,
    mut issues: Vec<Issue>,
) -> ApiResult<PageRequest> {
    let params = query.list_within(bounds, &mut issues);
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
        return Err(ApiError::Validation(issues.into()));
    }
    Ok(PageRequest {
        limit: params.limit,
        after,
    })
}

/// A page as its list's answer, the next cursor signed for the list and `scope`.
fn page_body<L: ListAnswer>(state: &AppState, scope: &str, page: Page<L::Item>) -> Json<L> {
    let next = page
        .next_after
        .map(|position| state.cursors.encode(L::LIST, scope, &position));
    Json(L::from_page(page.items, page.total, next))
}
