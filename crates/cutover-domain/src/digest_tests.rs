//! Tests of digests, manifests and the change log.

use super::*;
use crate::snapshot::tests::{augmentation, endpoint};

fn m(snapshot: &Snapshot) -> Manifest {
    Manifest::of_snapshot(snapshot)
}

#[test]
fn change_log_names_added_removed_and_changed_entities() {
    let pipeline = augmentation("rag");
    let chat = endpoint("chat", "/chat", &pipeline);
    let old = endpoint("old", "/old", &pipeline);
    let before = Snapshot::new(vec![chat.clone(), old], vec![pipeline.clone()]);
    let mut renamed = chat.clone();
    renamed.name = "talk".into();
    renamed.path = "/talk".into();
    let fresh = endpoint("fresh", "/fresh", &pipeline);
    let extra = augmentation("summarise");
    let after = Snapshot::new(vec![renamed, fresh], vec![pipeline, extra]);
    assert_eq!(
        change_log(Some((&m(&before), "v1 (#1)")), &m(&after)),
        "Changes since v1 (#1):\n\
         + added endpoint \"fresh\" (POST /fresh)\n\
         - removed endpoint \"old\" (POST /old)\n\
         ~ changed endpoint \"talk\" (POST /talk): name, path (was \"chat\")\n\
         + added augmentation \"summarise\""
    );
    assert_eq!(
        change_log(Some((&m(&after), "v2 (#2)")), &m(&after)),
        "No changes since v2 (#2)"
    );
}

#[test]
fn first_release_lists_everything_as_added() {
    let pipeline = augmentation("rag");
    let snapshot = Snapshot::new(vec![], vec![pipeline]);
    assert_eq!(
        change_log(None, &m(&snapshot)),
        "Initial release\n+ added augmentation \"rag\""
    );
    assert_eq!(
        change_log(None, &Manifest::default()),
        "Initial release (empty draft)"
    );
}

#[test]
fn the_manifest_digest_follows_content_not_bookkeeping() {
    let pipeline = augmentation("rag");
    let chat = endpoint("chat", "/chat", &pipeline);
    let one = Snapshot::new(vec![chat.clone()], vec![pipeline.clone()]);
    let mut touched = chat.clone();
    touched.updated_by = "tok_b".into();
    let two = Snapshot::new(vec![touched], vec![pipeline.clone()]);
    assert_eq!(m(&one).digest(), m(&two).digest());
    let mut moved = chat;
    moved.path = "/talk".into();
    let three = Snapshot::new(vec![moved], vec![pipeline]);
    assert_ne!(m(&one).digest(), m(&three).digest());
    assert_ne!(m(&one).digest(), Manifest::default().digest());
}

#[test]
fn digests_and_manifests_survive_their_stored_text() {
    let pipeline = augmentation("rag");
    let chat = endpoint("chat", "/chat", &pipeline);
    let manifest = m(&Snapshot::new(vec![chat.clone()], vec![pipeline]));
    assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
    let digest = EntityDigest::of_endpoint(&chat);
    assert_eq!(EntityDigest::from_text(&digest.to_text()).unwrap(), digest);
    assert_eq!(digest.hash.len(), 64);
    assert!(digest.fields.contains_key("input_schema"));
}

#[test]
fn entries_from_stored_columns_match_entries_from_entities() {
    let pipeline = augmentation("rag");
    let chat = endpoint("chat", "/chat", &pipeline);
    let digest = EntityDigest::of_endpoint(&chat);
    let from_parts = ManifestEntry::endpoint_from_parts(
        chat.endpoint_id.as_str(),
        &chat.name,
        chat.method.as_str(),
        &chat.path,
        digest.clone(),
    );
    assert_eq!(from_parts, ManifestEntry::endpoint(&chat, digest));
}

#[test]
fn a_draft_has_changes_when_it_differs_from_the_newest_release() {
    let pipeline = augmentation("rag");
    let full = m(&Snapshot::new(vec![], vec![pipeline])).digest();
    let empty = empty_draft_digest();
    assert_eq!(empty, m(&Snapshot::default()).digest());
    // No release yet: changed exactly when the draft holds something.
    assert!(!draft_has_changes(empty, false, None));
    assert!(draft_has_changes(&full, false, None));
    // With releases: changed unless the newest release's manifest is the draft's.
    assert!(!draft_has_changes(&full, true, Some(&full)));
    assert!(draft_has_changes(&full, true, Some(empty)));
    assert!(draft_has_changes(&full, true, None));
}
