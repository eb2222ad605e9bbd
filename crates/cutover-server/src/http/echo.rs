//! What a 422 entry echoes of the input that caused it: the value itself when it is
//! small, otherwise a bounded stand-in, so that no answer grows with the request.
//!
//! The rule (docs/API.md): a value whose compact JSON is at most [`MAX_ECHO_BYTES`]
//! is echoed whole; a longer string is cut to the longest prefix whose JSON fits in
//! [`MAX_ECHO_BYTES`] with `…` appended; a bigger array or object is replaced by
//! `{"truncated": "array" | "object", "length": N}` (N items or members). Deciding
//! costs at most [`MAX_ECHO_BYTES`] of encoding, however large the value is.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The most bytes of compact JSON one echoed `input` takes.
pub const MAX_ECHO_BYTES: usize = 256;

/// Something a 422 entry can echo as its `input`.
pub trait Echo {
    /// A copy of `self` of at most [`MAX_ECHO_BYTES`] (a stand-in when larger).
    fn echo(&self) -> Value;
}

impl Echo for Value {
    fn echo(&self) -> Value {
        match self {
            Value::String(text) => text.as_str().echo(),
            Value::Array(items) if !fits(self) => summary("array", items.len()),
            Value::Object(members) => members.echo(),
            small => small.clone(),
        }
    }
}

impl Echo for str {
    fn echo(&self) -> Value {
        Value::String(cut(self, MAX_ECHO_BYTES))
    }
}

impl Echo for Map<String, Value> {
    fn echo(&self) -> Value {
        if fits(self) {
            Value::Object(self.clone())
        } else {
            summary("object", self.len())
        }
    }
}

fn summary(kind: &str, length: usize) -> Value {
    json!({"truncated": kind, "length": length})
}

/// The bytes JSON takes to write `c` inside a string (serde_json's escapes).
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{08}' | '\u{0c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// `text` whole if its JSON string (quotes included) takes at most `max` bytes, else
/// its longest prefix that leaves room for the quotes and `…` within `max`, then `…`.
/// The same cut bounds messages that quote client text.
pub fn cut(text: &str, max: usize) -> String {
    const ELLIPSIS: char = '…';
    let budget = max.saturating_sub(2);
    let mut used = 0;
    let mut end = text.len();
    let mut prefix_end = 0;
    let ellipsis_room = budget.saturating_sub(ELLIPSIS.len_utf8());
    for (at, c) in text.char_indices() {
        used += escaped_len(c);
        if used <= ellipsis_room {
            prefix_end = at + c.len_utf8();
        }
        if used > budget {
            end = prefix_end;
            break;
        }
    }
    if end == text.len() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(end + ELLIPSIS.len_utf8());
    out.push_str(&text[..end]);
    out.push(ELLIPSIS);
    out
}

/// A writer that refuses to take more than `room` bytes.
struct Bounded {
    room: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if bytes.len() > self.room {
            self.room = 0;
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.room -= bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `value`'s compact JSON takes at most [`MAX_ECHO_BYTES`]. The encoding
/// stops at the first byte over, so a large value costs no more than a small one.
fn fits(value: &impl Serialize) -> bool {
    serde_json::to_writer(
        Bounded {
            room: MAX_ECHO_BYTES,
        },
        value,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded_len(value: &Value) -> usize {
        serde_json::to_vec(value).unwrap().len()
    }

    #[test]
    fn small_values_are_echoed_whole() {
        for value in [
            json!(null),
            json!(5),
            json!("a name"),
            json!([1, 2, 3]),
            json!({"name": "x", "type": "inference"}),
            json!("é".repeat(100)),
        ] {
            assert_eq!(value.echo(), value);
        }
    }

    #[test]
    fn long_strings_are_cut_within_the_bound() {
        for text in [
            "x".repeat(10_000),
            "\u{1}".repeat(1_000),
            "€".repeat(1_000),
            "\"".repeat(1_000),
            format!("{}{}", "a".repeat(250), "\u{1}".repeat(10)),
        ] {
            let echoed = Value::String(text.clone()).echo();
            let cut = echoed.as_str().unwrap();
            assert!(cut.ends_with('…'), "{cut:?}");
            assert!(text.starts_with(cut.trim_end_matches('…')));
            assert!(
                encoded_len(&echoed) <= MAX_ECHO_BYTES,
                "{}",
                encoded_len(&echoed)
            );
            assert!(encoded_len(&echoed) > MAX_ECHO_BYTES - 12, "cut too much");
        }
        // Exactly at the bound: whole.
        let at_bound = "y".repeat(MAX_ECHO_BYTES - 2);
        assert_eq!(at_bound.as_str().echo(), Value::String(at_bound.clone()));
    }

    #[test]
    fn big_containers_become_summaries() {
        let list = Value::Array(vec![json!({}); 100_000]);
        assert_eq!(
            list.echo(),
            json!({"truncated": "array", "length": 100_000})
        );
        let mut object = Map::new();
        object.insert("config".into(), json!({"blob": "z".repeat(5_000)}));
        object.insert("name".into(), json!("step"));
        assert_eq!(
            Value::Object(object.clone()).echo(),
            json!({"truncated": "object", "length": 2})
        );
        assert_eq!(object.echo(), json!({"truncated": "object", "length": 2}));
        let mut deep = json!(1);
        for _ in 0..120 {
            deep = json!([deep]);
        }
        assert_eq!(deep.echo(), deep, "121 bytes of brackets fit");
    }
}
