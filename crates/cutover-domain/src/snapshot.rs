//! Snapshots of an app's draft and the content hash that identifies what a release
//! contains (how one snapshot differs from another is in `digest`).
//!
//! The hash covers content, not bookkeeping: ids, names and configuration of every
//! endpoint and augmentation, but not who changed them when. Two drafts that would
//! behave the same hash the same, so `draft_has_changes` and "no changes" in a change
//! log mean what a user expects. Objects are written as canonical JSON (keys sorted,
//! no whitespace) before hashing, so the hash never depends on serializer settings.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::model::{Augmentation, Endpoint};

/// An app's draft at one instant, entities ordered by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub endpoints: Vec<Endpoint>,
    pub augmentations: Vec<Augmentation>,
}

pub(crate) fn endpoint_content(endpoint: &Endpoint) -> Value {
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

pub(crate) fn augmentation_content(augmentation: &Augmentation) -> Value {
    json!({
        "augmentation_id": augmentation.augmentation_id,
        "name": augmentation.name,
        "description": augmentation.description,
        "stages": augmentation.stages,
        "tags": augmentation.tags,
        "is_template": augmentation.is_template,
    })
}

/// An endpoint's content as canonical JSON: what its part of the content hash covers.
pub fn canonical_endpoint(endpoint: &Endpoint) -> String {
    let mut text = String::new();
    write_canonical_json(&endpoint_content(endpoint), &mut text);
    text
}

/// An augmentation's content as canonical JSON.
pub fn canonical_augmentation(augmentation: &Augmentation) -> String {
    let mut text = String::new();
    write_canonical_json(&augmentation_content(augmentation), &mut text);
    text
}

/// The content hash of a snapshot from its entities' canonical texts, each list
/// ordered by id: the SHA-256 of `{"augmentations":[…],"endpoints":[…]}`, streamed
/// from the parts, so a store that keeps each entity's canonical text hashes a
/// release without decoding anything.
pub fn content_hash_of<E: AsRef<str>, A: AsRef<str>>(
    endpoints: &[E],
    augmentations: &[A],
) -> String {
    let mut hasher = Sha256::new();
    let list = |hasher: &mut Sha256, items: &mut dyn Iterator<Item = &str>| {
        hasher.update(b"[");
        for (index, item) in items.enumerate() {
            if index > 0 {
                hasher.update(b",");
            }
            hasher.update(item.as_bytes());
        }
        hasher.update(b"]");
    };
    hasher.update(br#"{"augmentations":"#);
    list(&mut hasher, &mut augmentations.iter().map(AsRef::as_ref));
    hasher.update(br#","endpoints":"#);
    list(&mut hasher, &mut endpoints.iter().map(AsRef::as_ref));
    hasher.update(b"}");
    hex::encode(hasher.finalize())
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
        let endpoints: Vec<String> = self.endpoints.iter().map(canonical_endpoint).collect();
        let augmentations: Vec<String> = self
            .augmentations
            .iter()
            .map(canonical_augmentation)
            .collect();
        content_hash_of(&endpoints, &augmentations)
    }

    /// The hash the way it was first written: one canonical document of the whole
    /// snapshot. Kept for the test that [`content_hash_of`] gives the same bytes.
    #[cfg(test)]
    fn whole_document_hash(&self) -> String {
        let content = json!({
            "endpoints": self.endpoints.iter().map(endpoint_content).collect::<Vec<_>>(),
            "augmentations": self.augmentations.iter().map(augmentation_content).collect::<Vec<_>>(),
        });
        let mut canonical = String::new();
        write_canonical_json(&content, &mut canonical);
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
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

    pub(crate) fn augmentation(name: &str) -> Augmentation {
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

    pub(crate) fn endpoint(name: &str, path: &str, augmentation: &Augmentation) -> Endpoint {
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
    fn the_streamed_hash_is_the_hash_of_the_whole_canonical_document() {
        let pipeline = augmentation("rag");
        let mut deep = pipeline.clone();
        deep.augmentation_id = crate::ids::AugmentationId::generate();
        deep.tags = vec!["b".into(), "a".into()];
        let chat = endpoint("chat", "/chat", &pipeline);
        for snapshot in [
            Snapshot::default(),
            Snapshot::new(vec![], vec![pipeline.clone()]),
            Snapshot::new(
                vec![chat.clone(), endpoint("x", "/x", &deep)],
                vec![pipeline, deep],
            ),
        ] {
            assert_eq!(snapshot.content_hash(), snapshot.whole_document_hash());
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let value = json!({"b": 1, "a": {"d": [1, {"z": null, "y": "x"}], "c": true}});
        let mut out = String::new();
        write_canonical_json(&value, &mut out);
        assert_eq!(out, r#"{"a":{"c":true,"d":[1,{"y":"x","z":null}]},"b":1}"#);
    }
}
