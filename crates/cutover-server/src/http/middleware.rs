//! Per-request plumbing: the request id (and the `request` span carrying it, in
//! which the handler and every store call it makes run, so their log lines name the
//! request), one access-log line per request, logging of 5xx causes, our envelope on the router's own 404/405 answers, and the limits on a
//! request's head that hyper would otherwise enforce with a bare answer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::http::echo::cut;
use crate::http::error::{ApiError, ErrorCause};
use crate::http::metrics::{Metrics, UNMATCHED_ROUTE, method_label};

/// The id of one request, echoed in `X-Request-Id` and every log line about it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A client-sent id is kept when it is short and plain; otherwise we make one.
fn incoming_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let plain = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    plain.then(|| value.to_owned())
}

/// Puts the matched route template on the response, for [`observe`] to label
/// metrics with. Runs inside the router, where the template is known.
pub async fn remember_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id =
        incoming_request_id(&request).unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    // Everything the request does is logged inside this span (a store's retries, a
    // driver's slow-statement warnings); the access line itself, after it, carries the
    // id as a field.
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(request).instrument(span).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    metrics.record(method_label(&method), route, status, elapsed);
    if let Some(ErrorCause(cause)) = response.extensions().get::<ErrorCause>() {
        tracing::error!(request_id = %request_id, %method, %path, status, cause = %cause, "request failed");
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        target: "cutover::access",
        request_id = %request_id,
        %method,
        %path,
        status,
        duration_ms = crate::telemetry::rounded_milliseconds(elapsed),
        "request"
    );
    response
}

/// The router's fallback: every unknown path is a 404 in our envelope (echoing at
/// most 1 KiB of the path).
pub async fn unknown_route(request: Request) -> Response {
    ApiError::not_found("route", cut(request.uri().path(), MAX_ECHOED_ROUTE_BYTES)).into_response()
}

/// The most bytes of JSON the 404 of an unknown route spends echoing its path.
pub const MAX_ECHOED_ROUTE_BYTES: usize = 1024;

/// The longest request target (path and query) served; longer ones answer 414.
/// hyper itself answers a bare 414 only past 65,534 bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most bytes of header fields (names, values and their separators) served;
/// more answer 431. hyper answers a bare 431 past about 408 KiB or 100 fields.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

fn target_len(uri: &axum::http::Uri) -> usize {
    uri.scheme_str().map_or(0, |scheme| scheme.len() + 3)
        + uri
            .authority()
            .map_or(0, |authority| authority.as_str().len())
        + uri.path().len()
        + uri.query().map_or(0, |query| query.len() + 1)
}

/// Refuses requests whose head is larger than cutover serves, in our envelope and
/// with `X-Request-Id` (it runs inside [`observe`]), before anything reads them.
pub async fn limit_head(request: Request, next: Next) -> Response {
    if target_len(request.uri()) > MAX_URI_BYTES {
        return ApiError::UriTooLong {
            limit_bytes: MAX_URI_BYTES,
        }
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            limit_bytes: MAX_HEADER_BYTES,
        }
        .into_response();
    }
    next.run(request).await
}

/// Turns a panic inside a handler into a 500 envelope (the panic goes to the log).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::internal(format!("handler panicked: {text}")).into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;
    use crate::http::log_capture::Seen;

    #[tokio::test]
    async fn what_a_request_logs_names_its_request_id() {
        let seen = Seen::default();
        let _default = seen.install();
        let app = Router::new()
            .route(
                "/work",
                get(|| async {
                    tokio::task::yield_now().await;
                    tracing::warn!("a store retried");
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(Metrics::default()),
                observe,
            ));
        let request = Request::builder()
            .uri("/work")
            .header(REQUEST_ID_HEADER, "req-42")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.headers()[REQUEST_ID_HEADER], "req-42");
        let seen = seen.events();
        let inside = seen
            .iter()
            .find(|(message, _)| message == "a store retried")
            .expect("the handler's event was logged");
        assert_eq!(inside.1.as_deref(), Some("req-42"));
        let access = seen
            .iter()
            .find(|(message, _)| message == "request")
            .expect("the access line was logged");
        assert_eq!(access.1, None, "the access line is outside the span");
    }
}
