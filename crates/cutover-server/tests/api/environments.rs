//! Environments over HTTP: the three a workspace starts with, the platform's answer
//! shapes, addressing by id or slug, the default flag, refusals with their reason
//! codes and 422s, and the default environment's deployments.

use crate::harness::{Backend, TestApp};
use crate::shapes::{assert_envelope, assert_fields, assert_one_issue, assert_timestamp};
use serde_json::{Value, json};

const ENVIRONMENT_FIELDS: &[&str] = &[
    "environment_id",
    "workspace_id",
    "org_id",
    "name",
    "slug",
    "description",
    "is_default",
    "protected",
    "active_deployments",
    "status",
    "created_by",
    "created_at",
    "updated_at",
];

fn slugs(list: &Value) -> Vec<(String, bool)> {
    list["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|env| {
            (
                env["slug"].as_str().unwrap().to_owned(),
                env["is_default"] == true,
            )
        })
        .collect()
}

async fn a_new_workspace_lists_its_three_environments(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let workspace = app.create_workspace(&org, "shop").await;
    let base = format!("/v1/orgs/{org}/workspaces/{workspace}/environments");
    let list = app.get(&base).await.expect(200);
    let keys: Vec<&str> = list
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["total", "has_more", "next_cursor", "environments"]);
    assert_eq!(list.body["total"], 3);
    assert_eq!(
        slugs(&list.body),
        [
            ("production".to_owned(), true),
            ("staging".to_owned(), false),
            ("development".to_owned(), false),
        ]
    );
    let production = &list.body["environments"][0];
    assert_fields(production, ENVIRONMENT_FIELDS);
    assert_eq!(production["name"], "Production");
    assert_eq!(production["protected"], true);
    assert_eq!(production["status"], "active");
    assert_eq!(production["active_deployments"], json!({}));
    assert_eq!(production["workspace_id"], workspace.as_str());
    assert_eq!(production["org_id"], org.as_str());
    assert_timestamp(production["created_at"].as_str().unwrap());
    let id = production["environment_id"].as_str().unwrap();
    assert!(id.starts_with("env_"), "{id}");
    let by_id = app.get(&format!("{base}/{id}")).await.expect(200);
    let by_slug = app.get(&format!("{base}/production")).await.expect(200);
    assert_eq!(&by_id.body, production);
    assert_eq!(by_slug.body, by_id.body);
}

async fn environments_are_created_changed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let base = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    let created = app
        .post(
            &base,
            json!({"name": "QA", "slug": "qa", "description": "testers"}),
        )
        .await
        .expect(201);
    let keys: Vec<&str> = created
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["message", "environment"]);
    assert_eq!(created.body["message"], "Environment created successfully");
    let qa = &created.body["environment"];
    assert_fields(qa, ENVIRONMENT_FIELDS);
    assert_eq!(
        (qa["is_default"].clone(), qa["protected"].clone()),
        (json!(false), json!(false))
    );
    let id = qa["environment_id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/{id}").as_str())
    );

    let taken = app
        .post(&base, json!({"name": "QA again", "slug": "qa"}))
        .await;
    let details = assert_envelope(&taken, 409, "CONFLICT");
    assert_eq!(details["reason"], "environment_slug_taken");
    assert_eq!(details["slug"], "qa");

    let patched = app
        .patch(
            &format!("{base}/qa"),
            json!({"is_default": true, "protected": true}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["is_default"], true);
    assert_eq!(patched.body["protected"], true);
    let list = app.get(&base).await.expect(200);
    assert_eq!(
        slugs(&list.body),
        [
            ("production".to_owned(), false),
            ("staging".to_owned(), false),
            ("development".to_owned(), false),
            ("qa".to_owned(), true),
        ]
    );
    let keep = app
        .patch(&format!("{base}/qa"), json!({"is_default": false}))
        .await;
    let details = assert_envelope(&keep, 409, "CONFLICT");
    assert_eq!(details["reason"], "environment_is_default");
    let refused = app.delete(&format!("{base}/{id}")).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "environment_is_default"
    );

    app.patch(&format!("{base}/production"), json!({"is_default": true}))
        .await
        .expect(200);
    app.delete(&format!("{base}/qa")).await.expect(200);
    let gone = app.get(&format!("{base}/{id}")).await;
    let details = assert_envelope(&gone, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "environment");
    assert_eq!(details["resource_id"], id);
}

async fn bad_names_and_bodies_are_refused_clearly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let base = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    for name in ["Staging", "env_nope", "qa", "a%20b"] {
        let reply = app.get(&format!("{base}/{name}")).await;
        let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
        assert_eq!(details["resource_type"], "environment", "{name}");
    }
    for name in ["qa", "env_nope"] {
        let patched = app
            .patch(&format!("{base}/{name}"), json!({"name": "x"}))
            .await;
        assert_envelope(&patched, 404, "RESOURCE_NOT_FOUND");
        let deleted = app.delete(&format!("{base}/{name}")).await;
        assert_envelope(&deleted, 404, "RESOURCE_NOT_FOUND");
    }
    let bad_slug = app.post(&base, json!({"name": "QA", "slug": "Q A"})).await;
    assert_one_issue(
        &bad_slug,
        json!(["body", "slug"]),
        "string_pattern_mismatch",
    );
    let missing = app.post(&base, json!({"name": "QA"})).await;
    assert_one_issue(&missing, json!(["body", "slug"]), "missing");
    let not_bool = app
        .patch(&format!("{base}/staging"), json!({"protected": "yes"}))
        .await;
    assert_one_issue(&not_bool, json!(["body", "protected"]), "bool_type");
    let other_org = app.create_org("Globex").await;
    let elsewhere = app
        .get(&format!(
            "/v1/orgs/{other_org}/workspaces/{}/environments",
            home.workspace_id
        ))
        .await;
    assert_eq!(
        assert_envelope(&elsewhere, 404, "RESOURCE_NOT_FOUND")["resource_type"],
        "workspace"
    );
}

async fn the_default_environment_shows_what_is_active(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let release = app.cut_active(&home, "v1").await;
    let base = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    let production = app.get(&format!("{base}/production")).await.expect(200);
    assert_eq!(
        production.body["active_deployments"],
        json!({ home.app_id.as_str(): release })
    );
    let staging = app.get(&format!("{base}/staging")).await.expect(200);
    assert_eq!(staging.body["active_deployments"], json!({}));
    let board = app
        .get(&format!("{}/environments", home.path()))
        .await
        .expect(200);
    assert_eq!(board.body["total"], 3);
    let entries = board.body["environments"].as_array().unwrap();
    for entry in entries {
        assert_fields(
            entry,
            &[
                "environment_id",
                "slug",
                "name",
                "is_default",
                "protected",
                "release",
                "deployed_at",
                "deployed_by",
            ],
        );
    }
    assert_eq!(entries[0]["slug"], "production");
    assert_eq!(entries[0]["release"]["release_id"], release.as_str());
    assert_eq!(entries[0]["release"]["status"], "active");
    assert_eq!(
        entries[0]["deployed_at"],
        entries[0]["release"]["activated_at"]
    );
    assert_timestamp(entries[0]["deployed_at"].as_str().unwrap());
    assert_eq!(entries[1]["release"], Value::Null);
    assert_eq!(entries[1]["deployed_by"], Value::Null);
    // A new default has what was deployed to it (nothing): the app has no active
    // release now, and production keeps its deployment.
    app.patch(&format!("{base}/staging"), json!({"is_default": true}))
        .await
        .expect(200);
    let staging = app.get(&format!("{base}/staging")).await.expect(200);
    assert_eq!(staging.body["active_deployments"], json!({}));
    let production = app.get(&format!("{base}/production")).await.expect(200);
    assert_eq!(
        production.body["active_deployments"],
        json!({ home.app_id.as_str(): release })
    );
    let active = app.get(&format!("{}/active", home.releases())).await;
    assert_envelope(&active, 404, "RESOURCE_NOT_FOUND");
    let releases = app.get(&home.releases()).await.expect(200);
    assert_eq!(releases.body["active_release_id"], Value::Null);
}

async fn the_active_release_is_read_per_environment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let active = format!("{}/active", home.releases());
    assert_envelope(
        &app.get(&format!("{active}?environment=production")).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    let release = app.cut_active(&home, "v1").await;
    let plain = app.get(&active).await.expect(200);
    let production = app
        .get(&format!("{active}?environment=production"))
        .await
        .expect(200);
    assert_eq!(production.body, plain.body);
    assert_eq!(production.body["release_id"], release.as_str());
    assert_eq!(production.header("etag"), plain.header("etag"));
    let id = app
        .get(&format!(
            "/v1/orgs/{}/workspaces/{}/environments/production",
            home.org_id, home.workspace_id
        ))
        .await
        .expect(200)
        .str("environment_id");
    app.get(&format!("{active}?environment={id}"))
        .await
        .expect(200);
    let staging = app.get(&format!("{active}?environment=staging")).await;
    let details = assert_envelope(&staging, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "release");
    assert_eq!(details["resource_id"], "active");
    // What staging has is its own: deploy v2 there and production keeps v1.
    let v2 = app.cut(&home, "v2").await;
    app.post(
        &format!("{}/deployments", home.path()),
        json!({"environment": "staging", "release_id": v2}),
    )
    .await
    .expect(201);
    let staged = app
        .get(&format!("{active}?environment=staging"))
        .await
        .expect(200);
    assert_eq!(staged.body["release_id"], v2.as_str());
    let tag = staged.header("etag").expect("an ETag").to_owned();
    let unchanged = crate::conditional_reads::get_if_none_match(
        &app,
        &format!("{active}?environment=staging"),
        Some(&tag),
    )
    .await;
    assert_eq!(unchanged.status, 304);
    assert_eq!(
        app.get(&active).await.expect(200).body["release_id"],
        release.as_str()
    );
    let unknown = app.get(&format!("{active}?environment=qa")).await;
    assert_eq!(
        assert_envelope(&unknown, 404, "RESOURCE_NOT_FOUND")["resource_type"],
        "environment"
    );
    let malformed = app
        .get(&format!("{active}?environment=Not%20A%20Slug"))
        .await;
    assert_one_issue(
        &malformed,
        json!(["query", "environment"]),
        "string_pattern_mismatch",
    );
}

on_every_backend!(
    the_active_release_is_read_per_environment,
    a_new_workspace_lists_its_three_environments,
    environments_are_created_changed_and_deleted,
    bad_names_and_bodies_are_refused_clearly,
    the_default_environment_shows_what_is_active,
);
