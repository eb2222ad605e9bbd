//! The OpenAPI document and the docs page: the document lists exactly the routes the
//! router serves, every operation of the permission table exactly once with its
//! permission and the bearer scheme, parameters and patterns that match the parsers,
//! examples the server accepts; the committed copy is fresh; `/docs` loads.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::{Backend, TestApp};
use cutover_domain::limits::Limits;
use cutover_domain::permission::Operation;
use cutover_domain::values::{
    DESCRIPTION_PATTERN, ENDPOINT_PATH_PATTERN, NAME_PATTERN, NO_CONTROLS_PATTERN,
    parse_description, parse_endpoint_path, parse_label, parse_name,
};
use cutover_domain::{
    AppId, AugmentationId, DeploymentId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId,
};
use cutover_server::openapi::{document_json, operations_mut};
use reqwest::Method;
use serde_json::{Value, json};

mod served;

const REFRESH: &str = "cargo run -q -- openapi > docs/openapi.json";

/// The operations that need no token.
const PUBLIC: [&str; 4] = ["health_live", "health_ready", "metrics_get", "openapi_get"];

fn document() -> Value {
    serde_json::from_str(&document_json()).expect("the document is JSON")
}

/// `(path, METHOD, operation)` for every operation, in document order.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            all.push((path.clone(), method.to_uppercase(), operation.clone()));
        }
    }
    all
}

/// Follows a `$ref` inside the document.
fn resolve(doc: &Value, value: &Value) -> Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(doc, doc.pointer(pointer).expect("references resolve"))
        }
        None => value.clone(),
    }
}

#[test]
fn the_document_is_openapi_3_1_with_the_bearer_scheme() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
}

#[test]
fn every_operation_of_the_table_appears_exactly_once() {
    let doc = document();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        *seen.entry(id.to_owned()).or_default() += 1;
    }
    for operation in Operation::ALL {
        assert_eq!(
            seen.remove(operation.as_str()),
            Some(1),
            "{} must appear exactly once",
            operation.as_str()
        );
    }
    let rest: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        rest,
        PUBLIC.into_iter().collect(),
        "operations outside the table"
    );
}

/// The Releases API reference's routes, plus the activation history and the operational endpoints.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/orgs"),
    ("POST", "/v1/orgs"),
    ("GET", "/v1/orgs/{org_id}"),
    ("GET", "/v1/tokens"),
    ("DELETE", "/v1/tokens/{token_id}"),
    ("GET", "/v1/orgs/{org_id}/tokens"),
    ("POST", "/v1/orgs/{org_id}/tokens"),
    ("DELETE", "/v1/orgs/{org_id}/tokens/{token_id}"),
    ("GET", "/v1/orgs/{org_id}/workspaces"),
    ("POST", "/v1/orgs/{org_id}/workspaces"),
    ("GET", "/v1/orgs/{org_id}/workspaces/{workspace_id}"),
    ("GET", "{WS}/environments"),
    ("POST", "{WS}/environments"),
    ("GET", "{WS}/environments/{environment}"),
    ("PATCH", "{WS}/environments/{environment}"),
    ("DELETE", "{WS}/environments/{environment}"),
    ("GET", "{WS}/apps"),
    ("POST", "{WS}/apps"),
    ("GET", "{APP}"),
    ("PATCH", "{APP}"),
    ("DELETE", "{APP}"),
    ("GET", "{APP}/environments"),
    ("GET", "{APP}/endpoints"),
    ("POST", "{APP}/endpoints"),
    ("GET", "{APP}/endpoints/{endpoint_id}"),
    ("PATCH", "{APP}/endpoints/{endpoint_id}"),
    ("DELETE", "{APP}/endpoints/{endpoint_id}"),
    ("GET", "{APP}/augmentations"),
    ("POST", "{APP}/augmentations"),
    ("GET", "{APP}/augmentations/{augmentation_id}"),
    ("PATCH", "{APP}/augmentations/{augmentation_id}"),
    ("DELETE", "{APP}/augmentations/{augmentation_id}"),
    ("GET", "{APP}/releases"),
    ("POST", "{APP}/releases"),
    ("GET", "{APP}/releases/active"),
    ("GET", "{APP}/releases/{release_id}"),
    ("DELETE", "{APP}/releases/{release_id}"),
    ("POST", "{APP}/releases/{release_id}/activate"),
    ("POST", "{APP}/releases/{release_id}/rollback"),
    ("POST", "{APP}/releases/{release_id}/archive"),
    ("GET", "{APP}/activations"),
    ("GET", "{APP}/deployments"),
    ("POST", "{APP}/deployments"),
    ("GET", "{APP}/deployments/{deployment_id}"),
    ("POST", "{APP}/environments/{environment}/rollback"),
    ("GET", "{APP}/timeline"),
    ("GET", "{APP}/releases/{release_id}/diff"),
    ("GET", "{APP}/draft/diff"),
];

#[test]
fn the_document_lists_exactly_the_specified_routes() {
    let ws = "/v1/orgs/{org_id}/workspaces/{workspace_id}";
    let app = format!("{ws}/apps/{{app_id}}");
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(method, path)| {
            let path = path.replace("{APP}", &app).replace("{WS}", ws);
            ((*method).to_owned(), path)
        })
        .collect();
    let documented: BTreeSet<(String, String)> = operations(&document())
        .into_iter()
        .map(|(path, method, _)| (method, path))
        .collect();
    assert_eq!(documented, expected);
}

#[test]
fn secured_operations_declare_bearer_and_the_tables_permission() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap();
        let Some(table) = Operation::from_name(id) else {
            assert_eq!(
                operation["security"],
                serde_json::json!([]),
                "{id} is public and says so"
            );
            assert!(operation.get("x-required-permission").is_none(), "{id}");
            continue;
        };
        let permission = table.required_permission().as_str();
        assert_eq!(
            operation["security"],
            serde_json::json!([{"bearer": []}]),
            "{id}"
        );
        assert_eq!(operation["x-required-permission"], permission, "{id}");
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(description.contains(&format!("`{permission}`")), "{id}");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{id}"
        );
        assert!(
            operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{id}"
        );

        let responses = operation["responses"].as_object().unwrap();
        for status in ["401", "403", "414", "422", "429", "431", "500", "503"] {
            assert!(responses.contains_key(status), "{id} lacks {status}");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{id} lacks 404");
        }
        if operation.get("requestBody").is_some() {
            // Only the writes whose every field is optional take no body at all.
            let optional = [
                "releases_activate",
                "releases_rollback",
                "releases_archive",
                "environment_rollback",
            ]
            .contains(&id);
            assert_eq!(operation["requestBody"]["required"], !optional, "{id}");
            for status in ["413", "415"] {
                assert!(responses.contains_key(status), "{id} lacks {status}");
            }
        }
        if method == "POST" && id.ends_with("_create") {
            let created = &responses["201"];
            assert!(created["headers"]["Location"].is_object(), "{id}");
            assert!(
                created["links"].as_object().is_some_and(|l| !l.is_empty()),
                "{id}"
            );
        }
        for (status, response) in responses {
            let response = resolve(&doc, response);
            assert!(
                response["headers"]["X-Request-Id"].is_object(),
                "{id} {status}"
            );
        }
    }
}

#[test]
fn the_release_links_chain_create_to_get_activate_rollback_archive_delete() {
    let doc = document();
    let create = operations(&doc)
        .into_iter()
        .find(|(_, _, op)| op["operationId"] == "releases_create")
        .unwrap()
        .2;
    let links = create["responses"]["201"]["links"].as_object().unwrap();
    let targets: BTreeSet<&str> = links
        .values()
        .map(|link| {
            // The release's id goes in the path, or in the body (a deploy).
            let passed = match &link["parameters"]["release_id"] {
                Value::Null => &link["requestBody"]["release_id"],
                in_path => in_path,
            };
            assert_eq!(passed, "$response.body#/release_id");
            link["operationId"].as_str().unwrap()
        })
        .collect();
    for operation in [
        Operation::ReleasesGet,
        Operation::DeploymentsCreate,
        Operation::ReleasesActivate,
        Operation::ReleasesRollback,
        Operation::ReleasesArchive,
        Operation::ReleasesDelete,
    ] {
        assert!(
            targets.contains(operation.as_str()),
            "{}",
            operation.as_str()
        );
    }
}

#[test]
fn path_parameters_carry_the_id_patterns() {
    let doc = document();
    let generated = [
        ("org_id", OrgId::generate().to_string()),
        ("workspace_id", WorkspaceId::generate().to_string()),
        ("app_id", AppId::generate().to_string()),
        ("endpoint_id", EndpointId::generate().to_string()),
        ("augmentation_id", AugmentationId::generate().to_string()),
        ("release_id", ReleaseId::generate().to_string()),
        ("token_id", TokenId::generate().to_string()),
        ("deployment_id", DeploymentId::generate().to_string()),
    ];
    for (path, _, operation) in operations(&doc) {
        let params = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let in_path: Vec<&Value> = params.iter().filter(|p| p["in"] == "path").collect();
        let names: Vec<&str> = in_path
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let template: Vec<&str> = path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(names, template, "{path}");
        for param in in_path {
            let name = param["name"].as_str().unwrap();
            assert_eq!(param["required"], true);
            if name == "environment" {
                // An environment is named by its id or its slug: the pattern takes both,
                // and exactly what the parser takes.
                let schema = resolve(&doc, &param["schema"]);
                assert_eq!(schema["type"], "string", "{path}");
                assert_eq!(schema["examples"][0], "production", "{path}");
                let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
                let id = cutover_domain::EnvironmentId::generate().to_string();
                let long = "a".repeat(64);
                let too_long = "a".repeat(65);
                for text in [
                    "production",
                    "qa-1",
                    "0",
                    id.as_str(),
                    long.as_str(),
                    too_long.as_str(),
                    "Staging",
                    "-qa",
                    "q_a",
                    "env_nope",
                    "",
                    "a b",
                    "é",
                ] {
                    let parsed = cutover_domain::environment::EnvironmentRef::parse(text).is_ok();
                    assert_eq!(pattern.is_match(text), parsed, "{text:?}");
                }
                continue;
            }
            let schema = resolve(&doc, &param["schema"]);
            let pattern = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
            let (_, id) = generated.iter().find(|(n, _)| *n == name).unwrap();
            assert!(pattern.is_match(id), "{name}: {id}");
            assert!(!pattern.is_match("active"), "{name}");
            let example = schema["examples"][0].as_str().unwrap();
            assert!(pattern.is_match(example), "{name}: {example}");
        }
    }
}

#[test]
fn list_parameters_carry_their_bounds_and_defaults() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap();
        if !(method == "GET" && (id.ends_with("_list"))) {
            continue;
        }
        let params = operation["parameters"].as_array().unwrap();
        let find = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name && p["in"] == "query")
                .unwrap_or_else(|| panic!("{path} lacks {name}"))
        };
        // The timeline's events are larger, so its pages are smaller.
        let (default, max) = match id {
            "timeline_list" => (20, 100),
            _ => (50, 200),
        };
        let limit = &find("limit")["schema"];
        assert_eq!(
            (&limit["minimum"], &limit["maximum"]),
            (&Value::from(1), &Value::from(max))
        );
        assert_eq!(limit["default"], default, "{id}");
        assert_eq!(find("cursor")["schema"]["type"], "string");
        if id == "releases_list" {
            assert_eq!(find("include_archived")["schema"]["default"], false);
        }
    }
}

/// Strings that sit on the edges of the name, label, description and path rules.
const TRICKY: &[&str] = &[
    "a",
    " a ",
    " ",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "\u{feff}",
    "x\ny",
    "x\u{7f}",
    "x\u{85}",
    "x\u{9f}",
    "x\u{a0}y",
    "é",
    "日本",
    "\u{200b}",
    "/",
    "/a b",
    "/a\u{2028}",
    "a\0b",
    "/ok/{id}",
    "🙂",
    "\u{1680}",
    "tab\tin",
    "/é",
];

/// Whether a parser accepts a text.
type Accepts = fn(&str) -> bool;

#[test]
fn documented_patterns_accept_exactly_what_the_parsers_accept() {
    let cases: [(&str, Accepts); 4] = [
        (NAME_PATTERN, |t| parse_name(t, &Limits::default()).is_ok()),
        (NO_CONTROLS_PATTERN, |t| {
            parse_label(t, &Limits::default()).is_ok()
        }),
        (DESCRIPTION_PATTERN, |t| {
            parse_description(t, &Limits::default()).is_ok()
        }),
        (ENDPOINT_PATH_PATTERN, |t| parse_endpoint_path(t).is_ok()),
    ];
    for (pattern, parser) in cases {
        let regex = regex::Regex::new(pattern).unwrap();
        for text in TRICKY.iter().filter(|t| !t.is_empty()) {
            assert_eq!(regex.is_match(text), parser(text), "{pattern} on {text:?}");
        }
    }
}

#[test]
fn wire_enums_are_documented_with_their_wire_words() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let words = |name: &str| schemas[name]["enum"].clone();
    assert_eq!(
        words("ReleaseStatus"),
        serde_json::json!(["draft", "ready", "active", "archived"])
    );
    assert_eq!(
        words("ActivationAction"),
        serde_json::json!(["activate", "rollback"])
    );
    assert_eq!(
        words("HttpMethod"),
        serde_json::json!(cutover_domain::values::HttpMethod::ALL)
    );
    assert_eq!(
        words("StepType"),
        serde_json::json!(cutover_domain::values::StepType::ALL)
    );
}

/// Asserts that every object in `schema` (through `$ref`, `allOf`, `oneOf`, items and
/// properties) lists all its properties as required.
fn assert_all_required(doc: &Value, schema: &Value, at: &str) {
    let schema = resolve(doc, schema);
    let parts: Vec<Value> = match schema["allOf"].as_array() {
        Some(parts) => parts.iter().map(|part| resolve(doc, part)).collect(),
        None => vec![schema.clone()],
    };
    let mut required: BTreeSet<String> = BTreeSet::new();
    let mut fields = BTreeMap::new();
    for part in &parts {
        required.extend(
            part["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
        for (name, field) in part["properties"].as_object().into_iter().flatten() {
            fields.insert(name.clone(), field.clone());
        }
    }
    for (name, field) in fields {
        assert!(required.contains(&name), "{at}.{name} is always sent");
        assert_all_required(doc, &field, &format!("{at}.{name}"));
    }
    for nested in schema["oneOf"].as_array().into_iter().flatten() {
        assert_all_required(doc, nested, at);
    }
    if let Some(items) = schema.get("items") {
        assert_all_required(doc, items, &format!("{at}[]"));
    }
}

#[test]
fn answers_require_every_field_because_the_server_always_sends_it() {
    let doc = document();
    for (path, method, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = resolve(&doc, response);
            if let Some(schema) = response["content"]["application/json"].get("schema") {
                assert_all_required(&doc, schema, &format!("{method} {path} {status}"));
            }
        }
    }
}

#[test]
fn dry_runs_are_documented_on_exactly_the_writes_that_take_them() {
    let doc = document();
    let takes = [
        Operation::ReleasesCreate,
        Operation::ReleasesActivate,
        Operation::ReleasesRollback,
        Operation::ReleasesArchive,
        Operation::ReleasesDelete,
        Operation::DeploymentsCreate,
        Operation::EnvironmentRollback,
    ];
    let mut documented = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let flag = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|parameter| parameter["name"] == "dry_run");
        let Some(flag) = flag else { continue };
        assert_eq!(
            (&flag["in"], &flag["schema"]["type"]),
            (&json!("query"), &json!("boolean"))
        );
        let ok = resolve(&doc, &operation["responses"]["200"]);
        let schema = ok["content"]["application/json"]["schema"].to_string();
        assert!(
            schema.contains("#/components/schemas/DryRunAnswer"),
            "{method} {path}: {schema}"
        );
        documented.insert(operation["operationId"].as_str().unwrap().to_owned());
    }
    let expected: BTreeSet<String> = takes.iter().map(|op| op.as_str().to_owned()).collect();
    assert_eq!(documented, expected);
}

#[test]
fn the_committed_copy_is_fresh() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == document_json(),
        "docs/openapi.json is stale; refresh it from the workspace root with:\n    {REFRESH}"
    );
}

#[test]
fn the_router_and_the_document_come_from_one_registration() {
    let (_, mut api) = cutover_server::api::routes().split_for_parts();
    let registered = api
        .paths
        .paths
        .values_mut()
        .map(|item| operations_mut(item).len())
        .sum::<usize>();
    assert_eq!(registered, Operation::ALL.len() + PUBLIC.len());
}

/// Every schema under `value`, with where it is.
fn schemas_under<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("properties") {
                out.push((at.clone(), value));
            }
            for (key, inner) in map {
                schemas_under(inner, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                schemas_under(inner, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// What generated clients need from request bodies (scripts/generated-clients/run
/// builds and runs two): no `default` (a generated client sends it on every request,
/// which on a PATCH resets the stored value, or makes the field required), no
/// composition around a body's fields (it makes the body unwritable), and free-form
/// objects that say `additionalProperties` (else they type as "no properties").
#[test]
fn request_bodies_are_written_for_generated_clients() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let mut bodies = Vec::new();
    for (_, _, operation) in operations(&doc) {
        if let Some(reference) =
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        {
            bodies.push(
                reference
                    .trim_start_matches("#/components/schemas/")
                    .to_owned(),
            );
        }
    }
    assert!(bodies.len() >= 10, "{bodies:?}");
    for name in &bodies {
        let body = &schemas[name];
        for composition in ["allOf", "oneOf", "anyOf"] {
            assert!(body.get(composition).is_none(), "{name} has {composition}");
        }
        let text = body.to_string();
        assert!(
            !text.contains("\"default\":"),
            "{name} has a default: {text}"
        );
    }
    let mut everything = Vec::new();
    schemas_under(&doc, "#".into(), &mut everything);
    for (at, schema) in everything {
        let object = match &schema["type"] {
            Value::String(kind) => kind == "object",
            Value::Array(kinds) => kinds.iter().any(|kind| kind == "object"),
            _ => false,
        };
        let has_properties = schema.get("properties").is_some_and(|p| p != &json!({}));
        let is_empty_answer = at.ends_with("/Deleted");
        if object && !has_properties && !is_empty_answer {
            assert!(
                schema.get("additionalProperties").is_some(),
                "{at} is a free-form object without additionalProperties"
            );
        }
    }
}
