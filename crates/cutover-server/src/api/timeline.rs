//! The app's timeline: its commits, release events and deployments, newest first.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use cutover_domain::permission::Operation;

use super::page_request_within;
use crate::http::auth::Caller;
use crate::http::error::ApiResult;
use crate::http::extract::{LimitBounds, QueryParams};
use crate::http::path::AppPath;
use crate::openapi::lists::TimelineList;
use crate::openapi::params::TimelineQuery;
use crate::openapi::responses::{Errors, NotFound};
use crate::state::AppState;

/// List an app's timeline
///
/// Every draft write (a `commit`: who changed which fields of which entity, each
/// side of a field kept up to 1 KiB, a longer one as its `sha256` and `bytes`),
/// every release cut, archive and delete (a `release`, as it was then, with its
/// `action` and `action_by`), and every `deployment`, newest first. `type` says
/// which of `commit`, `release` and `deployment` is set; the other two are null.
/// Events are append-only and outlive the releases and entities they name.
#[utoipa::path(
    get,
    path = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}/timeline",
    operation_id = Operation::TimelineList.as_str(),
    tag = "timeline",
    params(AppPath, TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = TimelineList),
        NotFound, Errors),
)]
pub async fn list_timeline(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ids: AppPath,
    query: QueryParams,
) -> ApiResult<Json<TimelineList>> {
    let scope = ids.app();
    caller.authorize_app(Operation::TimelineList, &scope)?;
    let cursor_scope = scope.app_id.to_string();
    let page = page_request_within(
        &state,
        &query,
        LimitBounds::TIMELINE,
        TimelineList::LIST,
        &cursor_scope,
        Vec::new(),
    )?;
    let page = state.store.releases().timeline(&scope, page).await?;
    let next_cursor = page.next_after.map(|position| {
        state
            .cursors
            .encode(TimelineList::LIST, &cursor_scope, &position)
    });
    Ok(Json(TimelineList {
        events: page.events,
        has_more: next_cursor.is_some(),
        next_cursor,
    }))
}
