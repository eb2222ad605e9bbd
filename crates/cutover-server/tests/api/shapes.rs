//! Assertions on the two error shapes (docs/API.md, "Errors and limits"): the envelope
//! `{error, message, details, timestamp, status_code}` and FastAPI's 422
//! `{"detail": [{loc, msg, type, input, ctx}]}`; both with an `X-Request-Id`.

use serde_json::{Value, json};

use crate::harness::Reply;

/// Asserts that `reply` carries a request id (every response does, 2xx too).
#[track_caller]
pub fn assert_request_id(reply: &Reply) {
    let id = reply.header("x-request-id").unwrap_or_default();
    assert!(!id.is_empty(), "no X-Request-Id on {}", reply.status);
}

/// `2026-11-28T01:49:09.123456Z`: RFC 3339, UTC, microseconds.
#[track_caller]
pub fn assert_timestamp(text: &str) {
    let pattern = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    let fits = text.len() == pattern.len()
        && text.bytes().zip(pattern.bytes()).all(|(c, p)| {
            if p == b'd' {
                c.is_ascii_digit()
            } else {
                c == p
            }
        });
    assert!(
        fits,
        "timestamp {text:?} is not RFC 3339 UTC with microseconds"
    );
    assert!(cutover_domain::Timestamp::parse_rfc3339(text).is_some());
}

/// Asserts the error envelope with `status` and `error`, and answers its details.
#[track_caller]
pub fn assert_envelope<'a>(reply: &'a Reply, status: u16, error: &str) -> &'a Value {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_request_id(reply);
    let body = reply.body.as_object().expect("the envelope is an object");
    let keys: Vec<&str> = body.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["error", "message", "details", "timestamp", "status_code"]
    );
    assert_eq!(body["error"], error);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["details"].is_object());
    assert_timestamp(body["timestamp"].as_str().expect("timestamp is a string"));
    assert_eq!(body["status_code"], status);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    &body["details"]
}

/// Asserts a well-formed 422 and answers its entries.
#[track_caller]
pub fn assert_issues(reply: &Reply) -> &Vec<Value> {
    assert_eq!(reply.status, 422, "body: {}", reply.body);
    assert_request_id(reply);
    let body = reply.body.as_object().expect("a 422 body is an object");
    assert_eq!(body.keys().collect::<Vec<_>>(), ["detail"]);
    let issues = body["detail"].as_array().expect("detail is a list");
    assert!(!issues.is_empty());
    for issue in issues {
        let keys: Vec<&str> = issue
            .as_object()
            .expect("an issue is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["loc", "msg", "type", "input", "ctx"], "{issue}");
        let loc = issue["loc"].as_array().expect("loc is a list");
        assert!(
            [
                json!("body"),
                json!("query"),
                json!("path"),
                json!("header")
            ]
            .contains(&loc[0]),
            "{issue}"
        );
        assert!(issue["msg"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(issue["type"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(issue["ctx"].is_object());
    }
    issues
}

/// Asserts a 422 with exactly one issue at `loc` of type `kind`, and answers it.
#[track_caller]
pub fn assert_one_issue<'a>(reply: &'a Reply, loc: Value, kind: &str) -> &'a Value {
    let issues = assert_issues(reply);
    assert_eq!(issues.len(), 1, "{}", reply.body);
    assert_eq!(issues[0]["loc"], loc, "{}", reply.body);
    assert_eq!(issues[0]["type"], kind, "{}", reply.body);
    &issues[0]
}

/// Sends raw bytes as the admin, with `content_type` when given and extra headers.
pub async fn send_raw(
    app: &crate::harness::TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply {
        status,
        headers,
        body,
    }
}

/// Asserts that `body` is an object with exactly the keys `fields`.
#[track_caller]
pub fn assert_fields(body: &Value, fields: &[&str]) {
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = fields.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "{body}");
}
