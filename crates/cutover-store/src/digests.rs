//! What both stores do with the digests of migration 3 (`entity_digests`) that is
//! not SQL: assembling a draft's stored texts and manifest from its rows, the draft
//! digest and size from the entities' hashes and sizes, reading a stored manifest, and
//! the backfill's digests for rows written before the migration. Each backend reads
//! the rows its own way and calls these.

use cutover_domain::digest::{EntityDigest, EntityKind, Manifest, ManifestEntry, digest_of_hashes};
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::snapshot::Snapshot;

use crate::{Prepared, StoreError, StoreResult, StoredContent, decode_stored};

/// The manifest digest written for a release whose content could not be read: no
/// draft's digest ever equals it, so such a release never reads as "the same as the
/// draft".
pub const UNREADABLE_MANIFEST_DIGEST: &str = "unreadable";

/// One endpoint row as a cut reads it.
pub struct EndpointRow {
    pub body: String,
    pub canonical: String,
    pub digest: String,
    pub id: String,
    pub name: String,
    pub method: String,
    pub path: String,
}

/// One augmentation row as a cut reads it.
pub struct AugmentationRow {
    pub body: String,
    pub canonical: String,
    pub digest: String,
    pub id: String,
    pub name: String,
}

/// An app's draft as its entities' stored texts, each list ordered by id (the order
/// of a snapshot), and its manifest: everything a cut needs, with nothing decoded.
pub struct DraftTexts {
    pub endpoints: Vec<String>,
    pub augmentations: Vec<String>,
    pub endpoint_canonicals: Vec<String>,
    pub augmentation_canonicals: Vec<String>,
    pub manifest: Manifest,
}

fn stored_digest(text: &str) -> StoreResult<EntityDigest> {
    EntityDigest::from_text(text)
        .map_err(|err| StoreError::internal_from("a stored entity digest is unreadable", err))
}

impl DraftTexts {
    /// From the draft's rows, each list ordered by id.
    pub fn from_rows(
        endpoints: Vec<EndpointRow>,
        augmentations: Vec<AugmentationRow>,
    ) -> StoreResult<Self> {
        let mut entries = Vec::with_capacity(endpoints.len() + augmentations.len());
        let mut texts = Self {
            endpoints: Vec::with_capacity(endpoints.len()),
            augmentations: Vec::with_capacity(augmentations.len()),
            endpoint_canonicals: Vec::with_capacity(endpoints.len()),
            augmentation_canonicals: Vec::with_capacity(augmentations.len()),
            manifest: Manifest::default(),
        };
        for row in endpoints {
            entries.push(ManifestEntry::endpoint_from_parts(
                &row.id,
                &row.name,
                &row.method,
                &row.path,
                stored_digest(&row.digest)?,
            ));
            texts.endpoints.push(row.body);
            texts.endpoint_canonicals.push(row.canonical);
        }
        for row in augmentations {
            entries.push(ManifestEntry::augmentation_from_parts(
                &row.id,
                &row.name,
                stored_digest(&row.digest)?,
            ));
            texts.augmentations.push(row.body);
            texts.augmentation_canonicals.push(row.canonical);
        }
        texts.manifest = Manifest::new(entries);
        Ok(texts)
    }
}

/// A release's stored manifest; `None` (no text) when its content could not be read
/// when the manifest was made.
pub fn stored_manifest(text: Option<String>) -> StoreResult<Option<Manifest>> {
    text.map(|text| {
        Manifest::from_text(&text)
            .map_err(|err| StoreError::internal_from("a stored manifest is unreadable", err))
    })
    .transpose()
}

/// One entity's id, content hash and stored size, as the covering indexes hold them.
pub type EntityHash = (String, String, i64);

/// The draft digest and size from its entities' hashes and sizes, each list ordered
/// by id.
pub fn draft_digest_and_bytes(
    endpoints: &[EntityHash],
    augmentations: &[EntityHash],
) -> (String, i64) {
    let bytes = endpoints
        .iter()
        .chain(augmentations)
        .map(|(_, _, bytes)| bytes)
        .sum();
    let digest = digest_of_hashes(
        endpoints
            .iter()
            .map(|(id, hash, _)| (EntityKind::Endpoint, id.as_str(), hash.as_str()))
            .chain(
                augmentations
                    .iter()
                    .map(|(id, hash, _)| (EntityKind::Augmentation, id.as_str(), hash.as_str())),
            ),
    );
    (digest, bytes)
}

/// What the backfill writes beside an entity stored before migration 3: its content
/// hash, digest text and canonical text, from its stored body.
pub fn backfilled_entity(kind: EntityKind, body: &str) -> StoreResult<(String, String, String)> {
    let (digest, canonical) = match kind {
        EntityKind::Endpoint => {
            let prepared = Prepared::endpoint(decode_stored::<Endpoint>(body, "endpoint")?)?;
            (prepared.digest, prepared.canonical)
        }
        EntityKind::Augmentation => {
            let prepared =
                Prepared::augmentation(decode_stored::<Augmentation>(body, "augmentation")?)?;
            (prepared.digest, prepared.canonical)
        }
    };
    Ok((digest.hash.clone(), digest.to_text(), canonical))
}

/// What the backfill writes beside a release cut before migration 3: its manifest
/// text (`None` when the content cannot be read) and manifest digest.
pub fn backfilled_manifest(snapshot: &str) -> (Option<String>, String) {
    match StoredContent::from_text(snapshot) {
        Ok(content) => {
            let manifest =
                Manifest::of_snapshot(&Snapshot::new(content.endpoints, content.augmentations));
            (Some(manifest.to_text()), manifest.digest())
        }
        Err(_) => (None, UNREADABLE_MANIFEST_DIGEST.to_owned()),
    }
}
