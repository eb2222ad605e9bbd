//! Releases: the cut (numbers, previous release, change log, content), tags, and
//! listing newest first (the lifecycle is in `lifecycle`).

use cutover_domain::ReleaseId;
use cutover_domain::deployment::ActivationRequest;
use cutover_domain::draft::EndpointPatch;
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use serde_json::json;

use super::fixtures::{
    ACTOR, app_fixture, assert_conflict, assert_not_found, augmentation_in, endpoint_in,
    new_release, newest, object,
};
use super::{Case, Stores};
use crate::{AppScope, ReleaseQuery, Store};

pub(super) async fn cut(
    store: &dyn Store,
    scope: &AppScope,
    tag: &str,
    activate: bool,
) -> ReleaseId {
    store
        .create_release(scope.clone(), new_release(tag, activate), ACTOR.to_owned())
        .await
        .unwrap_or_else(|err| panic!("cutting {tag}: {err:?}"))
        .summary
        .release_id
}

pub(super) async fn status(store: &dyn Store, scope: &AppScope, id: &ReleaseId) -> ReleaseStatus {
    store
        .get_release(scope, id)
        .await
        .expect("release")
        .summary
        .status
}

pub fn a_cut_numbers_links_and_describes_the_release() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let empty = store
            .create_release(scope.clone(), new_release("empty", false), ACTOR.to_owned())
            .await
            .expect("an empty draft can be released");
        assert_eq!(empty.change_log, "Initial release (empty draft)");
        assert_eq!(
            (
                empty.summary.endpoint_count,
                empty.summary.augmentation_count
            ),
            (0, 0)
        );
        let aug = augmentation_in(store, &scope, "pipeline").await;
        let list = endpoint_in(store, &scope, "list", "/items", &aug.augmentation_id).await;
        endpoint_in(store, &scope, "second", "/second", &aug.augmentation_id).await;
        let v1 = store
            .create_release(scope.clone(), new_release("v1", false), ACTOR.to_owned())
            .await
            .expect("v1");
        let summary = &v1.summary;
        assert_eq!(
            (summary.release_number, summary.status),
            (2, ReleaseStatus::Ready)
        );
        assert_eq!((summary.endpoint_count, summary.augmentation_count), (2, 1));
        assert_eq!(
            (summary.created_by.as_str(), summary.activated_at),
            (ACTOR, None)
        );
        assert_eq!(summary.release_tag.as_str(), "v1");
        assert_eq!(
            v1.previous_release_id.as_ref(),
            Some(&empty.summary.release_id)
        );
        assert_eq!(
            v1.change_log,
            "Changes since empty (#1):\n\
             + added endpoint \"list\" (GET /items)\n\
             + added endpoint \"second\" (GET /second)\n\
             + added augmentation \"pipeline\""
        );
        let content: serde_json::Value = serde_json::from_str(&v1.content).expect("content");
        assert_eq!(content["endpoints"].as_array().map(Vec::len), Some(2));
        assert_eq!(content["augmentations"][0]["name"], "pipeline");
        assert_eq!(
            store
                .get_release(&scope, &summary.release_id)
                .await
                .expect("get"),
            v1
        );

        let same = store
            .create_release(
                scope.clone(),
                new_release("v1-again", false),
                ACTOR.to_owned(),
            )
            .await
            .expect("identical");
        assert_eq!(same.change_log, "No changes since v1 (#2)");
        assert_eq!(
            same.summary.content_hash, v1.summary.content_hash,
            "same content"
        );
        assert_eq!(same.content, v1.content);

        let patch = EndpointPatch {
            path: Some("/things".into()),
            ..EndpointPatch::default()
        };
        store
            .update_endpoint(&scope, &list.endpoint_id, patch, ACTOR, None)
            .await
            .expect("update");
        let v2 = store
            .create_release(scope.clone(), new_release("v2", true), ACTOR.to_owned())
            .await
            .expect("v2");
        assert!(
            v2.change_log
                .starts_with("Changes since v1-again (#3):\n~ "),
            "{}",
            v2.change_log
        );
        assert!(v2.change_log.contains("list"), "{}", v2.change_log);
        assert_ne!(v2.summary.content_hash, v1.summary.content_hash);
        assert_eq!(
            v2.summary.status,
            ReleaseStatus::Active,
            "activate on create"
        );
        assert_eq!(v2.summary.activated_by.as_deref(), Some(ACTOR));
        let app = store.get_app(&scope).await.expect("app");
        assert_eq!(app.active_release_id.as_ref(), Some(&v2.summary.release_id));
        assert_eq!(app.total_releases, 4);

        // Numbers are never reused, also after the newest release is deleted.
        store
            .delete_release(
                scope.clone(),
                same.summary.release_id.clone(),
                ACTOR.into(),
                None,
            )
            .await
            .expect("delete");
        assert_not_found(
            store.get_release(&scope, &same.summary.release_id).await,
            "release",
        );
        let v3 = store
            .create_release(scope.clone(), new_release("v3", false), ACTOR.to_owned())
            .await
            .expect("v3");
        assert_eq!(v3.summary.release_number, 5);
        assert_eq!(
            v3.previous_release_id.as_ref(),
            Some(&v2.summary.release_id)
        );
        assert_not_found(
            store.get_release(&scope, &ReleaseId::generate()).await,
            "release",
        );
    })
}

pub fn a_release_tag_is_used_once_per_app() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        let details = assert_conflict(
            store
                .create_release(scope.clone(), new_release("v1", false), ACTOR.to_owned())
                .await,
            "release_tag_exists",
            "Release tag 'v1' is already used by release #1 of this app",
        );
        assert_eq!(
            details,
            object(json!({
                "release_tag": "v1",
                "existing_release_id": v1.as_str(),
                "existing_release_number": 1,
            }))
        );
        let workspace = crate::WorkspaceScope {
            org_id: scope.org_id.clone(),
            workspace_id: scope.workspace_id.clone(),
        };
        let other = super::fixtures::app_in(store, &workspace, "other").await;
        cut(store, &other, "v1", false).await;
        // A refused cut takes no number.
        assert_eq!(
            store
                .create_release(scope.clone(), new_release("v2", false), ACTOR.to_owned())
                .await
                .expect("v2")
                .summary
                .release_number,
            2
        );
        store
            .delete_release(scope.clone(), v1.clone(), ACTOR.into(), None)
            .await
            .expect("delete");
        cut(store, &scope, "v1", false).await;
    })
}

pub fn a_release_keeps_its_content_when_the_draft_changes() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let aug = augmentation_in(store, &scope, "pipeline").await;
        let endpoint = endpoint_in(store, &scope, "list", "/items", &aug.augmentation_id).await;
        let v1 = store
            .create_release(scope.clone(), new_release("v1", true), ACTOR.to_owned())
            .await
            .expect("v1");
        store
            .delete_endpoint(&scope, &endpoint.endpoint_id, ACTOR, None)
            .await
            .expect("delete endpoint");
        store
            .delete_augmentation(&scope, &aug.augmentation_id, ACTOR, None)
            .await
            .expect("delete augmentation");
        let again = store
            .get_release(&scope, &v1.summary.release_id)
            .await
            .expect("v1");
        assert_eq!(
            (&again.content, &again.change_log),
            (&v1.content, &v1.change_log)
        );
        assert_eq!(again.summary.content_hash, v1.summary.content_hash);
        let active = store
            .get_active_release(&scope)
            .await
            .expect("active")
            .expect("some");
        assert_eq!(active, again);
    })
}

pub fn release_lists_page_newest_first_and_hide_archived() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let mut ids = Vec::new();
        for n in 1..=5 {
            ids.push(cut(store, &scope, &format!("v{n}"), false).await);
        }
        store
            .activate_release(
                scope.clone(),
                ids[1].clone(),
                ActivationRequest::of(ActivationAction::Activate),
                ACTOR.to_owned(),
            )
            .await
            .expect("activate v2");
        store
            .archive_release(scope.clone(), ids[2].clone(), ACTOR.into(), None)
            .await
            .expect("archive v3");
        for (include_archived, expected, total) in [
            (false, vec!["v5", "v4", "v2", "v1"], 4),
            (true, vec!["v5", "v4", "v3", "v2", "v1"], 5),
        ] {
            let mut tags = Vec::new();
            let mut before_number = None;
            loop {
                let query = ReleaseQuery {
                    limit: 2,
                    before_number,
                    include_archived,
                };
                let page = store.list_releases(&scope, query).await.expect("page");
                assert_eq!(page.total, total);
                assert_eq!(page.active_release_id.as_ref(), Some(&ids[1]));
                assert!(page.releases.len() <= 2);
                tags.extend(page.releases.iter().map(|r| r.release_tag.to_string()));
                match page.next_before_number {
                    Some(next) => before_number = Some(next),
                    None => break,
                }
            }
            assert_eq!(tags, expected, "include_archived={include_archived}");
        }
        let all = store
            .list_releases(&scope, newest(10, true))
            .await
            .expect("all");
        assert_eq!(all.next_before_number, None);
        let statuses: Vec<ReleaseStatus> = all.releases.iter().map(|r| r.status).collect();
        use ReleaseStatus::{Active, Archived, Ready};
        assert_eq!(statuses, [Ready, Ready, Archived, Active, Ready]);
    })
}
