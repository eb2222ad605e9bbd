//! Augmentations: create, PATCH, names, stages and steps, deletion while used, and draft entities addressed through another app.

use super::*;

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

on_every_backend!(
    augmentation_create_answers_the_full_object_with_defaults,
    augmentation_patch_changes_only_what_it_names,
    augmentation_names_are_unique_within_an_app,
    every_step_type_is_accepted_and_others_are_not,
    stage_and_step_problems_are_located_exactly,
    an_augmentation_in_use_cannot_be_deleted,
    draft_entities_under_another_app_are_not_found,
);
