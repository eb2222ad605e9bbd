//! What changed between two snapshots (two releases, or a release and the draft),
//! field by field: endpoints and augmentations matched by id (so a rename is a change
//! of `name`), every content field compared (never the `created_*` / `updated_*`
//! bookkeeping), and an augmentation's stages and steps compared by name and
//! position, so a changed step config reads as that step's `config`, not as a whole
//! new `stages` list. The diff API and the CLI's `releases diff` answer this.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{Augmentation, Endpoint};
use crate::timeline::FieldChange;

/// Fields that say who touched an entity and when, not what it does.
const BOOKKEEPING: [&str; 4] = ["created_at", "created_by", "updated_at", "updated_by"];

/// One snapshot's content.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub endpoints: &'a [Endpoint],
    pub augmentations: &'a [Augmentation],
}

/// An entity in both snapshots whose content differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityChange {
    pub id: String,
    /// Its name in the newer snapshot.
    pub name: String,
    /// Each field that differs (`old` or `new` null where the thing is absent); in
    /// an augmentation's pipeline the field is its place, such as
    /// `stages[answer].steps[llm].config` or `stages[answer].position`. Values are
    /// whole, not cut as the timeline's are.
    pub fields: Vec<FieldChange>,
}

/// How one kind of entity differs; each list is ordered by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindDiff<T> {
    /// Whole, as the newer snapshot has them.
    pub added: Vec<T>,
    /// Whole, as the older snapshot had them.
    pub removed: Vec<T>,
    pub changed: Vec<EntityChange>,
}

/// How many of each kind were added, removed and changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindCounts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffCounts {
    pub endpoints: KindCounts,
    pub augmentations: KindCounts,
}

/// Everything that differs from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentDiff {
    pub identical: bool,
    pub endpoints: KindDiff<Endpoint>,
    pub augmentations: KindDiff<Augmentation>,
    pub counts: DiffCounts,
}

impl<T> KindDiff<T> {
    fn counts(&self) -> KindCounts {
        KindCounts {
            added: self.added.len(),
            removed: self.removed.len(),
            changed: self.changed.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares two snapshots.
pub fn between(from: Content<'_>, to: Content<'_>) -> ContentDiff {
    let endpoints = compare(
        from.endpoints,
        to.endpoints,
        |e| e.endpoint_id.as_str(),
        |e| e.name.as_str(),
        endpoint_fields,
    );
    let augmentations = compare(
        from.augmentations,
        to.augmentations,
        |a| a.augmentation_id.as_str(),
        |a| a.name.as_str(),
        augmentation_fields,
    );
    ContentDiff {
        identical: endpoints.is_empty() && augmentations.is_empty(),
        counts: DiffCounts {
            endpoints: endpoints.counts(),
            augmentations: augmentations.counts(),
        },
        endpoints,
        augmentations,
    }
}

fn compare<T: Clone>(
    from: &[T],
    to: &[T],
    id: impl Fn(&T) -> &str,
    name: impl Fn(&T) -> &str,
    fields: impl Fn(&T, &T) -> Vec<FieldChange>,
) -> KindDiff<T> {
    let before: BTreeMap<&str, &T> = from.iter().map(|entity| (id(entity), entity)).collect();
    let after: BTreeMap<&str, &T> = to.iter().map(|entity| (id(entity), entity)).collect();
    let mut diff = KindDiff {
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (key, new) in &after {
        match before.get(key) {
            None => diff.added.push((*new).clone()),
            Some(old) => {
                let changed = fields(old, new);
                if !changed.is_empty() {
                    diff.changed.push(EntityChange {
                        id: (*key).to_owned(),
                        name: name(new).to_owned(),
                        fields: changed,
                    });
                }
            }
        }
    }
    for (key, old) in &before {
        if !after.contains_key(key) {
            diff.removed.push((*old).clone());
        }
    }
    diff.added.sort_by(|a, b| name(a).cmp(name(b)));
    diff.removed.sort_by(|a, b| name(a).cmp(name(b)));
    diff.changed.sort_by(|a, b| a.name.cmp(&b.name));
    diff
}

/// An entity's JSON members, without its id, its bookkeeping and `skip`.
fn members(entity: &impl Serialize, id_field: &str, skip: &[&str]) -> Map<String, Value> {
    let mut object = match serde_json::to_value(entity) {
        Ok(Value::Object(object)) => object,
        _ => Map::new(),
    };
    object.retain(|key, _| {
        key != id_field && !BOOKKEEPING.contains(&key.as_str()) && !skip.contains(&key.as_str())
    });
    object
}

/// Every member that differs between `old` and `new`, named `prefix` + its key, in
/// `new`'s order and then the ones only `old` has.
fn compare_members(
    prefix: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (key, value) in new {
        let before = old.get(key).unwrap_or(&Value::Null);
        if before != value {
            changes.push(FieldChange {
                field: format!("{prefix}{key}"),
                old: before.clone(),
                new: value.clone(),
            });
        }
    }
    for (key, value) in old {
        if !new.contains_key(key) {
            changes.push(FieldChange {
                field: format!("{prefix}{key}"),
                old: value.clone(),
                new: Value::Null,
            });
        }
    }
    changes
}

fn endpoint_fields(old: &Endpoint, new: &Endpoint) -> Vec<FieldChange> {
    compare_members(
        "",
        &members(old, "endpoint_id", &[]),
        &members(new, "endpoint_id", &[]),
    )
}

fn augmentation_fields(old: &Augmentation, new: &Augmentation) -> Vec<FieldChange> {
    let mut changes = compare_members(
        "",
        &members(old, "augmentation_id", &["stages"]),
        &members(new, "augmentation_id", &["stages"]),
    );
    let stages = |augmentation: &Augmentation| -> Vec<(String, Value)> {
        augmentation
            .stages
            .iter()
            .map(|stage| {
                (
                    stage.name.clone(),
                    serde_json::to_value(stage).unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    compare_named(
        "stages",
        &stages(old),
        &stages(new),
        &mut changes,
        &|prefix, old, new, out| {
            let steps = |stage: &Value| -> Vec<(String, Value)> {
                stage["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|step| (step["name"].as_str().unwrap_or("").to_owned(), step.clone()))
                    .collect()
            };
            let member_map = |stage: &Value, skip: &[&str]| -> Map<String, Value> {
                let mut object = stage.as_object().cloned().unwrap_or_default();
                object.retain(|key, _| !skip.contains(&key.as_str()));
                object
            };
            out.extend(compare_members(
                &format!("{prefix}."),
                &member_map(old, &["name", "steps"]),
                &member_map(new, &["name", "steps"]),
            ));
            compare_named(
                &format!("{prefix}.steps"),
                &steps(old),
                &steps(new),
                out,
                &|prefix, old, new, out| {
                    out.extend(compare_members(
                        &format!("{prefix}."),
                        &member_map(old, &["name"]),
                        &member_map(new, &["name"]),
                    ));
                },
            );
        },
    );
    changes
}

/// What is compared inside an item found on both sides: its place (`stages[a]`),
/// the old and the new item, and where the changes go.
type ItemCompare<'a> = dyn Fn(&str, &Value, &Value, &mut Vec<FieldChange>) + 'a;

/// Items of a list matched by name (the second item of a name is `name#2`): one
/// change for each added or removed item (`list[name]`), one for each item that
/// moved (`list[name].position`), and what `inner` finds in each item in both.
fn compare_named(
    list: &str,
    old: &[(String, Value)],
    new: &[(String, Value)],
    out: &mut Vec<FieldChange>,
    inner: &ItemCompare<'_>,
) {
    let keyed = |items: &[(String, Value)]| -> Vec<(String, usize, Value)> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        items
            .iter()
            .enumerate()
            .map(|(position, (name, value))| {
                let nth = seen.entry(name.as_str()).or_insert(0);
                *nth += 1;
                let key = if *nth == 1 {
                    name.clone()
                } else {
                    format!("{name}#{nth}")
                };
                (key, position, value.clone())
            })
            .collect()
    };
    let (old, new) = (keyed(old), keyed(new));
    let find = |items: &[(String, usize, Value)], key: &str| {
        items
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, p, v)| (*p, v.clone()))
    };
    for (key, position, value) in &new {
        let at = format!("{list}[{key}]");
        match find(&old, key) {
            None => out.push(FieldChange {
                field: at,
                old: Value::Null,
                new: value.clone(),
            }),
            Some((before, old_value)) => {
                if before != *position {
                    out.push(FieldChange {
                        field: format!("{at}.position"),
                        old: before.into(),
                        new: (*position).into(),
                    });
                }
                inner(&at, &old_value, value, out);
            }
        }
    }
    for (key, _, value) in &old {
        if find(&new, key).is_none() {
            out.push(FieldChange {
                field: format!("{list}[{key}]"),
                old: value.clone(),
                new: Value::Null,
            });
        }
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
