//! Canonical JSON (`snapshot::write_canonical_json`, what content hashes are taken
//! of): for any JSON a client can send, the output parses back to an equal value, is
//! a fixed point (canonical of the re-parsed value is the same text), and does not
//! depend on the order of object keys.
#![no_main]

use cutover_domain::snapshot::write_canonical_json;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical_json(value, &mut out);
    out
}

/// `value` with the keys of every object in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map.iter().rev() {
                out.insert(key.clone(), reversed(item));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        scalar => scalar.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let text = canonical(&value);
    let back: Value = serde_json::from_str(&text).expect("canonical JSON parses");
    assert_eq!(
        back, value,
        "canonical JSON reads back as another value: {text}"
    );
    assert_eq!(
        canonical(&back),
        text,
        "canonical JSON is not a fixed point"
    );
    assert_eq!(
        canonical(&reversed(&value)),
        text,
        "key order changed the text"
    );
});
