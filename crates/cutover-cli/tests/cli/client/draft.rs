//! `cutover endpoints …` and `cutover augmentations …`: the draft's CRUD from a
//! terminal, by id or by name, JSON-valued flags, bodies from files, and refusals.

use crate::client::harness::{Env, rows};

#[test]
fn endpoints_are_listed_shown_updated_and_deleted_by_name_or_id() {
    let env = Env::with_app();
    env.seed_draft();
    let list = env.ok(&["endpoints", "list"]).stdout;
    let names: Vec<String> = rows(&list).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["chat", "status"], "{list}");

    let shown = env.ok(&["endpoints", "show", "chat"]).stdout;
    assert!(shown.starts_with("Endpoint chat  ep_"), "{shown}");
    assert!(shown.contains("Route:        POST /chat"), "{shown}");
    let id = env.json(&["endpoints", "show", "chat"])["endpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let updated = env.ok(&[
        "endpoints",
        "update",
        &id,
        "--type",
        "stream",
        "--description",
        "talks",
        "--input-schema",
        r#"{"type": "object"}"#,
    ]);
    assert!(
        updated.stdout.contains("Type:         stream"),
        "{}",
        updated.stdout
    );
    assert!(
        updated.stdout.contains("\"type\": \"object\""),
        "{}",
        updated.stdout
    );
    let cleared = env.json(&[
        "endpoints",
        "update",
        "chat",
        "--no-description",
        "--input-schema",
        "null",
    ]);
    assert_eq!(cleared["description"], serde_json::Value::Null);
    assert_eq!(cleared["input_schema"], serde_json::Value::Null);
    assert_eq!(cleared["endpoint_type"], "stream");

    let deleted = env.ok(&["endpoints", "delete", "status"]);
    assert!(
        deleted.stdout.contains("Deleted endpoint status (ep_"),
        "{}",
        deleted.stdout
    );
    let missing = env.run(&["endpoints", "show", "status"]).expect(3);
    assert!(
        missing
            .error_line()
            .contains("no endpoint named \"status\""),
        "{}",
        missing.stderr
    );
    let paged = env.json(&["endpoints", "list", "--all-pages", "--limit", "1"]);
    assert_eq!(paged["endpoints"].as_array().unwrap().len(), 1);
}

#[test]
fn endpoint_refusals_carry_the_servers_words() {
    let env = Env::with_app();
    env.seed_draft();
    // (method, path) is taken: 409 with its reason.
    let clash = env
        .run(&[
            "endpoints",
            "create",
            "again",
            "--path",
            "/chat",
            "--method",
            "POST",
            "--augmentation",
            "answer",
        ])
        .expect(3);
    assert!(
        clash
            .error_line()
            .contains("CONFLICT: endpoint_route_taken"),
        "{}",
        clash.stderr
    );
    // A bad path: the 422's location and message.
    let invalid = env
        .run(&[
            "endpoints",
            "create",
            "bad",
            "--path",
            "no-slash",
            "--method",
            "GET",
            "--augmentation",
            "answer",
        ])
        .expect(3);
    let line = invalid.error_line();
    assert!(
        line.contains("body.path") && line.contains("HTTP 422"),
        "{line}"
    );
    // Required fields left out are the server's to name.
    let missing = env.run(&["endpoints", "create", "bare"]).expect(3);
    assert!(
        missing.error_line().contains("body.path"),
        "{}",
        missing.stderr
    );
    // Local mistakes are usage errors, before anything is sent.
    env.run(&["endpoints", "create", "x", "--input-schema", "{not json"])
        .expect(2);
    env.run(&["endpoints", "update", "chat"]).expect(2);
    env.run(&[
        "endpoints",
        "create",
        "x",
        "--augmentation",
        "nope",
        "--path",
        "/x",
        "--method",
        "GET",
    ])
    .expect(3);
}

#[test]
fn augmentations_take_stages_from_files_and_refuse_deletion_while_used() {
    let env = Env::with_app();
    let stages = env.dir.path().join("stages.json");
    std::fs::write(
        &stages,
        r#"[{"name": "fetch", "execution_mode": "parallel",
             "steps": [{"name": "docs", "type": "source_query", "config": {"k": 5}, "timeout_seconds": 10},
                       {"name": "memory", "type": "memory_query", "config": {}}]}]"#,
    )
    .unwrap();
    let stages_flag = format!("@{}", stages.display());
    let created = env.ok(&[
        "augmentations",
        "create",
        "retrieve",
        "--stages",
        &stages_flag,
        "--tag",
        "rag",
        "--tag",
        "beta",
        "--template",
    ]);
    assert!(
        created
            .stdout
            .contains("Created augmentation retrieve (aug_"),
        "{}",
        created.stdout
    );

    let shown = env.ok(&["augmentations", "show", "retrieve"]).stdout;
    assert!(shown.contains("Tags:        rag,beta"), "{shown}");
    assert!(shown.contains("Template:    yes"), "{shown}");
    assert!(shown.contains("1. fetch (parallel)"), "{shown}");
    assert!(
        shown.contains("docs") && shown.contains("source_query") && shown.contains("10s"),
        "{shown}"
    );

    // A whole body from a file, with a flag laid over it.
    let body = env.dir.path().join("body.json");
    std::fs::write(
        &body,
        r#"{"name": "from-file", "description": "in the file", "tags": ["x"]}"#,
    )
    .unwrap();
    let made = env.json(&[
        "augmentations",
        "create",
        "-f",
        body.to_str().unwrap(),
        "--description",
        "from the flag",
    ]);
    assert_eq!(made["name"], "from-file");
    assert_eq!(made["description"], "from the flag");
    assert_eq!(made["tags"], serde_json::json!(["x"]));

    let patched = env.json(&[
        "augmentations",
        "update",
        "from-file",
        "--no-tags",
        "--template",
        "false",
    ]);
    assert_eq!(patched["tags"], serde_json::json!([]));
    assert_eq!(patched["is_template"], false);

    let list = env.ok(&["augmentations", "list"]).stdout;
    let names: Vec<String> = rows(&list).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["retrieve", "from-file"], "{list}");

    env.ok(&[
        "endpoints",
        "create",
        "ask",
        "--path",
        "/ask",
        "--method",
        "POST",
        "--augmentation",
        "retrieve",
    ]);
    let refused = env.run(&["augmentations", "delete", "retrieve"]).expect(3);
    assert!(
        refused.error_line().contains("CONFLICT") && refused.error_line().contains("HTTP 409"),
        "{}",
        refused.stderr
    );
    env.ok(&["endpoints", "delete", "ask"]);
    let deleted = env.ok(&["augmentations", "delete", "retrieve"]);
    assert!(
        deleted.stdout.contains("Deleted augmentation retrieve"),
        "{}",
        deleted.stdout
    );

    let bad_step = env
        .run(&[
            "augmentations",
            "create",
            "broken",
            "--stages",
            r#"[{"name": "s", "steps": [{"name": "x", "type": "teleport"}]}]"#,
        ])
        .expect(3);
    assert!(
        bad_step.error_line().contains("HTTP 422"),
        "{}",
        bad_step.stderr
    );
    env.run(&[
        "augmentations",
        "create",
        "x",
        "--stages",
        "@/nonexistent/stages.json",
    ])
    .expect(2);
}
