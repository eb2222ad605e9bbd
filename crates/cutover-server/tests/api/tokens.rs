//! The token rules: bearer parsing, minting without escalation, body
//! validation, expiry, revocation, and the secret shown only once.

use std::time::Duration;

use crate::harness::{Backend, Reply, TestApp};
use cutover_domain::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};

async fn malformed_authorization_headers_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for value in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer   ",
        &app.admin,
        "Token x",
    ] {
        let response = app
            .client
            .get(format!("{}/v1/orgs", app.base))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{value:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
}

async fn post_as(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.send(Method::POST, path, Some(token), Some(body)).await
}

async fn a_token_cannot_mint_more_than_it_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens = format!("/v1/orgs/{}/tokens", home.org_id);
    let other_ws = app.create_workspace(&home.org_id, "other").await;

    let manager = app
        .mint(
            &home.org_id,
            json!({"name": "m", "permissions": ["tokens:manage", "apps:read"]}),
        )
        .await;
    let wider = post_as(
        &app,
        &tokens,
        &manager,
        json!({"name": "x", "permissions": ["apps:read", "apps:write"]}),
    )
    .await
    .expect(403);
    assert_eq!(wider.body["details"]["required_permission"], "apps:write");
    let by_role = post_as(
        &app,
        &tokens,
        &manager,
        json!({"name": "x", "role": "operator"}),
    )
    .await
    .expect(403);
    assert!(by_role.body["details"]["required_permission"].is_string());
    post_as(
        &app,
        &tokens,
        &manager,
        json!({"name": "x", "permissions": ["apps:read"]}),
    )
    .await
    .expect(201);

    let limited = app
        .mint(
            &home.org_id,
            json!({"name": "l", "role": "admin", "workspace_ids": [other_ws]}),
        )
        .await;
    let outside = post_as(
        &app,
        &tokens,
        &limited,
        json!({"name": "x", "role": "viewer", "workspace_ids": [home.workspace_id]}),
    )
    .await
    .expect(403);
    assert_eq!(
        outside.body["details"]["required_permission"],
        "tokens:manage"
    );
    assert_eq!(outside.body["details"]["workspace_id"], home.workspace_id);
    let unlimited = post_as(
        &app,
        &tokens,
        &limited,
        json!({"name": "x", "role": "viewer"}),
    )
    .await
    .expect(403);
    assert_eq!(
        unlimited.body["details"]["required_permission"],
        "tokens:manage"
    );
    post_as(
        &app,
        &tokens,
        &limited,
        json!({"name": "x", "role": "viewer", "workspace_ids": [other_ws]}),
    )
    .await
    .expect(201);
}

async fn token_bodies_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens = format!("/v1/orgs/{}/tokens", home.org_id);
    let unknown_ws = "ws_00000000000000000000000000";
    let cases = [
        (
            json!({"name": "x", "permissions": ["releases:fly"]}),
            json!(["body", "permissions", 0]),
            "enum",
        ),
        (
            json!({"name": "x", "role": "god"}),
            json!(["body", "role"]),
            "enum",
        ),
        (
            json!({"name": "x", "role": "viewer", "permissions": ["apps:read"]}),
            json!(["body", "permissions"]),
            "value_error",
        ),
        (
            json!({"name": "x"}),
            json!(["body", "permissions"]),
            "missing",
        ),
        (
            json!({"name": "x", "role": "viewer", "expires_at": "tomorrow"}),
            json!(["body", "expires_at"]),
            "value_error",
        ),
        (
            json!({"name": "x", "role": "viewer", "workspace_ids": [unknown_ws]}),
            json!(["body", "workspace_ids", 0]),
            "value_error",
        ),
        (
            json!({"name": "x", "role": "viewer", "workspace_ids": ["nope"]}),
            json!(["body", "workspace_ids", 0]),
            "string_pattern_mismatch",
        ),
    ];
    for (body, loc, kind) in cases {
        let reply = app.post(&tokens, body.clone()).await.expect(422);
        let detail = reply.body["detail"].as_array().unwrap();
        assert_eq!(detail.len(), 1, "{body}: {}", reply.body);
        assert_eq!(detail[0]["loc"], loc, "{body}");
        assert_eq!(detail[0]["type"], kind, "{body}");
    }
}

async fn expired_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let expiry = Timestamp::now().plus_seconds(2);
    let created = app
        .post(
            &format!("/v1/orgs/{}/tokens", home.org_id),
            json!({"name": "brief", "role": "viewer", "expires_at": expiry.to_string()}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["expires_at"], expiry.to_string());
    let secret = created.str("token");
    let org = format!("/v1/orgs/{}", home.org_id);
    app.send(Method::GET, &org, Some(&secret), None)
        .await
        .expect(200);
    while Timestamp::now() <= expiry {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refused = app
        .send(Method::GET, &org, Some(&secret), None)
        .await
        .expect(401);
    assert_eq!(refused.body["details"], json!({}));
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
}

async fn revoked_tokens_are_refused_and_revoke_is_not_repeatable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens = format!("/v1/orgs/{}/tokens", home.org_id);
    let created = app
        .post(&tokens, json!({"name": "ci", "role": "viewer"}))
        .await
        .expect(201);
    let (token_id, secret) = (created.str("token_id"), created.str("token"));
    let org = format!("/v1/orgs/{}", home.org_id);
    app.send(Method::GET, &org, Some(&secret), None)
        .await
        .expect(200);

    let revoked = app
        .delete(&format!("{tokens}/{token_id}"))
        .await
        .expect(200);
    assert_eq!(revoked.body, json!({}));
    app.send(Method::GET, &org, Some(&secret), None)
        .await
        .expect(401);
    let again = app
        .delete(&format!("{tokens}/{token_id}"))
        .await
        .expect(404);
    assert_eq!(again.body["details"]["resource_type"], "token");

    // Another org's token is not found under this org's path.
    let stranger = app.create_org("stranger").await;
    let theirs = app
        .post(
            &format!("/v1/orgs/{stranger}/tokens"),
            json!({"name": "t", "role": "viewer"}),
        )
        .await
        .expect(201)
        .str("token_id");
    app.delete(&format!("{tokens}/{theirs}")).await.expect(404);
    let malformed = app
        .delete(&format!("{tokens}/not-a-token"))
        .await
        .expect(404);
    assert_eq!(
        malformed.body["details"],
        json!({"resource_type": "token", "resource_id": "not-a-token"})
    );
}

async fn the_secret_is_prefixed_and_shown_only_at_creation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens = format!("/v1/orgs/{}/tokens", home.org_id);
    let created = app
        .post(
            &tokens,
            json!({"name": "ci", "permissions": ["releases:*"]}),
        )
        .await
        .expect(201);
    let secret = created.str("token");
    assert!(secret.starts_with("cut_"));
    assert!(secret.len() >= 4 + 26, "at least 128 random bits");
    assert!(secret.starts_with(&created.str("prefix")));
    assert_eq!(created.body["permissions"], json!(["releases:*"]));
    assert!(created.str("token_id").starts_with("tok_"));

    let listed = app.get(&tokens).await.expect(200);
    let items = listed.body["tokens"].as_array().unwrap();
    let mine = items
        .iter()
        .find(|t| t["token_id"] == created.body["token_id"])
        .expect("the new token is listed");
    assert_eq!(mine["prefix"], created.body["prefix"]);
    assert!(items.iter().all(|t| t.get("token").is_none()));
    assert!(!listed.body.to_string().contains(&secret));
}

async fn a_workspace_limited_token_revokes_only_tokens_within_its_workspaces(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("limits").await;
    let mine = app.create_workspace(&org, "mine").await;
    let theirs = app.create_workspace(&org, "theirs").await;
    let limited = app
        .mint(
            &org,
            json!({"name": "limited", "role": "admin", "workspace_ids": [mine]}),
        )
        .await;
    let tokens = format!("/v1/orgs/{org}/tokens");
    let id_of = |reply: Reply| reply.expect(201).str("token_id");
    let unlimited = id_of(
        app.post(&tokens, json!({"name": "org-wide", "role": "viewer"}))
            .await,
    );
    let elsewhere = id_of(
        app.post(
            &tokens,
            json!({"name": "elsewhere", "role": "viewer", "workspace_ids": [theirs]}),
        )
        .await,
    );
    let inside = id_of(
        app.post(
            &tokens,
            json!({"name": "inside", "role": "viewer", "workspace_ids": [mine]}),
        )
        .await,
    );
    for target in [&unlimited, &elsewhere] {
        let refused = app
            .send(
                Method::DELETE,
                &format!("{tokens}/{target}"),
                Some(&limited),
                None,
            )
            .await
            .expect(403);
        assert_eq!(
            refused.body["details"]["required_permission"],
            "tokens:manage"
        );
    }
    app.send(
        Method::DELETE,
        &format!("{tokens}/{inside}"),
        Some(&limited),
        None,
    )
    .await
    .expect(200);
    // The refused ones are untouched.
    app.delete(&format!("{tokens}/{unlimited}"))
        .await
        .expect(200);
    app.delete(&format!("{tokens}/{elsewhere}"))
        .await
        .expect(200);
}

on_every_backend!(
    malformed_authorization_headers_are_401,
    a_token_cannot_mint_more_than_it_holds,
    token_bodies_are_validated,
    expired_tokens_are_refused,
    revoked_tokens_are_refused_and_revoke_is_not_repeatable,
    the_secret_is_prefixed_and_shown_only_at_creation,
    a_workspace_limited_token_revokes_only_tokens_within_its_workspaces,
);
