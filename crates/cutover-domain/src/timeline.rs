//! The app's timeline: what a commit (one draft write) records, how a change's field
//! diff is computed and bounded, the commit's message, and the event that a commit, a
//! release cut, archive or delete, or a deployment becomes on the timeline. Backends
//! store each event in the transaction of the write it records and read them back
//! newest first; these rules decide what goes in them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::deployment::Deployment;
use crate::digest::EntityKind;
use crate::ids::CommitId;
use crate::model::{Augmentation, Endpoint, ReleaseSummary};
use crate::timestamp::Timestamp;

/// The most bytes of JSON one side of a field's change keeps; a longer value is kept
/// as its digest and size (`{"sha256": …, "bytes": …}`), so a timeline page stays
/// small however large the draft's entities are.
pub const MAX_DIFF_VALUE_BYTES: usize = 1024;

/// Fields every entity carries that are bookkeeping, not content: never in a diff
/// (nor is the entity's own id; an endpoint's `augmentation_id` is content).
const BOOKKEEPING: &[&str] = &["created_at", "created_by", "updated_at", "updated_by"];

/// The field that holds an entity's own id.
fn id_field(entity_type: EntityKind) -> &'static str {
    match entity_type {
        EntityKind::Endpoint => "endpoint_id",
        EntityKind::Augmentation => "augmentation_id",
    }
}

/// What a draft write did to its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChangeOperation {
    Create,
    Update,
    Delete,
}

impl ChangeOperation {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
            Self::Delete => "Delete",
        }
    }
}

/// One field of an entity, before and after (null where there was none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub old: Value,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub new: Value,
}

/// What one draft write changed: the entity, the operation and the fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// `endpoint` or `augmentation`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub entity_type: EntityKind,
    pub entity_id: String,
    pub entity_name: String,
    pub operation: ChangeOperation,
    pub change_diff: Vec<FieldChange>,
}

impl Change {
    /// The change from `old` to `new` (each the entity as the API answers it; `None`
    /// before a create and after a delete): every content field that differs, in
    /// field order, each side bounded by [`MAX_DIFF_VALUE_BYTES`].
    pub fn between(
        entity_type: EntityKind,
        entity_id: &str,
        old: Option<&Map<String, Value>>,
        new: Option<&Map<String, Value>>,
    ) -> Self {
        let operation = match (old, new) {
            (None, _) => ChangeOperation::Create,
            (Some(_), None) => ChangeOperation::Delete,
            (Some(_), Some(_)) => ChangeOperation::Update,
        };
        let empty = Map::new();
        let (before, after) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
        fields.sort();
        fields.dedup();
        let change_diff = fields
            .into_iter()
            .filter(|field| {
                !BOOKKEEPING.contains(&field.as_str()) && field.as_str() != id_field(entity_type)
            })
            .filter_map(|field| {
                let (was, is) = (before.get(field), after.get(field));
                (was != is).then(|| FieldChange {
                    field: field.clone(),
                    old: bounded(was),
                    new: bounded(is),
                })
            })
            .collect();
        let entity_name = after
            .get("name")
            .or_else(|| before.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Self {
            entity_type,
            entity_id: entity_id.to_owned(),
            entity_name,
            operation,
            change_diff,
        }
    }

    /// The change one write made to an endpoint (`None` before a create, after a
    /// delete).
    pub fn of_endpoint(old: Option<&Endpoint>, new: Option<&Endpoint>) -> Self {
        let id = new
            .or(old)
            .map(|e| e.endpoint_id.as_str())
            .unwrap_or_default();
        Self::between(
            EntityKind::Endpoint,
            id,
            old.map(as_object).as_ref(),
            new.map(as_object).as_ref(),
        )
    }

    /// The change one write made to an augmentation.
    pub fn of_augmentation(old: Option<&Augmentation>, new: Option<&Augmentation>) -> Self {
        let id = new
            .or(old)
            .map(|a| a.augmentation_id.as_str())
            .unwrap_or_default();
        Self::between(
            EntityKind::Augmentation,
            id,
            old.map(as_object).as_ref(),
            new.map(as_object).as_ref(),
        )
    }

    /// `Update augmentation "rag": stages, tags`, `Create endpoint "chat"`.
    pub fn summary(&self) -> String {
        let kind = match self.entity_type {
            EntityKind::Endpoint => "endpoint",
            EntityKind::Augmentation => "augmentation",
        };
        let mut text = format!("{} {kind} \"{}\"", self.operation.verb(), self.entity_name);
        if self.operation == ChangeOperation::Update {
            let fields: Vec<&str> = self.change_diff.iter().map(|c| c.field.as_str()).collect();
            match fields.is_empty() {
                true => text.push_str(": no content changed"),
                false => {
                    text.push_str(": ");
                    text.push_str(&fields.join(", "));
                }
            }
        }
        text
    }
}

/// An entity as its answers show it, field by field.
fn as_object<T: Serialize>(entity: &T) -> Map<String, Value> {
    match serde_json::to_value(entity) {
        Ok(Value::Object(fields)) => fields,
        // Entities are structs, which always encode as objects.
        _ => Map::new(),
    }
}

/// A value as a diff keeps it: itself when its JSON is short, else its digest and
/// size; null when the field was not there.
fn bounded(value: Option<&Value>) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    let text = value.to_string();
    if text.len() <= MAX_DIFF_VALUE_BYTES {
        return value.clone();
    }
    json!({
        "sha256": hex::encode(Sha256::digest(text.as_bytes())),
        "bytes": text.len(),
    })
}

/// One draft write, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commit {
    pub commit_id: CommitId,
    pub message: String,
    pub author: String,
    pub changes: Vec<Change>,
}

impl Commit {
    /// The commit of one draft write by `author`: its message says what changed.
    pub fn of(author: &str, change: Change) -> Self {
        Self {
            commit_id: CommitId::generate(),
            message: change.summary(),
            author: author.to_owned(),
            changes: vec![change],
        }
    }
}

/// What an event on the timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Commit,
    Release,
    Deployment,
}

impl EventType {
    /// Its name on the wire (and in the stores' `event_type` column).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Release => "release",
            Self::Deployment => "deployment",
        }
    }
}

/// What happened to a release, as its timeline event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReleaseAction {
    /// Cut from the draft.
    Cut,
    Archive,
    Delete,
}

impl ReleaseAction {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cut => "cut",
            Self::Archive => "archive",
            Self::Delete => "delete",
        }
    }
}

/// A release event: the release as it was once `action` was done (for a delete, as it
/// was just before), and who did it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineRelease {
    #[serde(flatten)]
    pub summary: ReleaseSummary,
    pub action: ReleaseAction,
    pub action_by: String,
    /// Why, as the archive or delete said (null for a cut, and for events kept
    /// before reasons were).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<String>,
}

/// One event of the app's timeline, as the platform shapes it: `type` says which of
/// `commit`, `release` and `deployment` is set; the other two are null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub timestamp: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub commit: Option<Commit>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub release: Option<TimelineRelease>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub deployment: Option<Deployment>,
}

impl TimelineEvent {
    pub fn commit(commit: Commit, at: Timestamp) -> Self {
        Self {
            event_type: EventType::Commit,
            timestamp: at,
            commit: Some(commit),
            release: None,
            deployment: None,
        }
    }

    /// A release cut, archived or deleted by `by` at `at`: the release as it was then.
    pub fn release(
        summary: ReleaseSummary,
        action: ReleaseAction,
        by: &str,
        reason: Option<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            event_type: EventType::Release,
            timestamp: at,
            commit: None,
            release: Some(TimelineRelease {
                summary,
                action,
                action_by: by.to_owned(),
                reason,
            }),
            deployment: None,
        }
    }

    pub fn deployment(deployment: Deployment) -> Self {
        Self {
            event_type: EventType::Deployment,
            timestamp: deployment.deployed_at,
            commit: None,
            release: None,
            deployment: Some(deployment),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn an_update_lists_the_content_fields_that_differ_and_not_the_bookkeeping() {
        let old = object(
            json!({"augmentation_id": "aug_1", "name": "rag", "tags": ["a"],
            "description": null, "updated_at": "then", "updated_by": "alice"}),
        );
        let new = object(
            json!({"augmentation_id": "aug_1", "name": "rag", "tags": ["a", "b"],
            "description": "now", "updated_at": "now", "updated_by": "bob"}),
        );
        let change = Change::between(EntityKind::Augmentation, "aug_1", Some(&old), Some(&new));
        assert_eq!(change.operation, ChangeOperation::Update);
        let fields: Vec<&str> = change
            .change_diff
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(fields, ["description", "tags"]);
        assert_eq!(change.change_diff[1].old, json!(["a"]));
        assert_eq!(change.change_diff[1].new, json!(["a", "b"]));
        assert_eq!(
            change.summary(),
            "Update augmentation \"rag\": description, tags"
        );
    }

    #[test]
    fn each_name_is_the_one_on_the_wire() {
        let named = |value: Value, name: &str| assert_eq!(value, Value::from(name));
        for operation in [
            ChangeOperation::Create,
            ChangeOperation::Update,
            ChangeOperation::Delete,
        ] {
            named(json!(operation), operation.as_str());
        }
        for event in [EventType::Commit, EventType::Release, EventType::Deployment] {
            named(json!(event), event.as_str());
        }
        for action in [
            ReleaseAction::Cut,
            ReleaseAction::Archive,
            ReleaseAction::Delete,
        ] {
            named(json!(action), action.as_str());
        }
    }

    #[test]
    fn a_create_and_a_delete_diff_against_nothing() {
        let endpoint = object(
            json!({"endpoint_id": "ep_1", "name": "chat", "path": "/chat",
            "augmentation_id": "aug_1"}),
        );
        let created = Change::between(EntityKind::Endpoint, "ep_1", None, Some(&endpoint));
        assert_eq!(created.operation, ChangeOperation::Create);
        let fields: Vec<&str> = created
            .change_diff
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["augmentation_id", "name", "path"],
            "its own id is not content"
        );
        assert!(created.change_diff.iter().all(|c| c.old == Value::Null));
        assert_eq!(created.summary(), "Create endpoint \"chat\"");
        let deleted = Change::between(EntityKind::Endpoint, "ep_1", Some(&endpoint), None);
        assert_eq!(deleted.operation, ChangeOperation::Delete);
        assert_eq!(deleted.entity_name, "chat");
        assert!(deleted.change_diff.iter().all(|c| c.new == Value::Null));
    }

    #[test]
    fn a_large_value_is_kept_as_its_digest_and_size() {
        let big = "x".repeat(MAX_DIFF_VALUE_BYTES * 4);
        let old = object(json!({"name": "rag", "stages": []}));
        let new = object(json!({"name": "rag", "stages": [{"name": big}]}));
        let change = Change::between(EntityKind::Augmentation, "aug_1", Some(&old), Some(&new));
        let kept = &change.change_diff[0].new;
        assert_eq!(
            kept["bytes"].as_u64(),
            Some(new["stages"].to_string().len() as u64)
        );
        assert_eq!(kept["sha256"].as_str().map(str::len), Some(64));
        assert_eq!(change.change_diff[0].old, json!([]));
    }

    #[test]
    fn an_event_sets_only_its_own_object() {
        let change = Change::between(EntityKind::Endpoint, "ep_1", None, None);
        let commit = Commit::of("alice", change);
        assert_eq!(commit.message, "Create endpoint \"\"");
        let event = TimelineEvent::commit(commit, Timestamp::from_micros(1));
        let shown = serde_json::to_value(&event).expect("json");
        assert_eq!(shown["type"], "commit");
        assert_eq!(
            (shown["release"].clone(), shown["deployment"].clone()),
            (Value::Null, Value::Null)
        );
    }
}
