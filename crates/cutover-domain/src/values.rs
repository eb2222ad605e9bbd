//! Field values parsed from client input: each constructor either returns a value that
//! is valid everywhere or a [`Violation`] saying which rule it broke. The HTTP layer
//! turns violations into 422 entries; nothing downstream re-checks them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;

/// A broken input rule, named after the matching Pydantic error type.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    Pattern {
        pattern: &'static str,
        meaning: &'static str,
    },
    NotOneOf {
        expected: &'static [&'static str],
    },
    BelowMinimum {
        minimum: i64,
    },
    AboveMaximum {
        maximum: i64,
    },
    /// A rule that fits no Pydantic type (`value_error`), with its explanation.
    Invalid(String),
}

fn check_chars(text: &str, min: usize, max: usize) -> Result<(), Violation> {
    let count = text.chars().count();
    if count < min {
        return Err(Violation::TooShort { min });
    }
    if count > max {
        return Err(Violation::TooLong { max });
    }
    Ok(())
}

// The patterns below describe exactly what the parsers accept, written so that they
// read the same in ECMA-262 (the OpenAPI document), Python (schemathesis) and Rust:
// only `\xHH` and `\uHHHH` escapes, no `\p{..}` or `\s` (whose meaning differs).
// The control characters (`char::is_control`, Unicode Cc) are U+0000–U+001F and
// U+007F–U+009F; Unicode White_Space (`char::is_whitespace`) adds U+0020, U+00A0,
// U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.

/// Text without control characters (names, labels).
pub const NO_CONTROLS_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

/// A name: no control characters and at least one character that is neither a
/// control character nor whitespace.
pub const NAME_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";

/// A description: anything but NUL.
pub const DESCRIPTION_PATTERN: &str = r"^[^\x00]*$";

/// Names and labels hold no control characters (no NUL, newline or escape), so they
/// print safely in terminals and logs and store in every database.
fn check_no_controls(text: &str, pattern: &'static str) -> Result<(), Violation> {
    if text.chars().any(char::is_control) {
        return Err(Violation::Pattern {
            pattern,
            meaning: "must not contain control characters",
        });
    }
    Ok(())
}

/// A display name: 1 to `max_string_chars` characters, not only whitespace, no
/// control characters ([`NAME_PATTERN`]).
pub fn parse_name(text: &str, limits: &Limits) -> Result<String, Violation> {
    check_chars(text, 1, limits.max_string_chars)?;
    check_no_controls(text, NAME_PATTERN)?;
    if text.trim().is_empty() {
        return Err(Violation::Pattern {
            pattern: NAME_PATTERN,
            meaning: "must contain a non-whitespace character",
        });
    }
    Ok(text.to_owned())
}

/// A free-text description, up to `max_description_chars` characters; line breaks
/// and tabs are fine, NUL is not (no database stores it in text).
pub fn parse_description(text: &str, limits: &Limits) -> Result<String, Violation> {
    check_chars(text, 0, limits.max_description_chars)?;
    if text.contains('\0') {
        return Err(Violation::Pattern {
            pattern: DESCRIPTION_PATTERN,
            meaning: "must not contain NUL characters",
        });
    }
    Ok(text.to_owned())
}

/// Why a deployment was made: free text up to `deployment::MAX_REASON_CHARS`
/// characters, no NUL (as a description).
pub fn parse_reason(text: &str) -> Result<String, Violation> {
    check_chars(text, 0, crate::deployment::MAX_REASON_CHARS)?;
    if text.contains('\0') {
        return Err(Violation::Pattern {
            pattern: DESCRIPTION_PATTERN,
            meaning: "must not contain NUL characters",
        });
    }
    Ok(text.to_owned())
}

/// A short free-text label such as an augmentation tag: no control characters.
pub fn parse_label(text: &str, limits: &Limits) -> Result<String, Violation> {
    check_chars(text, 1, limits.max_string_chars)?;
    check_no_controls(text, NO_CONTROLS_PATTERN)?;
    Ok(text.to_owned())
}

/// An integer within an inclusive range.
pub fn check_range(value: i64, minimum: i64, maximum: i64) -> Result<i64, Violation> {
    if value < minimum {
        Err(Violation::BelowMinimum { minimum })
    } else if value > maximum {
        Err(Violation::AboveMaximum { maximum })
    } else {
        Ok(value)
    }
}

fn all_bytes(text: &str, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty() && first(bytes[0]) && bytes[1..].iter().all(|&b| rest(b))
}

/// A release tag: 1–64 characters, a letter or digit first, then letters, digits,
/// `.`, `_`, `-` or `+` (room for semantic versions like `v1.2.0+build.7`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReleaseTag(String);

impl ReleaseTag {
    pub const PATTERN: &'static str = r"^[A-Za-z0-9][A-Za-z0-9._+-]*$";

    pub fn parse(text: &str) -> Result<Self, Violation> {
        check_chars(text, 1, 64)?;
        let valid = all_bytes(
            text,
            |b| b.is_ascii_alphanumeric(),
            |b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'),
        );
        if !valid {
            return Err(Violation::Pattern {
                pattern: Self::PATTERN,
                meaning: "must start with a letter or digit, then letters, digits, '.', '_', '-' or '+'",
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ReleaseTag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "1–64 characters: a letter or digit, then letters, digits, `.`, `_`, `-` or `+`",
            ))
            .min_length(Some(1))
            .max_length(Some(64))
            .pattern(Some(Self::PATTERN))
            .examples(["v1.2.0"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ReleaseTag {}

impl fmt::Display for ReleaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ReleaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// An organisation slug: 1–64 characters of lowercase letters, digits and `-`,
/// starting with a letter or digit. Unique across the server.
pub fn parse_slug(text: &str) -> Result<String, Violation> {
    check_chars(text, 1, 64)?;
    let valid = all_bytes(
        text,
        |b| b.is_ascii_lowercase() || b.is_ascii_digit(),
        |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-',
    );
    if !valid {
        return Err(Violation::Pattern {
            pattern: SLUG_PATTERN,
            meaning: "must be lowercase letters, digits and '-', starting with a letter or digit",
        });
    }
    Ok(text.to_owned())
}

pub const SLUG_PATTERN: &str = r"^[a-z0-9][a-z0-9-]*$";

/// Derives a slug from a display name: lowercase ASCII letters and digits, other runs
/// of characters become one `-`. Empty when the name has no ASCII letter or digit.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 64 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// An endpoint path: starts with `/`, no whitespace or control characters, ≤ 256
/// characters.
pub fn parse_endpoint_path(text: &str) -> Result<String, Violation> {
    check_chars(text, 1, 256)?;
    if !text.starts_with('/') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Violation::Pattern {
            pattern: ENDPOINT_PATH_PATTERN,
            meaning: "must start with '/' and contain no whitespace",
        });
    }
    Ok(text.to_owned())
}

/// `/`, then no whitespace and no control characters.
pub const ENDPOINT_PATH_PATTERN: &str =
    r"^/[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// Declares a closed set of wire words as an enum with `parse`, `as_str` and `ALL`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($word),+];

            pub fn parse(text: &str) -> Result<Self, Violation> {
                match text {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(Violation::NotOneOf { expected: Self::ALL }),
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A string, one of [`Self::ALL`] (the derive would miss the renames).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().copied()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

wire_enum!(/// The HTTP method an endpoint answers.
    HttpMethod { Get => "GET", Post => "POST", Put => "PUT", Patch => "PATCH", Delete => "DELETE" });
wire_enum!(/// How an endpoint answers its caller.
    EndpointType { Sync => "sync", Async => "async", Stream => "stream" });
wire_enum!(/// Whether a stage runs its steps one after another or all at once.
    ExecutionMode { Sequential => "sequential", Parallel => "parallel" });
wire_enum!(/// What a pipeline step does.
StepType {
    Inference => "inference",
    ToolCall => "tool_call",
    SourceQuery => "source_query",
    SourceIngest => "source_ingest",
    SourceGet => "source_get",
    MemoryUpdate => "memory_update",
    MemoryQuery => "memory_query",
    ArtifactCreate => "artifact_create",
    ArtifactQuery => "artifact_query",
    ArtifactGet => "artifact_get",
    ThreadUpdate => "thread_update",
    ThreadQuery => "thread_query",
    Approval => "approval",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tags_follow_the_documented_pattern() {
        for good in ["v1", "1.2.3", "v1.2.0+build.7", "A_b-c", &"x".repeat(64)] {
            assert!(ReleaseTag::parse(good).is_ok(), "{good}");
        }
        assert_eq!(ReleaseTag::parse(""), Err(Violation::TooShort { min: 1 }));
        assert_eq!(
            ReleaseTag::parse(&"x".repeat(65)),
            Err(Violation::TooLong { max: 64 })
        );
        for bad in ["-v1", ".v1", "v 1", "v1/2", "é1", "v1\n"] {
            assert!(
                matches!(ReleaseTag::parse(bad), Err(Violation::Pattern { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_refuse_control_characters_and_descriptions_refuse_nul() {
        let limits = Limits::default();
        assert!(parse_name("ok name", &limits).is_ok());
        for bad in ["\0", "a\nb", "tab\t", "esc\u{1b}"] {
            assert!(
                matches!(parse_name(bad, &limits), Err(Violation::Pattern { .. })),
                "{bad:?}"
            );
        }
        assert!(parse_description("line one\nline two\t", &limits).is_ok());
        assert!(parse_description("nul\0", &limits).is_err());
    }

    #[test]
    fn endpoint_paths_start_with_a_slash_and_have_no_whitespace() {
        assert!(parse_endpoint_path("/v1/chat/{id}").is_ok());
        assert!(parse_endpoint_path("chat").is_err());
        assert!(parse_endpoint_path("/a b").is_err());
        assert!(parse_endpoint_path(&format!("/{}", "a".repeat(256))).is_err());
    }

    #[test]
    fn slugs_derive_from_names() {
        assert_eq!(slug_from_name("Acme Corp, Inc."), "acme-corp-inc");
        assert_eq!(slug_from_name("日本"), "");
        assert!(parse_slug(&slug_from_name("  Hello   World ")).is_ok());
    }

    #[test]
    fn enums_list_their_words() {
        assert_eq!(HttpMethod::parse("PATCH"), Ok(HttpMethod::Patch));
        assert_eq!(
            HttpMethod::parse("get"),
            Err(Violation::NotOneOf {
                expected: HttpMethod::ALL
            })
        );
        assert_eq!(StepType::ALL.len(), 13);
    }
}
