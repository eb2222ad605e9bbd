//! Our own extractors, so every rejection renders our error shapes: the JSON body
//! (size and media type checked, a large one given its place in the large-body lane,
//! parsed later, after authorization) and list queries. Path ids are `http::path`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cutover_domain::environment::EnvironmentRef;
use serde_json::{Map, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::json_cost::parsed_bytes;
use crate::http::large_bodies::LanePlace;
use crate::http::validation::{Issue, parse_object};
use crate::state::AppState;
use crate::transport::body::BodyReadTimeout;

/// A request body that is JSON (or empty) and within the size limit, not yet parsed.
/// A body that arrives slower than the transport's body read timeout answers 408.
/// A large body holds a place in the large-body lane for as long as the handler runs.
pub struct JsonBody {
    bytes: Bytes,
    /// The most memory parsing it may take ([`PARSED_BYTES_PER_BODY_BYTE`]).
    max_parsed_bytes: usize,
    _lane: Option<LanePlace>,
}

/// How many bytes of parsed JSON one byte of the body limit allows. JSON parses into
/// several times its size; past this (1 MiB of `{"a":0},` would take 75 MiB) a body
/// is refused before it is parsed, so that concurrent bodies cannot exhaust memory.
/// Ordinary bodies, however large, take a small fraction of it.
pub const PARSED_BYTES_PER_BODY_BYTE: usize = 16;

impl JsonBody {
    /// Parses the body as a JSON object (422 when it is not one, or when parsing it
    /// would take more memory than its size justifies).
    pub fn object(&self) -> ApiResult<Map<String, Value>> {
        if parsed_bytes(&self.bytes) > self.max_parsed_bytes {
            let message = format!(
                "the body's JSON is too dense to read: parsing it would take more than \
                 {} bytes; send fewer, larger values",
                self.max_parsed_bytes
            );
            return Err(ApiError::Validation(
                Issue::value_error(vec!["body".into()], &message, &Value::Null).into(),
            ));
        }
        parse_object(&self.bytes)
    }
}

impl JsonBody {
    /// Like [`Self::object`], for a body every field of which is optional: no body
    /// at all reads as `{}`.
    pub fn object_or_empty(&self) -> ApiResult<Map<String, Value>> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        self.object()
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl FromRequest<Arc<AppState>> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(
        request: Request,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let limit = state.limits.max_body_bytes;
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("").to_owned());
        let (parts, body) = request.into_parts();
        let bytes = read_body(&parts.headers, body, limit).await?;
        // An empty body has no media to refuse (`curl -d ''` labels it a form): it
        // reads as no body, which the operations whose body is optional take as `{}`.
        let media_ok = bytes.is_empty() || content_type.as_deref().is_some_and(is_json);
        if !media_ok {
            return Err(ApiError::UnsupportedMediaType);
        }
        let lane = state.large_bodies.enter(bytes.len()).await;
        Ok(Self {
            bytes,
            max_parsed_bytes: limit.saturating_mul(PARSED_BYTES_PER_BODY_BYTE),
            _lane: lane,
        })
    }
}

/// A request's whole body, if it is at most `limit` bytes (413 otherwise, as soon as
/// its `Content-Length` says so) and arrives within the transport's body read
/// timeout (408 otherwise).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<Bytes> {
    let too_large = ApiError::PayloadTooLarge { limit_bytes: limit };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large);
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|error| match BodyReadTimeout::find(&error) {
            Some(BodyReadTimeout { after }) => ApiError::BodyReadTimeout { after },
            None => too_large,
        })
}

/// The query string as name → value (the last occurrence wins).
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

/// `limit` and `cursor` of a list, validated.
pub struct ListParams {
    pub limit: u32,
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The `limit` a list takes when none is given, and the most it takes.
#[derive(Debug, Clone, Copy)]
pub struct LimitBounds {
    pub default: i64,
    pub max: i64,
}

impl LimitBounds {
    /// Every list's but the timeline's.
    pub const STANDARD: Self = Self {
        default: DEFAULT_LIMIT,
        max: MAX_LIMIT,
    };
    /// The app timeline's: its events are larger (a commit carries its diff).
    pub const TIMELINE: Self = Self {
        default: 20,
        max: 100,
    };
}

fn query_loc(name: &str) -> Vec<Value> {
    vec!["query".into(), name.into()]
}

impl QueryParams {
    pub fn list(&self, issues: &mut Vec<Issue>) -> ListParams {
        self.list_within(LimitBounds::STANDARD, issues)
    }

    /// `limit` (within `bounds`) and `cursor`.
    pub fn list_within(&self, bounds: LimitBounds, issues: &mut Vec<Issue>) -> ListParams {
        let limit = match self.0.get("limit") {
            None => bounds.default,
            Some(text) => match parse_query_integer(text) {
                Some(number) => match cutover_domain::values::check_range(number, 1, bounds.max) {
                    Ok(number) => number,
                    Err(violation) => {
                        issues.push(Issue::from_violation(
                            query_loc("limit"),
                            violation,
                            text.as_str(),
                        ));
                        DEFAULT_LIMIT
                    }
                },
                None => {
                    issues.push(Issue::new(
                        query_loc("limit"),
                        "int_parsing",
                        "Input should be a valid integer, unable to parse string as an integer",
                        text.as_str(),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        ListParams {
            limit: limit as u32,
            cursor: self.0.get("cursor").filter(|c| !c.is_empty()).cloned(),
        }
    }

    /// The environment a query names (`environment=`, by slug or id), if any.
    pub fn environment(&self, issues: &mut Vec<Issue>) -> Option<EnvironmentRef> {
        let text = self.0.get("environment")?;
        match EnvironmentRef::parse(text) {
            Ok(environment) => Some(environment),
            Err(violation) => {
                issues.push(Issue::from_violation(
                    query_loc("environment"),
                    violation,
                    text.as_str(),
                ));
                None
            }
        }
    }

    /// A boolean query flag: `true` or `false`, exactly as the document's boolean
    /// serializes in a query string (anything else is `bool_parsing`).
    pub fn flag(&self, name: &str, default: bool, issues: &mut Vec<Issue>) -> bool {
        match self.0.get(name).map(String::as_str) {
            None => default,
            Some("true") => true,
            Some("false") => false,
            Some(text) => {
                issues.push(Issue::new(
                    query_loc(name),
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                    text,
                ));
                default
            }
        }
    }
}

/// A query integer as the document's `integer` serializes: an optional `-` and
/// digits, nothing around them (no spaces, no `+`, no decimal point).
fn parse_query_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_query_integer;

    #[test]
    fn query_integers_are_plain_digits() {
        assert_eq!(parse_query_integer("50"), Some(50));
        assert_eq!(parse_query_integer("-3"), Some(-3));
        for text in ["", " 5", "5 ", "+5", "5.0", "1e2", "-", "0x10", "٣"] {
            assert_eq!(parse_query_integer(text), None, "{text:?}");
        }
    }
}
