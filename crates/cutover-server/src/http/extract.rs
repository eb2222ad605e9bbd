//! Our own extractors, so every rejection renders our error shapes: the JSON body
//! (size and media type checked, parsed later, after authorization), path ids parsed
//! into their types, and list queries.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use cutover_domain::{AppId, AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use cutover_store::{AppScope, WorkspaceScope};
use serde_json::{Map, Value};

use crate::http::error::{ApiError, ApiResult};
use crate::http::validation::{Issue, parse_object};
use crate::state::AppState;
use crate::transport::body::BodyReadTimeout;

/// A request body that is JSON (or empty) and within the size limit, not yet parsed.
/// A body that arrives slower than the transport's body read timeout answers 408.
pub struct JsonBody(Bytes);

impl JsonBody {
    /// Parses the body as a JSON object (422 when it is not one).
    pub fn object(&self) -> ApiResult<Map<String, Value>> {
        parse_object(&self.0)
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
        let too_large = ApiError::PayloadTooLarge { limit_bytes: limit };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large);
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("").to_owned());
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|error| match BodyReadTimeout::find(&error) {
                Some(BodyReadTimeout { after }) => ApiError::BodyReadTimeout { after },
                None => too_large,
            })?;
        let media_ok = match &content_type {
            Some(content_type) => is_json(content_type),
            None => bytes.is_empty(),
        };
        if !media_ok {
            return Err(ApiError::UnsupportedMediaType);
        }
        Ok(Self(bytes))
    }
}

/// The ids in a request's path, each parsed into its type. A malformed id is a 422
/// at `["path", name]`; a well-formed id that names nothing is a 404 later.
#[derive(Debug, Default)]
pub struct PathIds {
    pub org: Option<OrgId>,
    pub workspace: Option<WorkspaceId>,
    pub app: Option<AppId>,
    pub endpoint: Option<EndpointId>,
    pub augmentation: Option<AugmentationId>,
    pub release: Option<ReleaseId>,
    pub token: Option<TokenId>,
}

fn missing_route_param(name: &str) -> ApiError {
    ApiError::internal(format!("route has no {name} parameter"))
}

impl PathIds {
    pub fn org(&self) -> ApiResult<&OrgId> {
        self.org
            .as_ref()
            .ok_or_else(|| missing_route_param("org_id"))
    }

    pub fn workspace_scope(&self) -> ApiResult<WorkspaceScope> {
        Ok(WorkspaceScope {
            org_id: self.org()?.clone(),
            workspace_id: self
                .workspace
                .clone()
                .ok_or_else(|| missing_route_param("workspace_id"))?,
        })
    }

    pub fn app_scope(&self) -> ApiResult<AppScope> {
        let workspace = self.workspace_scope()?;
        Ok(AppScope {
            org_id: workspace.org_id,
            workspace_id: workspace.workspace_id,
            app_id: self
                .app
                .clone()
                .ok_or_else(|| missing_route_param("app_id"))?,
        })
    }

    pub fn endpoint(&self) -> ApiResult<&EndpointId> {
        self.endpoint
            .as_ref()
            .ok_or_else(|| missing_route_param("endpoint_id"))
    }

    pub fn augmentation(&self) -> ApiResult<&AugmentationId> {
        self.augmentation
            .as_ref()
            .ok_or_else(|| missing_route_param("augmentation_id"))
    }

    pub fn release(&self) -> ApiResult<&ReleaseId> {
        self.release
            .as_ref()
            .ok_or_else(|| missing_route_param("release_id"))
    }

    pub fn token(&self) -> ApiResult<&TokenId> {
        self.token
            .as_ref()
            .ok_or_else(|| missing_route_param("token_id"))
    }
}

fn parse_into<T>(
    name: &str,
    value: &str,
    parse: fn(&str) -> Result<T, cutover_domain::ids::MalformedId>,
    slot: &mut Option<T>,
    issues: &mut Vec<Issue>,
) {
    match parse(value) {
        Ok(id) => *slot = Some(id),
        Err(error) => issues.push(
            Issue::new(
                vec!["path".into(), name.into()],
                "string_pattern_mismatch",
                format!("String should match pattern '{}'", error.pattern),
                Value::String(value.to_owned()),
            )
            .with_ctx([("pattern", error.pattern.into())]),
        ),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| {
                ApiError::Validation(vec![Issue::new(
                    vec!["path".into()],
                    "string_type",
                    "Path parameters must be valid UTF-8",
                    Value::Null,
                )])
            })?;
        let mut ids = PathIds::default();
        let mut issues = Vec::new();
        for (name, value) in &raw {
            match name {
                "org_id" => parse_into(name, value, OrgId::parse, &mut ids.org, &mut issues),
                "workspace_id" => parse_into(
                    name,
                    value,
                    WorkspaceId::parse,
                    &mut ids.workspace,
                    &mut issues,
                ),
                "app_id" => parse_into(name, value, AppId::parse, &mut ids.app, &mut issues),
                "endpoint_id" => parse_into(
                    name,
                    value,
                    EndpointId::parse,
                    &mut ids.endpoint,
                    &mut issues,
                ),
                "augmentation_id" => parse_into(
                    name,
                    value,
                    AugmentationId::parse,
                    &mut ids.augmentation,
                    &mut issues,
                ),
                "release_id" => {
                    parse_into(name, value, ReleaseId::parse, &mut ids.release, &mut issues)
                }
                "token_id" => parse_into(name, value, TokenId::parse, &mut ids.token, &mut issues),
                _ => {}
            }
        }
        if issues.is_empty() {
            Ok(ids)
        } else {
            Err(ApiError::Validation(issues))
        }
    }
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

fn query_loc(name: &str) -> Vec<Value> {
    vec!["query".into(), name.into()]
}

impl QueryParams {
    pub fn list(&self, issues: &mut Vec<Issue>) -> ListParams {
        let limit = match self.0.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match parse_query_integer(text) {
                Some(number) => match cutover_domain::values::check_range(number, 1, MAX_LIMIT) {
                    Ok(number) => number,
                    Err(violation) => {
                        issues.push(Issue::from_violation(
                            query_loc("limit"),
                            violation,
                            Value::String(text.clone()),
                        ));
                        DEFAULT_LIMIT
                    }
                },
                None => {
                    issues.push(Issue::new(
                        query_loc("limit"),
                        "int_parsing",
                        "Input should be a valid integer, unable to parse string as an integer",
                        Value::String(text.clone()),
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
                    Value::String(text.to_owned()),
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
