//! Rehearsals on every backend: a rehearsed write reports what its real call then
//! does (the outcome, the records, the statuses before and after) and keeps nothing;
//! a rehearsed refusal is the real call's refusal; a rehearsed cut leaves the next
//! number to the real one.

use cutover_domain::ReleaseId;
use cutover_domain::deployment::{
    ActivationRequest, DeployRequest, DeploySource, DeploymentAction, RollbackRequest,
};
use cutover_domain::dry_run::{ReleaseState, status_changes};
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use cutover_domain::precondition::{Precondition, PreconditionFailed};

use super::deployments::{ANY, deploy, deployed, env};
use super::fixtures::{ACTOR, app_fixture, app_in, first, new_release, newest, reason};
use super::releases::cut;
use super::{Case, Stores};
use crate::rehearsal::{Rehearsal, Rehearsed, RehearsedChange};
use crate::{AppScope, Store, StoreError};

/// Everything a write could change that a reader can see: each release's number and
/// status, what each environment has, and how many records and events there are.
async fn everything(store: &dyn Store, scope: &AppScope) -> String {
    let releases = store
        .list_releases(scope, newest(100, true))
        .await
        .expect("releases");
    let records = store
        .list_deployments(scope, None, first(100))
        .await
        .expect("records");
    let events = store
        .list_timeline(scope, first(100))
        .await
        .expect("events");
    let mut seen = String::new();
    for release in &releases.releases {
        seen += &format!(
            "{}#{}={:?} ",
            release.release_id, release.release_number, release.status
        );
    }
    for environment in ["production", "staging", "development"] {
        seen += &format!(
            "{environment}:{:?} ",
            deployed(store, scope, environment).await
        );
    }
    seen + &format!("records={} events={}", records.total, events.events.len())
}

async fn rehearse(store: &dyn Store, scope: &AppScope, write: Rehearsal) -> Rehearsed {
    let before = everything(store, scope).await;
    let seen = store
        .rehearse(scope.clone(), write, ACTOR.to_owned())
        .await
        .expect("a rehearsal runs");
    assert_eq!(
        everything(store, scope).await,
        before,
        "a rehearsal keeps nothing"
    );
    seen
}

/// The touched releases as they are now, in the order `states` lists them.
async fn now(store: &dyn Store, scope: &AppScope, states: &[ReleaseState]) -> Vec<ReleaseState> {
    let mut now = Vec::new();
    for state in states {
        if let Ok(document) = store.get_release(scope, &state.release_id).await {
            now.push(ReleaseState {
                status: document.summary.status,
                ..state.clone()
            });
        }
    }
    now
}

fn to(environment: &str, release: &ReleaseId) -> DeployRequest {
    DeployRequest {
        environment: env(environment),
        source: DeploySource::Release(release.clone()),
        reason: Some("ship it".into()),
        precondition: Precondition::none(),
    }
}

pub fn a_rehearsed_write_reports_what_the_real_one_does_and_keeps_nothing() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let v2 = cut(store, &scope, "v2", false).await;

        // A deploy: one record, v2 goes live and v1 leaves.
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::Deploy {
                request: to("production", &v2),
                authority: ANY,
            },
        )
        .await;
        let Ok(RehearsedChange::Deployed(outcome)) = &seen.outcome else {
            panic!("expected a deploy, got {:?}", seen.outcome);
        };
        assert!(outcome.changed);
        assert_eq!(seen.records.len(), 1);
        let record = &seen.records[0];
        assert_eq!(
            (&record.release_id, record.previous_release_id.as_ref()),
            (&v2, Some(&v1))
        );
        assert_eq!(record.reason.as_deref(), Some("ship it"));
        assert_eq!(seen.history.len(), 1, "production's one record so far");
        let changes = status_changes(&seen.before, &seen.after);
        assert_eq!(changes.len(), 2, "{changes:?}");

        // The real deploy does just that.
        let real = store
            .deploy(scope.clone(), to("production", &v2), ANY, ACTOR.into())
            .await
            .expect("deploy");
        assert_eq!(
            real.deployment.previous_release_id,
            record.previous_release_id
        );
        assert_eq!(real.deployment.action, record.action);
        assert_eq!(now(store, &scope, &seen.after).await, seen.after);

        // Activate (back to v1), archive and delete report their own changes.
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::Activate {
                release_id: v1.clone(),
                request: ActivationRequest::of(ActivationAction::Rollback),
            },
        )
        .await;
        assert!(matches!(seen.outcome, Ok(RehearsedChange::Activated(ref o)) if o.changed));
        assert_eq!(seen.records[0].action, DeploymentAction::Rollback);
        let v3 = cut(store, &scope, "v3", false).await;
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::Archive {
                release_id: v3.clone(),
                reason: None,
            },
        )
        .await;
        let changes = status_changes(&seen.before, &seen.after);
        assert_eq!(
            (changes[0].from, changes[0].to),
            (Some(ReleaseStatus::Ready), Some(ReleaseStatus::Archived))
        );
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::Delete {
                release_id: v3.clone(),
                reason: Some("mistake".into()),
            },
        )
        .await;
        let changes = status_changes(&seen.before, &seen.after);
        assert_eq!(
            (changes[0].from, changes[0].to),
            (Some(ReleaseStatus::Ready), None)
        );
        assert!(seen.records.is_empty());

        // An environment's rollback goes back to v1 in production.
        let request = RollbackRequest {
            environment: env("production"),
            release_id: None,
            reason: None,
            precondition: Precondition::none(),
        };
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::RollbackEnvironment {
                request: request.clone(),
                authority: ANY,
            },
        )
        .await;
        let Ok(RehearsedChange::RolledBack(record)) = &seen.outcome else {
            panic!("expected a rollback, got {:?}", seen.outcome);
        };
        let real = store
            .rollback_environment(scope.clone(), request, ANY, ACTOR.into())
            .await
            .expect("rollback");
        assert_eq!(
            (&real.release_id, &real.previous_release_id),
            (&record.release_id, &record.previous_release_id)
        );
        assert_eq!(now(store, &scope, &seen.after).await, seen.after);
    })
}

pub fn a_rehearsed_cut_leaves_its_number_to_the_real_one() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::CreateRelease(new_release("v2", true)),
        )
        .await;
        let Ok(RehearsedChange::Created(document)) = &seen.outcome else {
            panic!("expected a cut, got {:?}", seen.outcome);
        };
        assert_eq!(document.summary.release_number, 2);
        assert_eq!(seen.records.len(), 1, "activate: true deploys it");
        assert_eq!(seen.records[0].previous_release_id.as_ref(), Some(&v1));
        let changes = status_changes(&seen.before, &seen.after);
        let created = changes
            .iter()
            .find(|change| change.from.is_none())
            .expect("the new release");
        assert_eq!(
            (created.release.release_id.as_ref(), created.to),
            (None, Some(ReleaseStatus::Active))
        );
        let real = store
            .create_release(scope.clone(), new_release("v2", true), ACTOR.into())
            .await
            .expect("cut");
        assert_eq!(real.summary.release_number, 2);
        assert_eq!(real.content, document.content);
    })
}

pub fn a_rehearsed_refusal_is_the_real_calls() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let v1 = cut(store, &scope, "v1", true).await;
        let v2 = cut(store, &scope, "v2", false).await;
        deploy(store, &scope, "staging", &v2, ANY)
            .await
            .expect("deploy");

        let refusals = [
            Rehearsal::CreateRelease(new_release("v1", false)),
            Rehearsal::Delete {
                release_id: v1.clone(),
                reason: None,
            },
            Rehearsal::Archive {
                release_id: v2.clone(),
                reason: None,
            },
            Rehearsal::Activate {
                release_id: v2.clone(),
                request: ActivationRequest::of(ActivationAction::Rollback),
            },
        ];
        for write in refusals {
            let seen = rehearse(store, &scope, write.clone()).await;
            let real = match write {
                Rehearsal::CreateRelease(new) => store
                    .create_release(scope.clone(), new, ACTOR.into())
                    .await
                    .map(drop),
                Rehearsal::Delete { release_id, reason } => {
                    store
                        .delete_release(scope.clone(), release_id, ACTOR.into(), reason)
                        .await
                }
                Rehearsal::Archive { release_id, reason } => store
                    .archive_release(scope.clone(), release_id, ACTOR.into(), reason)
                    .await
                    .map(drop),
                Rehearsal::Activate {
                    release_id,
                    request,
                } => store
                    .activate_release(scope.clone(), release_id, request, ACTOR.into())
                    .await
                    .map(drop),
                other => panic!("not listed: {other:?}"),
            };
            assert!(real.is_err());
            assert_eq!(reason(&seen.outcome), reason(&real));
            assert!(seen.records.is_empty() && seen.after.is_empty());
        }

        // A condition that does not hold is refused as the real call's is.
        let mut request = to("staging", &v1);
        request.precondition = Precondition {
            release: Some(Some(v1.clone())),
            if_match: None,
        };
        let seen = rehearse(
            store,
            &scope,
            Rehearsal::Deploy {
                request,
                authority: ANY,
            },
        )
        .await;
        match seen.outcome {
            Err(StoreError::PreconditionFailed(PreconditionFailed::Deployment {
                current_release_id,
            })) => {
                assert_eq!(current_release_id, Some(v2.clone()));
            }
            other => panic!("expected a failed precondition, got {other:?}"),
        }
        // A release of another app is the rehearsal's error to report, as the real call's.
        let elsewhere = app_in(store, &scope.workspace(), "other").await;
        let seen = store
            .rehearse(
                elsewhere,
                Rehearsal::Archive {
                    release_id: v1.clone(),
                    reason: None,
                },
                ACTOR.into(),
            )
            .await
            .expect("a rehearsal runs");
        assert!(
            matches!(seen.outcome, Err(StoreError::NotFound { .. })),
            "{:?}",
            seen.outcome
        );
    })
}
