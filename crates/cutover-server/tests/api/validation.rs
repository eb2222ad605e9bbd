//! The validation rule: 422 in FastAPI's shape `{"detail": [{loc, msg, type,
//! input, ctx}]}`, one entry per problem in body or query (a path id that names
//! nothing is a 404, malformed or not); unknown body fields ignored and never
//! stored; and no odd input ever earns a 5xx.

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::{assert_envelope, assert_issues, assert_one_issue, send_raw};
use reqwest::Method;
use serde_json::{Value, json};

fn step_with_timeout(timeout: Value) -> Value {
    json!({"name": "rag", "stages": [{"name": "s", "steps": [
        {"name": "llm", "type": "inference", "timeout_seconds": timeout}
    ]}]})
}

async fn body_problems_are_named_with_pydantic_types(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = format!(
        "/v1/orgs/{}/workspaces/{}/apps",
        home.org_id, home.workspace_id
    );
    let endpoints = format!("{}/endpoints", home.path());
    let augmentations = format!("{}/augmentations", home.path());
    let augmentation = app.add_augmentation(&home, "base").await;
    let steps_timeout = json!(["body", "stages", 0, "steps", 0, "timeout_seconds"]);
    let cases = [
        (&apps, json!({}), json!(["body", "name"]), "missing"),
        (
            &apps,
            json!({"name": 5}),
            json!(["body", "name"]),
            "string_type",
        ),
        (
            &apps,
            json!({"name": "n".repeat(257)}),
            json!(["body", "name"]),
            "string_too_long",
        ),
        (
            &apps,
            json!({"name": ""}),
            json!(["body", "name"]),
            "string_too_short",
        ),
        (
            &home.releases(),
            json!({"release_tag": "-v1"}),
            json!(["body", "release_tag"]),
            "string_pattern_mismatch",
        ),
        (
            &home.releases(),
            json!({"release_tag": "v1 beta"}),
            json!(["body", "release_tag"]),
            "string_pattern_mismatch",
        ),
        (
            &home.releases(),
            json!({"release_tag": "v".repeat(65)}),
            json!(["body", "release_tag"]),
            "string_too_long",
        ),
        (
            &endpoints,
            json!({"name": "e", "path": "/e", "method": "FETCH", "augmentation_id": augmentation}),
            json!(["body", "method"]),
            "enum",
        ),
        (
            &augmentations,
            step_with_timeout(json!(0)),
            steps_timeout.clone(),
            "greater_than_equal",
        ),
        (
            &augmentations,
            step_with_timeout(json!(9999)),
            steps_timeout.clone(),
            "less_than_equal",
        ),
    ];
    for (path, body, loc, kind) in cases {
        let reply = app.post(path, body.clone()).await;
        let issue = assert_one_issue(&reply, loc, kind);
        assert!(!issue["msg"].as_str().unwrap().is_empty(), "{body}");
    }

    let too_long = app.post(&apps, json!({"name": "n".repeat(257)})).await;
    let issue = assert_one_issue(&too_long, json!(["body", "name"]), "string_too_long");
    assert_eq!(issue["ctx"], json!({"max_length": 256}));
    // The input is echoed within 256 bytes of JSON: cut, ending in `…`.
    assert_eq!(issue["input"], format!("{}…", "n".repeat(251)));
    let bounded = app.post(&augmentations, step_with_timeout(json!(0))).await;
    let issue = assert_one_issue(&bounded, steps_timeout, "greater_than_equal");
    assert_eq!(issue["ctx"], json!({"ge": 1}));
    assert_eq!(issue["input"], 0);
}

async fn bodies_that_are_not_objects_are_json_invalid_or_model_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let json_type = Some("application/json");
    let broken = send_raw(
        &app,
        Method::POST,
        "/v1/orgs",
        json_type,
        &[],
        b"{\"name\": ".to_vec(),
    )
    .await;
    let issues = assert_issues(&broken);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["type"], "json_invalid");
    assert_eq!(issues[0]["loc"][0], "body");

    for (raw, input) in [
        ("[1, 2]", json!([1, 2])),
        ("\"acme\"", json!("acme")),
        ("null", json!(null)),
    ] {
        let reply = send_raw(&app, Method::POST, "/v1/orgs", json_type, &[], raw.into()).await;
        let issue = assert_one_issue(&reply, json!(["body"]), "model_type");
        assert_eq!(issue["input"], input);
    }
    let empty = send_raw(&app, Method::POST, "/v1/orgs", json_type, &[], Vec::new()).await;
    assert_one_issue(&empty, json!(["body"]), "missing");
}

async fn several_problems_give_several_entries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let reply = app
        .post(
            &format!("{}/endpoints", home.path()),
            json!({"name": 5, "path": "no-slash", "method": "FETCH", "endpoint_type": "batch"}),
        )
        .await;
    let issues = assert_issues(&reply);
    let mut found: Vec<(String, String)> = issues
        .iter()
        .map(|i| {
            (
                i["loc"][1].as_str().unwrap().to_owned(),
                i["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = [
        ("augmentation_id", "missing"),
        ("endpoint_type", "enum"),
        ("method", "enum"),
        ("name", "string_type"),
        ("path", "string_pattern_mismatch"),
    ];
    assert_eq!(found, expected.map(|(l, t)| (l.to_owned(), t.to_owned())));
}

async fn query_problems_are_at_query(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let list = home.releases();
    let cases = [
        ("limit=abc", "limit", "int_parsing"),
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=201", "limit", "less_than_equal"),
        ("include_archived=maybe", "include_archived", "bool_parsing"),
    ];
    for (query, name, kind) in cases {
        let reply = app.get(&format!("{list}?{query}")).await;
        let issue = assert_one_issue(&reply, json!(["query", name]), kind);
        assert_eq!(issue["input"], query.split_once('=').unwrap().1);
    }
    let forged = app
        .get(&format!("{list}?cursor=eyJ0aGlzIjoiZm9yZ2VkIn0"))
        .await;
    let issues = assert_issues(&forged);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["loc"], json!(["query", "cursor"]));

    let both = app
        .get(&format!("{list}?limit=abc&include_archived=maybe"))
        .await;
    assert_eq!(assert_issues(&both).len(), 2);
    // Other lists validate the same way.
    let apps = app
        .get(&format!("/v1/orgs/{}/workspaces?limit=-1", home.org_id))
        .await;
    assert_one_issue(&apps, json!(["query", "limit"]), "greater_than_equal");
    app.get(&format!("{list}?limit=200&include_archived=true"))
        .await
        .expect(200);
}

/// The reference types path ids as plain strings: an id that is not of its type's
/// form names nothing, so it answers 404 like an unknown one, in the envelope, with
/// the id echoed and no pattern.
async fn malformed_path_ids_are_404_like_unknown_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let not_found = |reply: &crate::harness::Reply, resource_type: &str, resource_id: &str| {
        let details = assert_envelope(reply, 404, "RESOURCE_NOT_FOUND");
        assert_eq!(
            *details,
            json!({"resource_type": resource_type, "resource_id": resource_id}),
            "{}",
            reply.body
        );
        assert!(
            !reply.body.to_string().contains("pattern"),
            "{}",
            reply.body
        );
    };
    not_found(&app.get(&home.release("foo")).await, "release", "foo");
    not_found(
        &app.get(&home.release("rel_nope")).await,
        "release",
        "rel_nope",
    );
    // An id of another kind is not a release id either.
    not_found(
        &app.get(&home.release(&home.app_id)).await,
        "release",
        &home.app_id,
    );
    let unknown = "rel_00000000000000000000000000";
    not_found(&app.get(&home.release(unknown)).await, "release", unknown);
    not_found(&app.get("/v1/orgs/acme").await, "org", "acme");
    // Every id of every path, on reads and writes alike.
    let in_app = |rest: &str| format!("{}/{rest}", home.path());
    for (path, method, resource_type) in [
        (in_app("endpoints/ep_x"), Method::GET, "endpoint"),
        (in_app("endpoints/ep_x"), Method::PATCH, "endpoint"),
        (in_app("augmentations/x"), Method::DELETE, "augmentation"),
        (in_app("releases/x/activate"), Method::POST, "release"),
        (in_app("releases/x/rollback"), Method::POST, "release"),
        (in_app("releases/x/archive"), Method::POST, "release"),
        (in_app("releases/x"), Method::DELETE, "release"),
        (
            format!("/v1/orgs/{}/tokens/x", home.org_id),
            Method::DELETE,
            "token",
        ),
    ] {
        let body = match method {
            Method::PATCH => Some(json!({"name": "n"})),
            _ => None,
        };
        let reply = app.send(method, &path, Some(&app.admin), body).await;
        let id = path
            .rsplit('/')
            .find(|s| *s == "x" || *s == "ep_x")
            .unwrap();
        not_found(&reply, resource_type, id);
    }
    // The outermost malformed id decides, as the outermost unknown one would.
    let workspace = format!("/v1/orgs/{}/workspaces/ws_bad/apps", home.org_id);
    not_found(&app.get(&workspace).await, "workspace", "ws_bad");
    let org_first = format!("/v1/orgs/nope/workspaces/ws_bad/apps/{}", home.app_id);
    not_found(&app.get(&org_first).await, "org", "nope");
    // Percent-encoded text is decoded, invalid UTF-8 included.
    not_found(&app.get(&home.release("a%20b")).await, "release", "a b");
    not_found(&app.get(&home.release("%FF")).await, "release", "\u{fffd}");
    // Authentication still comes first.
    let anonymous = app
        .send(Method::GET, &home.release("foo"), None, None)
        .await;
    assert_envelope(&anonymous, 401, "AUTHENTICATION_FAILED");
    // A huge id is echoed cut, so the answer stays small.
    let huge = "z".repeat(7_000);
    let reply = app.get(&home.release(&huge)).await;
    assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    let echoed = reply.body["details"]["resource_id"].as_str().unwrap();
    assert!(echoed.len() <= 256 && echoed.ends_with('…'), "{echoed}");
}

async fn endpoints_may_only_use_their_own_apps_augmentations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let theirs = app.add_augmentation(&neighbour, "theirs").await;
    let reply = app
        .post(
            &format!("{}/endpoints", home.path()),
            json!({"name": "e", "path": "/e", "method": "POST", "augmentation_id": theirs}),
        )
        .await;
    let issue = assert_one_issue(&reply, json!(["body", "augmentation_id"]), "value_error");
    assert_eq!(issue["input"], theirs.as_str());
    let listed = app
        .get(&format!("{}/endpoints", home.path()))
        .await
        .expect(200);
    assert_eq!(listed.body["total"], 0);
}

async fn unknown_body_fields_are_ignored_and_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = format!(
        "/v1/orgs/{}/workspaces/{}/apps",
        home.org_id, home.workspace_id
    );
    let forged = "app_00000000000000000000000000";
    let created = app
        .post(
            &apps,
            json!({"name": "shop", "evil": 1, "app_id": forged, "total_releases": 99,
                   "created_by": "mallory", "org_id": "org_00000000000000000000000000"}),
        )
        .await
        .expect(201);
    let check = |body: &Value| {
        assert!(body.get("evil").is_none(), "{body}");
        assert_ne!(body["app_id"], forged);
        assert_eq!(body["total_releases"], 0);
        assert_ne!(body["created_by"], "mallory");
        assert_eq!(body["org_id"], home.org_id.as_str());
    };
    check(&created.body);
    let path = AppPath {
        app_id: created.str("app_id"),
        ..home.clone()
    };
    check(&app.get(&path.path()).await.expect(200).body);
    let patched = app
        .patch(
            &path.path(),
            json!({"evil": 2, "active_release_id": "rel_00000000000000000000000000"}),
        )
        .await
        .expect(200);
    assert!(patched.body.get("evil").is_none());
    assert_eq!(patched.body["active_release_id"], Value::Null);
}

/// Odd values for any field: nulls, nesting, huge numbers, unicode, empties.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5e308),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(""),
        json!("   "),
        json!("\u{0}"),
        json!("ünïcødé 🚀 \u{202e} 日本"),
        json!("x".repeat(5_000)),
        json!([]),
        json!([null, [null, {"a": null}]]),
        json!({}),
        json!({"a": {"b": {"c": null}}}),
        json!("9999-12-31T23:59:59Z"),
        json!("2026-13-45T99:99:99Z"),
        json!("/"),
        json!("aug_00000000000000000000000000"),
        json!("ws_00000000000000000000000000"),
    ]
}

/// Valid-looking bodies per create or update, as the base the fuzz varies.
fn targets(home: &AppPath, augmentation: &str, endpoint: &str) -> Vec<(Method, String, Value)> {
    let org = format!("/v1/orgs/{}", home.org_id);
    let step = json!({"name": "s", "type": "inference", "config": {}, "timeout_seconds": 5, "max_retries": 1});
    vec![
        (
            Method::POST,
            "/v1/orgs".into(),
            json!({"name": "o", "slug": "o"}),
        ),
        (
            Method::POST,
            format!("{org}/workspaces"),
            json!({"name": "w", "description": "d"}),
        ),
        (
            Method::POST,
            format!("{org}/tokens"),
            json!({"name": "t", "role": "viewer", "workspace_ids": [home.workspace_id], "expires_at": "2999-01-01T00:00:00Z"}),
        ),
        (
            Method::POST,
            format!("{org}/tokens"),
            json!({"name": "t", "permissions": ["apps:read"]}),
        ),
        (
            Method::POST,
            format!("{org}/workspaces/{}/apps", home.workspace_id),
            json!({"name": "a", "description": "d", "parameters": {}}),
        ),
        (
            Method::PATCH,
            home.path(),
            json!({"name": "a", "description": "d", "parameters": {}}),
        ),
        (
            Method::POST,
            format!("{}/endpoints", home.path()),
            json!({"name": "e", "path": "/e", "method": "GET", "augmentation_id": augmentation,
                   "endpoint_type": "sync", "description": "d", "input_schema": {}}),
        ),
        (
            Method::PATCH,
            format!("{}/endpoints/{endpoint}", home.path()),
            json!({"path": "/p", "method": "PUT", "input_schema": null}),
        ),
        (
            Method::POST,
            format!("{}/augmentations", home.path()),
            json!({"name": "g", "description": "d", "stages": [{"name": "st", "execution_mode": "parallel", "steps": [step]}],
                   "tags": ["t"], "is_template": false}),
        ),
        (
            Method::PATCH,
            format!("{}/augmentations/{augmentation}", home.path()),
            json!({"stages": [{"name": "st", "steps": [step]}]}),
        ),
        (
            Method::POST,
            home.releases(),
            json!({"release_tag": "v1", "description": "d", "activate": false}),
        ),
    ]
}

/// Replaces `value` at every position of `base` in turn (top-level fields, and the
/// fields of nested objects and array items), yielding one body per position.
fn variations(base: &Value, value: &Value, out: &mut Vec<Value>) {
    match base {
        Value::Object(map) => {
            for key in map.keys() {
                let mut changed = map.clone();
                changed.insert(key.clone(), value.clone());
                out.push(Value::Object(changed));
                let mut nested = Vec::new();
                variations(&map[key], value, &mut nested);
                for inner in nested {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), inner);
                    out.push(Value::Object(changed));
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let mut nested = Vec::new();
                variations(item, value, &mut nested);
                for inner in nested {
                    let mut changed = items.clone();
                    changed[index] = inner;
                    out.push(Value::Array(changed));
                }
            }
        }
        _ => {}
    }
}

async fn odd_bodies_never_earn_a_5xx(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "base").await;
    let endpoint = app
        .add_endpoint(&home, "base", "/base", &augmentation)
        .await;
    let mut sent = 0;
    for (method, path, base) in targets(&home, &augmentation, &endpoint) {
        let mut bodies = vec![json!({}), json!([]), json!(null), json!(0), json!("")];
        for value in odd_values() {
            variations(&base, &value, &mut bodies);
        }
        for body in bodies {
            let reply = app
                .send(method.clone(), &path, Some(&app.admin), Some(body.clone()))
                .await;
            assert!(
                reply.status < 500,
                "{method} {path} {body} → {} {}",
                reply.status,
                reply.body
            );
            if reply.status == 422 {
                assert_issues(&reply);
            }
            sent += 1;
        }
    }
    let raw_bodies: [&[u8]; 7] = [
        b"{\"name\": \"\\ud800\"}",
        b"{\"name\": 1e999}",
        b"\xff\xfe{}",
        b"{\"name\": \"a\", \"name\": 5}",
        b"{\"name\": \"a\"} trailing",
        &[b'['; 5_000],
        b"\x00",
    ];
    for raw in raw_bodies {
        let reply = send_raw(
            &app,
            Method::POST,
            "/v1/orgs",
            Some("application/json"),
            &[],
            raw.to_vec(),
        )
        .await;
        assert!(
            reply.status < 500,
            "{raw:?} → {} {}",
            reply.status,
            reply.body
        );
        sent += 1;
    }
    assert!(sent > 500, "only {sent} odd bodies sent");
}

on_every_backend!(
    body_problems_are_named_with_pydantic_types,
    bodies_that_are_not_objects_are_json_invalid_or_model_type,
    several_problems_give_several_entries,
    query_problems_are_at_query,
    malformed_path_ids_are_404_like_unknown_ones,
    endpoints_may_only_use_their_own_apps_augmentations,
    unknown_body_fields_are_ignored_and_never_stored,
    odd_bodies_never_earn_a_5xx,
);
