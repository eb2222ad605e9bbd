//! Snapshots of an app's draft: the content hash that identifies what a release
//! contains, and the change log that says how one snapshot differs from another.
//!
//! The hash covers content, not bookkeeping: ids, names and configuration of every
//! endpoint and augmentation, but not who changed them when. Two drafts that would
//! behave the same hash the same, so `draft_has_changes` and "no changes" in a change
//! log mean what a user expects. Objects are written as canonical JSON (keys sorted,
//! no whitespace) before hashing, so the hash never depends on serializer settings.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::{Augmentation, Endpoint};

/// An app's draft at one instant, entities ordered by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub endpoints: Vec<Endpoint>,
    pub augmentations: Vec<Augmentation>,
}

fn endpoint_content(endpoint: &Endpoint) -> Value {
    json!({
        "endpoint_id": endpoint.endpoint_id,
        "name": endpoint.name,
        "path": endpoint.path,
        "method": endpoint.method,
        "description": endpoint.description,
        "endpoint_type": endpoint.endpoint_type,
        "augmentation_id": endpoint.augmentation_id,
        "input_schema": endpoint.input_schema,
    })
}

fn augmentation_content(augmentation: &Augmentation) -> Value {
    json!({
        "augmentation_id": augmentation.augmentation_id,
        "name": augmentation.name,
        "description": augmentation.description,
        "stages": augmentation.stages,
        "tags": augmentation.tags,
        "is_template": augmentation.is_template,
    })
}

/// Writes `value` as JSON with object keys sorted and no insignificant whitespace.
pub fn write_canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (index, (key, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical_json(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

impl Snapshot {
    /// Sorts entities by id, the order every snapshot is kept and hashed in.
    pub fn new(mut endpoints: Vec<Endpoint>, mut augmentations: Vec<Augmentation>) -> Self {
        endpoints.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        augmentations.sort_by(|a, b| a.augmentation_id.cmp(&b.augmentation_id));
        Self {
            endpoints,
            augmentations,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty() && self.augmentations.is_empty()
    }

    /// Hex SHA-256 of the canonical content.
    pub fn content_hash(&self) -> String {
        let content = json!({
            "endpoints": self.endpoints.iter().map(endpoint_content).collect::<Vec<_>>(),
            "augmentations": self.augmentations.iter().map(augmentation_content).collect::<Vec<_>>(),
        });
        let mut canonical = String::new();
        write_canonical_json(&content, &mut canonical);
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// How `current` differs from `previous`, one line per entity, endpoints first, then
/// augmentations, each group ordered by name. Entities are matched by id, so a rename
/// is a change, not a removal plus an addition. `previous_label` names the release
/// compared against (`v1 (#1)`); `None` means this is the first release.
pub fn change_log(previous: Option<(&Snapshot, &str)>, current: &Snapshot) -> String {
    let Some((previous, label)) = previous else {
        if current.is_empty() {
            return "Initial release (empty draft)".to_owned();
        }
        let mut lines = vec!["Initial release".to_owned()];
        lines.extend(diff_lines(&Snapshot::default(), current));
        return lines.join("\n");
    };
    let lines = diff_lines(previous, current);
    if lines.is_empty() {
        return no_changes_since(label);
    }
    let mut text = format!("Changes since {label}:");
    for line in lines {
        let _ = write!(text, "\n{line}");
    }
    text
}

/// The change log of a snapshot with the same content hash as the release it follows
/// (`label`): what [`change_log`] says of identical snapshots, known without comparing
/// them entity by entity.
pub fn no_changes_since(label: &str) -> String {
    format!("No changes since {label}")
}

fn endpoint_label(endpoint: &Endpoint) -> String {
    format!(
        "endpoint \"{}\" ({} {})",
        endpoint.name, endpoint.method, endpoint.path
    )
}

fn augmentation_label(augmentation: &Augmentation) -> String {
    format!("augmentation \"{}\"", augmentation.name)
}

fn diff_lines(previous: &Snapshot, current: &Snapshot) -> Vec<String> {
    let mut lines = diff_group(
        &previous.endpoints,
        &current.endpoints,
        |e| e.endpoint_id.as_str(),
        |e| &e.name,
        endpoint_content,
        endpoint_label,
    );
    lines.extend(diff_group(
        &previous.augmentations,
        &current.augmentations,
        |a| a.augmentation_id.as_str(),
        |a| &a.name,
        augmentation_content,
        augmentation_label,
    ));
    lines
}

fn diff_group<T>(
    previous: &[T],
    current: &[T],
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &String,
    content: impl Fn(&T) -> Value,
    label: impl Fn(&T) -> String,
) -> Vec<String> {
    let before: BTreeMap<&str, &T> = previous.iter().map(|item| (id(item), item)).collect();
    let after: BTreeMap<&str, &T> = current.iter().map(|item| (id(item), item)).collect();
    // (name, id) keeps the order total even if two entities ever shared a name.
    let mut lines: Vec<((String, String), String)> = Vec::new();
    for (key, old) in &before {
        match after.get(key) {
            None => lines.push((
                (name(old).clone(), key.to_string()),
                format!("- removed {}", label(old)),
            )),
            Some(new) => {
                let changed = changed_fields(&content(old), &content(new));
                if !changed.is_empty() {
                    let mut line = format!("~ changed {}: {}", label(new), changed.join(", "));
                    if name(old) != name(new) {
                        let _ = write!(line, " (was \"{}\")", name(old));
                    }
                    lines.push(((name(new).clone(), key.to_string()), line));
                }
            }
        }
    }
    for (key, new) in &after {
        if !before.contains_key(key) {
            lines.push((
                (name(new).clone(), key.to_string()),
                format!("+ added {}", label(new)),
            ));
        }
    }
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect()
}

fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Vec::new();
    };
    let mut fields: Vec<String> = new
        .iter()
        .filter(|(key, value)| old.get(*key) != Some(value))
        .map(|(key, _)| key.clone())
        .collect();
    fields.sort();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AugmentationId, EndpointId};
    use crate::timestamp::Timestamp;
    use crate::values::{EndpointType, HttpMethod};

    /// Found by the property tests: without serde_json's `float_roundtrip` feature
    /// its parser may miss the nearest double by one unit, so a client's
    /// `9.256460180946923e+123` was kept (and hashed, and answered) as
    /// `9.256460180946925e+123`, and a double written back did not always read
    /// back as itself.
    #[test]
    fn json_numbers_are_kept_exactly_as_sent() {
        let sent = r#"{"x":9.256460180946923e+123}"#;
        let value: Value = serde_json::from_str(sent).unwrap();
        assert_eq!(value["x"].as_f64(), Some(9.256460180946923e123));
        let mut canonical = String::new();
        write_canonical_json(&value, &mut canonical);
        assert_eq!(canonical, sent);
        assert_eq!(serde_json::from_str::<Value>(&canonical).unwrap(), value);
    }

    fn augmentation(name: &str) -> Augmentation {
        Augmentation {
            augmentation_id: AugmentationId::generate(),
            name: name.to_owned(),
            description: None,
            stages: vec![],
            tags: vec![],
            is_template: false,
            created_at: Timestamp::from_micros(1),
            created_by: "tok_a".into(),
            updated_at: Timestamp::from_micros(1),
            updated_by: "tok_a".into(),
        }
    }

    fn endpoint(name: &str, path: &str, augmentation: &Augmentation) -> Endpoint {
        Endpoint {
            endpoint_id: EndpointId::generate(),
            name: name.to_owned(),
            path: path.to_owned(),
            method: HttpMethod::Post,
            description: None,
            endpoint_type: EndpointType::Sync,
            augmentation_id: augmentation.augmentation_id.clone(),
            input_schema: None,
            created_at: Timestamp::from_micros(1),
            created_by: "tok_a".into(),
            updated_at: Timestamp::from_micros(1),
            updated_by: "tok_a".into(),
        }
    }

    #[test]
    fn the_hash_ignores_bookkeeping_and_order_but_not_content() {
        let pipeline = augmentation("rag");
        let chat = endpoint("chat", "/chat", &pipeline);
        let search = endpoint("search", "/search", &pipeline);
        let one = Snapshot::new(vec![chat.clone(), search.clone()], vec![pipeline.clone()]);
        let mut touched = search.clone();
        touched.updated_at = Timestamp::from_micros(99);
        touched.updated_by = "tok_b".into();
        let two = Snapshot::new(vec![touched, chat.clone()], vec![pipeline.clone()]);
        assert_eq!(one.content_hash(), two.content_hash());
        let mut moved = search;
        moved.path = "/find".into();
        let three = Snapshot::new(vec![chat, moved], vec![pipeline]);
        assert_ne!(one.content_hash(), three.content_hash());
        assert_eq!(one.content_hash().len(), 64);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value = json!({"b": 1, "a": {"d": [1, {"z": null, "y": "x"}], "c": true}});
        let mut out = String::new();
        write_canonical_json(&value, &mut out);
        assert_eq!(out, r#"{"a":{"c":true,"d":[1,{"y":"x","z":null}]},"b":1}"#);
    }

    #[test]
    fn change_log_names_added_removed_and_changed_entities() {
        let pipeline = augmentation("rag");
        let chat = endpoint("chat", "/chat", &pipeline);
        let old = endpoint("old", "/old", &pipeline);
        let before = Snapshot::new(vec![chat.clone(), old], vec![pipeline.clone()]);
        let mut renamed = chat.clone();
        renamed.name = "talk".into();
        renamed.path = "/talk".into();
        let fresh = endpoint("fresh", "/fresh", &pipeline);
        let extra = augmentation("summarise");
        let after = Snapshot::new(vec![renamed, fresh], vec![pipeline, extra]);
        assert_eq!(
            change_log(Some((&before, "v1 (#1)")), &after),
            "Changes since v1 (#1):\n\
             + added endpoint \"fresh\" (POST /fresh)\n\
             - removed endpoint \"old\" (POST /old)\n\
             ~ changed endpoint \"talk\" (POST /talk): name, path (was \"chat\")\n\
             + added augmentation \"summarise\""
        );
        assert_eq!(
            change_log(Some((&after, "v2 (#2)")), &after),
            "No changes since v2 (#2)"
        );
    }

    #[test]
    fn first_release_lists_everything_as_added() {
        let pipeline = augmentation("rag");
        let snapshot = Snapshot::new(vec![], vec![pipeline]);
        assert_eq!(
            change_log(None, &snapshot),
            "Initial release\n+ added augmentation \"rag\""
        );
        assert_eq!(
            change_log(None, &Snapshot::default()),
            "Initial release (empty draft)"
        );
    }
}
