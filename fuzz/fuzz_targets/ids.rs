//! Id parsers (`cutover_domain::ids`): a text parses as an id exactly when it matches
//! the id's documented pattern; an id that parses displays as the same text, parses
//! again to itself and round-trips through serde_json; no text is an id of two types.
#![no_main]

use std::fmt::{Debug, Display};
use std::sync::OnceLock;

use cutover_domain::ids::MalformedId;
use cutover_domain::{AppId, AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use libfuzzer_sys::fuzz_target;
use regex::Regex;
use serde::Serialize;
use serde::de::DeserializeOwned;

const PATTERNS: [&str; 7] = [
    OrgId::PATTERN,
    WorkspaceId::PATTERN,
    AppId::PATTERN,
    EndpointId::PATTERN,
    AugmentationId::PATTERN,
    ReleaseId::PATTERN,
    TokenId::PATTERN,
];

fn pattern(index: usize) -> &'static Regex {
    static COMPILED: OnceLock<Vec<Regex>> = OnceLock::new();
    &COMPILED.get_or_init(|| PATTERNS.iter().map(|p| Regex::new(p).unwrap()).collect())[index]
}

/// Whether `text` is an id of the type `parse` makes (whose pattern is `index`).
fn check<T>(text: &str, parse: fn(&str) -> Result<T, MalformedId>, index: usize) -> bool
where
    T: Display + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let documented = pattern(index);
    match parse(text) {
        Ok(id) => {
            assert!(
                documented.is_match(text),
                "{text:?} parsed, off {documented}"
            );
            assert_eq!(id.to_string(), text);
            assert_eq!(parse(&id.to_string()).as_ref(), Ok(&id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), id);
            true
        }
        Err(error) => {
            assert!(
                !documented.is_match(text),
                "{text:?} refused, fits {documented}"
            );
            assert_eq!(error.pattern, PATTERNS[index]);
            false
        }
    }
}

fuzz_target!(|text: &str| {
    let accepted = [
        check(text, OrgId::parse, 0),
        check(text, WorkspaceId::parse, 1),
        check(text, AppId::parse, 2),
        check(text, EndpointId::parse, 3),
        check(text, AugmentationId::parse, 4),
        check(text, ReleaseId::parse, 5),
        check(text, TokenId::parse, 6),
    ];
    assert!(accepted.iter().filter(|a| **a).count() <= 1, "{text:?}");
});
