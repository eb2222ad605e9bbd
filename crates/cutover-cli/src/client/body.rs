//! Building request bodies from flags: JSON-valued flags (`'{"a":1}'`, `@file.json`,
//! `@-` for standard input), a whole body from `--from-file`, with flags laid over
//! it; and finding a draft entity by id or by name.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use super::args::PageArgs;
use super::context::Ctx;
use super::error::{CliError, CliResult};

/// A request body under construction.
pub struct Body(Map<String, Value>);

impl Body {
    /// Starts from the JSON object in `from_file` (a path, or `-` for standard input),
    /// or from nothing.
    pub fn start(from_file: Option<&Path>) -> CliResult<Self> {
        let Some(path) = from_file else {
            return Ok(Self(Map::new()));
        };
        let text = read_source(path.to_str().unwrap_or_default(), path)?;
        match parse_json("--from-file", &text)? {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(CliError::usage(format!(
                "--from-file {}: expected a JSON object",
                path.display()
            ))),
        }
    }

    pub fn set(&mut self, key: &str, value: Option<Value>) {
        if let Some(value) = value {
            self.0.insert(key.to_owned(), value);
        }
    }

    pub fn text(&mut self, key: &str, value: Option<String>) {
        self.set(key, value.map(Value::String));
    }

    /// `--no-KEY`: sends null (clears it).
    pub fn clear_if(&mut self, key: &str, clear: bool) {
        if clear {
            self.0.insert(key.to_owned(), Value::Null);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// A flag whose value is JSON, given inline, as `@PATH`, or as `@-` (standard input).
pub fn json_flag(flag: &str, text: Option<String>) -> CliResult<Option<Value>> {
    let Some(text) = text else { return Ok(None) };
    let source = match text.strip_prefix('@') {
        Some(path) => read_source(path, Path::new(path))?,
        None => text,
    };
    parse_json(flag, &source).map(Some)
}

fn read_source(name: &str, path: &Path) -> CliResult<String> {
    if name == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

fn parse_json(flag: &str, text: &str) -> CliResult<Value> {
    serde_json::from_str(text).map_err(|e| CliError::usage(format!("{flag}: not valid JSON: {e}")))
}

/// A draft entity named on the command line: its id, and its name when known.
pub struct Named {
    pub id: String,
    pub name: Option<String>,
}

impl Named {
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// Finds an endpoint or augmentation by id (when `text` parses as one) or by name,
/// looking through every page of the draft list `kind` (`endpoints` or
/// `augmentations`).
pub fn find_in_draft(
    ctx: &Ctx,
    kind: &'static str,
    id_key: &str,
    is_id: fn(&str) -> bool,
    text: &str,
) -> CliResult<Named> {
    if is_id(text) {
        return Ok(Named {
            id: text.to_owned(),
            name: None,
        });
    }
    let all = PageArgs {
        limit: Some(200),
        cursor: None,
        all_pages: true,
    };
    let listing = ctx.list(&format!("{}/{kind}", ctx.app_path()?), kind, &[], &all)?;
    let found = listing
        .items
        .iter()
        .find(|item| item.get("name").and_then(Value::as_str) == Some(text));
    match found
        .and_then(|item| item.get(id_key))
        .and_then(Value::as_str)
    {
        Some(id) => Ok(Named {
            id: id.to_owned(),
            name: Some(text.to_owned()),
        }),
        None => Err(CliError::not_found(format!(
            "no {} named {text:?} in the app's draft",
            kind.trim_end_matches('s')
        ))),
    }
}
