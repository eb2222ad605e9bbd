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
    CanonicalObject::of_endpoint(endpoint).text
}

/// An augmentation's content as canonical JSON.
pub fn canonical_augmentation(augmentation: &Augmentation) -> String {
    CanonicalObject::of_augmentation(augmentation).text
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
    let mut bytes = std::mem::take(out).into_bytes();
    write_canonical_bytes(value, &mut bytes, None);
    *out = String::from_utf8(bytes).expect("JSON text is UTF-8");
}

/// An object's canonical JSON and, for each of its members, where the member's value
/// lies in it: the text a digest hashes whole, and the texts of its fields, from one
/// pass over the value.
pub struct CanonicalObject {
    pub text: String,
    members: Vec<(String, std::ops::Range<usize>)>,
}

impl CanonicalObject {
    pub fn of_endpoint(endpoint: &Endpoint) -> Self {
        Self::of(&endpoint_content(endpoint))
    }

    pub fn of_augmentation(augmentation: &Augmentation) -> Self {
        Self::of(&augmentation_content(augmentation))
    }

    pub fn of(value: &Value) -> Self {
        let mut bytes = Vec::new();
        let mut members = Vec::new();
        write_canonical_bytes(value, &mut bytes, Some(&mut members));
        Self {
            text: String::from_utf8(bytes).expect("JSON text is UTF-8"),
            members,
        }
    }

    /// Each member's name and its value's canonical JSON, in key order (none when the
    /// value was not an object).
    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members
            .iter()
            .map(|(name, range)| (name.as_str(), &self.text[range.clone()]))
    }
}

/// Writes `value`'s canonical JSON straight into `out` (serde_json writes each scalar
/// and key, so escaping is exactly `Value`'s own); with `members`, records where each
/// value of a top-level object lies.
fn write_canonical_bytes(
    value: &Value,
    out: &mut Vec<u8>,
    mut members: Option<&mut Vec<(String, std::ops::Range<usize>)>>,
) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push(b'{');
            for (index, (key, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_json(out, key);
                out.push(b':');
                let start = out.len();
                write_canonical_bytes(item, out, None);
                if let Some(members) = members.as_deref_mut() {
                    members.push((key.clone(), start..out.len()));
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical_bytes(item, out, None);
            }
            out.push(b']');
        }
        scalar => write_json(out, scalar),
    }
}

/// Appends a key or scalar as serde_json writes it (compact).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("a key or scalar always serializes");
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

    /// Canonical JSON as it was first written (each key and scalar through
    /// `Value::to_string`): stored digests were made with it, so the one-pass writer
    /// must produce the same bytes.
    fn reference_canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                let members: Vec<String> = sorted
                    .into_iter()
                    .map(|(key, item)| {
                        format!(
                            "{}:{}",
                            Value::String(key.clone()),
                            reference_canonical(item)
                        )
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(reference_canonical).collect();
                format!("[{}]", items.join(","))
            }
            scalar => scalar.to_string(),
        }
    }

    #[test]
    fn one_pass_canonical_text_and_members_match_the_reference() {
        let awkward = json!({
            "z\"q": "quote \" backslash \\ control \u{1} tab \t é 🚀 \u{2028}",
            "n": [0, -0.0, 1.5, 1e300, -12345678901234567890i128 as f64, u64::MAX, i64::MIN],
            "a": {"y": [null, true, false, {}, []], "x": {"é": "ü", "E": 1}},
            "": "",
        });
        let pipeline = augmentation("rag");
        let chat = endpoint("chat", "/chat", &pipeline);
        for value in [
            awkward,
            json!({}),
            json!([1, {"b": 2, "a": 1}]),
            json!("top-level string"),
            augmentation_content(&pipeline),
            endpoint_content(&chat),
        ] {
            let canonical = CanonicalObject::of(&value);
            assert_eq!(canonical.text, reference_canonical(&value), "{value}");
            let members: Vec<(String, String)> = canonical
                .members()
                .map(|(name, text)| (name.to_owned(), text.to_owned()))
                .collect();
            let expected: Vec<(String, String)> = match &value {
                Value::Object(map) => {
                    let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                    sorted
                        .into_iter()
                        .map(|(key, item)| (key.clone(), reference_canonical(item)))
                        .collect()
                }
                _ => Vec::new(),
            };
            assert_eq!(members, expected, "{value}");
        }
    }
}
