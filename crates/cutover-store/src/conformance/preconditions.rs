//! Compare-and-swap on every backend: activate, rollback, deploy, promote and an
//! environment's rollback go ahead only while the environment has what their
//! `Precondition` names, refuse with `PreconditionFailed` (saying what it has)
//! otherwise and change nothing; of concurrent deploys expecting the same release,
//! spread over every store on the database, exactly one goes through; and a draft
//! entity's or an app's update or delete given a stale `If-Match` changes nothing.

use cutover_domain::ReleaseId;
use cutover_domain::deployment::{ActivationRequest, DeployRequest, DeploySource, RollbackRequest};
use cutover_domain::draft::{AppPatch, AugmentationPatch, EndpointPatch};
use cutover_domain::model::ActivationAction;
use cutover_domain::precondition::{EntityTag, IfMatch, Precondition, PreconditionFailed};
use tokio::task::JoinSet;

use super::deployments::{ANY, deploy, deployed, env};
use super::fixtures::{ACTOR, app_fixture, augmentation_in, endpoint_in, first};
use super::releases::cut;
use super::{Case, Stores};
use crate::{AppScope, Store, StoreError};

fn expecting(release: Option<&ReleaseId>) -> Precondition {
    Precondition {
        release: Some(release.cloned()),
        if_match: None,
    }
}

fn deploy_request(environment: &str, release: &ReleaseId, expected: Precondition) -> DeployRequest {
    DeployRequest {
        environment: env(environment),
        source: DeploySource::Release(release.clone()),
        reason: None,
        precondition: expected,
    }
}

/// Asserts a refusal that says the environment has `current`.
fn assert_failed<T: std::fmt::Debug>(result: Result<T, StoreError>, current: Option<&ReleaseId>) {
    match result {
        Err(StoreError::PreconditionFailed(PreconditionFailed::Deployment {
            current_release_id,
        })) => assert_eq!(current_release_id.as_ref(), current),
        other => panic!("expected a failed precondition, got {other:?}"),
    }
}

async fn record_count(store: &dyn Store, scope: &AppScope) -> u64 {
    store
        .list_deployments(scope, None, first(100))
        .await
        .expect("records")
        .total
}

pub fn a_failed_precondition_refuses_and_changes_nothing() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        let v2 = cut(store, &scope, "v2", false).await;
        let activate = |expected: Precondition| ActivationRequest {
            action: ActivationAction::Activate,
            reason: Some("go".into()),
            precondition: expected,
        };

        // Nothing deployed: only "nothing" is expected rightly.
        let refused = store
            .activate_release(
                scope.clone(),
                v1.clone(),
                activate(expecting(Some(&v2))),
                ACTOR.into(),
            )
            .await;
        assert_failed(refused, None);
        assert_eq!(record_count(store, &scope).await, 0);
        store
            .activate_release(
                scope.clone(),
                v1.clone(),
                activate(expecting(None)),
                ACTOR.into(),
            )
            .await
            .expect("nothing was deployed, as expected");

        // A deploy and an environment rollback that expect the wrong release.
        let refused = store
            .deploy(
                scope.clone(),
                deploy_request("production", &v2, expecting(Some(&v2))),
                ANY,
                ACTOR.into(),
            )
            .await;
        assert_failed(refused, Some(&v1));
        deploy(store, &scope, "production", &v2, ANY)
            .await
            .expect("deploy v2");
        let refused = store
            .rollback_environment(
                scope.clone(),
                RollbackRequest {
                    environment: env("production"),
                    release_id: None,
                    reason: None,
                    precondition: expecting(Some(&v1)),
                },
                ANY,
                ACTOR.into(),
            )
            .await;
        assert_failed(refused, Some(&v2));
        assert_eq!(
            deployed(store, &scope, "production").await,
            Some(v2.clone())
        );
        assert_eq!(record_count(store, &scope).await, 2);

        // The tag of what the environment's read answers holds; another does not.
        let live = store
            .get_deployed_release(&scope, &env("production"))
            .await
            .expect("read")
            .expect("v2 is there");
        let tag = EntityTag::of_release(&live.summary).as_str().to_owned();
        let by_tag = |tag: String| Precondition {
            release: None,
            if_match: Some(IfMatch::Tags(vec![tag])),
        };
        let refused = store
            .deploy(
                scope.clone(),
                deploy_request("production", &v1, by_tag("\"stale\"".into())),
                ANY,
                ACTOR.into(),
            )
            .await;
        assert_failed(refused, Some(&v2));
        let rolled = store
            .rollback_environment(
                scope.clone(),
                RollbackRequest {
                    environment: env("production"),
                    release_id: None,
                    reason: Some("errors after v2".into()),
                    precondition: by_tag(tag),
                },
                ANY,
                ACTOR.into(),
            )
            .await
            .expect("the tag is current");
        assert_eq!(rolled.release_id, v1);
        assert_eq!(rolled.reason.as_deref(), Some("errors after v2"));
        let records = store
            .list_deployments(&scope, None, first(100))
            .await
            .expect("records");
        assert_eq!(
            records.items.last().expect("the first").reason.as_deref(),
            Some("go")
        );
    })
}

pub fn of_concurrent_deploys_expecting_one_release_exactly_one_goes_through() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        deploy(store, &scope, "staging", &v1, ANY)
            .await
            .expect("deploy v1");
        let mut candidates = Vec::new();
        for number in 2..=13 {
            candidates.push(cut(store, &scope, &format!("v{number}"), false).await);
        }
        let mut tasks = JoinSet::new();
        for (index, release) in candidates.into_iter().enumerate() {
            let (store, scope, v1) = (stores.for_caller(index), scope.clone(), v1.clone());
            tasks.spawn(async move {
                let request = deploy_request("staging", &release, expecting(Some(&v1)));
                store.deploy(scope, request, ANY, ACTOR.into()).await
            });
        }
        let mut winners = Vec::new();
        let mut refusals = Vec::new();
        while let Some(result) = tasks.join_next().await {
            match result.expect("task") {
                Ok(outcome) => winners.push(outcome.deployment.release_id),
                Err(StoreError::PreconditionFailed(PreconditionFailed::Deployment {
                    current_release_id,
                })) => refusals.push(current_release_id),
                Err(other) => panic!("a deploy failed otherwise: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one deploy goes through");
        assert_eq!(refusals.len(), 11);
        let winner = winners.pop();
        assert!(refusals.iter().all(|current| *current == winner));
        assert_eq!(deployed(store, &scope, "staging").await, winner);
        assert_eq!(record_count(store, &scope).await, 2);
    })
}

/// A refusal of a draft entity's or an app's write.
fn assert_entity_failed<T: std::fmt::Debug>(result: Result<T, StoreError>, resource: &str) {
    match result {
        Err(StoreError::PreconditionFailed(PreconditionFailed::Entity { resource_type })) => {
            assert_eq!(resource_type, resource)
        }
        other => panic!("expected a failed precondition, got {other:?}"),
    }
}

fn tag_of(entity: &impl serde::Serialize) -> IfMatch {
    let tag = EntityTag::of_entity(entity).expect("an entity renders");
    IfMatch::Tags(vec![tag.as_str().to_owned()])
}

pub fn a_draft_write_with_a_stale_tag_changes_nothing() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let augmentation = augmentation_in(store, &scope, "rag").await;
        let endpoint =
            endpoint_in(store, &scope, "ask", "/ask", &augmentation.augmentation_id).await;
        let (read, stale) = (
            store
                .get_endpoint(&scope, &endpoint.endpoint_id)
                .await
                .expect("read"),
            tag_of(&endpoint),
        );
        let rename = |name: &str| EndpointPatch {
            name: Some(name.into()),
            ..EndpointPatch::default()
        };
        let renamed = store
            .update_endpoint(
                &scope,
                &endpoint.endpoint_id,
                rename("ask-v2"),
                ACTOR,
                Some(&tag_of(&read)),
            )
            .await
            .expect("the read's tag is current");
        let refused = store
            .update_endpoint(
                &scope,
                &endpoint.endpoint_id,
                rename("lost"),
                ACTOR,
                Some(&stale),
            )
            .await;
        assert_entity_failed(refused, "endpoint");
        let refused = store
            .delete_endpoint(&scope, &endpoint.endpoint_id, ACTOR, Some(&stale))
            .await;
        assert_entity_failed(refused, "endpoint");
        let now = store
            .get_endpoint(&scope, &endpoint.endpoint_id)
            .await
            .expect("still there");
        assert_eq!(now, renamed, "the refusals changed nothing");
        store
            .delete_endpoint(&scope, &endpoint.endpoint_id, ACTOR, Some(&tag_of(&now)))
            .await
            .expect("the current tag deletes");

        let stale = tag_of(&augmentation);
        let patch = AugmentationPatch {
            description: Some(Some("first".into())),
            ..AugmentationPatch::default()
        };
        let changed = store
            .update_augmentation(
                &scope,
                &augmentation.augmentation_id,
                patch.clone(),
                ACTOR,
                None,
            )
            .await
            .expect("no condition");
        let refused = store
            .update_augmentation(
                &scope,
                &augmentation.augmentation_id,
                patch,
                ACTOR,
                Some(&stale),
            )
            .await;
        assert_entity_failed(refused, "augmentation");
        let refused = store
            .delete_augmentation(&scope, &augmentation.augmentation_id, ACTOR, Some(&stale))
            .await;
        assert_entity_failed(refused, "augmentation");
        store
            .delete_augmentation(
                &scope,
                &augmentation.augmentation_id,
                ACTOR,
                Some(&tag_of(&changed)),
            )
            .await
            .expect("the current tag deletes");

        let app = store.get_app(&scope).await.expect("the app");
        let rename = AppPatch {
            name: Some("renamed".into()),
            ..AppPatch::default()
        };
        store
            .update_app(&scope, rename.clone(), Some(&tag_of(&app)))
            .await
            .expect("the current tag renames");
        assert_entity_failed(
            store.update_app(&scope, rename, Some(&tag_of(&app))).await,
            "app",
        );
        assert_entity_failed(
            store.delete_app(scope.clone(), Some(&tag_of(&app))).await,
            "app",
        );
        let now = store.get_app(&scope).await.expect("still there");
        assert_eq!(now.name, "renamed");
        store
            .delete_app(scope.clone(), Some(&IfMatch::Any))
            .await
            .expect("`*` deletes what exists");
    })
}
