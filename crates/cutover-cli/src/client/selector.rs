//! Naming a release on the command line. A selector is a release id (`rel_…`), a
//! number (`7` or `#7`), a tag (`v1.2.0`, or `tag:42` for a tag made only of
//! digits), `@active` for the live release, or (for `diff` only) `@draft` for the
//! app's current draft. Numbers and tags are looked up in the app's release list,
//! archived releases included.

use cutover_domain::ReleaseId;
use cutover_domain::model::{ReleaseDetail, ReleaseSummary};
use cutover_domain::values::ReleaseTag;

use super::args::PageArgs;
use super::context::{Ctx, parse, parse_answer};
use super::error::{CliError, CliResult};

pub const SELECTOR_HELP: &str = "a release id (rel_…), a number (7 or #7), a tag (v1.2.0; \
     tag:NAME for a tag of only digits) or @active";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Id(ReleaseId),
    Number(i64),
    Tag(String),
    Active,
    Draft,
}

impl Selector {
    pub fn parse(text: &str) -> CliResult<Self> {
        let bad = |why: &str| {
            CliError::usage(format!(
                "release {text:?}: {why}; name a release by {SELECTOR_HELP}"
            ))
        };
        if let Some(word) = text.strip_prefix('@') {
            return match word {
                "active" => Ok(Self::Active),
                "draft" => Ok(Self::Draft),
                _ => Err(bad("unknown @name (known: @active, @draft)")),
            };
        }
        if let Some(tag) = text.strip_prefix("tag:") {
            return ReleaseTag::parse(tag)
                .map(|_| Self::Tag(tag.to_owned()))
                .map_err(|_| bad("not a valid release tag"));
        }
        let digits = text.strip_prefix('#').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match digits.parse::<i64>() {
                Ok(number) if number >= 1 => Ok(Self::Number(number)),
                _ => Err(bad("not a release number (they start at 1)")),
            };
        }
        if let Ok(id) = ReleaseId::parse(text) {
            return Ok(Self::Id(id));
        }
        ReleaseTag::parse(text)
            .map(|_| Self::Tag(text.to_owned()))
            .map_err(|_| bad("not an id, a number or a valid tag"))
    }

    /// How the selector reads back in messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Id(id) => id.to_string(),
            Self::Number(n) => format!("#{n}"),
            Self::Tag(tag) => format!("tag {tag:?}"),
            Self::Active => "@active".to_owned(),
            Self::Draft => "@draft".to_owned(),
        }
    }
}

/// Parses `text` and finds the release it names in the app in context; `@draft` is
/// refused here (it is not a release).
pub fn resolve(ctx: &Ctx, text: &str) -> CliResult<ReleaseId> {
    match Selector::parse(text)? {
        Selector::Draft => Err(CliError::usage(
            "@draft is not a release; it can only be compared with `cutover releases diff`",
        )),
        selector => find(ctx, &selector),
    }
}

/// The id of the release `selector` names.
pub fn find(ctx: &Ctx, selector: &Selector) -> CliResult<ReleaseId> {
    let app_path = ctx.app_path()?;
    match selector {
        Selector::Id(id) => Ok(id.clone()),
        Selector::Active => {
            let answer = ctx.api.get(&format!("{app_path}/releases/active"), &[])?;
            Ok(parse_answer::<ReleaseDetail>(&answer)?.summary.release_id)
        }
        Selector::Number(_) | Selector::Tag(_) => {
            search(ctx, &app_path, selector).map(|summary| summary.release_id)
        }
        Selector::Draft => Err(CliError::usage("@draft is not a release")),
    }
}

/// Walks the release list (newest first, archived included) for a number or tag.
fn search(ctx: &Ctx, app_path: &str, selector: &Selector) -> CliResult<ReleaseSummary> {
    let mut page = PageArgs {
        limit: Some(200),
        cursor: None,
        all_pages: false,
    };
    let mut seen = 0usize;
    loop {
        let listing = ctx.list(
            &format!("{app_path}/releases"),
            "releases",
            &[("include_archived", "true".to_owned())],
            &page,
        )?;
        seen += listing.items.len();
        for item in listing.items.iter().cloned() {
            let summary: ReleaseSummary = parse(item)?;
            match selector {
                Selector::Number(n) if summary.release_number == *n => return Ok(summary),
                // Numbers descend: once past it, it is not there (deleted or never cut).
                Selector::Number(n) if summary.release_number < *n => {
                    return Err(missing(selector, seen));
                }
                Selector::Tag(tag) if summary.release_tag.as_str() == tag => return Ok(summary),
                _ => {}
            }
        }
        match listing.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Err(missing(selector, seen)),
        }
    }
}

fn missing(selector: &Selector, seen: usize) -> CliError {
    CliError::not_found(format!(
        "no release {} in this app (looked through {seen} release{})",
        selector.describe(),
        if seen == 1 { "" } else { "s" }
    ))
}

/// `v3 (#3)` for a release in messages.
pub fn label(summary: &ReleaseSummary) -> String {
    format!("{} (#{})", summary.release_tag, summary.release_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_as_documented() {
        let id = "rel_06g2x0d1q8v3k5m7n9p4r6t8w0";
        assert_eq!(
            Selector::parse(id).unwrap(),
            Selector::Id(ReleaseId::parse(id).unwrap())
        );
        assert_eq!(Selector::parse("7").unwrap(), Selector::Number(7));
        assert_eq!(Selector::parse("#12").unwrap(), Selector::Number(12));
        assert_eq!(
            Selector::parse("v1.2.0").unwrap(),
            Selector::Tag("v1.2.0".into())
        );
        assert_eq!(
            Selector::parse("tag:42").unwrap(),
            Selector::Tag("42".into())
        );
        assert_eq!(Selector::parse("@active").unwrap(), Selector::Active);
        assert_eq!(Selector::parse("@draft").unwrap(), Selector::Draft);
        // Looks like an id but is not one: a tag.
        assert_eq!(
            Selector::parse("rel_short").unwrap(),
            Selector::Tag("rel_short".into())
        );
        for bad in ["", "0", "#0", "#", "@live", "-v1", "tag:", "a b", "#x"] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
