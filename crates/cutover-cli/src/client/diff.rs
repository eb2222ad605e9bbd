//! `cutover releases diff FROM TO`: what changed between two snapshots. Endpoints and
//! augmentations are matched by id (as the server's change log does, so a rename is
//! a change of `name`); for each entity in both, every field but the `created_*` /
//! `updated_*` bookkeeping is compared. Either side may be `@draft`, the app's
//! current draft. Printed for people, or as JSON (`--output json`, shape in
//! docs/CLI.md).

use std::collections::{BTreeMap, BTreeSet};

use cutover_domain::model::ReleaseSummary;
use serde_json::{Map, Value, json};

use super::args::PageArgs;
use super::context::{Ctx, parse};
use super::error::{CliError, CliResult};
use super::output::print;
use super::selector::{Selector, find, label};

/// Fields that say who touched an entity and when, not what it does.
const BOOKKEEPING: [&str; 4] = ["created_at", "created_by", "updated_at", "updated_by"];

/// One side of the comparison: a release's snapshot or the draft.
struct Side {
    selector: String,
    release: Option<ReleaseSummary>,
    endpoints: Vec<Value>,
    augmentations: Vec<Value>,
}

impl Side {
    fn label(&self) -> String {
        match &self.release {
            Some(summary) => label(summary),
            None => "the draft".to_owned(),
        }
    }

    fn describe(&self) -> Value {
        match &self.release {
            Some(summary) => json!({
                "selector": self.selector,
                "release_id": summary.release_id,
                "release_tag": summary.release_tag,
                "release_number": summary.release_number,
                "content_hash": summary.content_hash,
            }),
            None => json!({
                "selector": self.selector,
                "release_id": null,
                "release_tag": null,
                "release_number": null,
                "content_hash": null,
            }),
        }
    }
}

/// Differences of one kind of entity.
#[derive(Default)]
struct KindDiff {
    added: Vec<Value>,
    removed: Vec<Value>,
    changed: Vec<Changed>,
}

struct Changed {
    id: String,
    name: String,
    fields: Vec<String>,
    from: Map<String, Value>,
    to: Map<String, Value>,
}

impl KindDiff {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    fn to_json(&self) -> Value {
        json!({
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed.iter().map(|c| json!({
                "id": c.id,
                "name": c.name,
                "fields": c.fields,
                "from": c.from,
                "to": c.to,
            })).collect::<Vec<_>>(),
        })
    }
}

pub fn run(ctx: &Ctx, from: &str, to: &str) -> CliResult {
    let from_selector = Selector::parse(from)?;
    let to_selector = Selector::parse(to)?;
    let from = load(ctx, from, &from_selector)?;
    let to = load(ctx, to, &to_selector)?;
    let endpoints = compare(&from.endpoints, &to.endpoints, "endpoint_id");
    let augmentations = compare(&from.augmentations, &to.augmentations, "augmentation_id");
    let identical = endpoints.is_empty() && augmentations.is_empty();
    if ctx.json() {
        let document = json!({
            "from": from.describe(),
            "to": to.describe(),
            "identical": identical,
            "endpoints": endpoints.to_json(),
            "augmentations": augmentations.to_json(),
        });
        let text = serde_json::to_string_pretty(&document)
            .map_err(|e| CliError::local(format!("cannot encode JSON: {e}")))?;
        return print(&format!("{text}\n"));
    }
    if identical {
        return print(&format!(
            "No differences between {} and {}.\n",
            from.label(),
            to.label()
        ));
    }
    let mut text = format!("Comparing {} → {}\n", from.label(), to.label());
    render_kind(&mut text, "Endpoints", &endpoints, endpoint_brief);
    render_kind(
        &mut text,
        "Augmentations",
        &augmentations,
        augmentation_brief,
    );
    print(&text)
}

/// Fetches one side: the release's detail, or every endpoint and augmentation of
/// the draft.
fn load(ctx: &Ctx, text: &str, selector: &Selector) -> CliResult<Side> {
    let app = ctx.app_path()?;
    if *selector == Selector::Draft {
        let all = PageArgs {
            limit: Some(200),
            cursor: None,
            all_pages: true,
        };
        let endpoints = ctx.list(&format!("{app}/endpoints"), "endpoints", &[], &all)?;
        let augmentations =
            ctx.list(&format!("{app}/augmentations"), "augmentations", &[], &all)?;
        return Ok(Side {
            selector: text.to_owned(),
            release: None,
            endpoints: endpoints.items,
            augmentations: augmentations.items,
        });
    }
    let id = find(ctx, selector)?;
    let mut detail = ctx.api.get(&format!("{app}/releases/{id}"), &[])?.json()?;
    let mut take = |key: &str| -> CliResult<Vec<Value>> {
        detail
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .map(std::mem::take)
            .ok_or_else(|| {
                CliError::local(format!(
                    "unexpected answer from the server: a release without `{key}`"
                ))
            })
    };
    let endpoints = take("endpoints")?;
    let augmentations = take("augmentations")?;
    Ok(Side {
        selector: text.to_owned(),
        release: Some(parse(detail)?),
        endpoints,
        augmentations,
    })
}

/// Matches entities by `id_key` and lists what was added, removed and changed, each
/// ordered by name then id.
fn compare(from: &[Value], to: &[Value], id_key: &str) -> KindDiff {
    let index = |items: &[Value]| -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|item| (text_of(item, id_key), item.clone()))
            .collect()
    };
    let before = index(from);
    let after = index(to);
    let mut diff = KindDiff::default();
    for (id, item) in &after {
        match before.get(id) {
            None => diff.added.push(item.clone()),
            Some(old) => {
                if let Some(changed) = changes(id, old, item, id_key) {
                    diff.changed.push(changed);
                }
            }
        }
    }
    for (id, item) in &before {
        if !after.contains_key(id) {
            diff.removed.push(item.clone());
        }
    }
    let order = |item: &Value| (text_of(item, "name"), text_of(item, id_key));
    diff.added.sort_by_key(order);
    diff.removed.sort_by_key(order);
    diff.changed
        .sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    diff
}

/// The fields of one entity that differ, if any.
fn changes(id: &str, old: &Value, new: &Value, id_key: &str) -> Option<Changed> {
    let empty = Map::new();
    let old_map = old.as_object().unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = old_map.keys().chain(new_map.keys()).collect();
    let mut changed = Changed {
        id: id.to_owned(),
        name: text_of(new, "name"),
        fields: Vec::new(),
        from: Map::new(),
        to: Map::new(),
    };
    for key in keys {
        if key == id_key || BOOKKEEPING.contains(&key.as_str()) {
            continue;
        }
        let a = old_map.get(key).unwrap_or(&Value::Null);
        let b = new_map.get(key).unwrap_or(&Value::Null);
        if a != b {
            changed.fields.push(key.clone());
            changed.from.insert(key.clone(), a.clone());
            changed.to.insert(key.clone(), b.clone());
        }
    }
    (!changed.fields.is_empty()).then_some(changed)
}

fn text_of(item: &Value, key: &str) -> String {
    item.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn endpoint_brief(item: &Value) -> String {
    format!("{} {}", text_of(item, "method"), text_of(item, "path"))
}

fn augmentation_brief(item: &Value) -> String {
    let stages = item
        .get("stages")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    count(stages, "stage")
}

fn render_kind(text: &mut String, title: &str, diff: &KindDiff, brief: fn(&Value) -> String) {
    text.push_str(&format!("\n{title}:\n"));
    if diff.is_empty() {
        text.push_str("  (no changes)\n");
        return;
    }
    let names = diff
        .added
        .iter()
        .chain(&diff.removed)
        .map(|item| text_of(item, "name"))
        .chain(diff.changed.iter().map(|c| c.name.clone()));
    let width = names.map(|n| n.chars().count()).max().unwrap_or(0);
    let line = |mark: char, name: &str, rest: &str| {
        let pad = " ".repeat(width - name.chars().count());
        format!("  {mark} {name}{pad}  {rest}\n")
    };
    for item in &diff.added {
        text.push_str(&line('+', &text_of(item, "name"), &brief(item)));
    }
    for item in &diff.removed {
        text.push_str(&line('-', &text_of(item, "name"), &brief(item)));
    }
    for changed in &diff.changed {
        for (i, field) in changed.fields.iter().enumerate() {
            let a = brief_value(&changed.from[field]);
            let b = brief_value(&changed.to[field]);
            let what = if a == b {
                format!("{field}: changed")
            } else {
                format!("{field}: {a} → {b}")
            };
            if i == 0 {
                text.push_str(&line('~', &changed.name, &what));
            } else {
                text.push_str(&format!("    {}  {what}\n", " ".repeat(width)));
            }
        }
    }
}

/// A value short enough for one line: compact JSON up to 60 characters, else a count.
fn brief_value(value: &Value) -> String {
    const MAX: usize = 60;
    let compact = value.to_string();
    if compact.chars().count() <= MAX {
        return compact;
    }
    match value {
        Value::Array(items) => format!("[{}]", count(items.len(), "item")),
        Value::Object(map) => format!("{{{}}}", count(map.len(), "key")),
        _ => {
            let cut: String = compact.chars().take(MAX - 1).collect();
            format!("{cut}…")
        }
    }
}

/// "1 item", "2 items".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_id_and_names_the_fields() {
        let from = vec![
            json!({"endpoint_id": "ep_1", "name": "chat", "path": "/chat", "method": "POST",
                   "updated_at": "then"}),
            json!({"endpoint_id": "ep_2", "name": "gone", "path": "/gone", "method": "GET"}),
        ];
        let to = vec![
            json!({"endpoint_id": "ep_1", "name": "talk", "path": "/chat", "method": "PUT",
                   "updated_at": "now"}),
            json!({"endpoint_id": "ep_3", "name": "new", "path": "/new", "method": "GET"}),
        ];
        let diff = compare(&from, &to, "endpoint_id");
        assert_eq!(diff.added.len(), 1);
        assert_eq!(diff.removed.len(), 1);
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].fields, ["method", "name"]);
        assert_eq!(diff.changed[0].from["name"], "chat");
        assert_eq!(diff.changed[0].to["method"], "PUT");
        assert!(compare(&from, &from, "endpoint_id").is_empty());
    }

    #[test]
    fn long_values_are_summarised() {
        assert_eq!(brief_value(&json!("/chat")), "\"/chat\"");
        assert_eq!(brief_value(&json!(vec![0; 40])), "[40 items]");
        assert!(brief_value(&json!("x".repeat(100))).ends_with('…'));
    }
}
