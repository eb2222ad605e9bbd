//! Property tests of the request-body parsers (`http::validation::parse_object`, then
//! every parser of `api::inputs`) on arbitrary JSON objects biased towards the
//! fields they read: none panics; a refusal is a 422 whose answer stays within
//! 64 KiB, whose entries are bounded by the size of the body and each point into
//! it; an accepted body, built into what the store keeps, reads back equal. The
//! `json_bodies` fuzz target in `fuzz/` checks the same on unbounded inputs.

use axum::response::IntoResponse;
use cutover_domain::deployment::DeployAuthority;
use cutover_domain::draft::{NewAugmentation, NewEndpoint};
use cutover_domain::limits::Limits;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::token::Token;
use cutover_domain::{AugmentationId, EndpointId, Timestamp, TokenId, WorkspaceId};
use cutover_server::api::inputs;
use cutover_server::http::error::{ApiError, ApiResult};
use cutover_server::http::problems::Problems;
use cutover_server::http::validation::parse_object;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// The largest error answer the server may send (issue 12).
const MAX_ERROR_ANSWER_BYTES: usize = 64 * 1024;

/// Every field some body parser reads, so generated objects reach every branch.
const FIELDS: &[&str] = &[
    "name",
    "slug",
    "description",
    "parameters",
    "path",
    "method",
    "augmentation_id",
    "endpoint_type",
    "input_schema",
    "stages",
    "tags",
    "is_template",
    "release_tag",
    "activate",
    "role",
    "permissions",
    "workspace_ids",
    "expires_at",
    "execution_mode",
    "steps",
    "type",
    "config",
    "timeout_seconds",
    "max_retries",
];

/// Strings that some parser accepts, mixed with any text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "GET", "PATCH", "sync", "stream", "parallel", "sequential", "inference",
            "approval", "admin", "viewer", "apps:read", "releases:*", "*", "v1.2.0",
            "/v1/chat", "acme", "", " ", "2026-11-28T01:49:09Z",
            AugmentationId::EXAMPLE, WorkspaceId::EXAMPLE,
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
        1 => (1usize..300).prop_map(|n| "x".repeat(n)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A body valid for most parsers (its fields are each some parser's required ones).
fn valid_base() -> Map<String, Value> {
    let base = json!({
        "name": "n", "slug": "acme", "path": "/p", "method": "GET",
        "augmentation_id": AugmentationId::EXAMPLE, "release_tag": "v1", "role": "viewer",
        "stages": [{"name": "s", "steps": [{"name": "llm", "type": "inference"}]}],
    });
    base.as_object().cloned().unwrap()
}

fn body() -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![
        prop::collection::vec((key(), json_value()), 0..8)
            .prop_map(|entries| entries.into_iter().collect()),
        prop::collection::vec((key(), json_value()), 0..3).prop_map(|entries| {
            let mut body = valid_base();
            body.extend(entries);
            body
        }),
    ]
}

/// How many values, and how many of them objects, `value` holds (itself included).
fn count(value: &Value) -> (usize, usize) {
    let children = match value {
        Value::Array(items) => items.iter().map(count).collect(),
        Value::Object(map) => map.values().map(count).collect(),
        _ => Vec::new(),
    };
    children.iter().fold(
        (1, usize::from(value.is_object())),
        |(values, objects), (v, o)| (values + v, objects + o),
    )
}

/// The most fields one object of a body must have (an endpoint's name, path, method
/// and augmentation_id).
const MOST_REQUIRED_FIELDS: usize = 4;

/// The value at `path` (field names and indexes) inside `root`.
fn resolve<'a>(root: &'a Value, path: &[Value]) -> Option<&'a Value> {
    path.iter().try_fold(root, |at, step| match step {
        Value::String(key) => at.as_object()?.get(key),
        Value::Number(index) => at.as_array()?.get(usize::try_from(index.as_u64()?).ok()?),
        _ => None,
    })
}

fn rendered(error: ApiError) -> (u16, Vec<u8>) {
    let response = error.into_response();
    let status = response.status().as_u16();
    let body = futures::executor::block_on(http_body_util::BodyExt::collect(response.into_body()))
        .unwrap()
        .to_bytes();
    (status, body.to_vec())
}

/// What every refused body must give: a 422 within 64 KiB whose entries are bounded
/// by the body (at most one per value plus one rule across fields, and a few missing
/// fields per object), each located in the body: at the value it is about, or at a
/// field missing from an object of the body.
fn check_refusal(body: &Map<String, Value>, problems: Problems) -> Result<(), TestCaseError> {
    let issues = problems.kept();
    prop_assert!(issues.len() <= 50, "{} entries kept", issues.len());
    let root = Value::Object(body.clone());
    let (values, objects) = count(&root);
    let missing = issues.iter().filter(|i| i.kind == "missing").count();
    prop_assert!(!issues.is_empty());
    prop_assert!(
        missing <= objects * MOST_REQUIRED_FIELDS + 1,
        "{missing} missing"
    );
    prop_assert!(
        issues.len() - missing <= values + 1,
        "{} entries",
        issues.len()
    );
    for issue in issues {
        prop_assert_eq!(&issue.loc[0], "body", "{:?}", issue.loc);
        let Some((last, parent)) = issue.loc[1..].split_last() else {
            continue;
        };
        let container = resolve(&root, parent);
        prop_assert!(container.is_some(), "{:?} is not in the body", issue.loc);
        let found = resolve(container.unwrap(), std::slice::from_ref(last));
        if issue.kind == "missing" {
            prop_assert!(found.is_none(), "{:?} is missing but present", issue.loc);
        } else {
            prop_assert!(found.is_some(), "{:?} names no value", issue.loc);
        }
    }
    let (status, bytes) = rendered(ApiError::Validation(problems));
    prop_assert_eq!(status, 422);
    prop_assert!(
        bytes.len() <= MAX_ERROR_ANSWER_BYTES,
        "{} bytes",
        bytes.len()
    );
    Ok(())
}

fn checked<T>(
    body: &Map<String, Value>,
    parsed: ApiResult<T>,
    accepted: impl FnOnce(T) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    match parsed {
        Ok(value) => accepted(value),
        Err(ApiError::Validation(problems)) => check_refusal(body, problems),
        Err(other) => Err(TestCaseError::fail(format!("not a 422: {other:?}"))),
    }
}

fn round_trips<T>(value: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

fn at() -> Timestamp {
    Timestamp::from_micros(1_795_830_549_123_456)
}

fn endpoint(new: NewEndpoint) -> Endpoint {
    Endpoint {
        endpoint_id: EndpointId::parse(EndpointId::EXAMPLE).unwrap(),
        name: new.name,
        path: new.path,
        method: new.method,
        description: new.description,
        endpoint_type: new.endpoint_type,
        augmentation_id: new.augmentation_id,
        input_schema: new.input_schema,
        created_at: at(),
        created_by: "tok".into(),
        updated_at: at(),
        updated_by: "tok".into(),
    }
}

fn augmentation(new: NewAugmentation) -> Augmentation {
    Augmentation {
        augmentation_id: AugmentationId::parse(AugmentationId::EXAMPLE).unwrap(),
        name: new.name,
        description: new.description,
        stages: new.stages,
        tags: new.tags,
        is_template: new.is_template,
        created_at: at(),
        created_by: "tok".into(),
        updated_at: at(),
        updated_by: "tok".into(),
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_body_parser_accepts_a_body_or_names_its_problems(body in body()) {
        let limits = Limits::default();
        let b = &body;
        checked(b, inputs::new_org(b, &limits), |_| Ok(()))?;
        checked(b, inputs::new_workspace(b, &limits), |_| Ok(()))?;
        checked(b, inputs::new_app(b, &limits), |_| Ok(()))?;
        checked(b, inputs::app_patch(b, &limits), |_| Ok(()))?;
        checked(b, inputs::new_endpoint(b, &limits), |new| round_trips(&endpoint(new)))?;
        checked(b, inputs::endpoint_patch(b, &limits), |_| Ok(()))?;
        checked(b, inputs::new_augmentation(b, &limits), |new| {
            round_trips(&augmentation(new))
        })?;
        checked(b, inputs::augmentation_patch(b, &limits), |_| Ok(()))?;
        checked(b, inputs::new_release(b, &limits, DeployAuthority::AnyEnvironment), |_| Ok(()))?;
        checked(b, inputs::new_token(b, &limits), |(new, _expiry)| {
            round_trips(&Token {
                token_id: TokenId::parse(TokenId::EXAMPLE).unwrap(),
                org_id: None,
                name: new.name,
                prefix: "cut_0123".into(),
                permissions: new.permissions,
                workspace_ids: new.workspace_ids,
                expires_at: new.expires_at,
                created_at: at(),
                created_by: "tok".into(),
                revoked_at: None,
            })
        })?;
    }

    #[test]
    fn any_bytes_are_an_object_or_one_bounded_422(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            json_value().prop_map(|value| value.to_string().into_bytes()),
        ],
    ) {
        match parse_object(&bytes) {
            Ok(object) => {
                let reparsed: Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert_eq!(reparsed, Value::Object(object));
            }
            Err(ApiError::Validation(issues)) => {
                prop_assert_eq!(issues.total(), 1);
                let (status, answer) = rendered(ApiError::Validation(issues));
                prop_assert_eq!(status, 422);
                prop_assert!(answer.len() <= MAX_ERROR_ANSWER_BYTES);
            }
            Err(other) => prop_assert!(false, "not a 422: {:?}", other),
        }
    }
}

/// The generated bodies reach the accepting branch: their valid base is accepted by
/// every parser that creates something.
#[test]
fn the_valid_base_is_accepted_by_every_creating_parser() {
    let limits = Limits::default();
    let body = valid_base();
    assert!(inputs::new_org(&body, &limits).is_ok());
    assert!(inputs::new_workspace(&body, &limits).is_ok());
    assert!(inputs::new_app(&body, &limits).is_ok());
    assert!(inputs::new_endpoint(&body, &limits).is_ok());
    assert!(inputs::new_augmentation(&body, &limits).is_ok());
    assert!(inputs::new_release(&body, &limits, DeployAuthority::AnyEnvironment).is_ok());
    assert!(inputs::new_token(&body, &limits).is_ok());
}
