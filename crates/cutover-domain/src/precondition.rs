//! Compare-and-swap: the entity tags that name a version of what a read answered, the
//! conditions a write may carry (`If-Match`, `expected_release_id`), and the one check
//! of them against what the target has now. Stores run the check inside the write's
//! transaction, after reading the current state and before deciding anything else, so
//! a condition that held when checked still holds when the write commits.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ids::ReleaseId;
use crate::model::ReleaseSummary;

/// Changes whenever the way a release is written out changes, so tags from an older
/// server never match answers of a newer one.
const RELEASE_REPRESENTATION: &str = "release-detail/1";

/// The most tags one `If-Match` may list; more is refused rather than compared.
pub const MAX_IF_MATCH_TAGS: usize = 32;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A strong entity tag (RFC 9110 §8.8.3), quotes included: `"…"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityTag(String);

impl EntityTag {
    /// `"<snapshot>-<representation>"`: the first 16 hex digits of the release's
    /// content hash (which snapshot it is), then 16 of the SHA-256 of the release's
    /// id and of the only fields of its answer that ever change (`status`,
    /// `activated_at`, `activated_by`): everything else in the answer is immutable for
    /// a release (the database refuses changes to it), so equal tags mean equal
    /// bodies, and the tag costs a hash of a few dozen bytes rather than of the body.
    pub fn of_release(summary: &ReleaseSummary) -> Self {
        let mut lifecycle = Sha256::new();
        for part in [
            RELEASE_REPRESENTATION,
            summary.release_id.as_str(),
            summary.status.as_str(),
            &summary
                .activated_at
                .map_or(String::new(), |at| at.as_micros().to_string()),
            summary.activated_by.as_deref().unwrap_or(""),
        ] {
            lifecycle.update(part.as_bytes());
            lifecycle.update([0]);
        }
        let mut tag = String::with_capacity(35);
        tag.push('"');
        tag.extend(
            summary
                .content_hash
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16),
        );
        tag.push('-');
        push_hex(&mut tag, &lifecycle.finalize()[..8]);
        tag.push('"');
        Self(tag)
    }

    /// The tag of a draft entity's answer (an endpoint, an augmentation, an app): 32
    /// hex digits of the SHA-256 of its JSON body, so any change to the body, however
    /// small, is a new tag, and equal bodies have equal tags.
    pub fn of_representation(body: &[u8]) -> Self {
        let mut tag = String::with_capacity(34);
        tag.push('"');
        push_hex(&mut tag, &Sha256::digest(body)[..16]);
        tag.push('"');
        Self(tag)
    }

    /// The tag of a draft entity's answer: of its JSON as the server renders it
    /// (`serde_json`, compact). `None` for one that cannot be rendered.
    pub fn of_entity(entity: &impl Serialize) -> Option<Self> {
        serde_json::to_vec(entity)
            .ok()
            .map(|body| Self::of_representation(&body))
    }

    /// The tag as a header carries it, quotes included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn push_hex(text: &mut String, bytes: &[u8]) {
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
}

/// An `If-Match` condition: `*` (the target must exist) or the tags one of which its
/// current version must carry. Comparison is strong, as RFC 9110 §13.1.1 asks: a weak
/// tag (`W/"…"`) never matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(Vec<String>),
}

/// Why an `If-Match` value was refused (answered as 422 at the header).
pub const IF_MATCH_SHAPE: &str = "must be `*` or a comma-separated list of quoted entity tags \
     (at most 32), such as the `ETag` of a read";

impl IfMatch {
    /// Parses every `If-Match` value a request carries (a request may repeat the
    /// header; the lists join). `None` when there is no such header.
    pub fn parse<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<Self>, &'static str> {
        let mut tags = Vec::new();
        let mut any = false;
        let mut seen = false;
        for value in values {
            seen = true;
            for member in value.split(',').map(str::trim) {
                if member == "*" {
                    any = true;
                } else if is_entity_tag(member) {
                    tags.push(member.to_owned());
                } else {
                    return Err(IF_MATCH_SHAPE);
                }
            }
        }
        if !seen {
            return Ok(None);
        }
        if tags.len() > MAX_IF_MATCH_TAGS || (!any && tags.is_empty()) || (any && !tags.is_empty())
        {
            return Err(IF_MATCH_SHAPE);
        }
        Ok(Some(if any { Self::Any } else { Self::Tags(tags) }))
    }

    /// Whether the target, whose current version is `current` (`None` when there is
    /// none), meets the condition.
    pub fn admits(&self, current: Option<&EntityTag>) -> bool {
        match (self, current) {
            (_, None) => false,
            (Self::Any, Some(_)) => true,
            (Self::Tags(tags), Some(current)) => tags.iter().any(|tag| tag == current.as_str()),
        }
    }
}

/// `"…"` or `W/"…"` with the characters RFC 9110 allows between the quotes.
fn is_entity_tag(member: &str) -> bool {
    let opaque = member.strip_prefix("W/").unwrap_or(member);
    opaque.len() >= 2
        && opaque.starts_with('"')
        && opaque.ends_with('"')
        && opaque[1..opaque.len() - 1]
            .bytes()
            .all(|byte| byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80)
}

/// What a deploy, promote, activate or rollback requires of the environment it
/// changes. Both conditions must hold when both are given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    /// `expected_release_id`: the release the environment must have now; `Some(None)`
    /// means it must have nothing.
    pub release: Option<Option<ReleaseId>>,
    /// `If-Match`: the tag the environment's current release read
    /// (`GET …/releases/active[?environment=]`) must carry now.
    pub if_match: Option<IfMatch>,
}

/// A condition did not hold; nothing was changed. Answered as 412.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreconditionFailed {
    /// The environment has `current_release_id` (none when nothing is deployed).
    Deployment {
        current_release_id: Option<ReleaseId>,
    },
    /// The draft entity (`resource_type`) changed since the tag was read.
    Entity { resource_type: &'static str },
}

impl PreconditionFailed {
    pub fn message(&self) -> String {
        match self {
            Self::Deployment {
                current_release_id: Some(current),
            } => format!(
                "The environment no longer has the release this request expected; it has \
                 {current} now. Nothing was changed"
            ),
            Self::Deployment {
                current_release_id: None,
            } => "The environment no longer has the release this request expected; nothing is \
                  deployed there now. Nothing was changed"
                .to_owned(),
            Self::Entity { resource_type } => format!(
                "The {resource_type} changed since the version named in If-Match was read; read \
                 it again and reapply the change. Nothing was changed"
            ),
        }
    }
}

impl Precondition {
    /// No condition: the write goes ahead whatever the environment has.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_none(&self) -> bool {
        self.release.is_none() && self.if_match.is_none()
    }

    /// Checks the conditions against `current`, the release the environment has now
    /// (as its read would show it).
    pub fn check(&self, current: Option<&ReleaseSummary>) -> Result<(), PreconditionFailed> {
        let current_id = current.map(|release| &release.release_id);
        let release_holds = self
            .release
            .as_ref()
            .is_none_or(|expected| expected.as_ref() == current_id);
        let tag_holds = self
            .if_match
            .as_ref()
            .is_none_or(|condition| condition.admits(current.map(EntityTag::of_release).as_ref()));
        if release_holds && tag_holds {
            Ok(())
        } else {
            Err(PreconditionFailed::Deployment {
                current_release_id: current_id.cloned(),
            })
        }
    }
}

/// Checks an `If-Match` condition on a draft entity or an app (`resource_type`), as
/// it is now (`entity`, which exists: a missing one is a 404 before any condition).
pub fn check_entity(
    if_match: Option<&IfMatch>,
    resource_type: &'static str,
    entity: &impl Serialize,
) -> Result<(), PreconditionFailed> {
    match if_match {
        None | Some(IfMatch::Any) => Ok(()),
        Some(condition) => {
            if condition.admits(EntityTag::of_entity(entity).as_ref()) {
                Ok(())
            } else {
                Err(PreconditionFailed::Entity { resource_type })
            }
        }
    }
}

#[cfg(test)]
#[path = "precondition_tests.rs"]
mod tests;
