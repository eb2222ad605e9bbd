//! Opaque, signed pagination cursors (the list answers are `openapi::lists`).
//!
//! A cursor carries the list it belongs to, the scope (parent id) and the key after
//! which the next page starts, signed with HMAC-SHA256 under a secret shared by every
//! server on the database. A cursor we did not issue for this very list is a 422.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::http::validation::Issue;

const TAG_BYTES: usize = 16;

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl CursorCodec {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn tag(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC accepts any key length");
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
    }

    /// A cursor for the page after `position` of list `list` under `scope`.
    pub fn encode(&self, list: &str, scope: &str, position: &str) -> String {
        let payload = format!("{list}\n{scope}\n{position}");
        let mut bytes = payload.into_bytes();
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position in a cursor issued by `encode` for the same list and scope, or
    /// `None` for any other text.
    pub fn decode(&self, cursor: &str, list: &str, scope: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        if bytes.len() <= TAG_BYTES {
            return None;
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC accepts any key length");
        mac.update(payload);
        mac.verify_truncated_left(tag).ok()?;
        let text = std::str::from_utf8(payload).ok()?;
        let mut parts = text.splitn(3, '\n');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(l), Some(s), Some(position)) if l == list && s == scope => {
                Some(position.to_owned())
            }
            _ => None,
        }
    }
}

/// The 422 entry for a cursor that [`CursorCodec::decode`] refused.
pub fn invalid_cursor(cursor: &str) -> Issue {
    Issue::value_error(
        vec!["query".into(), "cursor".into()],
        "cursor is not one this server issued for this list",
        cursor,
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn cursors_round_trip_only_for_their_list_and_key() {
        let codec = CursorCodec::new(b"secret".to_vec());
        let cursor = codec.encode("releases", "app_1", "42");
        assert_eq!(
            codec.decode(&cursor, "releases", "app_1").as_deref(),
            Some("42")
        );
        assert!(codec.decode(&cursor, "releases", "app_2").is_none());
        assert!(codec.decode(&cursor, "apps", "app_1").is_none());
        assert!(
            CursorCodec::new(b"other".to_vec())
                .decode(&cursor, "releases", "app_1")
                .is_none()
        );
        assert!(
            codec
                .decode("bm90IGEgY3Vyc29y", "releases", "app_1")
                .is_none()
        );
        assert!(codec.decode("!!!", "releases", "app_1").is_none());
    }

    // Lists are fixed words and scopes are ids: neither holds a line break, the
    // separator of the signed payload, so the generated ones hold none either.
    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 128,
            failure_persistence: None,
            ..Default::default()
        })]

        #[test]
        fn a_cursor_decodes_to_its_position_for_its_list_and_scope_only(
            key in prop::collection::vec(any::<u8>(), 0..80),
            list in "[a-z_]{1,16}",
            scope in "[a-z]{2,4}_[0-9a-z]{26}",
            other_scope in "[a-z]{2,4}_[0-9a-z]{26}",
            position in any::<String>(),
        ) {
            let codec = CursorCodec::new(key.clone());
            let cursor = codec.encode(&list, &scope, &position);
            prop_assert_eq!(codec.decode(&cursor, &list, &scope), Some(position));
            if other_scope != scope {
                prop_assert!(codec.decode(&cursor, &list, &other_scope).is_none());
            }
            let other_list = format!("{list}s");
            prop_assert!(codec.decode(&cursor, &other_list, &scope).is_none());
            // Not a pushed 0: HMAC pads short keys with zeros, so `k` and `k ‖ 0` are
            // one key (the server's is 32 random bytes from the database).
            let mut other_key = key;
            other_key.push(1);
            let other = CursorCodec::new(other_key);
            prop_assert!(other.decode(&cursor, &list, &scope).is_none());
        }

        #[test]
        fn a_cursor_the_codec_did_not_issue_is_refused(
            position in any::<String>(),
            at in any::<usize>(),
            replacement in prop::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()
            ),
            cut in 1usize..8,
            forged in "[A-Za-z0-9_-]{0,120}",
        ) {
            let codec = CursorCodec::new(b"secret".to_vec());
            let cursor = codec.encode("releases", "app_1", &position);
            let mut tampered = cursor.clone().into_bytes();
            let at = at % tampered.len();
            tampered[at] = replacement;
            let tampered = String::from_utf8(tampered).unwrap();
            if tampered != cursor {
                prop_assert!(codec.decode(&tampered, "releases", "app_1").is_none());
            }
            let truncated = &cursor[..cursor.len().saturating_sub(cut)];
            prop_assert!(codec.decode(truncated, "releases", "app_1").is_none());
            let extended = format!("{cursor}A");
            prop_assert!(codec.decode(&extended, "releases", "app_1").is_none());
            if let Some(found) = codec.decode(&forged, "releases", "app_1") {
                prop_assert_eq!(codec.encode("releases", "app_1", &found), forged);
            }
        }
    }
}
