//! Cutting a release, as every backend does it: a backend reads the facts (the
//! draft's stored texts and digest, the newest release and, when the change log needs
//! it, that release's manifest), [`plan_release`] decides everything that is not a
//! number from a sequence, and the backend writes the plan. The previous release, the
//! change log and the "nothing changed" case are decided here and nowhere else.

use cutover_domain::ReleaseId;
use cutover_domain::digest::{
    Manifest, change_log, change_log_against_unreadable, no_changes_since,
};
use cutover_domain::snapshot::content_hash_of;

use crate::content_text;
use crate::digests::DraftTexts;

/// The app's newest release (by number, archived or not), as a cut reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestRelease {
    pub release_id: ReleaseId,
    pub release_tag: String,
    pub release_number: i64,
    /// The digest of its content's manifest (`None` only on rows a backfill could
    /// not read).
    pub manifest_digest: Option<String>,
}

impl NewestRelease {
    /// How the change log names this release: `v1 (#1)`.
    pub fn label(&self) -> String {
        format!("{} (#{})", self.release_tag, self.release_number)
    }

    /// Whether the change log must compare against this release's manifest: only
    /// when its content differs from a draft with `draft_digest`. A backend reads the
    /// manifest only then.
    pub fn needs_manifest(&self, draft_digest: &str) -> bool {
        self.manifest_digest.as_deref() != Some(draft_digest)
    }
}

/// The newest release with its manifest, read when [`NewestRelease::needs_manifest`]
/// says so (`None` when it was not needed, or is stored but unreadable).
#[derive(Debug, Clone)]
pub struct PreviousRelease {
    pub newest: NewestRelease,
    pub manifest: Option<Manifest>,
}

/// Everything a cut starts from, read in one snapshot.
pub struct CutFacts {
    /// The app's `draft_hash`: the digest of its entities' digests.
    pub draft_digest: String,
    pub draft: DraftTexts,
    pub previous: Option<PreviousRelease>,
}

/// A release as it will be written: everything but its id, number and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasePlan {
    /// The draft digest the plan was made from; it becomes the release's manifest
    /// digest.
    pub draft_digest: String,
    pub previous_release_id: Option<ReleaseId>,
    pub change_log: String,
    pub content_hash: String,
    /// The release content, assembled from the entities' stored texts.
    pub content: String,
    /// The content's manifest as stored text.
    pub manifest: String,
    pub endpoint_count: u32,
    pub augmentation_count: u32,
}

impl ReleasePlan {
    /// Whether a plan made from earlier reads still describes the app: the draft has
    /// the same digest and the newest release is the same. A backend that plans
    /// outside its write transaction checks this inside it, and plans again when not.
    pub fn still_current(&self, draft_digest: &str, newest_release_id: Option<&str>) -> bool {
        self.draft_digest == draft_digest
            && self.previous_release_id.as_ref().map(ReleaseId::as_str) == newest_release_id
    }
}

/// Decides the release a cut writes. CPU only (hashing and a manifest diff), so a
/// backend may run it outside its transaction.
///
/// Every draft change keeps the app's draft digest and each entity's encoding,
/// canonical text and digest current, so the release is assembled from stored text
/// and nothing is decoded; the change log compares manifests, and says "no changes"
/// without comparing when the newest release has the draft's digest.
pub fn plan_release(facts: CutFacts) -> ReleasePlan {
    let CutFacts {
        draft_digest,
        draft,
        previous,
    } = facts;
    let change_log = match &previous {
        None => change_log(None, &draft.manifest),
        Some(previous) => {
            let label = previous.newest.label();
            if !previous.newest.needs_manifest(&draft_digest) {
                no_changes_since(&label)
            } else {
                match &previous.manifest {
                    Some(before) => change_log(Some((before, &label)), &draft.manifest),
                    None => change_log_against_unreadable(&label),
                }
            }
        }
    };
    ReleasePlan {
        previous_release_id: previous.map(|previous| previous.newest.release_id),
        change_log,
        content_hash: content_hash_of(&draft.endpoint_canonicals, &draft.augmentation_canonicals),
        content: content_text(&draft.endpoints, &draft.augmentations),
        manifest: draft.manifest.to_text(),
        endpoint_count: draft.endpoints.len() as u32,
        augmentation_count: draft.augmentations.len() as u32,
        draft_digest,
    }
}

#[cfg(test)]
mod tests {
    use cutover_domain::digest::empty_draft_digest;

    use super::*;

    fn empty_draft() -> DraftTexts {
        DraftTexts {
            endpoints: Vec::new(),
            augmentations: Vec::new(),
            endpoint_canonicals: Vec::new(),
            augmentation_canonicals: Vec::new(),
            manifest: Manifest::default(),
        }
    }

    fn newest(digest: Option<&str>) -> NewestRelease {
        NewestRelease {
            release_id: ReleaseId::generate(),
            release_tag: "v1".into(),
            release_number: 1,
            manifest_digest: digest.map(str::to_owned),
        }
    }

    fn plan(previous: Option<PreviousRelease>) -> ReleasePlan {
        plan_release(CutFacts {
            draft_digest: empty_draft_digest().to_owned(),
            draft: empty_draft(),
            previous,
        })
    }

    #[test]
    fn a_first_release_has_no_previous_and_says_it_is_initial() {
        let plan = plan(None);
        assert_eq!(plan.previous_release_id, None);
        assert_eq!(plan.change_log, "Initial release (empty draft)");
        assert_eq!((plan.endpoint_count, plan.augmentation_count), (0, 0));
        assert_eq!(plan.draft_digest, empty_draft_digest());
        assert!(plan.still_current(empty_draft_digest(), None));
        assert!(!plan.still_current("other", None));
    }

    #[test]
    fn the_same_digest_as_the_newest_release_needs_no_manifest() {
        let newest = newest(Some(empty_draft_digest()));
        assert!(!newest.needs_manifest(empty_draft_digest()));
        let id = newest.release_id.clone();
        let plan = plan(Some(PreviousRelease {
            newest,
            manifest: None,
        }));
        assert_eq!(plan.change_log, "No changes since v1 (#1)");
        assert_eq!(plan.previous_release_id.as_ref(), Some(&id));
        assert!(plan.still_current(empty_draft_digest(), Some(id.as_str())));
        assert!(!plan.still_current(empty_draft_digest(), None));
    }

    #[test]
    fn a_different_digest_compares_manifests_or_says_the_old_one_is_unreadable() {
        let changed = newest(Some("a different digest"));
        assert!(changed.needs_manifest(empty_draft_digest()));
        let compared = plan(Some(PreviousRelease {
            newest: changed.clone(),
            manifest: Some(Manifest::default()),
        }));
        assert_eq!(compared.change_log, "No changes since v1 (#1)");
        let unreadable = plan(Some(PreviousRelease {
            newest: changed,
            manifest: None,
        }));
        assert_eq!(
            unreadable.change_log,
            "Changes since v1 (#1) could not be listed: its stored content could not be read"
        );
        assert!(newest(None).needs_manifest(empty_draft_digest()));
    }
}
