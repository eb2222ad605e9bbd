//! Property tests of the parsers that take client text (release tags, slugs, names,
//! labels, descriptions, endpoint paths, ids, timestamps) and of canonical JSON.
//! Valid inputs generated from each rule are accepted and round-trip; inputs that
//! break one rule are refused with the Violation naming that rule. The fuzz targets
//! in `fuzz/` check the same properties on unbounded inputs; these run in every test
//! run, with case counts that keep them to a fraction of a second each.

use cutover_domain::limits::Limits;
use cutover_domain::snapshot::write_canonical_json;
use cutover_domain::values::{
    DESCRIPTION_PATTERN, ENDPOINT_PATH_PATTERN, NAME_PATTERN, NO_CONTROLS_PATTERN, ReleaseTag,
    SLUG_PATTERN, Violation, parse_description, parse_endpoint_path, parse_label, parse_name,
    parse_slug, slug_from_name,
};
use cutover_domain::{
    AppId, AugmentationId, EndpointId, OrgId, ReleaseId, Timestamp, TokenId, WorkspaceId,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `text` with `insert` placed before its `at`-th character (clamped to the end).
fn insert_at(text: &str, at: usize, insert: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars.insert(at.min(chars.len()), insert);
    chars.into_iter().collect()
}

fn pattern(violation: Result<impl std::fmt::Debug, Violation>) -> &'static str {
    match violation {
        Err(Violation::Pattern { pattern, .. }) => pattern,
        other => panic!("expected a pattern violation, got {other:?}"),
    }
}

/// Characters Rust counts as control characters (Unicode Cc).
fn control() -> impl Strategy<Value = char> {
    prop_oneof![
        (0u32..=0x1f).prop_map(|c| char::from_u32(c).unwrap()),
        (0x7fu32..=0x9f).prop_map(|c| char::from_u32(c).unwrap()),
    ]
}

/// Unicode White_Space that is not a control character.
fn space() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        ' ', '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}',
        '\u{205f}', '\u{3000}',
    ])
}

/// Any character that is neither a control character nor whitespace.
fn visible() -> impl Strategy<Value = char> {
    any::<char>().prop_filter("visible", |c| !c.is_control() && !c.is_whitespace())
}

/// Text of up to `max` characters, none of them control characters.
fn no_controls(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![4 => visible(), 1 => space()], 0..=max)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_release_tags_are_accepted_as_written(text in "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}") {
        let tag = ReleaseTag::parse(&text).unwrap();
        prop_assert_eq!(tag.as_str(), text.as_str());
        let json = serde_json::to_string(&tag).unwrap();
        prop_assert_eq!(serde_json::from_str::<ReleaseTag>(&json).unwrap(), tag.clone());
        prop_assert_eq!(ReleaseTag::parse(&tag.to_string()).unwrap(), tag);
    }

    #[test]
    fn release_tags_breaking_one_rule_say_which(
        valid in "[A-Za-z0-9][A-Za-z0-9._+-]{0,62}",
        long in "[A-Za-z0-9]{65,100}",
        first in "[._+-]",
        bad in any::<char>().prop_filter("not a tag character", |c| {
            !c.is_ascii_alphanumeric() && !matches!(c, '.' | '_' | '-' | '+')
        }),
        at in 0usize..64,
    ) {
        prop_assert_eq!(ReleaseTag::parse(""), Err(Violation::TooShort { min: 1 }));
        prop_assert_eq!(ReleaseTag::parse(&long), Err(Violation::TooLong { max: 64 }));
        prop_assert_eq!(pattern(ReleaseTag::parse(&format!("{first}{valid}"))), ReleaseTag::PATTERN);
        prop_assert_eq!(pattern(ReleaseTag::parse(&insert_at(&valid, at, bad))), ReleaseTag::PATTERN);
    }

    #[test]
    fn valid_slugs_are_accepted_and_derived_slugs_are_valid(
        text in "[a-z0-9][a-z0-9-]{0,63}",
        name in any::<String>(),
    ) {
        prop_assert_eq!(parse_slug(&text), Ok(text.clone()));
        let derived = slug_from_name(&name);
        prop_assert!(derived.is_empty() || parse_slug(&derived).is_ok(), "{:?}", derived);
    }

    #[test]
    fn slugs_breaking_one_rule_say_which(
        valid in "[a-z0-9][a-z0-9-]{0,62}",
        bad in any::<char>().prop_filter("not a slug character", |c| {
            !c.is_ascii_lowercase() && !c.is_ascii_digit() && *c != '-'
        }),
        at in 0usize..64,
    ) {
        prop_assert_eq!(pattern(parse_slug(&format!("-{valid}"))), SLUG_PATTERN);
        prop_assert_eq!(pattern(parse_slug(&insert_at(&valid, at, bad))), SLUG_PATTERN);
        prop_assert_eq!(parse_slug(&"a".repeat(65)), Err(Violation::TooLong { max: 64 }));
    }

    #[test]
    fn names_and_labels_take_any_text_without_controls(
        around in no_controls(200),
        core in visible(),
        at in 0usize..200,
    ) {
        let limits = Limits::default();
        let text = insert_at(&around, at, core);
        prop_assert_eq!(parse_name(&text, &limits), Ok(text.clone()));
        prop_assert_eq!(parse_label(&text, &limits), Ok(text.clone()));
        prop_assert_eq!(parse_description(&text, &limits), Ok(text));
    }

    #[test]
    fn names_and_labels_breaking_one_rule_say_which(
        valid in no_controls(200),
        blank in prop::collection::vec(space(), 1..20),
        control in control(),
        at in 0usize..200,
        over in 257usize..400,
    ) {
        let limits = Limits::default();
        let with_control = insert_at(&valid, at, control);
        prop_assert_eq!(pattern(parse_name(&with_control, &limits)), NAME_PATTERN);
        prop_assert_eq!(pattern(parse_label(&with_control, &limits)), NO_CONTROLS_PATTERN);
        let blank: String = blank.into_iter().collect();
        prop_assert_eq!(pattern(parse_name(&blank, &limits)), NAME_PATTERN);
        prop_assert_eq!(parse_name("", &limits), Err(Violation::TooShort { min: 1 }));
        let long = "n".repeat(over);
        prop_assert_eq!(parse_name(&long, &limits), Err(Violation::TooLong { max: 256 }));
        prop_assert_eq!(parse_label(&long, &limits), Err(Violation::TooLong { max: 256 }));
    }

    #[test]
    fn descriptions_refuse_only_nul_and_length(
        valid in any::<String>().prop_map(|t| t.replace('\0', "")),
        at in 0usize..100,
    ) {
        let limits = Limits::default();
        let valid: String = valid.chars().take(4_000).collect();
        prop_assert_eq!(parse_description(&valid, &limits), Ok(valid.clone()));
        let with_nul = insert_at(&valid, at, '\0');
        let refused = parse_description(&with_nul, &limits);
        if with_nul.chars().count() > 4_000 {
            prop_assert_eq!(refused, Err(Violation::TooLong { max: 4_000 }));
        } else {
            prop_assert_eq!(pattern(refused), DESCRIPTION_PATTERN);
        }
        let long = "d".repeat(4_001);
        prop_assert_eq!(parse_description(&long, &limits), Err(Violation::TooLong { max: 4_000 }));
    }

    #[test]
    fn endpoint_paths_are_a_slash_then_no_whitespace(
        rest in prop::collection::vec(visible(), 0..=254).prop_map(String::from_iter),
        space in prop_oneof![space(), control()],
        at in 1usize..255,
    ) {
        let path = format!("/{rest}");
        prop_assert_eq!(parse_endpoint_path(&path), Ok(path.clone()));
        prop_assert_eq!(pattern(parse_endpoint_path(&insert_at(&path, at, space))), ENDPOINT_PATH_PATTERN);
        if !rest.is_empty() && !rest.starts_with('/') {
            prop_assert_eq!(pattern(parse_endpoint_path(&rest)), ENDPOINT_PATH_PATTERN);
        }
        let long = format!("/{}", "p".repeat(256));
        prop_assert_eq!(parse_endpoint_path(&long), Err(Violation::TooLong { max: 256 }));
    }
}

/// Checks one id type: an id made of the documented alphabet parses to itself and
/// re-displays as its text; changing one character keeps it an id exactly when the
/// new character fits the alphabet at that place; anything that parses re-displays
/// as the text it came from.
macro_rules! id_properties {
    ($test:ident, $id:ty) => {
        proptest! {
            #![proptest_config(config())]

            #[test]
            fn $test(
                body in "[0-7][0-9a-hjkmnp-tv-z]{25}",
                at in 0usize..26,
                replacement in any::<char>(),
                text in any::<String>(),
            ) {
                let generated = <$id>::generate();
                prop_assert_eq!(<$id>::parse(&generated.to_string()), Ok(generated.clone()));

                let written = format!("{}_{body}", <$id>::PREFIX);
                let id = <$id>::parse(&written).unwrap();
                prop_assert_eq!(id.to_string(), written.clone());
                let json = serde_json::to_string(&id).unwrap();
                prop_assert_eq!(serde_json::from_str::<$id>(&json).unwrap(), id);

                let mut chars: Vec<char> = body.chars().collect();
                chars[at] = replacement;
                let changed: String = chars.into_iter().collect();
                let alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
                let fits = if at == 0 { ('0'..='7').contains(&replacement) } else { alphabet.contains(replacement) };
                let changed = format!("{}_{changed}", <$id>::PREFIX);
                prop_assert_eq!(<$id>::parse(&changed).is_ok(), fits, "{:?}", changed);

                if let Ok(parsed) = <$id>::parse(&text) {
                    prop_assert_eq!(parsed.to_string(), text);
                }
            }
        }
    };
}

id_properties!(org_ids_round_trip, OrgId);
id_properties!(workspace_ids_round_trip, WorkspaceId);
id_properties!(app_ids_round_trip, AppId);
id_properties!(endpoint_ids_round_trip, EndpointId);
id_properties!(augmentation_ids_round_trip, AugmentationId);
id_properties!(release_ids_round_trip, ReleaseId);
id_properties!(token_ids_round_trip, TokenId);

#[test]
fn no_id_is_an_id_of_another_type() {
    let release = ReleaseId::generate();
    assert!(AppId::parse(release.as_str()).is_err());
    let body = &release.as_str()[4..];
    for prefix in ["org", "ws", "app", "ep", "aug", "tok"] {
        assert!(ReleaseId::parse(&format!("{prefix}_{body}")).is_err());
    }
}

/// Any JSON value a client could send: scalars (including floats in every range),
/// strings with escapes and non-ASCII, nested arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

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

proptest! {
    #![proptest_config(config())]

    #[test]
    fn canonical_json_reads_back_equal_and_ignores_key_order(value in json_value()) {
        let text = canonical(&value);
        let back: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &value, "{}", text);
        prop_assert_eq!(canonical(&back), text.clone());
        prop_assert_eq!(canonical(&reversed(&value)), text);
    }

    #[test]
    fn timestamps_written_by_the_server_read_back(
        // 0000-01-01 to 9999-12-31, the years RFC 3339 can write.
        micros in -62_167_219_200_000_000i64..253_402_300_800_000_000,
    ) {
        let instant = Timestamp::from_micros(micros);
        let written = instant.to_string();
        prop_assert_eq!(Timestamp::parse_rfc3339(&written), Some(instant), "{}", written);
    }

    #[test]
    fn any_accepted_timestamp_is_written_in_the_documented_form(
        date in prop_oneof![
            (0u32..=9999, 1u32..=12, 1u32..=28, 0u32..=23, 0u32..=59, 0u32..=59),
            // The first and last days RFC 3339 can write, where an offset moves the
            // instant across the edge of that range.
            (Just(0), Just(1), Just(1), 0u32..=23, 0u32..=59, 0u32..=59),
            (Just(9999), Just(12), Just(31), 0u32..=23, 0u32..=59, 0u32..=59),
        ],
        fraction in "(\\.[0-9]{1,9})?",
        offset in prop_oneof![Just("Z".to_owned()), (any::<bool>(), 0u32..=23, 0u32..=59)
            .prop_map(|(east, h, m)| format!("{}{h:02}:{m:02}", if east { '+' } else { '-' }))],
    ) {
        let (year, month, day, hour, minute, second) = date;
        let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}");
        if let Some(instant) = Timestamp::parse_rfc3339(&text) {
            let written = instant.to_string();
            prop_assert!(is_server_timestamp(&written), "{} is written {}", text, written);
            prop_assert_eq!(Timestamp::parse_rfc3339(&written), Some(instant), "{}", written);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` ([`Timestamp::PATTERN`]), checked by hand.
fn is_server_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = [
        0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25,
    ];
    bytes.len() == 27
        && digits.iter().all(|&i| bytes[i].is_ascii_digit())
        && [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (26, b'Z'),
        ]
        .iter()
        .all(|&(i, c)| bytes[i] == c)
}
