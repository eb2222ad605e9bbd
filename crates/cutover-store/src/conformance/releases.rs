//! Releases: the cut (numbers, previous release, change log, content), tags, the
//! lifecycle rules of activate, rollback, archive and delete, listing newest first,
//! and the activation history.

use cutover_domain::ReleaseId;
use cutover_domain::draft::EndpointPatch;
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use serde_json::json;

use super::fixtures::{
    ACTOR, app_fixture, assert_conflict, assert_not_found, augmentation_in, endpoint_in, first,
    new_release, newest, object,
};
use super::{Case, Stores};
use crate::{AppScope, PageRequest, ReleaseQuery, Store};

async fn cut(store: &dyn Store, scope: &AppScope, tag: &str, activate: bool) -> ReleaseId {
    store
        .create_release(scope.clone(), new_release(tag, activate), ACTOR.to_owned())
        .await
        .unwrap_or_else(|err| panic!("cutting {tag}: {err:?}"))
        .summary
        .release_id
}

async fn status(store: &dyn Store, scope: &AppScope, id: &ReleaseId) -> ReleaseStatus {
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
            .update_endpoint(&scope, &list.endpoint_id, patch, ACTOR)
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
            .delete_release(scope.clone(), same.summary.release_id.clone())
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
            .delete_release(scope.clone(), v1.clone())
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
            .delete_endpoint(&scope, &endpoint.endpoint_id)
            .await
            .expect("delete endpoint");
        store
            .delete_augmentation(&scope, &aug.augmentation_id)
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

pub fn activation_and_rollback_follow_the_lifecycle_rules() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        assert_eq!(store.get_active_release(&scope).await.expect("none"), None);
        let v1 = cut(store, &scope, "v1", false).await;
        assert_conflict(
            store
                .activate_release(
                    scope.clone(),
                    v1.clone(),
                    ActivationAction::Rollback,
                    ACTOR.to_owned(),
                )
                .await,
            "no_active_release",
            "The app has no active release to roll back from",
        );
        let first_on = store
            .activate_release(
                scope.clone(),
                v1.clone(),
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("activate v1");
        assert!(first_on.changed);
        assert_eq!(first_on.previous_active_release_id, None);
        assert_eq!(first_on.release.status, ReleaseStatus::Active);
        let again = store
            .activate_release(
                scope.clone(),
                v1.clone(),
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("again");
        assert!(
            !again.changed,
            "activating the active release changes nothing"
        );
        assert_eq!(again.previous_active_release_id.as_ref(), Some(&v1));

        let skipped = cut(store, &scope, "skipped", false).await;
        let v2 = cut(store, &scope, "v2", false).await;
        let not_older =
            "Rollback targets a release older than the active one; use activate to move forward";
        assert_conflict(
            store
                .activate_release(
                    scope.clone(),
                    v2.clone(),
                    ActivationAction::Rollback,
                    ACTOR.to_owned(),
                )
                .await,
            "release_not_older_than_active",
            not_older,
        );
        let switched = store
            .activate_release(
                scope.clone(),
                v2.clone(),
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("activate v2");
        assert_eq!(switched.previous_active_release_id.as_ref(), Some(&v1));
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Archived);
        assert_conflict(
            store
                .activate_release(
                    scope.clone(),
                    skipped.clone(),
                    ActivationAction::Rollback,
                    ACTOR.to_owned(),
                )
                .await,
            "release_never_active",
            "Only a release that was active before can be rolled back to",
        );
        let back = store
            .activate_release(
                scope.clone(),
                v1.clone(),
                ActivationAction::Rollback,
                ACTOR.to_owned(),
            )
            .await
            .expect("roll back to v1");
        assert!(back.changed);
        assert_eq!(back.previous_active_release_id.as_ref(), Some(&v2));
        assert_eq!(status(store, &scope, &v2).await, ReleaseStatus::Archived);
        assert_conflict(
            store
                .activate_release(
                    scope.clone(),
                    v2.clone(),
                    ActivationAction::Rollback,
                    ACTOR.to_owned(),
                )
                .await,
            "release_not_older_than_active",
            not_older,
        );
        let forward = store
            .activate_release(
                scope.clone(),
                v2.clone(),
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("an archived release can be activated again");
        assert_eq!(forward.release.status, ReleaseStatus::Active);
        let active = store
            .get_active_release(&scope)
            .await
            .expect("active")
            .expect("some");
        assert_eq!(active.summary.release_id, v2);
        assert_not_found(
            store
                .activate_release(
                    scope.clone(),
                    (ReleaseId::generate()).clone(),
                    ActivationAction::Activate,
                    ACTOR.to_owned(),
                )
                .await,
            "release",
        );
    })
}

pub fn the_active_release_cannot_be_archived_or_deleted() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let v2 = cut(store, &scope, "v2", false).await;
        let message = "The active release cannot be archived or deleted";
        assert_conflict(
            store.archive_release(scope.clone(), v1.clone()).await,
            "release_is_active",
            message,
        );
        assert_conflict(
            store.delete_release(scope.clone(), v1.clone()).await,
            "release_is_active",
            message,
        );
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Active);
        let archived = store
            .archive_release(scope.clone(), v2.clone())
            .await
            .expect("archive");
        assert_eq!(archived.status, ReleaseStatus::Archived);
        let again = store
            .archive_release(scope.clone(), v2.clone())
            .await
            .expect("again");
        assert_eq!(
            again.status,
            ReleaseStatus::Archived,
            "archiving is idempotent"
        );
        store
            .delete_release(scope.clone(), v2.clone())
            .await
            .expect("delete");
        assert_not_found(
            store.delete_release(scope.clone(), v2.clone()).await,
            "release",
        );
        assert_not_found(
            store.archive_release(scope.clone(), v2.clone()).await,
            "release",
        );
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
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("activate v2");
        store
            .archive_release(scope.clone(), ids[2].clone())
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

pub fn the_activation_history_is_oldest_first_and_pages() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let v2 = cut(store, &scope, "v2", true).await;
        store
            .activate_release(
                scope.clone(),
                v2.clone(),
                ActivationAction::Activate,
                ACTOR.to_owned(),
            )
            .await
            .expect("no-op");
        store
            .activate_release(
                scope.clone(),
                v1.clone(),
                ActivationAction::Rollback,
                "oncall".to_owned(),
            )
            .await
            .expect("rollback");
        let page = store
            .list_activations(&scope, first(2))
            .await
            .expect("history");
        assert_eq!((page.total, page.items.len()), (3, 2));
        let rest = store
            .list_activations(
                &scope,
                PageRequest {
                    limit: 2,
                    after: page.next_after.clone(),
                },
            )
            .await
            .expect("rest");
        assert_eq!(rest.next_after, None);
        let entries: Vec<_> = page.items.iter().chain(&rest.items).collect();
        let seen: Vec<(ActivationAction, &ReleaseId, Option<&ReleaseId>, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e.action,
                    &e.release_id,
                    e.replaced_release_id.as_ref(),
                    e.actor.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (ActivationAction::Activate, &v1, None, ACTOR),
                (ActivationAction::Activate, &v2, Some(&v1), ACTOR),
                (ActivationAction::Rollback, &v1, Some(&v2), "oncall"),
            ],
            "oldest first; an activation that changed nothing is not recorded"
        );
        assert!(
            entries
                .windows(2)
                .all(|pair| pair[0].sequence < pair[1].sequence)
        );
        assert!(entries.windows(2).all(|pair| pair[0].at <= pair[1].at));
    })
}
