//! What concurrent writers to one app must never break, spread over every store the
//! backend opened on the database: one active release and an unbroken history, a tag
//! used once, consecutive numbers, limits that hold under a race, and one chain of
//! records for an environment many callers change at once.

use cutover_domain::deployment::ActivationRequest;
use std::collections::BTreeSet;

use cutover_domain::ReleaseId;
use cutover_domain::limits::Limits;
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use tokio::task::JoinSet;

use super::deployments::{ANY, UNPROTECTED, deploy, deployed, env, rollback};
use super::fixtures::{
    ACTOR, app_fixture, augmentation_in, first, new_endpoint, new_release, newest, reason,
};
use super::releases::{cut, status};
use super::{Case, Stores};
use crate::StoreError;

pub fn concurrent_activations_leave_one_active_and_a_chain() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let mut ids = Vec::new();
        for n in 1..=24 {
            let release = store
                .create_release(
                    scope.clone(),
                    new_release(&format!("v{n}"), false),
                    ACTOR.to_owned(),
                )
                .await
                .expect("create");
            ids.push(release.summary.release_id);
        }
        let mut tasks = JoinSet::new();
        for (index, id) in ids.iter().cloned().enumerate() {
            let (store, scope) = (stores.for_caller(index), scope.clone());
            tasks.spawn(async move {
                store
                    .activate_release(
                        scope.clone(),
                        id.clone(),
                        ActivationRequest::of(ActivationAction::Activate),
                        ACTOR.to_owned(),
                    )
                    .await
            });
        }
        while let Some(result) = tasks.join_next().await {
            let outcome = result.expect("task").expect("every activation succeeds");
            assert!(outcome.changed);
        }
        let page = store
            .list_releases(&scope, newest(100, true))
            .await
            .expect("list");
        let active: Vec<_> = page
            .releases
            .iter()
            .filter(|release| release.status == ReleaseStatus::Active)
            .collect();
        assert_eq!(active.len(), 1, "exactly one active release");
        assert_eq!(page.active_release_id.as_ref(), Some(&active[0].release_id));
        assert_eq!(page.releases.len(), 24);

        let history = stores
            .for_caller(1)
            .list_activations(&scope, first(100))
            .await
            .expect("history");
        assert_eq!((history.total, history.items.len()), (24, 24));
        let mut previous: Option<ReleaseId> = None;
        for entry in &history.items {
            assert_eq!(entry.replaced_release_id, previous, "history forms a chain");
            previous = Some(entry.release_id.clone());
        }
        assert_eq!(previous.as_ref(), Some(&active[0].release_id));
        let activated: BTreeSet<_> = history.items.iter().map(|e| e.release_id.clone()).collect();
        assert_eq!(activated.len(), 24, "every release was activated once");
    })
}

pub fn concurrent_cuts_with_one_tag_let_exactly_one_through() -> Case {
    Case::new(|stores: Stores| async move {
        let scope = app_fixture(stores.first()).await;
        let mut tasks = JoinSet::new();
        for index in 0..16 {
            let (store, scope) = (stores.for_caller(index), scope.clone());
            tasks.spawn(async move {
                store
                    .create_release(scope.clone(), new_release("same", false), ACTOR.to_owned())
                    .await
            });
        }
        let (mut created, mut refused) = (0, 0);
        while let Some(result) = tasks.join_next().await {
            let result = result.expect("task");
            match &result {
                Ok(release) => {
                    created += 1;
                    assert_eq!(release.summary.release_number, 1);
                }
                Err(_) => {
                    assert_eq!(reason(&result), "release_tag_exists");
                    refused += 1;
                }
            }
        }
        assert_eq!((created, refused), (1, 15));
        let next = stores
            .first()
            .create_release(scope.clone(), new_release("next", false), ACTOR.to_owned())
            .await
            .expect("next");
        assert_eq!(
            next.summary.release_number, 2,
            "refused cuts took no number"
        );
    })
}

pub fn concurrent_cuts_get_consecutive_numbers_and_a_chain() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        augmentation_in(store, &scope, "pipeline").await;
        let mut tasks = JoinSet::new();
        for index in 0..24 {
            let (store, scope) = (stores.for_caller(index), scope.clone());
            tasks.spawn(async move {
                store
                    .create_release(
                        scope.clone(),
                        new_release(&format!("t{index}"), false),
                        ACTOR.to_owned(),
                    )
                    .await
            });
        }
        let mut releases = Vec::new();
        while let Some(result) = tasks.join_next().await {
            releases.push(result.expect("task").expect("create"));
        }
        releases.sort_by_key(|release| release.summary.release_number);
        let numbers: Vec<i64> = releases.iter().map(|r| r.summary.release_number).collect();
        assert_eq!(numbers, (1..=24).collect::<Vec<_>>());
        for pair in releases.windows(2) {
            assert_eq!(
                pair[1].previous_release_id.as_ref(),
                Some(&pair[0].summary.release_id),
                "each release points at the one numbered just before it"
            );
            assert_eq!(
                pair[1].change_log,
                format!(
                    "No changes since {} (#{})",
                    pair[0].summary.release_tag, pair[0].summary.release_number
                )
            );
        }
        assert_eq!(releases[0].previous_release_id, None);
    })
}

pub fn concurrent_endpoint_creates_never_pass_the_limit() -> Case {
    let limits = Limits {
        max_endpoints_per_app: 5,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let aug = augmentation_in(store, &scope, "pipeline")
            .await
            .augmentation_id;
        let mut tasks = JoinSet::new();
        for index in 0..16 {
            let (store, scope, aug) = (stores.for_caller(index), scope.clone(), aug.clone());
            tasks.spawn(async move {
                let new = new_endpoint(&format!("e{index}"), &format!("/e{index}"), &aug);
                store.create_endpoint(&scope, new, ACTOR).await
            });
        }
        let (mut created, mut refused) = (0, 0);
        while let Some(result) = tasks.join_next().await {
            let result = result.expect("task");
            if result.is_ok() {
                created += 1;
            } else {
                assert_eq!(reason(&result), "draft_limit_reached");
                refused += 1;
            }
        }
        assert_eq!((created, refused), (5, 11));
        let listed = store.list_endpoints(&scope, first(50)).await.expect("list");
        assert_eq!(listed.total, 5);
    })
}

/// 24 deploys and rollbacks of one environment at once, spread over every store
/// (every server, for a shared database): the records form one chain, each record's
/// `previous_release_id` the release of the one before, and every release's status
/// agrees with where it is deployed.
pub fn concurrent_changes_to_one_environment_form_one_chain() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let mut releases = Vec::new();
        for n in 1..=6 {
            releases.push(cut(store, &scope, &format!("v{n}"), false).await);
        }
        deploy(store, &scope, "production", &releases[0], ANY)
            .await
            .expect("production");
        let mut tasks = JoinSet::new();
        for index in 0..24 {
            let (store, scope) = (stores.for_caller(index), scope.clone());
            let release = releases[index % releases.len()].clone();
            tasks.spawn(async move {
                if index % 4 == 3 {
                    rollback(store.as_ref(), &scope, "staging", None)
                        .await
                        .map(|_| ())
                } else {
                    deploy(store.as_ref(), &scope, "staging", &release, UNPROTECTED)
                        .await
                        .map(|_| ())
                }
            });
        }
        while let Some(result) = tasks.join_next().await {
            match result.expect("task") {
                Ok(()) => {}
                // A rollback may find nothing older to go back to, or nothing there yet.
                Err(StoreError::Conflict { reason, .. })
                    if ["nothing_to_roll_back_to", "no_deployment"].contains(&reason) => {}
                Err(other) => panic!("a concurrent change failed: {other:?}"),
            }
        }
        let records = stores
            .for_caller(1)
            .list_deployments(&scope, Some(&env("staging")), first(100))
            .await
            .expect("records");
        let mut previous: Option<ReleaseId> = None;
        for record in records.items.iter().rev() {
            assert_eq!(record.previous_release_id, previous, "one chain");
            previous = Some(record.release_id.clone());
        }
        assert_eq!(deployed(store, &scope, "staging").await, previous);
        let mut live = BTreeSet::new();
        for environment in ["production", "staging", "development"] {
            live.extend(deployed(store, &scope, environment).await);
        }
        for release in &releases {
            let expected_live = live.contains(release);
            let status = status(store, &scope, release).await;
            assert_eq!(
                status == ReleaseStatus::Active,
                expected_live,
                "{release}: {status:?}"
            );
        }
    })
}
