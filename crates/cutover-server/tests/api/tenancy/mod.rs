//! Tenancy: orgs (with derived, validated, unique slugs), workspaces
//! (names unique per org), resources addressed under the wrong parent (404), and the
//! list envelope with keyset pagination on every list other than releases.

use std::collections::HashSet;

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::{
    assert_envelope, assert_fields, assert_issues, assert_one_issue, assert_timestamp,
};
use serde_json::{Value, json};

mod pagination;

const ORG_FIELDS: &[&str] = &["org_id", "name", "slug", "created_at", "created_by"];
const WORKSPACE_FIELDS: &[&str] = &[
    "workspace_id",
    "org_id",
    "name",
    "description",
    "created_at",
    "created_by",
];
const UNKNOWN_ORG: &str = "org_00000000000000000000000000";
const UNKNOWN_WORKSPACE: &str = "ws_00000000000000000000000000";

fn workspaces(org_id: &str) -> String {
    format!("/v1/orgs/{org_id}/workspaces")
}

fn apps(org_id: &str, workspace_id: &str) -> String {
    format!("/v1/orgs/{org_id}/workspaces/{workspace_id}/apps")
}

// ---------------------------------------------------------------------------
// Orgs
// ---------------------------------------------------------------------------

async fn an_org_is_created_with_a_derived_slug_and_read_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reply = app.post("/v1/orgs", json!({"name": "Acme Corp"})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_fields(&reply.body, ORG_FIELDS);
    let id = reply.str("org_id");
    assert!(id.starts_with("org_") && id.len() == 4 + 26, "{id}");
    assert_eq!(reply.body["name"], "Acme Corp");
    assert_eq!(reply.body["slug"], "acme-corp");
    assert_timestamp(reply.body["created_at"].as_str().unwrap());
    assert!(
        reply.body["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    let location = format!("/v1/orgs/{id}");
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(app.get(&location).await.expect(200).body, reply.body);

    // Other derivations: runs of other characters become one '-', ends trimmed.
    for (name, slug) in [
        ("  Hello   World!! ", "hello-world"),
        ("Über Café 2", "ber-caf-2"),
        ("ALL_CAPS.io", "all-caps-io"),
        ("42", "42"),
        (&"Long ".repeat(50), &"long-".repeat(13)[..64]),
    ] {
        let reply = app
            .post("/v1/orgs", json!({"name": name}))
            .await
            .expect(201);
        assert_eq!(reply.body["slug"], slug, "{name}");
        assert_eq!(reply.body["name"], name);
    }

    // An explicit slug is kept as given, whatever the name.
    let explicit = app
        .post("/v1/orgs", json!({"name": "Acme Corp", "slug": "acme-eu"}))
        .await
        .expect(201);
    assert_eq!(explicit.body["slug"], "acme-eu");
    assert_eq!(
        explicit.body["name"], "Acme Corp",
        "names need not be unique"
    );

    // A name with nothing to derive a slug from needs an explicit one.
    let nothing = app.post("/v1/orgs", json!({"name": "日本"})).await;
    assert_one_issue(&nothing, json!(["body", "slug"]), "missing");
    app.post("/v1/orgs", json!({"name": "日本", "slug": "nihon"}))
        .await
        .expect(201);
}

async fn org_slugs_are_validated_and_unique(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (slug, kind) in [
        (json!("Acme"), "string_pattern_mismatch"),
        (json!("acme_corp"), "string_pattern_mismatch"),
        (json!("-acme"), "string_pattern_mismatch"),
        (json!("acme corp"), "string_pattern_mismatch"),
        (json!("acmé"), "string_pattern_mismatch"),
        (json!(""), "string_too_short"),
        (json!("a".repeat(65)), "string_too_long"),
        (json!(5), "string_type"),
        (json!(null), "string_type"),
    ] {
        let reply = app
            .post("/v1/orgs", json!({"name": "Acme", "slug": slug.clone()}))
            .await;
        let issue = assert_one_issue(&reply, json!(["body", "slug"]), kind);
        assert_eq!(issue["input"], slug);
    }
    let missing = app.post("/v1/orgs", json!({"slug": "acme"})).await;
    assert_one_issue(&missing, json!(["body", "name"]), "missing");
    app.post("/v1/orgs", json!({"name": "Edge", "slug": "a".repeat(64)}))
        .await
        .expect(201);
    app.post("/v1/orgs", json!({"name": "Digits", "slug": "9-lives-"}))
        .await
        .expect(201);

    let first = app
        .post("/v1/orgs", json!({"name": "Acme Corp"}))
        .await
        .expect(201);
    // The same derived slug, and the same slug given explicitly.
    for body in [
        json!({"name": "acme corp"}),
        json!({"name": "Something else", "slug": "acme-corp"}),
    ] {
        let clash = app.post("/v1/orgs", body).await;
        let details = assert_envelope(&clash, 409, "CONFLICT");
        assert_eq!(details["reason"], "org_slug_taken");
        assert_eq!(details["slug"], "acme-corp");
    }
    let listed = app.get("/v1/orgs").await.expect(200);
    assert_eq!(listed.body["total"], 3);
    assert_eq!(
        app.get(&format!("/v1/orgs/{}", first.str("org_id")))
            .await
            .body["name"],
        "Acme Corp"
    );
}

async fn unknown_orgs_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app.get(&format!("/v1/orgs/{UNKNOWN_ORG}")).await;
    let details = assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "org");
    assert_eq!(details["resource_id"], UNKNOWN_ORG);

    // Everything under it is not found either.
    for reply in [
        app.get(&workspaces(UNKNOWN_ORG)).await,
        app.post(&workspaces(UNKNOWN_ORG), json!({"name": "w"}))
            .await,
        app.get(&format!("/v1/orgs/{UNKNOWN_ORG}/tokens")).await,
        app.post(
            &format!("/v1/orgs/{UNKNOWN_ORG}/tokens"),
            json!({"name": "t", "role": "viewer"}),
        )
        .await,
    ] {
        assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    }

    // A malformed id names no org either (the reference types ids as strings).
    let malformed = app.get("/v1/orgs/acme-corp").await;
    assert_envelope(&malformed, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(
        malformed.body["details"],
        json!({"resource_type": "org", "resource_id": "acme-corp"})
    );
    let uppercase = app
        .get(&format!("/v1/orgs/{}", UNKNOWN_ORG.to_uppercase()))
        .await;
    assert_eq!(uppercase.status, 404);
}

// ---------------------------------------------------------------------------
// Workspaces
// ---------------------------------------------------------------------------

async fn a_workspace_is_created_read_and_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let reply = app.post(&workspaces(&org), json!({"name": "main"})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_fields(&reply.body, WORKSPACE_FIELDS);
    let id = reply.str("workspace_id");
    assert!(id.starts_with("ws_") && id.len() == 3 + 26, "{id}");
    assert_eq!(reply.body["org_id"], org.as_str());
    assert_eq!(reply.body["name"], "main");
    assert_eq!(reply.body["description"], Value::Null);
    assert_timestamp(reply.body["created_at"].as_str().unwrap());
    assert!(
        reply.body["created_by"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    let location = format!("{}/{id}", workspaces(&org));
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(app.get(&location).await.expect(200).body, reply.body);

    let described = app
        .post(
            &workspaces(&org),
            json!({"name": "staging", "description": "pre-production"}),
        )
        .await
        .expect(201);
    assert_eq!(described.body["description"], "pre-production");
    let location = described.header("location").unwrap().to_owned();
    assert_eq!(app.get(&location).await.expect(200).body, described.body);

    let listed = app.get(&workspaces(&org)).await.expect(200);
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["has_more"], false);
    assert_eq!(listed.body["next_cursor"], Value::Null);
    assert_eq!(
        listed.body["workspaces"],
        json!([reply.body, described.body])
    );

    for (body, loc, kind) in [
        (json!({}), json!(["body", "name"]), "missing"),
        (
            json!({"name": ""}),
            json!(["body", "name"]),
            "string_too_short",
        ),
        (json!({"name": 1}), json!(["body", "name"]), "string_type"),
        (
            json!({"name": "x", "description": []}),
            json!(["body", "description"]),
            "string_type",
        ),
    ] {
        let reply = app.post(&workspaces(&org), body).await;
        assert_one_issue(&reply, loc, kind);
    }
}

async fn workspace_names_are_unique_within_an_org(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let other = app.create_org("Globex").await;
    app.create_workspace(&org, "main").await;
    let clash = app.post(&workspaces(&org), json!({"name": "main"})).await;
    let details = assert_envelope(&clash, 409, "CONFLICT");
    assert_eq!(details["reason"], "workspace_name_taken");
    assert_eq!(details["name"], "main");

    app.create_workspace(&other, "main").await;
    app.create_workspace(&org, "Main").await;
    assert_eq!(app.get(&workspaces(&org)).await.body["total"], 2);
    assert_eq!(app.get(&workspaces(&other)).await.body["total"], 1);
}

async fn resources_under_the_wrong_parent_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("Acme").await;
    let other_org = app.create_org("Globex").await;
    let ws = app.create_workspace(&org, "main").await;
    let other_ws = app.create_workspace(&org, "other").await;
    let foreign_ws = app.create_workspace(&other_org, "main").await;
    let home = app.create_app_in(&org, &ws, "app").await;
    let aug = app.add_augmentation(&home, "rag").await;
    let ep = app.add_endpoint(&home, "chat", "/chat", &aug).await;
    let release = app.cut(&home, "v1").await;

    // A workspace under another org.
    let wrong_org = format!("/v1/orgs/{other_org}/workspaces/{ws}");
    let reply = app.get(&wrong_org).await;
    let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "workspace");
    assert_eq!(details["resource_id"], ws.as_str());
    assert_envelope(
        &app.get(&apps(&other_org, &ws)).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    assert_envelope(
        &app.post(&apps(&other_org, &ws), json!({"name": "sneaky"}))
            .await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    // An unknown workspace in the right org.
    assert_envelope(
        &app.get(&format!("{}/{UNKNOWN_WORKSPACE}", workspaces(&org)))
            .await,
        404,
        "RESOURCE_NOT_FOUND",
    );

    // The app, and everything in it, under another workspace or org.
    for wrong in [
        AppPath {
            org_id: org.clone(),
            workspace_id: other_ws.clone(),
            app_id: home.app_id.clone(),
        },
        AppPath {
            org_id: other_org.clone(),
            workspace_id: foreign_ws.clone(),
            app_id: home.app_id.clone(),
        },
        AppPath {
            org_id: other_org.clone(),
            workspace_id: ws.clone(),
            app_id: home.app_id.clone(),
        },
    ] {
        let reply = app.get(&wrong.path()).await;
        let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
        assert!(
            ["app", "workspace"].contains(&details["resource_type"].as_str().unwrap()),
            "{details}"
        );
        for path in [
            format!("{}/endpoints", wrong.path()),
            format!("{}/endpoints/{ep}", wrong.path()),
            format!("{}/augmentations/{aug}", wrong.path()),
            wrong.releases(),
            wrong.release(&release),
        ] {
            assert_envelope(&app.get(&path).await, 404, "RESOURCE_NOT_FOUND");
        }
        assert_envelope(
            &app.patch(&wrong.path(), json!({"name": "moved"})).await,
            404,
            "RESOURCE_NOT_FOUND",
        );
        assert_envelope(&app.delete(&wrong.path()).await, 404, "RESOURCE_NOT_FOUND");
    }
    // Nothing moved or vanished.
    let kept = app.get(&home.path()).await.expect(200);
    assert_eq!(kept.body["name"], "app");
    assert_eq!(kept.body["workspace_id"], ws.as_str());
    app.get(&format!("{}/endpoints/{ep}", home.path()))
        .await
        .expect(200);
    assert_eq!(app.get(&apps(&org, &other_ws)).await.body["total"], 0);
}

on_every_backend!(
    an_org_is_created_with_a_derived_slug_and_read_back,
    org_slugs_are_validated_and_unique,
    unknown_orgs_are_not_found,
    a_workspace_is_created_read_and_listed,
    workspace_names_are_unique_within_an_org,
    resources_under_the_wrong_parent_are_not_found,
);
