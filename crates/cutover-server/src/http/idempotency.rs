//! `Idempotency-Key` (the IETF header draft) on every POST, PATCH and DELETE: the
//! first request with a key runs and its answer is kept; a repeat of the same request
//! is answered that answer again, byte for byte, with `Idempotency-Replayed: true`,
//! and changes nothing. What a request with a key gets is
//! `cutover_domain::idempotency::decide`, applied by the store in the transaction
//! that claims the key, so servers sharing a database agree (docs/API.md, "Retrying a
//! write").
//!
//! It is a route layer inside the deadline. A request the deadline cuts off (or whose
//! client goes away) keeps its claim until the claim's lease ends, since the write it
//! began may still take effect: a repeat meanwhile answers 409
//! `idempotency_key_in_use`, and after it runs again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cutover_domain::Timestamp;
use cutover_domain::idempotency::{
    Decision, Fingerprint, IdempotencyKey, KeyClaim, StoredAnswer, keeps_answer,
};
use serde_json::{Map, Value};

use crate::cache::CachedStore;
use crate::http::auth::{Authenticated, Caller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::read_body;
use crate::http::validation::Issue;
use crate::state::AppState;
use cutover_store::idempotency::PackedAnswer;

/// The request header that carries a key.
pub const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");

/// The answer header that says an answer is a replay.
pub const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotency-replayed");

/// The headers of an answer a replay carries too.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// How much longer than the request deadline a claim lasts: past the deadline, its
/// request has answered or been cut off, and a write it began has settled.
const LEASE_PAST_DEADLINE: Duration = Duration::from_secs(30);

/// Answers smaller than this are packed (deflated) on the request's own task; larger
/// ones on tokio's blocking pool, so no runtime worker spends long on one.
const PACK_IN_PLACE_BYTES: usize = 64 * 1024;

/// How often expired keys are swept, and how many one sweep statement deletes.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_BATCH: u32 = 1_000;

/// Every write operation the API has, as (route template, method): a route layer
/// also sees the requests its route answers 405 to, which no key concerns.
static WRITES: LazyLock<HashMap<String, Vec<Method>>> = LazyLock::new(|| {
    let mut writes = HashMap::new();
    for (path, item) in crate::openapi::document().paths.paths {
        let methods = [
            (Method::POST, item.post.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ];
        let present = methods.into_iter().filter(|(_, present)| *present);
        writes.insert(path, present.map(|(method, _)| method).collect());
    }
    writes
});

/// Whether `request` is for one of the API's write operations.
fn is_write(request: &Request) -> bool {
    let route = request.extensions().get::<MatchedPath>();
    route
        .and_then(|route| WRITES.get(route.as_str()))
        .is_some_and(|methods| methods.contains(request.method()))
}

/// Runs a write that sent a key once, and answers repeats from what it answered.
/// Requests without a key, reads, and methods a route does not have pass straight
/// through.
pub async fn keep_answers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match request.headers().get(KEY_HEADER).cloned() {
        Some(key) if is_write(&request) => match with_key(&state, &key, request, next).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        },
        _ => next.run(request).await,
    }
}

async fn with_key(
    state: &Arc<AppState>,
    key: &HeaderValue,
    request: Request,
    next: Next,
) -> ApiResult<Response> {
    let key = parse_key(key)?;
    let (mut parts, body) = request.into_parts();
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    let bytes = read_body(&parts.headers, body, state.limits.max_body_bytes).await?;
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |target| target.as_str());
    let fingerprint = Fingerprint::of(
        caller.0.token_id.as_str(),
        parts.method.as_str(),
        target,
        &bytes,
    );
    let now = Timestamp::now();
    let claim = KeyClaim {
        scope: caller.key_scope(),
        key,
        fingerprint,
        claim_id: uuid::Uuid::now_v7().simple().to_string(),
        now,
        lease_until: plus(now, state.request_timeout + LEASE_PAST_DEADLINE),
        expires_at: plus(now, state.idempotency_key_ttl),
    };
    let store = state.store.idempotency();
    match store.claim_key(&claim).await? {
        Decision::Replay(answer) => Ok(replay(answer)),
        Decision::InProgress => Err(in_use(&claim)),
        Decision::OtherRequest => Err(other_request(&claim)),
        Decision::Run => {
            parts.extensions.insert(Authenticated(caller.0));
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            keep(&state.store, &claim, response).await
        }
    }
}

fn plus(at: Timestamp, duration: Duration) -> Timestamp {
    Timestamp::from_micros(at.as_micros().saturating_add(duration.as_micros() as i64))
}

fn parse_key(value: &HeaderValue) -> ApiResult<IdempotencyKey> {
    let text = String::from_utf8_lossy(value.as_bytes());
    IdempotencyKey::parse(&text).map_err(|violation| {
        ApiError::Validation(
            Issue::from_violation(key_location(), violation, &Value::from(text.as_ref())).into(),
        )
    })
}

fn key_location() -> Vec<Value> {
    vec!["header".into(), "Idempotency-Key".into()]
}

/// Keeps the answer of the request that claimed the key (a 5xx lets the key go
/// instead, so a retry runs again), and answers it.
async fn keep(store: &CachedStore, claim: &KeyClaim, response: Response) -> ApiResult<Response> {
    let status = response.status();
    if !keeps_answer(status.as_u16()) {
        if let Err(error) = store.idempotency().release_key(claim).await {
            tracing::warn!(error = %error, "an idempotency key of a failed request could not be let go; it lapses with its lease");
        }
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| ApiError::internal(format!("reading an answer to keep it: {error}")))?;
    let answer = StoredAnswer {
        status: status.as_u16(),
        headers: kept_headers(&parts.headers),
        body: body.to_vec(),
    };
    let packed = if answer.body.len() < PACK_IN_PLACE_BYTES {
        PackedAnswer::pack(&answer)
    } else {
        tokio::task::spawn_blocking(move || PackedAnswer::pack(&answer))
            .await
            .map_err(|error| ApiError::internal(format!("packing an answer: {error}")))?
    };
    if let Err(error) = store.idempotency().answer_key(claim, &packed).await {
        // The write is done; only a repeat is affected: it answers 409 until the
        // claim's lease ends, and then runs again.
        tracing::warn!(error = %error, "the answer of a request with an idempotency key could not be kept");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

/// The kept answer again, marked as a replay.
fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn in_use(claim: &KeyClaim) -> ApiError {
    let mut details = Map::new();
    details.insert("idempotency_key".into(), claim.key.as_str().into());
    ApiError::Conflict {
        reason: "idempotency_key_in_use",
        message: "A request with this Idempotency-Key is still being processed; retry it \
                  once that request has answered"
            .into(),
        details,
    }
}

fn other_request(claim: &KeyClaim) -> ApiError {
    let message = "this Idempotency-Key was already used for a different request (another \
                   token, method, path or body); use a new key for a new request";
    ApiError::Validation(
        Issue::value_error(key_location(), message, &Value::from(claim.key.as_str())).into(),
    )
}

/// Deletes expired keys every [`SWEEP_EVERY`] while the server runs, a batch at a
/// time so no statement holds the database long.
pub async fn sweep(store: Arc<CachedStore>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        loop {
            match store
                .idempotency()
                .purge_expired_keys(Timestamp::now(), SWEEP_BATCH)
                .await
            {
                Ok(deleted) if deleted == u64::from(SWEEP_BATCH) => continue,
                Ok(deleted) => {
                    if deleted > 0 {
                        tracing::info!(deleted, "swept expired idempotency keys");
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(error = %error, "sweeping expired idempotency keys failed; the next sweep tries again");
                    break;
                }
            }
        }
    }
}
