use serde_json::json;

use super::*;

fn endpoint(id: &str, name: &str, path: &str, updated_at: &str) -> Endpoint {
    serde_json::from_value(json!({
        "endpoint_id": id, "name": name, "path": path, "method": "GET",
        "description": null, "endpoint_type": "sync",
        "augmentation_id": "aug_00000000000000000000000000", "input_schema": null,
        "created_at": "2026-12-01T00:00:00Z", "created_by": "alice",
        "updated_at": updated_at, "updated_by": "alice"
    }))
    .expect("an endpoint")
}

fn augmentation(stages: Value) -> Augmentation {
    serde_json::from_value(json!({
        "augmentation_id": "aug_00000000000000000000000000", "name": "rag",
        "description": null, "stages": stages, "tags": [], "is_template": false,
        "created_at": "2026-12-01T00:00:00Z", "created_by": "alice",
        "updated_at": "2026-12-01T00:00:00Z", "updated_by": "alice"
    }))
    .expect("an augmentation")
}

fn step(name: &str, model: &str) -> Value {
    json!({"name": name, "type": "inference", "config": {"model": model},
           "timeout_seconds": 30, "max_retries": 0})
}

fn content<'a>(endpoints: &'a [Endpoint], augmentations: &'a [Augmentation]) -> Content<'a> {
    Content {
        endpoints,
        augmentations,
    }
}

fn fields(change: &EntityChange) -> Vec<(&str, &Value, &Value)> {
    change
        .fields
        .iter()
        .map(|f| (f.field.as_str(), &f.old, &f.new))
        .collect()
}

#[test]
fn endpoints_match_by_id_and_bookkeeping_is_not_a_change() {
    const A: &str = "ep_000000000000000000000000a0";
    const B: &str = "ep_000000000000000000000000b0";
    const C: &str = "ep_000000000000000000000000c0";
    let before = [
        endpoint(A, "chat", "/chat", "2026-12-01T00:00:00Z"),
        endpoint(B, "old", "/old", "2026-12-01T00:00:00Z"),
    ];
    let after = [
        endpoint(A, "talk", "/chat", "2026-12-02T00:00:00Z"),
        endpoint(C, "new", "/new", "2026-12-02T00:00:00Z"),
    ];
    let diff = between(content(&before, &[]), content(&after, &[]));
    assert!(!diff.identical);
    assert_eq!(diff.endpoints.added, [after[1].clone()]);
    assert_eq!(diff.endpoints.removed, [before[1].clone()]);
    let [renamed] = diff.endpoints.changed.as_slice() else {
        panic!("one change: {:?}", diff.endpoints.changed);
    };
    assert_eq!((renamed.id.as_str(), renamed.name.as_str()), (A, "talk"));
    assert_eq!(fields(renamed), [("name", &json!("chat"), &json!("talk"))]);
    assert_eq!(
        diff.counts.endpoints,
        KindCounts {
            added: 1,
            removed: 1,
            changed: 1
        }
    );

    let touched = [endpoint(A, "chat", "/chat", "2026-12-09T00:00:00Z")];
    let same = between(content(&before[..1], &[]), content(&touched, &[]));
    assert!(same.identical, "only updated_at differs: {same:?}");
}

#[test]
fn stages_and_steps_compare_by_name_and_position() {
    let before = [augmentation(json!([
        {"name": "retrieve", "execution_mode": "sequential", "steps": [step("search", "s1")]},
        {"name": "answer", "execution_mode": "sequential",
         "steps": [step("llm", "m1"), step("check", "c1")]},
    ]))];
    let after = [augmentation(json!([
        {"name": "answer", "execution_mode": "parallel",
         "steps": [step("check", "c1"), step("llm", "m2")]},
        {"name": "cite", "execution_mode": "sequential", "steps": []},
    ]))];
    let diff = between(content(&[], &before), content(&[], &after));
    let [changed] = diff.augmentations.changed.as_slice() else {
        panic!("one change: {diff:?}");
    };
    let named: Vec<&str> = changed.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        named,
        [
            "stages[answer].position",
            "stages[answer].execution_mode",
            "stages[answer].steps[check].position",
            "stages[answer].steps[llm].position",
            "stages[answer].steps[llm].config",
            "stages[cite]",
            "stages[retrieve]",
        ]
    );
    let config = &changed.fields[4];
    assert_eq!(
        (&config.old, &config.new),
        (&json!({"model": "m1"}), &json!({"model": "m2"}))
    );
    assert_eq!(changed.fields[5].old, Value::Null);
    assert_eq!(changed.fields[6].new, Value::Null);
}

#[test]
fn a_repeated_name_is_told_apart_by_its_occurrence() {
    let before = [augmentation(json!([
        {"name": "s", "execution_mode": "sequential", "steps": [step("x", "a"), step("x", "b")]},
    ]))];
    let after = [augmentation(json!([
        {"name": "s", "execution_mode": "sequential", "steps": [step("x", "a"), step("x", "c")]},
    ]))];
    let diff = between(content(&[], &before), content(&[], &after));
    let named: Vec<&str> = diff.augmentations.changed[0]
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(named, ["stages[s].steps[x#2].config"]);
}

#[test]
fn a_snapshot_compared_with_itself_is_identical() {
    let endpoints = [endpoint(
        "ep_000000000000000000000000a0",
        "chat",
        "/chat",
        "2026-12-01T00:00:00Z",
    )];
    let augmentations = [augmentation(json!([]))];
    let diff = between(
        content(&endpoints, &augmentations),
        content(&endpoints, &augmentations),
    );
    assert!(diff.identical);
    assert_eq!(diff.counts.augmentations.changed, 0);
}
