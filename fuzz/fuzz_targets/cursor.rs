//! Pagination cursors (`http::pagination::CursorCodec`): a cursor the codec issued
//! for a list and scope decodes to its position there and nowhere else; any text the
//! codec would not have issued for that list and scope (random, tampered, another
//! key's) is refused. Lists are fixed words and scopes are ids, neither with a line
//! break, so the generated ones have none.
#![no_main]

use cutover_server::http::pagination::CursorCodec;
use libfuzzer_sys::fuzz_target;

type Input = (Vec<u8>, String, String, String, String, Vec<(u16, u8)>);

fuzz_target!(|input: Input| {
    let (key, list, scope, position, foreign, edits) = input;
    let list = list.replace('\n', "");
    let scope = scope.replace('\n', "");
    let codec = CursorCodec::new(key.clone());

    // Whatever it is given, decode accepts only what encode would issue.
    if let Some(found) = codec.decode(&foreign, &list, &scope) {
        assert_eq!(
            codec.encode(&list, &scope, &found),
            foreign,
            "accepted a forgery"
        );
    }

    let cursor = codec.encode(&list, &scope, &position);
    assert_eq!(
        codec.decode(&cursor, &list, &scope).as_deref(),
        Some(position.as_str())
    );
    assert!(codec.decode(&cursor, &format!("{list}x"), &scope).is_none());
    assert!(codec.decode(&cursor, &list, &format!("{scope}x")).is_none());
    // Another key: `key` with one more byte that is not 0 (HMAC pads keys shorter
    // than its block with zeros, so `k` and `k ‖ 0` are the same key).
    let mut other_key = key;
    other_key.push(1);
    let other = CursorCodec::new(other_key);
    assert!(
        other.decode(&cursor, &list, &scope).is_none(),
        "another key"
    );

    let mut tampered = cursor.clone().into_bytes();
    for (at, byte) in edits {
        if tampered.is_empty() {
            break;
        }
        let at = usize::from(at) % tampered.len();
        tampered[at] = byte;
    }
    if let Ok(tampered) = String::from_utf8(tampered) {
        if tampered != cursor {
            assert!(codec.decode(&tampered, &list, &scope).is_none(), "tampered");
        }
    }
});
