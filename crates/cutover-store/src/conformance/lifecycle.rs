//! The release lifecycle: activate and rollback as the rules allow, what the active
//! release protects it from (archive, delete), and the activation history.

use cutover_domain::ReleaseId;
use cutover_domain::deployment::ActivationRequest;
use cutover_domain::model::{ActivationAction, ReleaseStatus};

use super::fixtures::{ACTOR, app_fixture, assert_conflict, assert_not_found, first};
use super::releases::{cut, status};
use super::{Case, Stores};
use crate::PageRequest;

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
                    ActivationRequest::of(ActivationAction::Rollback),
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
                ActivationRequest::of(ActivationAction::Activate),
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
                ActivationRequest::of(ActivationAction::Activate),
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
                    ActivationRequest::of(ActivationAction::Rollback),
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
                ActivationRequest::of(ActivationAction::Activate),
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
                    ActivationRequest::of(ActivationAction::Rollback),
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
                ActivationRequest::of(ActivationAction::Rollback),
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
                    ActivationRequest::of(ActivationAction::Rollback),
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
                ActivationRequest::of(ActivationAction::Activate),
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
                    ActivationRequest::of(ActivationAction::Activate),
                    ACTOR.to_owned(),
                )
                .await,
            "release",
        );
    })
}

pub fn a_deployed_release_cannot_be_archived_or_deleted() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let v2 = cut(store, &scope, "v2", false).await;
        let message = "The release is deployed in production: deploy another release there, \
                       or roll back, first";
        assert_conflict(
            store
                .archive_release(scope.clone(), v1.clone(), ACTOR.into(), None)
                .await,
            "release_is_deployed",
            message,
        );
        assert_conflict(
            store
                .delete_release(scope.clone(), v1.clone(), ACTOR.into(), None)
                .await,
            "release_is_deployed",
            message,
        );
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Active);
        let archived = store
            .archive_release(scope.clone(), v2.clone(), ACTOR.into(), None)
            .await
            .expect("archive");
        assert_eq!(archived.status, ReleaseStatus::Archived);
        let again = store
            .archive_release(scope.clone(), v2.clone(), ACTOR.into(), None)
            .await
            .expect("again");
        assert_eq!(
            again.status,
            ReleaseStatus::Archived,
            "archiving is idempotent"
        );
        store
            .delete_release(scope.clone(), v2.clone(), ACTOR.into(), None)
            .await
            .expect("delete");
        assert_not_found(
            store
                .delete_release(scope.clone(), v2.clone(), ACTOR.into(), None)
                .await,
            "release",
        );
        assert_not_found(
            store
                .archive_release(scope.clone(), v2.clone(), ACTOR.into(), None)
                .await,
            "release",
        );
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
                ActivationRequest::of(ActivationAction::Activate),
                ACTOR.to_owned(),
            )
            .await
            .expect("no-op");
        store
            .activate_release(
                scope.clone(),
                v1.clone(),
                ActivationRequest::of(ActivationAction::Rollback),
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
