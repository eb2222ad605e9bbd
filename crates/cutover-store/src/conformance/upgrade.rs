//! What a backend must make of a database an earlier version wrote, once it opens it
//! with this one: the checks, written once, that each backend's upgrade test runs
//! on its own copy of the fixture (`tests/fixtures/<name>.sql` of each store crate,
//! made by `scripts/upgrade-fixture/run`).

use cutover_domain::deployment::{
    ActivationRequest, DeployAuthority, DeployRequest, DeploySource, DeploymentAction,
};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use cutover_domain::precondition::Precondition;
use cutover_domain::timeline::EventType;
use cutover_domain::{AppId, OrgId, ReleaseId, WorkspaceId};

use super::fixtures::{ACTOR, first, newest};
use crate::{AppScope, Store, WorkspaceScope};

fn slug(text: &str) -> EnvironmentRef {
    EnvironmentRef::parse(text).expect("a slug")
}

/// The stop-23 fixture (`stop23.sql`): org `acme`, workspace `prod`, app
/// `support-bot` whose v1, v2, v3 were cut with `activate: true`, then rolled back to
/// v2; v4 cut and never activated; v3 deleted; and the app `idle` with nothing.
///
/// After the upgrade: the three starting environments; v2 is production's
/// deployment; the four activations are production's records, with their sequence,
/// actors and times, v3's without its tag and number (it had been deleted); the
/// activation history reads as before; statuses say where releases are deployed;
/// and new deployments number after the carried-over records. Answers the app's
/// scope, for [`reopened_after_stop23`].
pub async fn from_stop23(store: &dyn Store) -> AppScope {
    upgraded(store, None).await
}

/// The stop-24 fixture (`stop24.sql`): the same writes, made by stop 24's code,
/// which had environments and deployment records (migration 5) but no timeline.
/// After the upgrade it reads as the stop-23 fixture does after its own, except that
/// v3's record kept its tag (stop 24 wrote it while v3 existed); for it, only the
/// timeline's backfill is new.
pub async fn from_stop24(store: &dyn Store) -> AppScope {
    upgraded(store, Some("v3")).await
}

/// The checks of [`from_stop23`]; `v3_tag` is what the record of the deleted v3
/// shows as its tag.
async fn upgraded(store: &dyn Store, v3_tag: Option<&str>) -> AppScope {
    let orgs = store.list_orgs(None, first(10)).await.expect("orgs");
    let org = orgs
        .items
        .iter()
        .find(|org| org.slug == "acme")
        .expect("acme");
    let org_id: OrgId = org.org_id.clone();
    let workspaces = store
        .list_workspaces(&org_id, None, first(10))
        .await
        .expect("workspaces");
    let workspace_id: WorkspaceId = workspaces.items[0].workspace_id.clone();
    let workspace = WorkspaceScope {
        org_id: org_id.clone(),
        workspace_id: workspace_id.clone(),
    };
    let apps = store.list_apps(&workspace, first(10)).await.expect("apps");
    let app_named = |name: &str| -> AppId {
        apps.items
            .iter()
            .find(|app| app.name == name)
            .unwrap_or_else(|| panic!("app {name}"))
            .app_id
            .clone()
    };
    let scope = AppScope {
        org_id,
        workspace_id,
        app_id: app_named("support-bot"),
    };
    let idle = AppScope {
        app_id: app_named("idle"),
        ..scope.clone()
    };

    let environments = store
        .list_environments(&workspace, first(10))
        .await
        .expect("environments");
    let slugs: Vec<&str> = environments
        .items
        .iter()
        .map(|env| env.slug.as_str())
        .collect();
    assert_eq!(slugs, ["production", "staging", "development"]);

    let releases = store
        .list_releases(&scope, newest(10, true))
        .await
        .expect("releases");
    let by_tag = |tag: &str| {
        releases
            .releases
            .iter()
            .find(|release| release.release_tag.as_str() == tag)
            .unwrap_or_else(|| panic!("release {tag}"))
            .clone()
    };
    let (v1, v2, v4) = (by_tag("v1"), by_tag("v2"), by_tag("v4"));
    assert_eq!(
        releases.releases.len(),
        3,
        "v3 was deleted before the upgrade"
    );
    assert_eq!(releases.active_release_id.as_ref(), Some(&v2.release_id));
    assert_eq!(
        [v1.status, v2.status, v4.status],
        [
            ReleaseStatus::Archived,
            ReleaseStatus::Active,
            ReleaseStatus::Ready
        ]
    );
    let active = store.get_active_release(&scope).await.expect("active");
    assert_eq!(
        active.map(|doc| doc.summary.release_id),
        Some(v2.release_id.clone())
    );
    let production = store
        .get_environment(&workspace, &slug("production"))
        .await
        .expect("production");
    assert_eq!(
        production.active_deployments.get(&scope.app_id),
        Some(&v2.release_id)
    );
    assert!(!production.active_deployments.contains_key(&idle.app_id));

    let history = store
        .list_activations(&scope, first(10))
        .await
        .expect("history");
    let read: Vec<(i64, ActivationAction)> = history
        .items
        .iter()
        .map(|activation| (activation.sequence, activation.action))
        .collect();
    use ActivationAction::{Activate, Rollback};
    assert_eq!(
        read,
        [(1, Activate), (2, Activate), (3, Activate), (4, Rollback)]
    );
    assert_eq!(history.items[3].release_id, v2.release_id);

    let records = store
        .list_deployments(&scope, Some(&slug("production")), first(10))
        .await
        .expect("records");
    assert_eq!(records.total, 4);
    let newest_first: Vec<(DeploymentAction, Option<&str>)> = records
        .items
        .iter()
        .map(|record| {
            (
                record.action,
                record.release_tag.as_ref().map(|tag| tag.as_str()),
            )
        })
        .collect();
    assert_eq!(
        newest_first,
        [
            (DeploymentAction::Rollback, Some("v2")),
            (DeploymentAction::Deploy, v3_tag),
            (DeploymentAction::Deploy, Some("v2")),
            (DeploymentAction::Deploy, Some("v1")),
        ],
        "v3's record outlived it, without its tag"
    );
    for (record, activation) in records.items.iter().rev().zip(&history.items) {
        assert_eq!(record.release_id, activation.release_id);
        assert_eq!(record.previous_release_id, activation.replaced_release_id);
        assert_eq!(record.deployed_by, activation.actor);
        assert_eq!(record.deployed_at, activation.at);
        assert_eq!(record.environment_slug, "production");
    }
    let board = store.app_board(&scope, first(10)).await.expect("board");
    let on_board: Vec<Option<ReleaseId>> = board
        .items
        .iter()
        .map(|entry| {
            entry
                .release
                .as_ref()
                .map(|release| release.release_id.clone())
        })
        .collect();
    assert_eq!(on_board, [Some(v2.release_id.clone()), None, None]);
    assert_eq!(board.items[0].deployed_at, Some(history.items[3].at));

    // The timeline holds the history as events, oldest at the end: each release's
    // cut (not v3's, deleted before the upgrade) and each record, in time order.
    let timeline = store
        .list_timeline(&scope, first(20))
        .await
        .expect("timeline");
    let events: Vec<(EventType, Option<&str>)> = timeline
        .events
        .iter()
        .map(|event| match (&event.release, &event.deployment) {
            (Some(release), _) => (event.event_type, Some(release.summary.release_tag.as_str())),
            (_, Some(record)) => (
                event.event_type,
                record.release_tag.as_ref().map(|tag| tag.as_str()),
            ),
            _ => (event.event_type, None),
        })
        .collect();
    use EventType::{Deployment, Release};
    assert_eq!(
        events,
        [
            (Release, Some("v4")),
            (Deployment, Some("v2")),
            (Deployment, v3_tag),
            (Deployment, Some("v2")),
            (Release, Some("v2")),
            (Deployment, Some("v1")),
            (Release, Some("v1")),
        ]
    );
    assert_eq!(timeline.next_after, None);
    assert!(
        store
            .list_timeline(&idle, first(20))
            .await
            .expect("idle's timeline")
            .events
            .is_empty()
    );

    // The upgraded database takes new deployments after the carried-over ones.
    let staged = store
        .deploy(
            scope.clone(),
            DeployRequest {
                environment: slug("staging"),
                source: DeploySource::Release(v4.release_id.clone()),
                reason: None,
                precondition: Precondition::none(),
            },
            DeployAuthority::UnprotectedOnly,
            ACTOR.to_owned(),
        )
        .await
        .expect("deploy v4 to staging");
    assert!(staged.changed);
    store
        .activate_release(
            scope.clone(),
            v4.release_id.clone(),
            ActivationRequest::of(ActivationAction::Activate),
            ACTOR.to_owned(),
        )
        .await
        .expect("activate v4");
    let history = store
        .list_activations(&scope, first(10))
        .await
        .expect("history");
    assert_eq!(history.total, 5);
    assert!(
        history.items[4].sequence > 4,
        "numbered after the carried-over records"
    );
    let all = store
        .list_deployments(&scope, None, first(10))
        .await
        .expect("all records");
    assert_eq!(all.total, 6);
    let v2_now = store.get_release(&scope, &v2.release_id).await.expect("v2");
    assert_eq!(
        v2_now.summary.status,
        ReleaseStatus::Archived,
        "v2 left its only environment"
    );
    scope
}

/// Opening the upgraded database again carries nothing over twice: the app under
/// `scope` still has the six records [`from_stop23`] left, and its timeline the
/// seven events of its history and the two of the deployments made since.
pub async fn reopened_after_stop23(store: &dyn Store, scope: &AppScope) {
    let timeline = store
        .list_timeline(scope, first(20))
        .await
        .expect("timeline");
    assert_eq!(timeline.events.len(), 9);
    let all = store
        .list_deployments(scope, None, first(10))
        .await
        .expect("all records");
    assert_eq!(all.total, 6);
    let history = store
        .list_activations(scope, first(10))
        .await
        .expect("history");
    assert_eq!(history.total, 5);
}
