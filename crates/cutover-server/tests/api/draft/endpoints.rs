//! Endpoints: create, PATCH, routes and names, field validation, references.

use super::*;

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

on_every_backend!(
    endpoint_create_answers_the_full_object_with_defaults,
    endpoint_patch_changes_only_what_it_names,
    routes_and_names_are_unique_within_an_app,
    endpoint_fields_are_validated,
    endpoints_need_an_augmentation_of_their_own_app,
);
