//! Deployments: deploying and promoting to an environment, who may change a protected
//! one, rolling one environment back, release statuses that follow where releases
//! are deployed, and the records (concurrent changes to one environment are in
//! `concurrency`).

use cutover_domain::deployment::{
    DeployAuthority, DeployOutcome, DeployRequest, DeploySource, Deployment, DeploymentAction,
    RollbackRequest,
};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::ReleaseStatus;
use cutover_domain::permission::Permission;
use cutover_domain::precondition::Precondition;
use cutover_domain::{DeploymentId, ReleaseId};

use super::fixtures::{
    ACTOR, app_fixture, assert_conflict, assert_invalid_reference, assert_not_found, first,
};
use super::releases::{cut, status};
use super::{Case, Stores};
use crate::{AppScope, PageRequest, Store, StoreError, StoreResult};

pub(super) const ANY: DeployAuthority = DeployAuthority::AnyEnvironment;
pub(super) const UNPROTECTED: DeployAuthority = DeployAuthority::UnprotectedOnly;

pub(super) fn env(text: &str) -> EnvironmentRef {
    EnvironmentRef::parse(text).expect("an environment")
}

pub(super) async fn deploy(
    store: &dyn Store,
    scope: &AppScope,
    environment: &str,
    release: &ReleaseId,
    authority: DeployAuthority,
) -> StoreResult<DeployOutcome> {
    let request = DeployRequest {
        environment: env(environment),
        source: DeploySource::Release(release.clone()),
        reason: None,
        precondition: Precondition::none(),
    };
    store
        .deploy(scope.clone(), request, authority, ACTOR.to_owned())
        .await
}

async fn promote(
    store: &dyn Store,
    scope: &AppScope,
    from: &str,
    to: &str,
) -> StoreResult<DeployOutcome> {
    let request = DeployRequest {
        environment: env(to),
        source: DeploySource::Environment(env(from)),
        reason: Some("QA signed off".into()),
        precondition: Precondition::none(),
    };
    store
        .deploy(scope.clone(), request, ANY, ACTOR.to_owned())
        .await
}

pub(super) async fn rollback(
    store: &dyn Store,
    scope: &AppScope,
    environment: &str,
    to: Option<&ReleaseId>,
) -> StoreResult<Deployment> {
    let request = RollbackRequest {
        environment: env(environment),
        release_id: to.cloned(),
        reason: None,
        precondition: Precondition::none(),
    };
    store
        .rollback_environment(scope.clone(), request, ANY, ACTOR.to_owned())
        .await
}

/// What `environment` has of the app, by id.
pub(super) async fn deployed(
    store: &dyn Store,
    scope: &AppScope,
    environment: &str,
) -> Option<ReleaseId> {
    store
        .get_deployed_release(scope, &env(environment))
        .await
        .expect("deployed release")
        .map(|document| document.summary.release_id)
}

pub fn a_deploy_puts_a_release_in_one_environment_and_records_it() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        let request = DeployRequest {
            environment: env("staging"),
            source: DeploySource::Release(v1.clone()),
            reason: Some("try it".into()),
            precondition: Precondition::none(),
        };
        let outcome = store
            .deploy(scope.clone(), request, UNPROTECTED, ACTOR.to_owned())
            .await
            .expect("deploy to staging");
        assert!(outcome.changed);
        let record = outcome.deployment;
        assert_eq!(
            (
                record.action,
                record.environment_slug.as_str(),
                record.environment_name.as_str(),
                record.release_tag.as_ref().map(|tag| tag.as_str()),
                record.release_number,
                record.previous_release_id.as_ref(),
                record.reason.as_deref(),
                record.deployed_by.as_str(),
            ),
            (
                DeploymentAction::Deploy,
                "staging",
                "Staging",
                Some("v1"),
                Some(1),
                None,
                Some("try it"),
                ACTOR,
            )
        );
        assert!(record.deployment_id.as_str().starts_with("dep_"));
        let summary = store.get_release(&scope, &v1).await.expect("v1").summary;
        assert_eq!(summary.status, ReleaseStatus::Active);
        assert_eq!(summary.activated_at, Some(record.deployed_at));
        assert_eq!(deployed(store, &scope, "staging").await, Some(v1.clone()));
        assert_eq!(deployed(store, &scope, "production").await, None);
        assert_eq!(
            store.get_active_release(&scope).await.expect("active"),
            None
        );

        let again = deploy(store, &scope, "staging", &v1, UNPROTECTED)
            .await
            .expect("again");
        assert!(!again.changed, "what is there already changes nothing");
        assert_eq!(
            again.deployment, record,
            "and answers the record that put it there"
        );
        let fetched = store
            .get_deployment(&scope, &record.deployment_id)
            .await
            .expect("get");
        assert_eq!(fetched, record);
        let records = store
            .list_deployments(&scope, None, first(10))
            .await
            .expect("list");
        assert_eq!(records.total, 1);

        assert_not_found(
            store
                .get_deployment(&scope, &DeploymentId::generate())
                .await,
            "deployment",
        );
        // What a body names and is not there is the body's fault (422), not the path's.
        assert_invalid_reference(deploy(store, &scope, "qa", &v1, ANY).await, "environment");
        assert_invalid_reference(
            deploy(store, &scope, "staging", &ReleaseId::generate(), ANY).await,
            "release_id",
        );
        assert_invalid_reference(
            promote(store, &scope, "qa", "production").await,
            "from_environment",
        );
        assert_not_found(
            store.get_deployed_release(&scope, &env("qa")).await,
            "environment",
        );
    })
}

pub fn a_protected_environment_needs_the_right_to_activate() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        match deploy(store, &scope, "production", &v1, UNPROTECTED).await {
            Err(StoreError::Forbidden { permission, .. }) => {
                assert_eq!(permission, Permission::ReleasesActivate);
            }
            other => panic!("expected 403, got {other:?}"),
        }
        assert_eq!(deployed(store, &scope, "production").await, None);
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Ready);
        deploy(store, &scope, "production", &v1, ANY)
            .await
            .expect("an activator may");
        // Rolling a protected environment back needs it too.
        let v2 = cut(store, &scope, "v2", false).await;
        deploy(store, &scope, "production", &v2, ANY)
            .await
            .expect("v2");
        let request = RollbackRequest {
            environment: env("production"),
            release_id: None,
            reason: None,
            precondition: Precondition::none(),
        };
        let refused = store
            .rollback_environment(scope.clone(), request, UNPROTECTED, ACTOR.to_owned())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Forbidden { .. })),
            "{refused:?}"
        );
        assert_eq!(deployed(store, &scope, "production").await, Some(v2));
    })
}

pub fn a_promotion_deploys_what_another_environment_has() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        deploy(store, &scope, "staging", &v1, ANY)
            .await
            .expect("staging");
        let promoted = promote(store, &scope, "staging", "production")
            .await
            .expect("promote");
        assert!(promoted.changed);
        assert_eq!(promoted.deployment.action, DeploymentAction::Promote);
        assert_eq!(promoted.deployment.release_id, v1);
        assert_eq!(promoted.deployment.reason.as_deref(), Some("QA signed off"));
        assert_eq!(
            deployed(store, &scope, "production").await,
            Some(v1.clone())
        );
        let again = promote(store, &scope, "staging", "production")
            .await
            .expect("again");
        assert!(!again.changed);
        assert_conflict(
            promote(store, &scope, "development", "production").await,
            "nothing_to_promote",
            "Nothing of this app is deployed in 'development' to promote",
        );
        assert_eq!(deployed(store, &scope, "production").await, Some(v1));
    })
}

pub fn release_statuses_follow_where_releases_are_deployed() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        let v2 = cut(store, &scope, "v2", false).await;
        for environment in ["production", "staging"] {
            deploy(store, &scope, environment, &v1, ANY)
                .await
                .expect("v1");
        }
        deploy(store, &scope, "staging", &v2, ANY)
            .await
            .expect("v2 to staging");
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Active);
        assert_eq!(status(store, &scope, &v2).await, ReleaseStatus::Active);
        let message = "The release is deployed in production, staging: deploy another release \
                       there, or roll back, first";
        deploy(store, &scope, "production", &v2, ANY)
            .await
            .expect("v2 to production");
        assert_eq!(status(store, &scope, &v1).await, ReleaseStatus::Archived);
        let details = assert_conflict(
            store
                .archive_release(scope.clone(), v2.clone(), ACTOR.into(), None)
                .await,
            "release_is_deployed",
            message,
        );
        assert_eq!(
            details["environments"],
            serde_json::json!(["production", "staging"])
        );
        assert_conflict(
            store
                .delete_release(scope.clone(), v2.clone(), ACTOR.into(), None)
                .await,
            "release_is_deployed",
            message,
        );
        let latest = store
            .list_deployments(&scope, None, first(1))
            .await
            .expect("newest");
        let summary = store.get_release(&scope, &v2).await.expect("v2").summary;
        assert_eq!(summary.activated_at, Some(latest.items[0].deployed_at));
        store
            .delete_release(scope.clone(), v1.clone(), ACTOR.into(), None)
            .await
            .expect("v1 is deployed nowhere");
        let records = store
            .list_deployments(&scope, None, first(10))
            .await
            .expect("records");
        assert_eq!(records.total, 4, "records outlive the release");
        assert!(records.items.iter().any(|record| record.release_id == v1));
    })
}

pub fn an_environment_rolls_back_on_its_own() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let mut v = Vec::new();
        for n in 1..=4 {
            v.push(cut(store, &scope, &format!("v{n}"), false).await);
        }
        for release in &v[..3] {
            deploy(store, &scope, "staging", release, ANY)
                .await
                .expect("staging");
        }
        for release in [&v[0], &v[2]] {
            deploy(store, &scope, "production", release, ANY)
                .await
                .expect("production");
        }
        let back = rollback(store, &scope, "staging", None)
            .await
            .expect("staging back");
        assert_eq!(
            (
                back.action,
                &back.release_id,
                back.previous_release_id.as_ref()
            ),
            (DeploymentAction::Rollback, &v[1], Some(&v[2]))
        );
        assert_eq!(
            deployed(store, &scope, "production").await,
            Some(v[2].clone())
        );
        rollback(store, &scope, "staging", None)
            .await
            .expect("and back again");
        assert_eq!(deployed(store, &scope, "staging").await, Some(v[0].clone()));
        assert_conflict(
            rollback(store, &scope, "staging", None).await,
            "nothing_to_roll_back_to",
            "This environment had no earlier release, older than its current one, that still \
             exists",
        );
        assert_conflict(
            rollback(store, &scope, "staging", Some(&v[2])).await,
            "not_older_than_current",
            "Rollback targets a release older than the environment's current one; deploy to \
             move forward",
        );
        assert_conflict(
            rollback(store, &scope, "development", None).await,
            "no_deployment",
            "Nothing is deployed in this environment to roll back from",
        );
        assert_conflict(
            rollback(store, &scope, "production", Some(&v[1])).await,
            "not_previously_deployed",
            "Only a release that was deployed in this environment before can be rolled back to",
        );
        assert_conflict(
            rollback(store, &scope, "production", Some(&v[3])).await,
            "not_previously_deployed",
            "Only a release that was deployed in this environment before can be rolled back to",
        );
        // A release deleted since is skipped: production goes v3 → v1 over it.
        deploy(store, &scope, "production", &v[1], ANY)
            .await
            .expect("v2");
        deploy(store, &scope, "production", &v[2], ANY)
            .await
            .expect("v3");
        store
            .delete_release(scope.clone(), v[1].clone(), ACTOR.into(), None)
            .await
            .expect("v2 is deployed nowhere now");
        let back = rollback(store, &scope, "production", None)
            .await
            .expect("production back");
        assert_eq!(back.release_id, v[0]);
    })
}

pub fn records_are_newest_first_filter_by_environment_and_page() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        let v2 = cut(store, &scope, "v2", false).await;
        for (environment, release) in [
            ("staging", &v1),
            ("development", &v1),
            ("staging", &v2),
            ("production", &v2),
        ] {
            deploy(store, &scope, environment, release, ANY)
                .await
                .expect("deploy");
        }
        let staging = store
            .list_deployments(&scope, Some(&env("staging")), first(10))
            .await
            .expect("staging");
        let releases: Vec<&ReleaseId> = staging.items.iter().map(|r| &r.release_id).collect();
        assert_eq!(releases, [&v2, &v1], "newest first");
        assert_eq!(staging.total, 2);
        let mut seen = Vec::new();
        let mut page = first(3);
        loop {
            let listed = store
                .list_deployments(&scope, None, page.clone())
                .await
                .expect("page");
            assert_eq!(listed.total, 4);
            seen.extend(
                listed
                    .items
                    .into_iter()
                    .map(|record| record.environment_slug),
            );
            match listed.next_after {
                Some(after) => {
                    page = PageRequest {
                        limit: 3,
                        after: Some(after),
                    }
                }
                None => break,
            }
        }
        assert_eq!(seen, ["production", "staging", "development", "staging"]);
        assert_not_found(
            store
                .list_deployments(&scope, Some(&env("qa")), first(10))
                .await,
            "environment",
        );
    })
}

pub fn what_is_deployed_keeps_its_environment_and_its_app() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", false).await;
        deploy(store, &scope, "staging", &v1, ANY)
            .await
            .expect("staging");
        let details = assert_conflict(
            store
                .delete_environment(&scope.workspace(), &env("staging"))
                .await,
            "environment_has_deployments",
            "Releases are deployed in 'staging': roll them out of it first",
        );
        assert_eq!(
            details["app_ids"],
            serde_json::json!([scope.app_id.as_str()])
        );
        assert_conflict(
            store.delete_app(scope.clone(), None).await,
            "app_has_active_release",
            "An app with an active release cannot be deleted",
        );
        store
            .delete_environment(&scope.workspace(), &env("development"))
            .await
            .expect("development has nothing");
    })
}
