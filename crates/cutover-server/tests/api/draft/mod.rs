//! The draft: endpoints, augmentations and the app that holds them. Every
//! create answers 201 with the full object and a `Location` that reads it back; PATCH
//! changes exactly what it names; the uniqueness, reference and size rules answer
//! 409 or 422 with the documented reason or type. Helpers here; the tests in
//! `endpoints`, `augmentations`, `limits` and `apps`.

use std::time::Duration;

use crate::harness::{AppPath, Backend, Reply, TestApp};
use crate::shapes::{
    assert_envelope, assert_fields, assert_issues, assert_one_issue, assert_timestamp,
};
use reqwest::Method;
use serde_json::{Value, json};

mod apps;
mod augmentations;
mod endpoints;
mod limits;

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
