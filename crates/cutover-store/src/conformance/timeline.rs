//! The app's timeline: every draft write is a commit with its field diff, every
//! release cut, archive and delete and every deployment an event, newest first, in
//! pages that together hold each event once; a refused write leaves no event, and
//! a deleted release keeps its events.

use cutover_domain::draft::EndpointPatch;
use cutover_domain::model::ReleaseStatus;
use cutover_domain::timeline::{ChangeOperation, EventType, ReleaseAction, TimelineEvent};
use serde_json::json;

use super::deployments::{UNPROTECTED, deploy};
use super::fixtures::{ACTOR, app_fixture, augmentation_in, endpoint_in, new_augmentation, reason};
use super::releases::cut;
use super::{Case, Stores};
use crate::{AppScope, PageRequest, Store};

/// Every event of the app, newest first, read in pages of `limit`.
async fn every_event(store: &dyn Store, scope: &AppScope, limit: u32) -> Vec<TimelineEvent> {
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_timeline(scope, PageRequest { limit, after })
            .await
            .expect("timeline");
        assert!(page.events.len() <= limit as usize);
        events.extend(page.events);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return events,
        }
    }
}

fn types(events: &[TimelineEvent]) -> Vec<EventType> {
    events.iter().map(|event| event.event_type).collect()
}

pub fn every_write_is_an_event_newest_first() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let rag = augmentation_in(store, &scope, "rag").await;
        let chat = endpoint_in(store, &scope, "chat", "/chat", &rag.augmentation_id).await;
        let patch = EndpointPatch {
            path: Some("/talk".into()),
            description: Some(Some("Talk to the bot".into())),
            ..EndpointPatch::default()
        };
        store
            .update_endpoint(&scope, &chat.endpoint_id, patch, "bob", None)
            .await
            .expect("update");
        let v1 = cut(store, &scope, "v1", false).await;
        deploy(store, &scope, "staging", &v1, UNPROTECTED)
            .await
            .expect("deploy v1 to staging");
        store
            .delete_endpoint(&scope, &chat.endpoint_id, "carol", None)
            .await
            .expect("delete");

        let events = every_event(store, &scope, 100).await;
        use EventType::{Commit, Deployment, Release};
        assert_eq!(
            types(&events),
            [Commit, Deployment, Release, Commit, Commit, Commit]
        );
        for event in &events {
            let set = [
                event.commit.is_some(),
                event.release.is_some(),
                event.deployment.is_some(),
            ];
            assert_eq!(set.iter().filter(|is_set| **is_set).count(), 1);
        }
        let deleted = events[0].commit.as_ref().expect("the delete's commit");
        assert_eq!(deleted.author, "carol");
        assert_eq!(deleted.changes[0].operation, ChangeOperation::Delete);
        assert_eq!(deleted.message, "Delete endpoint \"chat\"");
        let deployed = events[1].deployment.as_ref().expect("the deployment");
        assert_eq!(
            (
                deployed.release_id.clone(),
                deployed.environment_slug.as_str()
            ),
            (v1.clone(), "staging")
        );
        let release = events[2].release.as_ref().expect("the cut");
        assert_eq!(
            (
                release.summary.release_id.clone(),
                release.action,
                release.summary.status
            ),
            (v1.clone(), ReleaseAction::Cut, ReleaseStatus::Ready)
        );
        let updated = events[3].commit.as_ref().expect("the update's commit");
        assert_eq!(updated.author, "bob");
        let change = &updated.changes[0];
        assert_eq!(
            (change.entity_id.as_str(), change.entity_name.as_str()),
            (chat.endpoint_id.as_str(), "chat")
        );
        let diff: Vec<(&str, serde_json::Value, serde_json::Value)> = change
            .change_diff
            .iter()
            .map(|field| (field.field.as_str(), field.old.clone(), field.new.clone()))
            .collect();
        assert_eq!(
            diff,
            [
                ("description", json!(null), json!("Talk to the bot")),
                ("path", json!("/chat"), json!("/talk")),
            ],
            "only the content that changed, not updated_at or updated_by"
        );
        assert_eq!(
            updated.message,
            "Update endpoint \"chat\": description, path"
        );
        let created = events[5]
            .commit
            .as_ref()
            .expect("the augmentation's commit");
        assert_eq!(
            (created.changes[0].operation, created.author.as_str()),
            (ChangeOperation::Create, ACTOR)
        );
        for pair in events.windows(2) {
            assert!(pair[0].timestamp >= pair[1].timestamp, "newest first");
        }
    })
}

pub fn timeline_pages_hold_every_event_once() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        for index in 0..7 {
            augmentation_in(store, &scope, &format!("aug-{index}")).await;
        }
        let whole = every_event(store, &scope, 100).await;
        assert_eq!(whole.len(), 7);
        let paged = every_event(store, &scope, 3).await;
        assert_eq!(paged, whole);
        let names: Vec<String> = whole
            .iter()
            .map(|event| {
                event.commit.as_ref().expect("a commit").changes[0]
                    .entity_name
                    .clone()
            })
            .collect();
        assert_eq!(names[0], "aug-6");
        assert_eq!(names[6], "aug-0");
    })
}

pub fn a_refused_write_leaves_no_event_and_deleted_releases_keep_theirs() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let rag = augmentation_in(store, &scope, "rag").await;
        endpoint_in(store, &scope, "chat", "/chat", &rag.augmentation_id).await;
        let before = every_event(store, &scope, 100).await.len();
        let taken = store
            .create_augmentation(&scope, new_augmentation("rag"), ACTOR)
            .await;
        assert_eq!(reason(&taken), "augmentation_name_taken");
        let in_use = store
            .delete_augmentation(&scope, &rag.augmentation_id, ACTOR, None)
            .await;
        assert_eq!(reason(&in_use), "augmentation_in_use");
        assert_eq!(every_event(store, &scope, 100).await.len(), before);

        let v1 = cut(store, &scope, "v1", false).await;
        store
            .archive_release(scope.clone(), v1.clone(), "dave".into(), None)
            .await
            .expect("archive");
        store
            .delete_release(scope.clone(), v1.clone(), "erin".into(), None)
            .await
            .expect("delete");
        let events = every_event(store, &scope, 100).await;
        let of_v1: Vec<(ReleaseAction, &str)> = events
            .iter()
            .filter_map(|event| event.release.as_ref())
            .filter(|release| release.summary.release_id == v1)
            .map(|release| (release.action, release.action_by.as_str()))
            .collect();
        assert_eq!(
            of_v1,
            [
                (ReleaseAction::Delete, "erin"),
                (ReleaseAction::Archive, "dave"),
                (ReleaseAction::Cut, ACTOR),
            ],
            "the deleted release's events stay"
        );
        let archived = events[1].release.as_ref().expect("the archive");
        assert_eq!(archived.summary.status, ReleaseStatus::Archived);

        let other = super::fixtures::app_in(
            store,
            &crate::WorkspaceScope {
                org_id: scope.org_id.clone(),
                workspace_id: scope.workspace_id.clone(),
            },
            "other",
        )
        .await;
        assert!(
            every_event(store, &other, 100).await.is_empty(),
            "an app sees only its own events"
        );
    })
}
