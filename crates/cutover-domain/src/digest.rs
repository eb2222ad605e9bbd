//! Per-entity digests, so that no write has to read, decode or hash a whole draft.
//!
//! Each endpoint and augmentation carries an [`EntityDigest`]: the SHA-256 of its
//! canonical content and a short hash of each content field. It is computed once,
//! from the parsed entity, when the entity is written. A draft's or a release's
//! [`Manifest`] is the list of its entities' digests with the names the change log
//! shows. From manifests alone follow the things that used to need every entity
//! decoded: the draft digest that tells whether the draft differs from the newest
//! release ([`Manifest::digest`]) and the change log between two snapshots
//! ([`change_log`]). So cutting a release never decodes the release before it, and a
//! draft write costs the entity it writes, not the app's whole draft.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Augmentation, Endpoint};
use crate::snapshot::{CanonicalObject, Snapshot};

/// Hex digits kept of each field's hash: enough to tell a change, short to store.
const FIELD_HASH_HEX: usize = 16;

/// What identifies an entity's content: the hash of the whole and of each field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDigest {
    /// Hex SHA-256 of the entity's canonical content.
    #[serde(rename = "h")]
    pub hash: String,
    /// Each content field's name and the leading hex digits of its hash.
    #[serde(rename = "f")]
    pub fields: BTreeMap<String, String>,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl EntityDigest {
    /// The digest of an entity's content from its canonical JSON (see [`CanonicalObject`]).
    pub fn of_canonical(canonical: &CanonicalObject) -> Self {
        let fields = canonical
            .members()
            .map(|(field, text)| {
                let mut hash = sha256_hex(text);
                hash.truncate(FIELD_HASH_HEX);
                (field.to_owned(), hash)
            })
            .collect();
        Self {
            hash: sha256_hex(&canonical.text),
            fields,
        }
    }

    pub fn of_endpoint(endpoint: &Endpoint) -> Self {
        Self::of_canonical(&CanonicalObject::of_endpoint(endpoint))
    }

    pub fn of_augmentation(augmentation: &Augmentation) -> Self {
        Self::of_canonical(&CanonicalObject::of_augmentation(augmentation))
    }

    /// The digest as it is stored beside the entity.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a digest always serializes")
    }

    pub fn from_text(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Which kind of draft entity a manifest entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Endpoint,
    Augmentation,
}

/// One entity of a snapshot as the change log sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub kind: EntityKind,
    pub id: String,
    pub name: String,
    /// How the change log names it: `endpoint "chat" (POST /chat)`.
    pub label: String,
    pub digest: EntityDigest,
}

impl ManifestEntry {
    pub fn endpoint(endpoint: &Endpoint, digest: EntityDigest) -> Self {
        Self::endpoint_from_parts(
            endpoint.endpoint_id.as_str(),
            &endpoint.name,
            endpoint.method.as_str(),
            &endpoint.path,
            digest,
        )
    }

    /// An endpoint's entry from its stored columns, without decoding its body.
    pub fn endpoint_from_parts(
        id: &str,
        name: &str,
        method: &str,
        path: &str,
        digest: EntityDigest,
    ) -> Self {
        Self {
            kind: EntityKind::Endpoint,
            id: id.to_owned(),
            name: name.to_owned(),
            label: format!("endpoint \"{name}\" ({method} {path})"),
            digest,
        }
    }

    pub fn augmentation(augmentation: &Augmentation, digest: EntityDigest) -> Self {
        Self::augmentation_from_parts(
            augmentation.augmentation_id.as_str(),
            &augmentation.name,
            digest,
        )
    }

    /// An augmentation's entry from its stored columns, without decoding its body.
    pub fn augmentation_from_parts(id: &str, name: &str, digest: EntityDigest) -> Self {
        Self {
            kind: EntityKind::Augmentation,
            id: id.to_owned(),
            name: name.to_owned(),
            label: format!("augmentation \"{name}\""),
            digest,
        }
    }
}

/// Every entity of one snapshot: endpoints, then augmentations, each ordered by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Manifest {
    entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// Orders `entries` the way every manifest is kept and digested.
    pub fn new(mut entries: Vec<ManifestEntry>) -> Self {
        entries.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        Self { entries }
    }

    /// The manifest of a decoded snapshot (entities digested here).
    pub fn of_snapshot(snapshot: &Snapshot) -> Self {
        let endpoints = snapshot
            .endpoints
            .iter()
            .map(|e| ManifestEntry::endpoint(e, EntityDigest::of_endpoint(e)));
        let augmentations = snapshot
            .augmentations
            .iter()
            .map(|a| ManifestEntry::augmentation(a, EntityDigest::of_augmentation(a)));
        Self::new(endpoints.chain(augmentations).collect())
    }

    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hex SHA-256 over each entity's kind, id and content hash, in order: equal for
    /// two snapshots exactly when their content is equal (as `content_hash` is), but
    /// computed from the digests alone.
    pub fn digest(&self) -> String {
        digest_of_hashes(
            self.entries
                .iter()
                .map(|entry| (entry.kind, entry.id.as_str(), entry.digest.hash.as_str())),
        )
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a manifest always serializes")
    }

    pub fn from_text(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text).map(Self::new)
    }
}

/// The digest of a draft with nothing in it (what a new app's draft digest starts as).
pub fn empty_draft_digest() -> &'static str {
    static EMPTY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| Manifest::default().digest());
    &EMPTY
}

/// Whether an app's draft differs from its newest release (`newest_release_digest`,
/// the digest of that release's manifest when it has one) or, for an app without
/// releases, whether the draft holds anything at all.
pub fn draft_has_changes(
    draft_digest: &str,
    has_releases: bool,
    newest_release_digest: Option<&str>,
) -> bool {
    if has_releases {
        newest_release_digest != Some(draft_digest)
    } else {
        draft_digest != empty_draft_digest()
    }
}

/// [`Manifest::digest`] from each entity's kind, id and content hash alone, given in
/// manifest order (endpoints by id, then augmentations by id), as a store reads them
/// from an index.
pub fn digest_of_hashes<'a>(
    entries: impl IntoIterator<Item = (EntityKind, &'a str, &'a str)>,
) -> String {
    let mut hasher = Sha256::new();
    for (kind, id, hash) in entries {
        let kind = match kind {
            EntityKind::Endpoint => "endpoint",
            EntityKind::Augmentation => "augmentation",
        };
        hasher.update(format!("{kind}:{id}:{hash}\n").as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The change log against a release whose content could not be read when its
/// manifest was made (a release stored before manifests existed, unreadable then).
pub fn change_log_against_unreadable(label: &str) -> String {
    format!("Changes since {label} could not be listed: its stored content could not be read")
}

/// How `current` differs from `previous`, one line per entity, endpoints first, then
/// augmentations, each group ordered by name. Entities are matched by id, so a rename
/// is a change, not a removal plus an addition; a change lists the fields whose hash
/// differs. `previous_label` names the release compared against (`v1 (#1)`); `None`
/// means this is the first release.
pub fn change_log(previous: Option<(&Manifest, &str)>, current: &Manifest) -> String {
    let Some((previous, label)) = previous else {
        if current.is_empty() {
            return "Initial release (empty draft)".to_owned();
        }
        let mut lines = vec!["Initial release".to_owned()];
        lines.extend(diff_lines(&Manifest::default(), current));
        return lines.join("\n");
    };
    let lines = diff_lines(previous, current);
    if lines.is_empty() {
        return no_changes_since(label);
    }
    let mut text = format!("Changes since {label}:");
    for line in lines {
        let _ = write!(text, "\n{line}");
    }
    text
}

/// The change log of a snapshot with the same content as the release it follows
/// (`label`): what [`change_log`] says of identical snapshots.
pub fn no_changes_since(label: &str) -> String {
    format!("No changes since {label}")
}

fn diff_lines(previous: &Manifest, current: &Manifest) -> Vec<String> {
    let mut lines = Vec::new();
    for kind in [EntityKind::Endpoint, EntityKind::Augmentation] {
        lines.extend(diff_kind(previous, current, kind));
    }
    lines
}

fn diff_kind(previous: &Manifest, current: &Manifest, kind: EntityKind) -> Vec<String> {
    let of_kind = |manifest: &Manifest| -> BTreeMap<String, ManifestEntry> {
        manifest
            .entries
            .iter()
            .filter(|entry| entry.kind == kind)
            .map(|entry| (entry.id.clone(), entry.clone()))
            .collect()
    };
    let (before, after) = (of_kind(previous), of_kind(current));
    // (name, id) keeps the order total even if two entities ever shared a name.
    let mut lines: Vec<((String, String), String)> = Vec::new();
    for (id, old) in &before {
        match after.get(id) {
            None => lines.push((
                (old.name.clone(), id.clone()),
                format!("- removed {}", old.label),
            )),
            Some(new) if new.digest.hash != old.digest.hash => {
                let changed: Vec<&str> = new
                    .digest
                    .fields
                    .iter()
                    .filter(|(field, hash)| old.digest.fields.get(*field) != Some(hash))
                    .map(|(field, _)| field.as_str())
                    .collect();
                let mut line = format!("~ changed {}: {}", new.label, changed.join(", "));
                if old.name != new.name {
                    let _ = write!(line, " (was \"{}\")", old.name);
                }
                lines.push(((new.name.clone(), id.clone()), line));
            }
            Some(_) => {}
        }
    }
    for (id, new) in &after {
        if !before.contains_key(id) {
            lines.push((
                (new.name.clone(), id.clone()),
                format!("+ added {}", new.label),
            ));
        }
    }
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect()
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
