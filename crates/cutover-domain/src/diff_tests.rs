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

/// The change log a release carries (from digests alone) and the diff (from values)
/// agree on what changed: the same entities added, removed and changed, and for each
/// changed one the same content fields (a pipeline's places all belong to `stages`).
#[test]
fn the_change_log_and_the_diff_agree() {
    use crate::digest::{EntityDigest, Manifest, ManifestEntry, change_log};
    const A: &str = "ep_000000000000000000000000a0";
    const B: &str = "ep_000000000000000000000000b0";
    const C: &str = "ep_000000000000000000000000c0";
    let before_endpoints = [
        endpoint(A, "chat", "/chat", "2026-12-01T00:00:00Z"),
        endpoint(B, "old", "/old", "2026-12-01T00:00:00Z"),
    ];
    let after_endpoints = [
        endpoint(A, "talk", "/talk", "2026-12-02T00:00:00Z"),
        endpoint(C, "new", "/new", "2026-12-02T00:00:00Z"),
    ];
    let before_augmentations = [augmentation(json!([
        {"name": "answer", "execution_mode": "sequential", "steps": [step("llm", "m1")]},
    ]))];
    let after_augmentations = [augmentation(json!([
        {"name": "answer", "execution_mode": "sequential", "steps": [step("llm", "m2")]},
    ]))];
    let manifest = |endpoints: &[Endpoint], augmentations: &[Augmentation]| {
        let mut entries: Vec<ManifestEntry> = endpoints
            .iter()
            .map(|e| ManifestEntry::endpoint(e, EntityDigest::of_endpoint(e)))
            .collect();
        entries.extend(
            augmentations
                .iter()
                .map(|a| ManifestEntry::augmentation(a, EntityDigest::of_augmentation(a))),
        );
        Manifest::new(entries)
    };
    let log = change_log(
        Some((
            &manifest(&before_endpoints, &before_augmentations),
            "v1 (#1)",
        )),
        &manifest(&after_endpoints, &after_augmentations),
    );
    let diff = between(
        content(&before_endpoints, &before_augmentations),
        content(&after_endpoints, &after_augmentations),
    );
    let lines: Vec<&str> = log.lines().skip(1).collect();
    let count = |mark: &str| lines.iter().filter(|l| l.starts_with(mark)).count();
    let added = diff.counts.endpoints.added + diff.counts.augmentations.added;
    let removed = diff.counts.endpoints.removed + diff.counts.augmentations.removed;
    let changed = diff.counts.endpoints.changed + diff.counts.augmentations.changed;
    assert_eq!(
        (count("+ "), count("- "), count("~ ")),
        (added, removed, changed),
        "{log}"
    );
    // Each changed line's fields, as the change log lists them.
    let logged: Vec<Vec<String>> = lines
        .iter()
        .filter(|l| l.starts_with("~ "))
        .map(|l| {
            let fields = l.split_once(": ").map_or("", |(_, f)| f);
            let fields = fields.split(" (was").next().unwrap_or("");
            let mut names: Vec<String> = fields.split(", ").map(str::to_owned).collect();
            names.sort();
            names
        })
        .collect();
    let top_level = |change: &EntityChange| {
        let mut names: Vec<String> = change
            .fields
            .iter()
            .map(|f| f.field.split(['[', '.']).next().unwrap_or("").to_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let diffed: Vec<Vec<String>> = diff
        .endpoints
        .changed
        .iter()
        .chain(&diff.augmentations.changed)
        .map(top_level)
        .collect();
    assert_eq!(logged, diffed, "{log}");
    assert_eq!(logged, [vec!["name", "path"], vec!["stages"]], "{log}");
}
