//! `If-Match` read from a request into the domain's condition
//! (`cutover_domain::precondition`), or a 422 at `["header", "If-Match"]` when it is
//! not `*` or a list of quoted entity tags.

use axum::http::{HeaderMap, header};
use cutover_domain::precondition::IfMatch;
use serde_json::Value;

use crate::http::error::{ApiError, ApiResult};
use crate::http::validation::Issue;

/// The request's `If-Match` condition, if it carries one.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<IfMatch>> {
    if !headers.contains_key(header::IF_MATCH) {
        return Ok(None);
    }
    let values: Vec<_> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()))
        .collect();
    IfMatch::parse(values.iter().map(AsRef::as_ref)).map_err(|message| {
        let input = Value::from(values.join(", "));
        ApiError::Validation(
            Issue::value_error(vec!["header".into(), "If-Match".into()], message, &input).into(),
        )
    })
}
