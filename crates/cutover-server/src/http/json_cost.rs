//! What parsing a body into `serde_json::Value` would cost in memory, estimated in
//! one pass over its bytes without allocating, so that a body can be refused before
//! it is parsed. A small body can parse into far more memory than its size: 1 MiB
//! of `{"a":0},` is 116,000 maps, each a B-tree node of about 640 bytes (75 MiB).

/// Bytes of one `serde_json::Value`, inline in its parent's list or map.
const VALUE_BYTES: usize = 32;

/// A node of `serde_json::Map` (a `BTreeMap`) holds up to this many members...
const MAP_NODE_MEMBERS: usize = 11;

/// ...and takes about this many bytes, even for one member (11 keys and values).
const MAP_NODE_BYTES: usize = 11 * (24 + VALUE_BYTES) + 32;

/// The least a heap allocation takes with glibc's malloc.
const MIN_ALLOCATION_BYTES: usize = 32;

/// serde_json refuses nesting deeper than this, so the scan need not go further.
const MAX_DEPTH: usize = 128;

/// How many bytes parsing `json` into a `serde_json::Value` allocates, about (it
/// errs high). Not a validator: for text that is not JSON the estimate is
/// meaningless, and serde_json reports the syntax error afterwards.
pub fn parsed_bytes(json: &[u8]) -> usize {
    // For each open container: whether it is an object, its commas, and whether
    // anything is in it.
    let mut open: Vec<(bool, usize, bool)> = Vec::new();
    let mut cost = 0usize;
    let mut at = 0;
    while at < json.len() {
        let byte = json[at];
        if !byte.is_ascii_whitespace()
            && !matches!(byte, b']' | b'}')
            && let Some(top) = open.last_mut()
        {
            top.2 = true;
        }
        match byte {
            b'"' => {
                let start = at + 1;
                at = start;
                while at < json.len() && json[at] != b'"' {
                    at += if json[at] == b'\\' { 2 } else { 1 };
                }
                cost += (at.min(json.len()) - start).max(MIN_ALLOCATION_BYTES);
            }
            b'[' | b'{' => {
                if open.len() == MAX_DEPTH {
                    break;
                }
                open.push((byte == b'{', 0, false));
            }
            b',' => {
                if let Some(top) = open.last_mut() {
                    top.1 += 1;
                }
            }
            b']' | b'}' => {
                if let Some((is_object, commas, any)) = open.pop() {
                    let items = if any { commas + 1 } else { 0 };
                    cost += if is_object {
                        items.div_ceil(MAP_NODE_MEMBERS) * MAP_NODE_BYTES
                    } else if items > 0 {
                        // A list grows by doubling.
                        items.next_power_of_two() * VALUE_BYTES
                    } else {
                        0
                    };
                }
            }
            _ => {}
        }
        at += 1;
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_of(item: &str, count: usize) -> String {
        format!("[{}]", vec![item; count].join(","))
    }

    #[test]
    fn small_bodies_cost_little() {
        assert_eq!(parsed_bytes(b"{}"), 0);
        assert_eq!(parsed_bytes(b"[]"), 0);
        assert_eq!(parsed_bytes(b"[ ]"), 0);
        assert_eq!(parsed_bytes(b"[1]"), VALUE_BYTES);
        assert_eq!(parsed_bytes(b"[1,2,3]"), 4 * VALUE_BYTES);
        let named = br#"{"name": "x", "tags": ["a, b", "c"]}"#;
        assert!(parsed_bytes(named) < 1_000, "{}", parsed_bytes(named));
    }

    #[test]
    fn many_small_maps_cost_a_node_each() {
        let body = list_of(r#"{"a":0}"#, 100_000);
        let cost = parsed_bytes(body.as_bytes());
        assert!(cost > 100_000 * MAP_NODE_BYTES, "{cost}");
        // Empty maps allocate nothing; the list itself is what they cost.
        let empty = list_of("{}", 100_000);
        assert_eq!(
            parsed_bytes(empty.as_bytes()),
            131_072 * VALUE_BYTES,
            "the list's capacity"
        );
    }

    #[test]
    fn strings_hide_brackets_and_commas() {
        let tricky = br#"["[,{", "\"],", "\\"]"#;
        assert_eq!(
            parsed_bytes(tricky),
            3 * MIN_ALLOCATION_BYTES + 4 * VALUE_BYTES
        );
    }

    #[test]
    fn deep_or_broken_text_ends_the_scan_without_panicking() {
        let deep = "[".repeat(1_000_000);
        assert_eq!(parsed_bytes(deep.as_bytes()), 0);
        for broken in [&b"\"unterminated"[..], b"]]]}", b"{\"a\":\\", b"\"\\"] {
            let _ = parsed_bytes(broken);
        }
    }
}
