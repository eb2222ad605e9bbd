//! SPEC §2, the draft: endpoints, augmentations and the app that holds them. Every
//! create answers 201 with the full object and a `Location` that reads it back; PATCH
//! changes exactly what it names; the uniqueness, reference and size rules answer
//! 409 or 422 with the documented reason or type.

#[macro_use]
mod common;
mod shapes;

use std::time::Duration;

use common::{AppPath, Backend, Reply, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use shapes::{assert_envelope, assert_issues, assert_one_issue, assert_timestamp};

const ENDPOINT_FIELDS: &[&str] = &[
    "endpoint_id",
    "name",
    "path",
    "method",
    "description",
    "endpoint_type",
    "augmentation_id",
    "input_schema",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

const AUGMENTATION_FIELDS: &[&str] = &[
    "augmentation_id",
    "name",
    "description",
    "stages",
    "tags",
    "is_template",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
];

const APP_FIELDS: &[&str] = &[
    "app_id",
    "org_id",
    "workspace_id",
    "name",
    "description",
    "active_release_id",
    "total_releases",
    "draft_has_changes",
    "last_release_at",
    "parameters",
    "created_by",
    "created_at",
    "updated_at",
];

const STEP_TYPES: &[&str] = &[
    "inference",
    "tool_call",
    "source_query",
    "source_ingest",
    "source_get",
    "memory_update",
    "memory_query",
    "artifact_create",
    "artifact_query",
    "artifact_get",
    "thread_update",
    "thread_query",
    "approval",
];

/// Asserts that `body` is an object with exactly the keys `fields`.
#[track_caller]
fn assert_fields(body: &Value, fields: &[&str]) {
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

/// Asserts a 201 whose `Location` is `collection/<id>` and answers GET with the same
/// body; answers the id.
async fn assert_created(app: &TestApp, reply: &Reply, collection: &str, id_key: &str) -> String {
    assert_eq!(reply.status, 201, "body: {}", reply.body);
    let id = reply.str(id_key);
    let location = reply.header("location").expect("a Location header");
    assert_eq!(location, format!("{collection}/{id}"));
    let read = app.get(location).await.expect(200);
    assert_eq!(
        read.body, reply.body,
        "GET on Location answers the same object"
    );
    id
}

fn endpoints(app: &AppPath) -> String {
    format!("{}/endpoints", app.path())
}

fn endpoint(app: &AppPath, id: &str) -> String {
    format!("{}/endpoints/{id}", app.path())
}

fn augmentations(app: &AppPath) -> String {
    format!("{}/augmentations", app.path())
}

fn augmentation(app: &AppPath, id: &str) -> String {
    format!("{}/augmentations/{id}", app.path())
}

fn apps_of(app: &AppPath) -> String {
    format!(
        "/v1/orgs/{}/workspaces/{}/apps",
        app.org_id, app.workspace_id
    )
}

fn endpoint_body(name: &str, method: &str, path: &str, augmentation_id: &str) -> Value {
    json!({"name": name, "method": method, "path": path, "augmentation_id": augmentation_id})
}

/// Mints an admin org token and answers `(token_id, secret)`: a second actor.
async fn second_actor(app: &TestApp, org_id: &str) -> (String, String) {
    let reply = app
        .post(
            &format!("/v1/orgs/{org_id}/tokens"),
            json!({"name": "editor", "role": "admin"}),
        )
        .await
        .expect(201);
    (reply.str("token_id"), reply.str("token"))
}

/// Lets the clock move so `updated_at` can differ from `created_at`.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

// ---------------------------------------------------------------------------
// Create: full objects, defaults, Location
// ---------------------------------------------------------------------------

async fn endpoint_create_answers_the_full_object_with_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;

    let reply = app
        .post(
            &endpoints(&home),
            endpoint_body("chat", "POST", "/chat", &aug),
        )
        .await;
    let id = assert_created(&app, &reply, &endpoints(&home), "endpoint_id").await;
    let body = &reply.body;
    assert_fields(body, ENDPOINT_FIELDS);
    assert!(id.starts_with("ep_") && id.len() == 3 + 26, "{id}");
    assert_eq!(body["name"], "chat");
    assert_eq!(body["path"], "/chat");
    assert_eq!(body["method"], "POST");
    assert_eq!(body["augmentation_id"], aug.as_str());
    assert_eq!(body["endpoint_type"], "sync");
    assert_eq!(body["description"], Value::Null);
    assert_eq!(body["input_schema"], Value::Null);
    for key in ["created_at", "updated_at"] {
        assert_timestamp(body[key].as_str().unwrap());
    }
    assert_eq!(body["created_at"], body["updated_at"]);
    assert!(body["created_by"].as_str().unwrap().starts_with("tok_"));
    assert_eq!(body["created_by"], body["updated_by"]);

    // Every optional field given.
    let schema = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    let full = app
        .post(
            &endpoints(&home),
            json!({"name": "stream", "path": "/v1/stream/{id}", "method": "GET",
                   "augmentation_id": aug, "endpoint_type": "stream",
                   "description": "streams", "input_schema": schema}),
        )
        .await;
    assert_created(&app, &full, &endpoints(&home), "endpoint_id").await;
    assert_fields(&full.body, ENDPOINT_FIELDS);
    assert_eq!(full.body["endpoint_type"], "stream");
    assert_eq!(full.body["description"], "streams");
    assert_eq!(full.body["input_schema"], schema);
    assert_eq!(full.body["method"], "GET");
    assert_eq!(full.body["path"], "/v1/stream/{id}");

    // Explicit nulls are the same as leaving them out.
    let nulls = app
        .post(
            &endpoints(&home),
            json!({"name": "nulls", "path": "/nulls", "method": "PUT", "augmentation_id": aug,
                   "description": null, "input_schema": null}),
        )
        .await
        .expect(201);
    assert_eq!(nulls.body["description"], Value::Null);
    assert_eq!(nulls.body["input_schema"], Value::Null);
}

async fn augmentation_create_answers_the_full_object_with_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;

    let bare = app
        .post(&augmentations(&home), json!({"name": "bare"}))
        .await;
    let id = assert_created(&app, &bare, &augmentations(&home), "augmentation_id").await;
    assert!(id.starts_with("aug_") && id.len() == 4 + 26, "{id}");
    assert_fields(&bare.body, AUGMENTATION_FIELDS);
    assert_eq!(bare.body["name"], "bare");
    assert_eq!(bare.body["description"], Value::Null);
    assert_eq!(bare.body["stages"], json!([]));
    assert_eq!(bare.body["tags"], json!([]));
    assert_eq!(bare.body["is_template"], false);
    for key in ["created_at", "updated_at"] {
        assert_timestamp(bare.body[key].as_str().unwrap());
    }
    assert_eq!(bare.body["created_at"], bare.body["updated_at"]);
    assert!(
        bare.body["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    assert_eq!(bare.body["created_by"], bare.body["updated_by"]);

    // A stage and a step that leave every optional field out get the defaults.
    let defaults = app
        .post(
            &augmentations(&home),
            json!({"name": "defaults", "stages": [
                {"name": "answer", "steps": [{"name": "llm", "type": "inference"}]}
            ]}),
        )
        .await;
    assert_created(&app, &defaults, &augmentations(&home), "augmentation_id").await;
    assert_eq!(
        defaults.body["stages"],
        json!([{"name": "answer", "execution_mode": "sequential", "steps": [
            {"name": "llm", "type": "inference", "config": {}, "timeout_seconds": 30, "max_retries": 0}
        ]}])
    );

    // Everything given is kept as given, in order.
    let stages = json!([
        {"name": "fetch", "execution_mode": "parallel", "steps": [
            {"name": "docs", "type": "source_query", "config": {"k": 5, "nested": {"a": [1, 2]}},
             "timeout_seconds": 3600, "max_retries": 10},
            {"name": "mem", "type": "memory_query", "config": {}, "timeout_seconds": 1, "max_retries": 0}
        ]},
        {"name": "answer", "execution_mode": "sequential", "steps": [
            {"name": "llm", "type": "inference", "config": {"model": "m"}, "timeout_seconds": 30, "max_retries": 2}
        ]}
    ]);
    let full = app
        .post(
            &augmentations(&home),
            json!({"name": "full", "description": "two stages", "stages": stages,
                   "tags": ["a", "b"], "is_template": true}),
        )
        .await;
    assert_created(&app, &full, &augmentations(&home), "augmentation_id").await;
    assert_fields(&full.body, AUGMENTATION_FIELDS);
    assert_eq!(full.body["description"], "two stages");
    assert_eq!(full.body["stages"], stages);
    assert_eq!(full.body["tags"], json!(["a", "b"]));
    assert_eq!(full.body["is_template"], true);
}

async fn app_create_answers_the_full_object_with_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = apps_of(&home);

    let bare = app.post(&apps, json!({"name": "bare"})).await;
    let id = assert_created(&app, &bare, &apps, "app_id").await;
    assert!(id.starts_with("app_") && id.len() == 4 + 26, "{id}");
    assert_fields(&bare.body, APP_FIELDS);
    assert_eq!(bare.body["org_id"], home.org_id.as_str());
    assert_eq!(bare.body["workspace_id"], home.workspace_id.as_str());
    assert_eq!(bare.body["name"], "bare");
    assert_eq!(bare.body["description"], Value::Null);
    assert_eq!(bare.body["parameters"], json!({}));
    assert_eq!(bare.body["active_release_id"], Value::Null);
    assert_eq!(bare.body["total_releases"], 0);
    assert_eq!(bare.body["draft_has_changes"], false);
    assert_eq!(bare.body["last_release_at"], Value::Null);
    assert_timestamp(bare.body["created_at"].as_str().unwrap());
    assert_eq!(bare.body["created_at"], bare.body["updated_at"]);
    assert!(
        bare.body["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );

    let parameters =
        json!({"region": "eu", "replicas": 3, "flags": {"beta": true}, "list": [1, "x"]});
    let full = app
        .post(
            &apps,
            json!({"name": "full", "description": "with parameters", "parameters": parameters}),
        )
        .await;
    assert_created(&app, &full, &apps, "app_id").await;
    assert_eq!(full.body["description"], "with parameters");
    assert_eq!(full.body["parameters"], parameters);

    // parameters must be an object.
    let reply = app
        .post(&apps, json!({"name": "bad", "parameters": [1, 2]}))
        .await;
    assert_one_issue(&reply, json!(["body", "parameters"]), "dict_type");
}

// ---------------------------------------------------------------------------
// PATCH
// ---------------------------------------------------------------------------

async fn endpoint_patch_changes_only_what_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let other_aug = app.add_augmentation(&home, "other").await;
    let schema = json!({"type": "object"});
    let created = app
        .post(
            &endpoints(&home),
            json!({"name": "chat", "path": "/chat", "method": "POST", "augmentation_id": aug,
                   "endpoint_type": "async", "description": "talks", "input_schema": schema}),
        )
        .await
        .expect(201)
        .body;
    let id = created["endpoint_id"].as_str().unwrap().to_owned();
    let url = endpoint(&home, &id);
    let (editor_id, editor) = second_actor(&app, &home.org_id).await;
    tick().await;

    // One field at a time, each by the second actor.
    let changes = [
        ("name", json!("talk")),
        ("path", json!("/talk")),
        ("method", json!("PUT")),
        ("endpoint_type", json!("stream")),
        ("augmentation_id", json!(other_aug)),
        ("description", json!("speaks")),
        ("input_schema", json!({"type": "object", "required": ["q"]})),
    ];
    let mut expected = created.clone();
    let mut last_updated = created["updated_at"].clone();
    for (field, value) in changes {
        let reply = app
            .send(
                Method::PATCH,
                &url,
                Some(&editor),
                Some(json!({ field: value.clone() })),
            )
            .await
            .expect(200);
        expected[field] = value;
        for key in ENDPOINT_FIELDS {
            if !["updated_at", "updated_by"].contains(key) {
                assert_eq!(
                    reply.body[*key], expected[*key],
                    "{key} after PATCH of {field}"
                );
            }
        }
        assert_eq!(reply.body["updated_by"], editor_id.as_str());
        assert_eq!(reply.body["created_by"], created["created_by"]);
        assert_eq!(reply.body["created_at"], created["created_at"]);
        assert_timestamp(reply.body["updated_at"].as_str().unwrap());
        assert!(
            reply.body["updated_at"].as_str() > last_updated.as_str(),
            "updated_at moves on PATCH of {field}"
        );
        last_updated = reply.body["updated_at"].clone();
        assert_eq!(app.get(&url).await.expect(200).body, reply.body);
        tick().await;
    }

    // Several at once, and null clears the nullable fields.
    let reply = app
        .patch(
            &url,
            json!({"description": null, "input_schema": null, "method": "DELETE"}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["description"], Value::Null);
    assert_eq!(reply.body["input_schema"], Value::Null);
    assert_eq!(reply.body["method"], "DELETE");
    assert_eq!(reply.body["name"], "talk");
    assert_eq!(reply.body["path"], "/talk");
    assert_eq!(reply.body["endpoint_type"], "stream");
    assert_eq!(reply.body["updated_by"], created["created_by"]);

    // An empty PATCH keeps every field.
    let empty = app.patch(&url, json!({})).await.expect(200);
    for key in ENDPOINT_FIELDS {
        if !["updated_at", "updated_by"].contains(key) {
            assert_eq!(empty.body[*key], reply.body[*key], "{key}");
        }
    }

    // A non-nullable field cannot be cleared.
    for field in ["name", "path", "method", "endpoint_type", "augmentation_id"] {
        let refused = app.patch(&url, json!({ field: null })).await;
        assert_issues(&refused);
        assert_eq!(refused.body["detail"][0]["loc"], json!(["body", field]));
    }

    // Another app's augmentation is refused, and nothing changes.
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let theirs = app.add_augmentation(&neighbour, "theirs").await;
    let before = app.get(&url).await.expect(200).body;
    let refused = app
        .patch(&url, json!({"augmentation_id": theirs, "name": "renamed"}))
        .await;
    let issue = assert_one_issue(&refused, json!(["body", "augmentation_id"]), "value_error");
    assert_eq!(issue["input"], theirs.as_str());
    assert_eq!(app.get(&url).await.expect(200).body, before);
    // A well-formed id that names no augmentation at all, likewise.
    let refused = app
        .patch(
            &url,
            json!({"augmentation_id": "aug_00000000000000000000000000"}),
        )
        .await;
    assert_one_issue(&refused, json!(["body", "augmentation_id"]), "value_error");
}

async fn augmentation_patch_changes_only_what_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let created = app
        .post(
            &augmentations(&home),
            json!({"name": "rag", "description": "retrieval", "tags": ["x"],
                   "stages": [{"name": "s", "steps": [{"name": "llm", "type": "inference"}]}]}),
        )
        .await
        .expect(201)
        .body;
    let id = created["augmentation_id"].as_str().unwrap().to_owned();
    let url = augmentation(&home, &id);
    let (editor_id, editor) = second_actor(&app, &home.org_id).await;
    tick().await;

    let new_stages = json!([{"name": "approve", "execution_mode": "parallel", "steps": [
        {"name": "human", "type": "approval", "config": {"who": "ops"}, "timeout_seconds": 600, "max_retries": 1}
    ]}]);
    let changes = [
        ("name", json!("retrieval")),
        ("description", json!("now different")),
        ("stages", new_stages),
        ("tags", json!(["y", "z"])),
        ("is_template", json!(true)),
    ];
    let mut expected = created.clone();
    let mut last_updated = created["updated_at"].clone();
    for (field, value) in changes {
        let reply = app
            .send(
                Method::PATCH,
                &url,
                Some(&editor),
                Some(json!({ field: value.clone() })),
            )
            .await
            .expect(200);
        expected[field] = value;
        for key in AUGMENTATION_FIELDS {
            if !["updated_at", "updated_by"].contains(key) {
                assert_eq!(
                    reply.body[*key], expected[*key],
                    "{key} after PATCH of {field}"
                );
            }
        }
        assert_eq!(reply.body["updated_by"], editor_id.as_str());
        assert_eq!(reply.body["created_by"], created["created_by"]);
        assert_eq!(reply.body["created_at"], created["created_at"]);
        assert!(
            reply.body["updated_at"].as_str() > last_updated.as_str(),
            "updated_at moves on PATCH of {field}"
        );
        last_updated = reply.body["updated_at"].clone();
        assert_eq!(app.get(&url).await.expect(200).body, reply.body);
        tick().await;
    }

    // null clears the description; an empty stage list and tag list are allowed.
    let reply = app
        .patch(&url, json!({"description": null, "stages": [], "tags": []}))
        .await
        .expect(200);
    assert_eq!(reply.body["description"], Value::Null);
    assert_eq!(reply.body["stages"], json!([]));
    assert_eq!(reply.body["tags"], json!([]));
    assert_eq!(reply.body["name"], "retrieval");
    assert_eq!(reply.body["is_template"], true);

    // Renaming onto another augmentation's name is a conflict.
    app.add_augmentation(&home, "taken").await;
    let clash = app.patch(&url, json!({"name": "taken"})).await;
    assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(clash.reason(), "augmentation_name_taken");
    // Renaming to its own name is not.
    app.patch(&url, json!({"name": "retrieval"}))
        .await
        .expect(200);
}

async fn app_patch_changes_only_what_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let url = home.path();
    let created = app
        .patch(
            &url,
            json!({"description": "first", "parameters": {"a": 1}}),
        )
        .await
        .expect(200)
        .body;
    tick().await;

    let renamed = app.patch(&url, json!({"name": "shop"})).await.expect(200);
    assert_eq!(renamed.body["name"], "shop");
    assert_eq!(renamed.body["description"], "first");
    assert_eq!(renamed.body["parameters"], json!({"a": 1}));
    assert_eq!(renamed.body["created_at"], created["created_at"]);
    assert_eq!(renamed.body["created_by"], created["created_by"]);
    assert!(renamed.body["updated_at"].as_str() > created["updated_at"].as_str());
    assert_eq!(app.get(&url).await.expect(200).body, renamed.body);
    tick().await;

    let described = app
        .patch(&url, json!({"description": "second"}))
        .await
        .expect(200);
    assert_eq!(described.body["description"], "second");
    assert_eq!(described.body["name"], "shop");
    assert!(described.body["updated_at"].as_str() > renamed.body["updated_at"].as_str());

    let parameters = json!({"b": {"c": [true]}});
    let reparametrised = app
        .patch(&url, json!({"parameters": parameters}))
        .await
        .expect(200);
    assert_eq!(
        reparametrised.body["parameters"], parameters,
        "replaced, not merged"
    );
    assert_eq!(reparametrised.body["description"], "second");

    let cleared = app
        .patch(&url, json!({"description": null}))
        .await
        .expect(200);
    assert_eq!(cleared.body["description"], Value::Null);
    assert_eq!(cleared.body["parameters"], parameters);
    assert_eq!(cleared.body["name"], "shop");
    assert_fields(&cleared.body, APP_FIELDS);

    // App names are unique within the workspace, on PATCH too.
    app.create_app_in(&home.org_id, &home.workspace_id, "taken")
        .await;
    let clash = app.patch(&url, json!({"name": "taken"})).await;
    assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(clash.reason(), "app_name_taken");
    assert_eq!(app.get(&url).await.body["name"], "shop");
}

// ---------------------------------------------------------------------------
// Endpoint rules
// ---------------------------------------------------------------------------

async fn routes_and_names_are_unique_within_an_app(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let first = app
        .post(
            &endpoints(&home),
            endpoint_body("chat", "POST", "/chat", &aug),
        )
        .await
        .expect(201)
        .str("endpoint_id");

    // Same (method, path), another name.
    let route = app
        .post(
            &endpoints(&home),
            endpoint_body("chat2", "POST", "/chat", &aug),
        )
        .await;
    let details = assert_envelope(&route, 409, "CONFLICT");
    assert_eq!(details["reason"], "endpoint_route_taken");
    assert_eq!(details["endpoint_id"], first.as_str());

    // Same name, another route.
    let name = app
        .post(
            &endpoints(&home),
            endpoint_body("chat", "GET", "/other", &aug),
        )
        .await;
    assert_envelope(&name, 409, "CONFLICT");
    assert_eq!(name.reason(), "endpoint_name_taken");

    // Same path with another method is another route.
    let get = app
        .post(
            &endpoints(&home),
            endpoint_body("read", "GET", "/chat", &aug),
        )
        .await
        .expect(201)
        .str("endpoint_id");
    // Paths are case-sensitive: /Chat is another path.
    app.post(
        &endpoints(&home),
        endpoint_body("upper", "POST", "/Chat", &aug),
    )
    .await
    .expect(201);

    // The same route and name in another app are fine.
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let theirs = app.add_augmentation(&neighbour, "rag").await;
    app.post(
        &endpoints(&neighbour),
        endpoint_body("chat", "POST", "/chat", &theirs),
    )
    .await
    .expect(201);

    // PATCH onto a taken route or name is the same conflict.
    let moved = app
        .patch(&endpoint(&home, &get), json!({"method": "POST"}))
        .await;
    assert_envelope(&moved, 409, "CONFLICT");
    assert_eq!(moved.reason(), "endpoint_route_taken");
    let renamed = app
        .patch(&endpoint(&home, &get), json!({"name": "chat"}))
        .await;
    assert_envelope(&renamed, 409, "CONFLICT");
    assert_eq!(renamed.reason(), "endpoint_name_taken");
    // PATCH to its own route and name is not a conflict.
    app.patch(
        &endpoint(&home, &get),
        json!({"name": "read", "method": "GET", "path": "/chat"}),
    )
    .await
    .expect(200);

    // Deleting frees the route and the name.
    app.delete(&endpoint(&home, &first)).await.expect(200);
    app.post(
        &endpoints(&home),
        endpoint_body("chat", "POST", "/chat", &aug),
    )
    .await
    .expect(201);

    let listed = app.get(&endpoints(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 3);
}

async fn endpoint_fields_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let url = endpoints(&home);
    let with = |field: &str, value: Value| {
        let mut body = endpoint_body("e", "POST", "/e", &aug);
        body[field] = value;
        body
    };

    let cases = [
        ("path", json!("chat"), "string_pattern_mismatch"),
        ("path", json!("/a b"), "string_pattern_mismatch"),
        ("path", json!("/a\tb"), "string_pattern_mismatch"),
        ("path", json!("/a\nb"), "string_pattern_mismatch"),
        ("path", json!(" /a"), "string_pattern_mismatch"),
        ("path", json!(""), "string_too_short"),
        (
            "path",
            json!(format!("/{}", "a".repeat(256))),
            "string_too_long",
        ),
        ("path", json!(5), "string_type"),
        ("method", json!("get"), "enum"),
        ("method", json!("HEAD"), "enum"),
        ("method", json!("OPTIONS"), "enum"),
        ("method", json!(""), "enum"),
        ("method", json!(null), "string_type"),
        ("endpoint_type", json!("batch"), "enum"),
        ("endpoint_type", json!("SYNC"), "enum"),
        ("input_schema", json!([{"type": "object"}]), "dict_type"),
        ("input_schema", json!("{}"), "dict_type"),
        ("input_schema", json!(1), "dict_type"),
        ("augmentation_id", json!("rag"), "string_pattern_mismatch"),
        ("name", json!(""), "string_too_short"),
        ("name", json!("   "), "string_pattern_mismatch"),
    ];
    for (field, value, kind) in cases {
        let reply = app.post(&url, with(field, value.clone())).await;
        let issue = assert_one_issue(&reply, json!(["body", field]), kind);
        // Inputs are echoed within 256 bytes of JSON: a longer string is cut.
        let echoed = match value.as_str() {
            Some(text) if text.len() > 254 => json!(format!("{}…", &text[..251])),
            _ => value.clone(),
        };
        assert_eq!(issue["input"], echoed, "{field}");
    }
    let method = app.post(&url, with("method", json!("FETCH"))).await;
    let issue = assert_one_issue(&method, json!(["body", "method"]), "enum");
    for word in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(
            issue["ctx"]["expected"].as_str().unwrap().contains(word),
            "{issue}"
        );
    }

    // Required fields.
    for field in ["name", "path", "method", "augmentation_id"] {
        let mut body = endpoint_body("e", "POST", "/e", &aug);
        body.as_object_mut().unwrap().remove(field);
        let reply = app.post(&url, body).await;
        assert_one_issue(&reply, json!(["body", field]), "missing");
    }

    // The edges that are allowed.
    let longest = format!("/{}", "a".repeat(255));
    let mut accepted = vec![
        with("path", json!(longest)),
        with("path", json!("/")),
        with("path", json!("/v1/items/{id}/ünïcode?x=1")),
    ];
    for (index, method) in ["GET", "POST", "PUT", "PATCH", "DELETE"].iter().enumerate() {
        let mut body = endpoint_body(&format!("m{index}"), method, "/methods", &aug);
        body["endpoint_type"] = json!(["sync", "async", "stream", "sync", "async"][index]);
        accepted.push(body);
    }
    accepted.push({
        let mut body = with("input_schema", json!({}));
        body["name"] = json!("empty-schema");
        body["path"] = json!("/empty-schema");
        body
    });
    for (index, mut body) in accepted.into_iter().enumerate() {
        if body["name"] == "e" {
            body["name"] = json!(format!("e{index}"));
            body["method"] = json!(["GET", "PUT", "DELETE"][index % 3]);
        }
        let reply = app.post(&url, body.clone()).await.expect(201);
        assert_eq!(reply.body["path"], body["path"]);
        assert_eq!(reply.body["method"], body["method"]);
    }

    // The same rules on PATCH.
    let id = app.add_endpoint(&home, "patched", "/patched", &aug).await;
    for (field, value, kind) in [
        ("path", json!("nope"), "string_pattern_mismatch"),
        ("method", json!("TRACE"), "enum"),
        ("endpoint_type", json!("webhook"), "enum"),
        ("input_schema", json!([]), "dict_type"),
    ] {
        let reply = app
            .patch(&endpoint(&home, &id), json!({ field: value }))
            .await;
        assert_one_issue(&reply, json!(["body", field]), kind);
    }
}

async fn endpoints_need_an_augmentation_of_their_own_app(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let unknown = app
        .post(
            &endpoints(&home),
            endpoint_body("e", "POST", "/e", "aug_00000000000000000000000000"),
        )
        .await;
    assert_one_issue(&unknown, json!(["body", "augmentation_id"]), "value_error");
    assert_eq!(app.get(&endpoints(&home)).await.body["total"], 0);
}

// ---------------------------------------------------------------------------
// Augmentation rules
// ---------------------------------------------------------------------------

async fn augmentation_names_are_unique_within_an_app(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    app.add_augmentation(&home, "rag").await;
    let clash = app
        .post(&augmentations(&home), json!({"name": "rag"}))
        .await;
    let details = assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(details["reason"], "augmentation_name_taken");
    // Case matters, and another app may use the name.
    app.post(&augmentations(&home), json!({"name": "RAG"}))
        .await
        .expect(201);
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    app.post(&augmentations(&neighbour), json!({"name": "rag"}))
        .await
        .expect(201);
    assert_eq!(app.get(&augmentations(&home)).await.body["total"], 2);
}

async fn every_step_type_is_accepted_and_others_are_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let steps: Vec<Value> = STEP_TYPES
        .iter()
        .map(|t| json!({"name": format!("step-{t}"), "type": t, "config": {"t": t}}))
        .collect();
    let reply = app
        .post(
            &augmentations(&home),
            json!({"name": "all", "stages": [{"name": "s", "steps": steps}]}),
        )
        .await
        .expect(201);
    let stored: Vec<&str> = reply.body["stages"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(stored, STEP_TYPES);

    for bad in ["llm", "Inference", "", "tool-call", "webhook"] {
        let reply = app
            .post(
                &augmentations(&home),
                json!({"name": "bad", "stages": [{"name": "s", "steps": [
                    {"name": "x", "type": "inference"}, {"name": "y", "type": bad}
                ]}]}),
            )
            .await;
        let issue = assert_one_issue(
            &reply,
            json!(["body", "stages", 0, "steps", 1, "type"]),
            "enum",
        );
        assert_eq!(issue["input"], bad);
        assert!(
            issue["ctx"]["expected"]
                .as_str()
                .unwrap()
                .contains("'thread_query'")
        );
    }
}

async fn stage_and_step_problems_are_located_exactly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let url = augmentations(&home);
    let good_step = json!({"name": "ok", "type": "inference"});
    // (stages, loc after ["body", "stages"], type)
    let cases: Vec<(Value, Value, &str)> = vec![
        (json!("nope"), json!([]), "list_type"),
        (json!({"name": "s"}), json!([]), "list_type"),
        (json!([{"name": "s"}, 5]), json!([1]), "model_type"),
        (json!([{"steps": []}]), json!([0, "name"]), "missing"),
        (json!([{"name": 1}]), json!([0, "name"]), "string_type"),
        (
            json!([{"name": ""}]),
            json!([0, "name"]),
            "string_too_short",
        ),
        (
            json!([{"name": "s", "execution_mode": "serial"}]),
            json!([0, "execution_mode"]),
            "enum",
        ),
        (
            json!([{"name": "s", "steps": {"name": "x"}}]),
            json!([0, "steps"]),
            "list_type",
        ),
        (
            json!([{"name": "s", "steps": [good_step, "x"]}]),
            json!([0, "steps", 1]),
            "model_type",
        ),
        (
            json!([{"name": "a"}, {"name": "b", "steps": [good_step, good_step, {"type": "inference"}]}]),
            json!([1, "steps", 2, "name"]),
            "missing",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x"}]}]),
            json!([0, "steps", 0, "type"]),
            "missing",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "config": [1]}]}]),
            json!([0, "steps", 0, "config"]),
            "dict_type",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "config": null}]}]),
            json!([0, "steps", 0, "config"]),
            "dict_type",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "timeout_seconds": 0}]}]),
            json!([0, "steps", 0, "timeout_seconds"]),
            "greater_than_equal",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "timeout_seconds": 3601}]}]),
            json!([0, "steps", 0, "timeout_seconds"]),
            "less_than_equal",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "timeout_seconds": "30"}]}]),
            json!([0, "steps", 0, "timeout_seconds"]),
            "int_type",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "max_retries": -1}]}]),
            json!([0, "steps", 0, "max_retries"]),
            "greater_than_equal",
        ),
        (
            json!([{"name": "s", "steps": [{"name": "x", "type": "inference", "max_retries": 11}]}]),
            json!([0, "steps", 0, "max_retries"]),
            "less_than_equal",
        ),
    ];
    for (stages, tail, kind) in cases {
        let mut loc = vec![json!("body"), json!("stages")];
        loc.extend(tail.as_array().unwrap().iter().cloned());
        let reply = app
            .post(&url, json!({"name": "p", "stages": stages.clone()}))
            .await;
        assert_one_issue(&reply, Value::Array(loc), kind);
    }

    // Tags and is_template.
    for (body, loc, kind) in [
        (
            json!({"name": "p", "tags": "a"}),
            json!(["body", "tags"]),
            "list_type",
        ),
        (
            json!({"name": "p", "tags": ["a", 1]}),
            json!(["body", "tags", 1]),
            "string_type",
        ),
        (
            json!({"name": "p", "tags": [""]}),
            json!(["body", "tags", 0]),
            "string_too_short",
        ),
        (
            json!({"name": "p", "is_template": "yes"}),
            json!(["body", "is_template"]),
            "bool_type",
        ),
        (
            json!({"name": "p", "description": 5}),
            json!(["body", "description"]),
            "string_type",
        ),
    ] {
        let reply = app.post(&url, body).await;
        assert_one_issue(&reply, loc, kind);
    }

    // Problems in several places are all reported.
    let reply = app
        .post(
            &url,
            json!({"stages": [{"name": "s", "execution_mode": "x", "steps": [
                {"name": "a", "type": "nope", "max_retries": 99}
            ]}]}),
        )
        .await;
    let mut locs: Vec<String> = assert_issues(&reply)
        .iter()
        .map(|i| i["loc"].to_string())
        .collect();
    locs.sort();
    assert_eq!(
        locs,
        [
            r#"["body","name"]"#,
            r#"["body","stages",0,"execution_mode"]"#,
            r#"["body","stages",0,"steps",0,"max_retries"]"#,
            r#"["body","stages",0,"steps",0,"type"]"#,
        ]
    );

    // The edges are accepted.
    let reply = app
        .post(
            &url,
            json!({"name": "edges", "stages": [{"name": "s", "execution_mode": "parallel", "steps": [
                {"name": "a", "type": "inference", "timeout_seconds": 1, "max_retries": 0},
                {"name": "b", "type": "inference", "timeout_seconds": 3600, "max_retries": 10}
            ]}, {"name": "empty", "steps": []}]}),
        )
        .await
        .expect(201);
    assert_eq!(reply.body["stages"][1]["steps"], json!([]));

    // The same validation on PATCH.
    let id = reply.str("augmentation_id");
    let refused = app
        .patch(
            &augmentation(&home, &id),
            json!({"stages": [{"name": "s", "steps": [{"name": "a", "type": "inference", "timeout_seconds": 0}]}]}),
        )
        .await;
    assert_one_issue(
        &refused,
        json!(["body", "stages", 0, "steps", 0, "timeout_seconds"]),
        "greater_than_equal",
    );
    assert_eq!(
        app.get(&augmentation(&home, &id)).await.body["stages"],
        reply.body["stages"]
    );
}

async fn an_augmentation_in_use_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let spare = app.add_augmentation(&home, "spare").await;
    let first = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let second = app.add_endpoint(&home, "search", "/search", &aug).await;

    let refused = app.delete(&augmentation(&home, &aug)).await;
    let details = assert_envelope(&refused, 409, "CONFLICT");
    assert_eq!(details["reason"], "augmentation_in_use");
    let mut users: Vec<String> = details["endpoint_ids"]
        .as_array()
        .expect("endpoint_ids is a list")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    users.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(users, expected);
    app.get(&augmentation(&home, &aug)).await.expect(200);

    // Moving one endpoint away leaves the other.
    app.patch(&endpoint(&home, &second), json!({"augmentation_id": spare}))
        .await
        .expect(200);
    let refused = app.delete(&augmentation(&home, &aug)).await.expect(409);
    assert_eq!(refused.body["details"]["endpoint_ids"], json!([first]));

    let gone = app.delete(&endpoint(&home, &first)).await.expect(200);
    assert_eq!(gone.body, json!({}));
    let missing = app.get(&endpoint(&home, &first)).await;
    let details = assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "endpoint");
    assert_eq!(details["resource_id"], first.as_str());
    app.delete(&endpoint(&home, &first)).await.expect(404);

    let deleted = app.delete(&augmentation(&home, &aug)).await.expect(200);
    assert_eq!(deleted.body, json!({}));
    let missing = app.get(&augmentation(&home, &aug)).await;
    let details = assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "augmentation");
    assert_eq!(details["resource_id"], aug.as_str());
    app.delete(&augmentation(&home, &aug)).await.expect(404);
    app.patch(&augmentation(&home, &aug), json!({"name": "x"}))
        .await
        .expect(404);

    let listed = app.get(&augmentations(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(
        listed.body["augmentations"][0]["augmentation_id"],
        spare.as_str()
    );
}

async fn draft_entities_under_another_app_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    for reply in [
        app.get(&endpoint(&neighbour, &ep)).await,
        app.patch(&endpoint(&neighbour, &ep), json!({"name": "x"}))
            .await,
        app.delete(&endpoint(&neighbour, &ep)).await,
        app.get(&augmentation(&neighbour, &aug)).await,
        app.patch(&augmentation(&neighbour, &aug), json!({"name": "x"}))
            .await,
        app.delete(&augmentation(&neighbour, &aug)).await,
    ] {
        assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    }
    // Untouched at home.
    assert_eq!(
        app.get(&endpoint(&home, &ep)).await.expect(200).body["name"],
        "chat"
    );
    assert_eq!(
        app.get(&augmentation(&home, &aug)).await.expect(200).body["name"],
        "rag"
    );
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

async fn endpoint_count_is_limited_per_app(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.limits.max_endpoints_per_app = 2).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let first = app.add_endpoint(&home, "a", "/a", &aug).await;
    app.add_endpoint(&home, "b", "/b", &aug).await;
    let third = app
        .post(&endpoints(&home), endpoint_body("c", "POST", "/c", &aug))
        .await;
    let details = assert_envelope(&third, 409, "CONFLICT");
    assert_eq!(details["reason"], "draft_limit_reached");
    assert_eq!(details["limit"], 2);
    assert_eq!(app.get(&endpoints(&home)).await.body["total"], 2);

    // The limit is per app, and deleting makes room.
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let theirs = app.add_augmentation(&neighbour, "rag").await;
    app.add_endpoint(&neighbour, "c", "/c", &theirs).await;
    app.delete(&endpoint(&home, &first)).await.expect(200);
    app.add_endpoint(&home, "c", "/c", &aug).await;
}

async fn augmentation_count_is_limited_per_app(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.limits.max_augmentations_per_app = 2).await;
    let home = app.create_app().await;
    let first = app.add_augmentation(&home, "a").await;
    app.add_augmentation(&home, "b").await;
    let third = app.post(&augmentations(&home), json!({"name": "c"})).await;
    let details = assert_envelope(&third, 409, "CONFLICT");
    assert_eq!(details["reason"], "draft_limit_reached");
    assert_eq!(details["limit"], 2);
    assert_eq!(app.get(&augmentations(&home)).await.body["total"], 2);

    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    app.add_augmentation(&neighbour, "c").await;
    app.delete(&augmentation(&home, &first)).await.expect(200);
    app.add_augmentation(&home, "c").await;
}

async fn strings_over_the_configured_limits_are_string_too_long(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.limits.max_string_chars = 10;
        c.limits.max_description_chars = 20;
    })
    .await;
    // The harness's org name is longer than ten characters.
    let org_id = app.create_org("acme").await;
    let workspace_id = app.create_workspace(&org_id, "main").await;
    let home = app.create_app_in(&org_id, &workspace_id, "app").await;
    let aug = app.add_augmentation(&home, "rag").await;
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let apps = apps_of(&home);
    let name_ok = "n".repeat(10);
    let name_long = "n".repeat(11);
    // Characters, not bytes: ten two-byte characters fit.
    let name_unicode = "é".repeat(10);
    let description_ok = "d".repeat(20);
    let description_long = "d".repeat(21);

    let cases: Vec<(Method, String, Value, Value, usize)> = vec![
        (
            Method::POST,
            apps.clone(),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::POST,
            apps.clone(),
            json!({"name": "x", "description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::PATCH,
            home.path(),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::PATCH,
            home.path(),
            json!({"description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::POST,
            endpoints(&home),
            endpoint_body(&name_long, "POST", "/x", &aug),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::POST,
            endpoints(&home),
            json!({"name": "x", "path": "/x", "method": "POST", "augmentation_id": aug,
                   "description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::PATCH,
            endpoint(&home, &ep),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::PATCH,
            endpoint(&home, &ep),
            json!({"description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::POST,
            augmentations(&home),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::POST,
            augmentations(&home),
            json!({"name": "x", "description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::POST,
            augmentations(&home),
            json!({"name": "x", "tags": ["ok", name_long]}),
            json!(["body", "tags", 1]),
            10,
        ),
        (
            Method::POST,
            augmentations(&home),
            json!({"name": "x", "stages": [{"name": name_long}]}),
            json!(["body", "stages", 0, "name"]),
            10,
        ),
        (
            Method::POST,
            augmentations(&home),
            json!({"name": "x", "stages": [{"name": "s", "steps": [{"name": name_long, "type": "inference"}]}]}),
            json!(["body", "stages", 0, "steps", 0, "name"]),
            10,
        ),
        (
            Method::PATCH,
            augmentation(&home, &aug),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::POST,
            format!("/v1/orgs/{}/workspaces", home.org_id),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
        (
            Method::POST,
            format!("/v1/orgs/{}/workspaces", home.org_id),
            json!({"name": "x", "description": description_long}),
            json!(["body", "description"]),
            20,
        ),
        (
            Method::POST,
            "/v1/orgs".into(),
            json!({"name": name_long}),
            json!(["body", "name"]),
            10,
        ),
    ];
    for (method, path, body, loc, max) in cases {
        let reply = app
            .send(method.clone(), &path, Some(&app.admin), Some(body.clone()))
            .await;
        let issue = assert_one_issue(&reply, loc.clone(), "string_too_long");
        assert_eq!(issue["ctx"]["max_length"], max, "{method} {path} {loc}");
    }

    // At the limit is fine.
    app.post(
        &apps,
        json!({"name": name_ok, "description": description_ok}),
    )
    .await
    .expect(201);
    app.post(&apps, json!({"name": name_unicode}))
        .await
        .expect(201);
    app.post(
        &augmentations(&home),
        json!({"name": name_ok, "description": description_ok, "tags": [name_ok],
               "stages": [{"name": name_ok, "steps": [{"name": name_ok, "type": "approval"}]}]}),
    )
    .await
    .expect(201);
    // The endpoint path has its own limit (256), not the string limit.
    app.post(
        &endpoints(&home),
        endpoint_body("long-path", "POST", &format!("/{}", "p".repeat(100)), &aug),
    )
    .await
    .expect(201);
}

async fn default_string_limits_are_256_and_4000(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let url = augmentations(&home);
    app.post(
        &url,
        json!({"name": "n".repeat(256), "description": "d".repeat(4000)}),
    )
    .await
    .expect(201);
    let long_name = app.post(&url, json!({"name": "m".repeat(257)})).await;
    let issue = assert_one_issue(&long_name, json!(["body", "name"]), "string_too_long");
    assert_eq!(issue["ctx"]["max_length"], 256);
    let long_description = app
        .post(&url, json!({"name": "x", "description": "d".repeat(4001)}))
        .await;
    let issue = assert_one_issue(
        &long_description,
        json!(["body", "description"]),
        "string_too_long",
    );
    assert_eq!(issue["ctx"]["max_length"], 4000);
}

// ---------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------

async fn app_names_are_unique_per_workspace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let apps = apps_of(&home);
    let clash = app.post(&apps, json!({"name": "app"})).await;
    let details = assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(details["reason"], "app_name_taken");

    let other_ws = app.create_workspace(&home.org_id, "other").await;
    app.create_app_in(&home.org_id, &other_ws, "app").await;
    let listed = app.get(&apps).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["apps"][0]["app_id"], home.app_id.as_str());
}

async fn apps_list_in_their_workspace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let second = app
        .create_app_in(&home.org_id, &home.workspace_id, "second")
        .await;
    let listed = app.get(&apps_of(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["has_more"], false);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    let items = listed.body["apps"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["app_id"], home.app_id.as_str());
    assert_eq!(items[1]["app_id"], second.app_id.as_str());
    for item in items {
        assert_fields(item, APP_FIELDS);
        let id = item["app_id"].as_str().unwrap();
        let path = AppPath {
            app_id: id.to_owned(),
            ..home.clone()
        };
        assert_eq!(&app.get(&path.path()).await.expect(200).body, item);
    }
}

async fn deleting_an_app_removes_its_draft_and_releases(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let aug = app.add_augmentation(&home, "rag").await;
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let release = app.cut(&home, "v1").await;
    let neighbour = app
        .create_app_in(&home.org_id, &home.workspace_id, "neighbour")
        .await;
    let their_aug = app.add_augmentation(&neighbour, "rag").await;

    let deleted = app.delete(&home.path()).await.expect(200);
    assert_eq!(deleted.body, json!({}));

    let missing = app.get(&home.path()).await;
    let details = assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "app");
    assert_eq!(details["resource_id"], home.app_id.as_str());
    for path in [
        endpoint(&home, &ep),
        augmentation(&home, &aug),
        home.release(&release),
        endpoints(&home),
        augmentations(&home),
        home.releases(),
        format!("{}/releases/active", home.path()),
    ] {
        let reply = app.get(&path).await;
        assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    }
    app.delete(&home.path()).await.expect(404);
    app.patch(&home.path(), json!({"name": "x"}))
        .await
        .expect(404);
    app.post(&augmentations(&home), json!({"name": "x"}))
        .await
        .expect(404);

    // The neighbour is untouched and the name is free again.
    app.get(&augmentation(&neighbour, &their_aug))
        .await
        .expect(200);
    let listed = app.get(&apps_of(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    let again = app
        .create_app_in(&home.org_id, &home.workspace_id, "app")
        .await;
    assert_ne!(again.app_id, home.app_id);
    assert_eq!(app.get(&endpoints(&again)).await.body["total"], 0);
    assert_eq!(app.get(&again.releases()).await.body["total"], 0);
}

async fn an_app_with_an_active_release_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let release = app.cut(&home, "v1").await;
    app.act(&format!("{}/activate", home.release(&release)))
        .await
        .expect(200);
    let refused = app.delete(&home.path()).await;
    let details = assert_envelope(&refused, 409, "CONFLICT");
    assert_eq!(details["reason"], "app_has_active_release");
    app.get(&home.path()).await.expect(200);
    app.get(&home.release(&release)).await.expect(200);
}

async fn draft_changes_mark_the_app_as_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let changed = |reply: Reply| reply.expect(200).body["draft_has_changes"].clone();
    assert_eq!(changed(app.get(&home.path()).await), false);
    let aug = app.add_augmentation(&home, "rag").await;
    assert_eq!(changed(app.get(&home.path()).await), true);
    app.cut(&home, "v1").await;
    assert_eq!(changed(app.get(&home.path()).await), false);
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    assert_eq!(changed(app.get(&home.path()).await), true);
    app.delete(&endpoint(&home, &ep)).await.expect(200);
    assert_eq!(
        changed(app.get(&home.path()).await),
        false,
        "back to what v1 holds"
    );
    app.patch(&augmentation(&home, &aug), json!({"tags": ["new"]}))
        .await
        .expect(200);
    assert_eq!(changed(app.get(&home.path()).await), true);
}

on_every_backend!(
    endpoint_create_answers_the_full_object_with_defaults,
    augmentation_create_answers_the_full_object_with_defaults,
    app_create_answers_the_full_object_with_defaults,
    endpoint_patch_changes_only_what_it_names,
    augmentation_patch_changes_only_what_it_names,
    app_patch_changes_only_what_it_names,
    routes_and_names_are_unique_within_an_app,
    endpoint_fields_are_validated,
    endpoints_need_an_augmentation_of_their_own_app,
    augmentation_names_are_unique_within_an_app,
    every_step_type_is_accepted_and_others_are_not,
    stage_and_step_problems_are_located_exactly,
    an_augmentation_in_use_cannot_be_deleted,
    draft_entities_under_another_app_are_not_found,
    endpoint_count_is_limited_per_app,
    augmentation_count_is_limited_per_app,
    strings_over_the_configured_limits_are_string_too_long,
    default_string_limits_are_256_and_4000,
    app_names_are_unique_per_workspace,
    apps_list_in_their_workspace,
    deleting_an_app_removes_its_draft_and_releases,
    an_app_with_an_active_release_cannot_be_deleted,
    draft_changes_mark_the_app_as_changed,
);
