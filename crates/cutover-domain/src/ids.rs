//! Server-generated identifiers: a type prefix (`rel_`, `app_`, …) and a time-ordered
//! body (a UUIDv7 written in 26 lowercase Crockford base32 characters), so ids sort by
//! creation time and no id can ever equal a fixed path word such as `active`.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const BODY_LEN: usize = 26;

/// Encodes a 128-bit value as 26 Crockford base32 characters, most significant first,
/// so lexicographic order of the text equals numeric order of the value.
fn encode_u128(mut value: u128) -> String {
    let mut out = [0u8; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    out.iter().map(|&b| b as char).collect()
}

fn is_body(text: &str) -> bool {
    text.len() == BODY_LEN
        && text.bytes().all(|b| ALPHABET.contains(&b))
        // 26 × 5 = 130 bits: the first character carries only the top 3 bits.
        && text.as_bytes()[0] <= b'7'
}

/// A fresh time-ordered id body.
pub fn new_body() -> String {
    encode_u128(uuid::Uuid::now_v7().as_u128())
}

/// The body of `random_bytes` encoded like an id body; used for token secrets.
pub fn encode_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The id was not of the expected form (`<prefix>_<26 base32 characters>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an id of the form {prefix}_ followed by 26 lowercase base32 characters")]
pub struct MalformedId {
    pub prefix: &'static str,
    /// The regular expression every id of this type matches (see [`id_pattern!`]).
    pub pattern: &'static str,
}

/// The exact form of an id with `$prefix`, as a regular expression that reads the
/// same in ECMA-262 (OpenAPI), Python and Rust: the prefix, `_`, then 26 characters
/// of the Crockford alphabet, the first at most `7` (128 bits in 130).
macro_rules! id_pattern {
    ($prefix:literal) => {
        concat!("^", $prefix, "_[0-7][0-9a-hjkmnp-tv-z]{25}$")
    };
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            /// Every id of this type matches this; `parse` accepts exactly these.
            pub const PATTERN: &'static str = id_pattern!($prefix);
            /// A well-formed id, for documentation.
            pub const EXAMPLE: &'static str = concat!($prefix, "_06g2x0d1q8v3k5m7n9p4r6t8w0");

            /// A new id, ordered after every id this process made before it.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, new_body()))
            }

            pub fn parse(text: &str) -> Result<Self, MalformedId> {
                match text.strip_prefix(concat!($prefix, "_")) {
                    Some(body) if is_body(body) => Ok(Self(text.to_owned())),
                    _ => Err(MalformedId {
                        prefix: $prefix,
                        pattern: Self::PATTERN,
                    }),
                }
            }

            /// Wraps a value read back from storage, which only ever holds ids we made.
            pub fn from_trusted(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!(
                        "Server-generated id: `", $prefix,
                        "_` and 26 lowercase Crockford base32 characters (time-ordered)"
                    )))
                    .pattern(Some(Self::PATTERN))
                    .examples([Self::EXAMPLE])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

define_id!(/// An organisation.
    OrgId, "org");
define_id!(/// A workspace inside an organisation.
    WorkspaceId, "ws");
define_id!(/// An app inside a workspace.
    AppId, "app");
define_id!(/// An endpoint of an app's draft.
    EndpointId, "ep");
define_id!(/// An augmentation (pipeline) of an app's draft.
    AugmentationId, "aug");
define_id!(/// A release of an app.
    ReleaseId, "rel");
define_id!(/// An API token.
    TokenId, "tok");
define_id!(/// An environment of a workspace (production, staging, …).
    EnvironmentId, "env");
define_id!(/// One deployment record: a release put in an environment of an app.
    DeploymentId, "dep");
define_id!(/// One commit of an app's timeline: a draft write.
    CommitId, "cmt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_sort_by_creation() {
        let ids: Vec<ReleaseId> = (0..1000).map(|_| ReleaseId::generate()).collect();
        for window in ids.windows(2) {
            assert!(window[0] < window[1], "{} !< {}", window[0], window[1]);
        }
        for id in &ids {
            assert_eq!(ReleaseId::parse(id.as_str()).as_ref(), Ok(id));
        }
    }

    #[test]
    fn parse_refuses_other_prefixes_and_path_words() {
        let app = AppId::generate();
        assert!(ReleaseId::parse(app.as_str()).is_err());
        assert!(ReleaseId::parse("active").is_err());
        assert!(ReleaseId::parse("rel_").is_err());
        assert!(ReleaseId::parse("rel_ZZZZZZZZZZZZZZZZZZZZZZZZZZ").is_err());
        assert!(ReleaseId::parse("rel_8zzzzzzzzzzzzzzzzzzzzzzzzz").is_err());
    }

    #[test]
    fn examples_parse_and_generated_ids_fit_the_pattern_alphabet() {
        assert!(ReleaseId::parse(ReleaseId::EXAMPLE).is_ok());
        assert!(TokenId::parse(TokenId::EXAMPLE).is_ok());
        assert_eq!(ReleaseId::PATTERN, "^rel_[0-7][0-9a-hjkmnp-tv-z]{25}$");
        let class: Vec<u8> = (b'0'..=b'9')
            .chain(b'a'..=b'h')
            .chain([b'j', b'k', b'm', b'n'])
            .chain(b'p'..=b't')
            .chain(b'v'..=b'z')
            .collect();
        assert_eq!(
            class,
            ALPHABET.to_vec(),
            "the pattern's class is the alphabet"
        );
    }

    #[test]
    fn encode_bytes_uses_five_bits_per_character() {
        assert_eq!(encode_bytes(&[0xff; 5]), "zzzzzzzz");
        assert_eq!(encode_bytes(&[0; 32]).len(), 52);
    }
}
