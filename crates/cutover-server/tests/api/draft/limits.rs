//! The draft's limits: entities per app and string lengths, configured and default.

use super::*;

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

on_every_backend!(
    endpoint_count_is_limited_per_app,
    augmentation_count_is_limited_per_app,
    strings_over_the_configured_limits_are_string_too_long,
    default_string_limits_are_256_and_4000,
);
