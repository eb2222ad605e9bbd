//! `cutover releases diff FROM TO`: what changed between two snapshots, as the
//! server's diff API answers it (`GET …/releases/{TO}/diff?against=FROM`, or
//! `…/draft/diff` when TO is `@draft`), so the CLI and the API compare with one piece
//! of code (`cutover_domain::diff`). Printed for people, or as the API's answer with
//! each side's selector added (`--output json`, shape in docs/CLI.md).

use serde_json::{Value, json};

use super::context::Ctx;
use super::error::{CliError, CliResult};
use super::output::print;
use super::selector::{Selector, find};

pub fn run(ctx: &Ctx, from: &str, to: &str) -> CliResult {
    let from_selector = Selector::parse(from)?;
    let to_selector = Selector::parse(to)?;
    let app = ctx.app_path()?;
    let against = match &from_selector {
        Selector::Draft => "draft".to_owned(),
        other => find(ctx, other)?.to_string(),
    };
    let path = match &to_selector {
        Selector::Draft => format!("{app}/draft/diff"),
        other => format!("{app}/releases/{}/diff", find(ctx, other)?),
    };
    let mut diff = ctx.api.get(&path, &[("against", against)])?.json()?;
    for (side, selector) in [("from", from), ("to", to)] {
        if let Some(side) = diff.get_mut(side).and_then(Value::as_object_mut) {
            side.insert("selector".to_owned(), json!(selector));
        }
    }
    if ctx.json() {
        let text = serde_json::to_string_pretty(&diff)
            .map_err(|e| CliError::local(format!("cannot encode JSON: {e}")))?;
        return print(&format!("{text}\n"));
    }
    print(&render(&diff))
}

/// The diff API's answer for people: "Comparing v1 (#1) → v2 (#2)" and each kind's
/// added, removed and changed entities, or that nothing differs.
pub(super) fn render(diff: &Value) -> String {
    let (from, to) = (side_label(&diff["from"]), side_label(&diff["to"]));
    if diff["identical"] == json!(true) {
        return format!("No differences between {from} and {to}.\n");
    }
    let mut text = format!("Comparing {from} → {to}\n");
    render_kind(&mut text, "Endpoints", &diff["endpoints"], endpoint_brief);
    render_kind(
        &mut text,
        "Augmentations",
        &diff["augmentations"],
        augmentation_brief,
    );
    text
}

/// `v1 (#1)`, `the draft` (`v3 (#3) as it would be cut`, in a dry run), or `nothing`.
fn side_label(side: &Value) -> String {
    match side["kind"].as_str() {
        Some("draft") => match side["release_tag"].as_str() {
            Some(tag) => format!("{tag} (#{}) as it would be cut", side["release_number"]),
            None => "the draft".to_owned(),
        },
        Some("release") => format!(
            "{} (#{})",
            side["release_tag"].as_str().unwrap_or("?"),
            side["release_number"]
        ),
        _ => "nothing".to_owned(),
    }
}

fn items(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
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

fn render_kind(text: &mut String, title: &str, diff: &Value, brief: fn(&Value) -> String) {
    text.push_str(&format!("\n{title}:\n"));
    let (added, removed, changed) = (
        items(&diff["added"]),
        items(&diff["removed"]),
        items(&diff["changed"]),
    );
    if added.is_empty() && removed.is_empty() && changed.is_empty() {
        text.push_str("  (no changes)\n");
        return;
    }
    let names = added
        .iter()
        .chain(removed)
        .chain(changed)
        .map(|item| text_of(item, "name"));
    let width = names.map(|n| n.chars().count()).max().unwrap_or(0);
    let line = |mark: char, name: &str, rest: &str| {
        let pad = " ".repeat(width - name.chars().count());
        format!("  {mark} {name}{pad}  {rest}\n")
    };
    for item in added {
        text.push_str(&line('+', &text_of(item, "name"), &brief(item)));
    }
    for item in removed {
        text.push_str(&line('-', &text_of(item, "name"), &brief(item)));
    }
    for entity in changed {
        for (i, field) in items(&entity["fields"]).iter().enumerate() {
            let (a, b) = (brief_value(&field["old"]), brief_value(&field["new"]));
            let name = text_of(field, "field");
            let what = if a == b {
                format!("{name}: changed")
            } else {
                format!("{name}: {a} → {b}")
            };
            if i == 0 {
                text.push_str(&line('~', &text_of(entity, "name"), &what));
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
    fn long_values_are_summarised() {
        assert_eq!(brief_value(&json!("/chat")), "\"/chat\"");
        assert_eq!(brief_value(&json!(vec![0; 40])), "[40 items]");
        assert!(brief_value(&json!("x".repeat(100))).ends_with('…'));
    }

    #[test]
    fn a_changed_entity_reads_one_line_per_field() {
        let diff = json!({"added": [], "removed": [], "changed": [{"id": "ep_1", "name": "chat",
            "fields": [{"field": "method", "old": "POST", "new": "PUT"},
                       {"field": "path", "old": "/chat", "new": "/v2/chat"}]}]});
        let mut text = String::new();
        render_kind(&mut text, "Endpoints", &diff, endpoint_brief);
        assert_eq!(
            text,
            "\nEndpoints:\n  ~ chat  method: \"POST\" → \"PUT\"\n          path: \"/chat\" → \"/v2/chat\"\n"
        );
    }
}
