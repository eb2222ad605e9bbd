//! `cutover releases diff FROM TO`: added, removed and changed endpoints and
//! augmentations with the fields that changed, for people and as JSON (the diff
//! API's answer with each side's selector); `@draft`.

use serde_json::Value;

use crate::client::harness::Env;

/// v1 from the seeded draft; then chat moves and changes method, status goes,
/// health arrives, the augmentation gets a description and a new stage: v2.
fn two_releases() -> Env {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1"]);
    env.ok(&[
        "endpoints",
        "update",
        "chat",
        "--path",
        "/v2/chat",
        "--method",
        "PUT",
    ]);
    env.ok(&["endpoints", "delete", "status"]);
    env.ok(&[
        "endpoints",
        "create",
        "health",
        "--path",
        "/health",
        "--method",
        "GET",
        "--augmentation",
        "answer",
    ]);
    env.ok(&[
        "augmentations",
        "update",
        "answer",
        "--description",
        "now described",
        "--stages",
        r#"[{"name": "respond", "steps": [{"name": "llm", "type": "inference", "config": {"model": "large"}}]},
            {"name": "check", "execution_mode": "parallel", "steps": [{"name": "approve", "type": "approval", "config": {}}]}]"#,
    ]);
    env.ok(&["releases", "create", "v2"]);
    env
}

#[test]
fn diff_lists_what_was_added_removed_and_changed_with_fields() {
    let env = two_releases();
    let text = env.ok(&["releases", "diff", "v1", "v2"]).stdout;
    assert!(text.starts_with("Comparing v1 (#1) → v2 (#2)"), "{text}");
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}:\n{text}"))
            .to_owned()
    };
    assert!(
        line("health").trim_start().starts_with("+ health"),
        "{text}"
    );
    assert!(line("health").contains("GET /health"), "{text}");
    assert!(
        line("status").trim_start().starts_with("- status"),
        "{text}"
    );
    assert!(line("chat").trim_start().starts_with("~ chat"), "{text}");
    assert!(line("method:").contains("\"POST\" → \"PUT\""), "{text}");
    assert!(line("path:").contains("\"/chat\" → \"/v2/chat\""), "{text}");
    assert!(
        line("description:").contains("null → \"now described\""),
        "{text}"
    );
    // A pipeline change reads stage by stage and step by step.
    assert!(
        line("stages[respond].steps[llm].config:")
            .contains(r#"{"model":"small"} → {"model":"large"}"#),
        "{text}"
    );
    assert!(line("stages[check]:").contains("null → {3 keys}"), "{text}");
    // Endpoints come before augmentations.
    assert!(text.find("Endpoints:").unwrap() < text.find("Augmentations:").unwrap());
    // Bookkeeping fields are not differences.
    assert!(!text.contains("updated_at"), "{text}");
}

#[test]
fn diff_json_has_the_documented_shape() {
    let env = two_releases();
    let diff = env.json(&["releases", "diff", "#1", "v2"]);
    assert_eq!(diff["from"]["selector"], "#1");
    assert_eq!(diff["from"]["release_tag"], "v1");
    assert_eq!(diff["from"]["release_number"], 1);
    assert!(
        diff["from"]["release_id"]
            .as_str()
            .unwrap()
            .starts_with("rel_")
    );
    assert_eq!(diff["from"]["content_hash"].as_str().unwrap().len(), 64);
    assert_eq!(diff["to"]["release_tag"], "v2");
    assert_eq!(diff["identical"], false);

    let endpoints = &diff["endpoints"];
    assert_eq!(endpoints["added"].as_array().unwrap().len(), 1);
    assert_eq!(endpoints["added"][0]["name"], "health");
    assert_eq!(endpoints["added"][0]["path"], "/health");
    assert_eq!(endpoints["removed"][0]["name"], "status");
    let changed = &endpoints["changed"][0];
    assert_eq!(changed["name"], "chat");
    assert!(changed["id"].as_str().unwrap().starts_with("ep_"));
    assert_eq!(
        changed["fields"],
        serde_json::json!([
            {"field": "path", "old": "/chat", "new": "/v2/chat"},
            {"field": "method", "old": "POST", "new": "PUT"},
        ])
    );
    assert_eq!(diff["counts"]["endpoints"]["changed"], 1);

    let augmentations = &diff["augmentations"];
    assert_eq!(augmentations["added"], serde_json::json!([]));
    assert_eq!(augmentations["removed"], serde_json::json!([]));
    let fields: Vec<&str> = augmentations["changed"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields[0], "description", "{fields:?}");
    assert!(
        fields[1..].iter().all(|f| f.starts_with("stages[")),
        "{fields:?}"
    );
    assert!(fields.contains(&"stages[check]"), "{fields:?}");

    // The other way round, additions and removals swap.
    let back = env.json(&["releases", "diff", "v2", "v1"]);
    assert_eq!(back["endpoints"]["added"][0]["name"], "status");
    assert_eq!(back["endpoints"]["removed"][0]["name"], "health");
    assert_eq!(back["endpoints"]["changed"][0]["fields"][0]["new"], "/chat");
}

#[test]
fn identical_snapshots_and_the_draft() {
    let env = two_releases();
    let same = env.ok(&["releases", "diff", "v2", "v2"]).stdout;
    assert_eq!(same.trim(), "No differences between v2 (#2) and v2 (#2).");
    assert_eq!(
        env.json(&["releases", "diff", "v2", "2"])["identical"],
        true
    );

    // @draft compares with what the next release would hold.
    assert_eq!(
        env.json(&["releases", "diff", "v2", "@draft"])["identical"],
        true
    );
    env.ok(&["endpoints", "update", "health", "--name", "healthz"]);
    let pending = env.json(&["releases", "diff", "v2", "@draft"]);
    assert_eq!(pending["to"]["selector"], "@draft");
    assert_eq!(pending["to"]["release_id"], Value::Null);
    assert_eq!(
        pending["endpoints"]["changed"][0]["fields"],
        serde_json::json!([{"field": "name", "old": "health", "new": "healthz"}])
    );
    assert_eq!(pending["endpoints"]["changed"][0]["name"], "healthz");
    let text = env.ok(&["releases", "diff", "@draft", "v2"]).stdout;
    assert!(text.starts_with("Comparing the draft → v2 (#2)"), "{text}");
    assert!(text.contains("name: \"healthz\" → \"health\""), "{text}");
    assert!(
        text.contains("(no changes)"),
        "augmentations did not change:\n{text}"
    );

    env.ok(&["releases", "activate", "v1"]);
    let live = env.json(&["releases", "diff", "@active", "v2"]);
    assert_eq!(live["from"]["release_tag"], "v1");

    env.run(&["releases", "diff", "v1"]).expect(2);
    env.run(&["releases", "diff", "v1", "v7"]).expect(3);
    env.run(&["releases", "diff", "v1", "@nothing"]).expect(2);
}
