//! Answers that carry a rendered release, with its `ETag`; and conditional reads
//! (RFC 9110 §13.1.2): `304 Not Modified` and no body when the request's
//! `If-None-Match` already names the tag, so a polling gateway moves no body while
//! nothing changed. Draft entities and apps are answered with the tag of their body
//! (`tagged`), which their writes' `If-Match` compares.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use cutover_domain::precondition::EntityTag;
use serde::Serialize;

use crate::cache::RenderedRelease;
use crate::http::error::{ApiError, ApiResult};

/// Clients may keep the answer but must ask again (conditionally) before using it.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `200` with the release's body and entity tag, or `304` when `request` already has it.
pub fn release_response(request: &HeaderMap, release: &RenderedRelease) -> Response {
    if let Some(not_modified) = not_modified(request, &release.etag) {
        return not_modified;
    }
    let mut response = Response::new(Body::new(release.body()));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, JSON);
    headers.insert(header::ETAG, release.etag.clone());
    headers.insert(header::CACHE_CONTROL, REVALIDATE);
    response
}

/// `304` with `etag`, when the request's `If-None-Match` names it.
pub fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> Option<Response> {
    let named = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .any(|value| names_tag(value, etag));
    named.then(|| {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        let headers = response.headers_mut();
        headers.insert(header::ETAG, etag.clone());
        headers.insert(header::CACHE_CONTROL, REVALIDATE);
        response
    })
}

/// `status` with `entity`'s JSON and its `ETag`: the tag of these very bytes
/// (`EntityTag::of_representation`), as the store computes it to check `If-Match`.
pub fn tagged(status: StatusCode, entity: &impl Serialize) -> ApiResult<Response> {
    let body = serde_json::to_vec(entity)
        .map_err(|err| ApiError::internal(format!("rendering an answer: {err}")))?;
    let tag = EntityTag::of_representation(&body);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, JSON);
    if let Ok(tag) = HeaderValue::from_str(tag.as_str()) {
        headers.insert(header::ETAG, tag);
    }
    Ok(response)
}

/// `201` with the new release's body, its `ETag` and `Location: location`.
pub fn release_created(location: &str, release: &RenderedRelease) -> Response {
    let mut response = Response::new(Body::new(release.body()));
    *response.status_mut() = StatusCode::CREATED;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, JSON);
    headers.insert(header::ETAG, release.etag.clone());
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    response
}

/// Whether an `If-None-Match` value (`*`, or a comma-separated list of entity tags)
/// names `current`, by weak comparison: `W/"x"` and `"x"` are the same tag here.
/// A value that is not text, or a list member that is not a tag, names nothing.
fn names_tag(value: &HeaderValue, current: &HeaderValue) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    let current = current.as_bytes();
    value.split(',').map(str::trim).any(|member| {
        member == "*" || member.strip_prefix("W/").unwrap_or(member).as_bytes() == current
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(value: &str) -> bool {
        names_tag(
            &HeaderValue::from_str(value).unwrap(),
            &HeaderValue::from_static("\"abc-123\""),
        )
    }

    #[test]
    fn a_list_names_the_tag_when_any_member_is_it_weakly() {
        assert!(names("\"abc-123\""));
        assert!(names("W/\"abc-123\""));
        assert!(names("\"other\", \"abc-123\""));
        assert!(names("\"other\",W/\"abc-123\" "));
        assert!(names("*"));
    }

    #[test]
    fn other_tags_and_malformed_members_name_nothing() {
        assert!(!names("\"abc-1234\""));
        assert!(!names("abc-123"));
        assert!(!names("\"abc\""));
        assert!(!names(""));
        assert!(!names("W/"));
        assert!(!names("\"abc-123"));
    }
}
