//! Input validation in FastAPI's 422 shape: one [`Issue`] per problem, with
//! Pydantic's type names, `loc` starting at `body`, `query`, `path` or `header`. [`Fields`]
//! walks a JSON object, parses each field through the domain's parsers and collects
//! every problem instead of stopping at the first (keeping the first few and counting
//! the rest, [`Problems`]); each entry echoes a bounded copy of its input ([`Echo`]).

use cutover_domain::values::Violation;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::http::echo::{Echo, cut};
use crate::http::error::ApiError;
use crate::http::problems::Problems;

/// The most bytes of a message that quotes client text.
const MAX_MESSAGE_BYTES: usize = 512;

/// One entry of `{"detail": [...]}`: where the problem is, what it is, and the
/// input that caused it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Issue {
    /// The path to the problem: `body`, `query`, `path` or `header`, then field names and
    /// list indexes.
    #[schema(schema_with = loc_schema)]
    pub loc: Vec<Value>,
    /// What is wrong, for people.
    pub msg: String,
    /// Pydantic's name for the problem (`missing`, `string_too_long`, `enum`, …).
    #[serde(rename = "type")]
    #[schema(value_type = String, examples("string_too_long"))]
    pub kind: &'static str,
    /// The offending value (any JSON), bounded: a value over 256 bytes of JSON is
    /// cut (a string, ending in `…`) or summarized (`{"truncated": "array" |
    /// "object", "length": N}`).
    #[schema(value_type = Value)]
    pub input: Value,
    /// The rule's parameters (`max_length`, `pattern`, `expected`, …).
    #[schema(value_type = HashMap<String, Value>)]
    pub ctx: Map<String, Value>,
}

fn loc_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    utoipa::openapi::ArrayBuilder::new()
        .items(
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .min_items(Some(1))
        .examples([json!(["body", "release_tag"])])
        .build()
}

fn ctx(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// `'a', 'b' or 'c'`, the way Pydantic lists expected values.
fn expected_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl Issue {
    /// An entry echoing a bounded copy of `input` ([`Echo`]).
    pub fn new(
        loc: Vec<Value>,
        kind: &'static str,
        msg: impl Into<String>,
        input: &(impl Echo + ?Sized),
    ) -> Self {
        Self {
            loc,
            msg: msg.into(),
            kind,
            input: input.echo(),
            ctx: Map::new(),
        }
    }

    pub fn with_ctx(mut self, entries: impl IntoIterator<Item = (&'static str, Value)>) -> Self {
        self.ctx = ctx(entries);
        self
    }

    pub fn missing(loc: Vec<Value>, input: &(impl Echo + ?Sized)) -> Self {
        Self::new(loc, "missing", "Field required", input)
    }

    pub fn value_error(loc: Vec<Value>, message: &str, input: &(impl Echo + ?Sized)) -> Self {
        let message = cut(message, MAX_MESSAGE_BYTES);
        Self::new(loc, "value_error", format!("Value error, {message}"), input)
            .with_ctx([("error", Value::String(message))])
    }

    /// Pydantic's `too_long` for a list with more than `max` items: one entry for
    /// the list, so its items are never looked at.
    pub fn too_many_items(loc: Vec<Value>, max: usize, items: &Value) -> Self {
        let actual = items.as_array().map_or(0, Vec::len);
        Self::new(
            loc,
            "too_long",
            format!("List should have at most {max} items after validation, not {actual}"),
            items,
        )
        .with_ctx([
            ("field_type", "List".into()),
            ("max_length", max.into()),
            ("actual_length", actual.into()),
        ])
    }

    pub fn from_violation(
        loc: Vec<Value>,
        violation: Violation,
        input: &(impl Echo + ?Sized),
    ) -> Self {
        match violation {
            Violation::TooShort { min } => Self::new(
                loc,
                "string_too_short",
                format!(
                    "String should have at least {min} character{}",
                    if min == 1 { "" } else { "s" }
                ),
                input,
            )
            .with_ctx([("min_length", min.into())]),
            Violation::TooLong { max } => Self::new(
                loc,
                "string_too_long",
                format!("String should have at most {max} characters"),
                input,
            )
            .with_ctx([("max_length", max.into())]),
            Violation::Pattern { pattern, meaning } => Self::new(
                loc,
                "string_pattern_mismatch",
                format!("String should match pattern '{pattern}' ({meaning})"),
                input,
            )
            .with_ctx([("pattern", pattern.into())]),
            Violation::NotOneOf { expected } => {
                let list = expected_list(expected);
                Self::new(loc, "enum", format!("Input should be {list}"), input)
                    .with_ctx([("expected", list.into())])
            }
            Violation::BelowMinimum { minimum } => Self::new(
                loc,
                "greater_than_equal",
                format!("Input should be greater than or equal to {minimum}"),
                input,
            )
            .with_ctx([("ge", minimum.into())]),
            Violation::AboveMaximum { maximum } => Self::new(
                loc,
                "less_than_equal",
                format!("Input should be less than or equal to {maximum}"),
                input,
            )
            .with_ctx([("le", maximum.into())]),
            Violation::Invalid(message) => Self::value_error(loc, &message, input),
        }
    }
}

/// Why a JSON value is not an integer, in Pydantic's terms.
enum NotAnInteger {
    /// Not a number at all (`int_type`).
    Type,
    /// A number with a fractional part (`int_from_float`).
    Fraction,
}

impl NotAnInteger {
    fn issue(self, loc: Vec<Value>, input: &Value) -> Issue {
        match self {
            Self::Type => Issue::new(loc, "int_type", "Input should be a valid integer", input),
            Self::Fraction => Issue::new(
                loc,
                "int_from_float",
                "Input should be a valid integer, got a number with a fractional part",
                input,
            ),
        }
    }
}

/// The integer a JSON value stands for: an integer, or a finite number with no
/// fractional part (`3.0`). Magnitudes beyond `i64` saturate, so range checks still
/// say which bound they cross.
fn integral(value: &Value) -> Result<i64, NotAnInteger> {
    let Value::Number(number) = value else {
        return Err(NotAnInteger::Type);
    };
    if let Some(small) = number.as_i64() {
        return Ok(small);
    }
    if number.as_u64().is_some() {
        return Ok(i64::MAX);
    }
    match number.as_f64() {
        // `as` saturates at the bounds of i64.
        Some(float) if float.is_finite() && float.fract() == 0.0 => Ok(float as i64),
        _ => Err(NotAnInteger::Fraction),
    }
}

/// Parses a request body as a JSON object, or says why it is not one.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::Validation(
            Issue::missing(vec!["body".into()], &Value::Null).into(),
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::Validation(
            Issue::new(
                vec!["body".into()],
                "model_type",
                "Input should be a valid dictionary or object to extract fields from",
                &other,
            )
            .into(),
        )),
        Err(error) => Err(ApiError::Validation(
            Issue::new(
                vec!["body".into(), json!(error.column())],
                "json_invalid",
                "JSON decode error",
                &json!({}),
            )
            .with_ctx([("error", Value::String(error.to_string()))])
            .into(),
        )),
    }
}

/// A JSON object being validated: typed getters that record every problem.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    loc: Vec<Value>,
    problems: Problems,
}

impl<'a> Fields<'a> {
    pub fn body(object: &'a Map<String, Value>) -> Self {
        Self::at(object, vec!["body".into()])
    }

    pub fn at(object: &'a Map<String, Value>, loc: Vec<Value>) -> Self {
        Self {
            object,
            loc,
            problems: Problems::new(),
        }
    }

    pub fn loc(&self, key: &str) -> Vec<Value> {
        let mut loc = self.loc.clone();
        loc.push(key.into());
        loc
    }

    pub fn push(&mut self, issue: Issue) {
        self.problems.push(issue);
    }

    pub fn absorb(&mut self, problems: Problems) {
        self.problems.append(problems);
    }

    /// `None` when the field is absent; `Some(Value::Null)` when it is null.
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.object.contains_key(key)
    }

    fn require(&mut self, key: &str) -> Option<&'a Value> {
        let value = self.object.get(key);
        if value.is_none() {
            self.push(Issue::missing(self.loc(key), self.object));
        }
        value
    }

    fn as_str(&mut self, key: &str, value: &'a Value) -> Option<&'a str> {
        match value {
            Value::String(text) => Some(text),
            other => {
                self.push(Issue::new(
                    self.loc(key),
                    "string_type",
                    "Input should be a valid string",
                    other,
                ));
                None
            }
        }
    }

    fn parse<T>(
        &mut self,
        key: &str,
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, Violation>,
    ) -> Option<T> {
        match parse(text) {
            Ok(value) => Some(value),
            Err(violation) => {
                self.push(Issue::from_violation(self.loc(key), violation, text));
                None
            }
        }
    }

    /// A required string field, parsed.
    pub fn required<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, Violation>,
    ) -> Option<T> {
        let value = self.require(key)?;
        let text = self.as_str(key, value)?;
        self.parse(key, text, parse)
    }

    /// An optional string field that may not be null: absent → `Some(None)`.
    /// `None` means the field was invalid (the problem is recorded).
    pub fn optional<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, Violation>,
    ) -> Option<Option<T>> {
        match self.raw(key) {
            None => Some(None),
            Some(value) => {
                let text = self.as_str(key, value)?;
                self.parse(key, text, parse).map(Some)
            }
        }
    }

    /// An optional, nullable string field, for patches: absent → `Some(None)`,
    /// null → `Some(Some(None))`.
    pub fn nullable<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, Violation>,
    ) -> Option<Option<Option<T>>> {
        match self.raw(key) {
            None => Some(None),
            Some(Value::Null) => Some(Some(None)),
            Some(value) => {
                let text = self.as_str(key, value)?;
                self.parse(key, text, parse).map(|v| Some(Some(v)))
            }
        }
    }

    /// An optional boolean.
    pub fn bool(&mut self, key: &str) -> Option<Option<bool>> {
        match self.raw(key) {
            None => Some(None),
            Some(Value::Bool(flag)) => Some(Some(*flag)),
            Some(other) => {
                self.push(Issue::new(
                    self.loc(key),
                    "bool_type",
                    "Input should be a valid boolean",
                    other,
                ));
                None
            }
        }
    }

    /// An optional integer within `[minimum, maximum]`. As in Pydantic (and JSON
    /// Schema, where `1.0` is an integer), a number with no fractional part counts
    /// as that integer; one with a fractional part is `int_from_float`.
    pub fn int(&mut self, key: &str, minimum: i64, maximum: i64) -> Option<Option<i64>> {
        let Some(value) = self.raw(key) else {
            return Some(None);
        };
        let checked = match integral(value) {
            Ok(number) => cutover_domain::values::check_range(number, minimum, maximum)
                .map_err(|violation| Issue::from_violation(self.loc(key), violation, value)),
            Err(kind) => Err(kind.issue(self.loc(key), value)),
        };
        match checked {
            Ok(number) => Some(Some(number)),
            Err(issue) => {
                self.push(issue);
                None
            }
        }
    }

    /// An optional JSON object (`null` allowed when `nullable`).
    pub fn object(
        &mut self,
        key: &str,
        nullable: bool,
    ) -> Option<Option<Option<&'a Map<String, Value>>>> {
        match self.raw(key) {
            None => Some(None),
            Some(Value::Null) if nullable => Some(Some(None)),
            Some(Value::Object(map)) => Some(Some(Some(map))),
            Some(other) => {
                self.push(Issue::new(
                    self.loc(key),
                    "dict_type",
                    "Input should be a valid dictionary",
                    other,
                ));
                None
            }
        }
    }

    /// A free-form JSON object field (a step's `config`, an `input_schema`, an app's
    /// `parameters`), refused when it nests deeper than `max_depth`, so that every value
    /// the server accepts can be stored inside a release and read back.
    pub fn json_object(
        &mut self,
        key: &str,
        nullable: bool,
        max_depth: usize,
    ) -> Option<Option<Option<&'a Map<String, Value>>>> {
        let found = self.object(key, nullable)?;
        if let Some(Some(map)) = found {
            let depth = cutover_domain::limits::json_object_depth(map);
            if depth > max_depth {
                self.push(
                    Issue::new(
                        self.loc(key),
                        "json_too_deep",
                        format!("JSON value should nest at most {max_depth} levels deep"),
                        &json!({"depth": depth}),
                    )
                    .with_ctx([("max_depth", max_depth.into())]),
                );
                return None;
            }
        }
        Some(found)
    }

    /// An optional JSON array of at most `max_items` items. A longer one is one
    /// `too_long` problem, checked before anything looks at its items.
    pub fn array(&mut self, key: &str, max_items: usize) -> Option<Option<&'a Vec<Value>>> {
        match self.raw(key) {
            None => Some(None),
            Some(Value::Array(items)) if items.len() <= max_items => Some(Some(items)),
            Some(list @ Value::Array(_)) => {
                self.push(Issue::too_many_items(self.loc(key), max_items, list));
                None
            }
            Some(other) => {
                self.push(Issue::new(
                    self.loc(key),
                    "list_type",
                    "Input should be a valid list",
                    other,
                ));
                None
            }
        }
    }

    /// Ends validation: the collected problems, if any, as one 422.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.problems))
        }
    }

    pub fn into_problems(self) -> Problems {
        self.problems
    }
}

/// Unwraps the values a [`Fields`] pass produced once it reported no problem.
/// Every `None` here is backed by a recorded issue, so `finish` has already failed.
pub fn present<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("validation produced no value and no issue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_read_like_pydantic() {
        assert_eq!(expected_list(&["a", "b", "c"]), "'a', 'b' or 'c'");
        assert_eq!(expected_list(&["a"]), "'a'");
    }

    #[test]
    fn every_problem_is_reported() {
        let object = json!({"name": 5, "flag": "yes"})
            .as_object()
            .cloned()
            .unwrap();
        let mut fields = Fields::body(&object);
        fields.required("name", |t| Ok(t.to_owned()));
        fields.required("tag", |t| Ok(t.to_owned()));
        fields.bool("flag");
        let kinds: Vec<&str> = fields
            .into_problems()
            .kept()
            .iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, ["string_type", "missing", "bool_type"]);
    }

    #[test]
    fn integers_may_be_written_as_whole_floats() {
        let object = json!({"a": 3.0, "b": 2.5, "c": "3", "d": 1e30, "e": 7})
            .as_object()
            .cloned()
            .unwrap();
        let mut fields = Fields::body(&object);
        assert_eq!(fields.int("a", 0, 10), Some(Some(3)));
        assert_eq!(fields.int("b", 0, 10), None);
        assert_eq!(fields.int("c", 0, 10), None);
        assert_eq!(fields.int("d", 0, 10), None);
        assert_eq!(fields.int("e", 0, 10), Some(Some(7)));
        assert_eq!(fields.int("absent", 0, 10), Some(None));
        let kinds: Vec<&str> = fields
            .into_problems()
            .kept()
            .iter()
            .map(|i| i.kind)
            .collect();
        assert_eq!(kinds, ["int_from_float", "int_type", "less_than_equal"]);
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused() {
        assert!(matches!(parse_object(b"[1]"), Err(ApiError::Validation(_))));
        assert!(matches!(parse_object(b"{"), Err(ApiError::Validation(_))));
        assert!(parse_object(b"{}").is_ok());
    }
}
