//! The parsers of client text in `cutover_domain::values` (release tags, slugs,
//! names, labels, descriptions, endpoint paths, the wire enums), permission words,
//! roles and RFC 3339 timestamps. Each accepts exactly what its documented pattern
//! and length say (the same pattern the OpenAPI document publishes), refuses the
//! rest with the Violation that names the broken rule, and what it accepts
//! re-serializes and parses again to the same value.
#![no_main]

use std::sync::OnceLock;

use cutover_domain::Timestamp;
use cutover_domain::limits::Limits;
use cutover_domain::permission::{Role, expand_grant};
use cutover_domain::values::{
    DESCRIPTION_PATTERN, ENDPOINT_PATH_PATTERN, EndpointType, ExecutionMode, HttpMethod,
    NAME_PATTERN, NO_CONTROLS_PATTERN, ReleaseTag, SLUG_PATTERN, StepType, Violation,
    parse_description, parse_endpoint_path, parse_label, parse_name, parse_slug, slug_from_name,
};
use libfuzzer_sys::fuzz_target;
use regex::Regex;

struct Patterns {
    tag: Regex,
    slug: Regex,
    name: Regex,
    label: Regex,
    description: Regex,
    path: Regex,
    timestamp: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("a documented pattern compiles");
        Patterns {
            tag: compile(ReleaseTag::PATTERN),
            slug: compile(SLUG_PATTERN),
            name: compile(NAME_PATTERN),
            label: compile(NO_CONTROLS_PATTERN),
            description: compile(DESCRIPTION_PATTERN),
            path: compile(ENDPOINT_PATH_PATTERN),
            timestamp: compile(Timestamp::PATTERN),
        }
    })
}

/// `outcome` is what the documented rule (`min..=max` characters, then `pattern`)
/// says about `text`: accepted with `text` itself, or refused with the first broken
/// rule's Violation.
fn documented<T>(
    text: &str,
    outcome: Result<T, Violation>,
    min: usize,
    max: usize,
    pattern: &Regex,
    accepted_text: impl Fn(&T) -> String,
) {
    let chars = text.chars().count();
    match outcome {
        Ok(value) => {
            assert!((min..=max).contains(&chars), "accepted {chars} characters");
            assert!(
                pattern.is_match(text),
                "accepted {text:?} against {pattern}"
            );
            assert_eq!(accepted_text(&value), text, "the value is not its text");
        }
        Err(Violation::TooShort { min: said }) => assert!(chars < min && said == min),
        Err(Violation::TooLong { max: said }) => assert!(chars > max && said == max),
        Err(Violation::Pattern { pattern: said, .. }) => {
            assert!((min..=max).contains(&chars));
            assert_eq!(said, pattern.as_str(), "the refusal names another pattern");
            assert!(
                !pattern.is_match(text),
                "refused {text:?} that matches {said}"
            );
        }
        Err(other) => panic!("unexpected violation {other:?}"),
    }
}

fn wire_word<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    text: &str,
    outcome: Result<T, Violation>,
    all: &[&str],
    as_str: impl Fn(&T) -> &'static str,
) {
    match outcome {
        Ok(value) => {
            assert_eq!(as_str(&value), text);
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
        }
        Err(Violation::NotOneOf { expected }) => {
            assert_eq!(expected, all);
            assert!(!all.contains(&text));
        }
        Err(other) => panic!("unexpected violation {other:?}"),
    }
}

fuzz_target!(|text: &str| {
    let limits = Limits::default();
    let p = patterns();

    let tag = ReleaseTag::parse(text);
    if let Ok(tag) = &tag {
        let json = serde_json::to_string(tag).unwrap();
        assert_eq!(&serde_json::from_str::<ReleaseTag>(&json).unwrap(), tag);
        assert_eq!(ReleaseTag::parse(&tag.to_string()).as_ref(), Ok(tag));
    }
    documented(text, tag, 1, 64, &p.tag, |t| t.as_str().to_owned());
    documented(text, parse_slug(text), 1, 64, &p.slug, String::clone);
    let max = limits.max_string_chars;
    documented(
        text,
        parse_name(text, &limits),
        1,
        max,
        &p.name,
        String::clone,
    );
    documented(
        text,
        parse_label(text, &limits),
        1,
        max,
        &p.label,
        String::clone,
    );
    let max = limits.max_description_chars;
    let description = parse_description(text, &limits);
    documented(text, description, 0, max, &p.description, String::clone);
    documented(
        text,
        parse_endpoint_path(text),
        1,
        256,
        &p.path,
        String::clone,
    );

    let slug = slug_from_name(text);
    assert!(
        slug.is_empty() || parse_slug(&slug).is_ok(),
        "derived slug {slug:?}"
    );

    wire_word(text, HttpMethod::parse(text), HttpMethod::ALL, |v| {
        v.as_str()
    });
    wire_word(text, EndpointType::parse(text), EndpointType::ALL, |v| {
        v.as_str()
    });
    wire_word(text, ExecutionMode::parse(text), ExecutionMode::ALL, |v| {
        v.as_str()
    });
    wire_word(text, StepType::parse(text), StepType::ALL, |v| v.as_str());

    if let Ok(role) = Role::parse(text) {
        for word in role.grant_words() {
            assert!(expand_grant(&word).is_ok(), "role {text} grants {word}");
        }
    }
    if let Ok(permissions) = expand_grant(text) {
        assert!(!permissions.is_empty(), "grant {text:?} expands to nothing");
    }

    if let Some(instant) = Timestamp::parse_rfc3339(text) {
        let written = instant.to_string();
        assert!(
            p.timestamp.is_match(&written),
            "{text:?} is written {written:?}"
        );
        assert_eq!(
            Timestamp::parse_rfc3339(&written),
            Some(instant),
            "{written}"
        );
    }
});
