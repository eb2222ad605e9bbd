//! Environments: the three every workspace starts with, slugs unique in a workspace,
//! exactly one default (moved, never lost), what may be deleted, addressing by id or
//! slug, the default environment's deployments, and the per-workspace quota.

use cutover_domain::EnvironmentId;
use cutover_domain::environment::{EnvironmentPatch, EnvironmentRef, NewEnvironment};
use cutover_domain::limits::Limits;
use serde_json::json;

use super::fixtures::{
    ACTOR, app_fixture, assert_conflict, assert_not_found, first, new_release, object,
    workspace_fixture,
};
use super::{Case, Stores};
use crate::{Store, WorkspaceScope};

fn new_environment(name: &str, slug: &str) -> NewEnvironment {
    NewEnvironment {
        name: name.into(),
        slug: slug.into(),
        description: Some("for tests".into()),
        is_default: false,
        protected: false,
    }
}

fn slug(text: &str) -> EnvironmentRef {
    EnvironmentRef::Slug(text.into())
}

/// The slugs of the workspace's environments, in list order, with the default marked.
async fn slugs(store: &dyn Store, scope: &WorkspaceScope) -> Vec<(String, bool)> {
    store
        .list_environments(scope, first(100))
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|env| (env.slug, env.is_default))
        .collect()
}

fn owned(slugs: &[(&str, bool)]) -> Vec<(String, bool)> {
    slugs.iter().map(|(s, d)| ((*s).to_owned(), *d)).collect()
}

pub fn a_workspace_starts_with_production_staging_and_development() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = workspace_fixture(store, "acme").await;
        let page = store
            .list_environments(&scope, first(100))
            .await
            .expect("list");
        assert_eq!(page.total, 3);
        let seen: Vec<_> = page
            .items
            .iter()
            .map(|env| {
                (
                    env.slug.as_str(),
                    env.name.as_str(),
                    env.is_default,
                    env.protected,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("production", "Production", true, true),
                ("staging", "Staging", false, false),
                ("development", "Development", false, false),
            ]
        );
        let production = &page.items[0];
        assert_eq!(production.workspace_id, scope.workspace_id);
        assert_eq!(production.org_id, scope.org_id);
        assert_eq!(production.created_by, ACTOR);
        assert!(production.active_deployments.is_empty());
        let by_id = store
            .get_environment(
                &scope,
                &EnvironmentRef::Id(production.environment_id.clone()),
            )
            .await
            .expect("by id");
        let by_slug = store
            .get_environment(&scope, &slug("production"))
            .await
            .expect("by slug");
        assert_eq!(&by_id, production);
        assert_eq!(by_slug, by_id);
        assert_not_found(
            store.get_environment(&scope, &slug("qa")).await,
            "environment",
        );
        assert_not_found(
            store
                .get_environment(&scope, &EnvironmentRef::Id(EnvironmentId::generate()))
                .await,
            "environment",
        );
        // Another workspace's environment is not reachable through this one.
        let other = workspace_fixture(store, "globex").await;
        let theirs = store
            .get_environment(&other, &slug("staging"))
            .await
            .expect("theirs");
        assert_not_found(
            store
                .get_environment(&scope, &EnvironmentRef::Id(theirs.environment_id))
                .await,
            "environment",
        );
    })
}

pub fn environment_slugs_are_unique_within_their_workspace() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = workspace_fixture(store, "acme").await;
        let qa = store
            .create_environment(&scope, new_environment("QA", "qa"), ACTOR)
            .await
            .expect("qa");
        assert_eq!((qa.slug.as_str(), qa.is_default), ("qa", false));
        assert_eq!(qa.description.as_deref(), Some("for tests"));
        let details = assert_conflict(
            store
                .create_environment(&scope, new_environment("Staging 2", "staging"), ACTOR)
                .await,
            "environment_slug_taken",
            "An environment with slug 'staging' already exists in this workspace",
        );
        assert_eq!(details, object(json!({"slug": "staging"})));
        let renamed = EnvironmentPatch {
            slug: Some("development".into()),
            ..Default::default()
        };
        assert_conflict(
            store.update_environment(&scope, &slug("qa"), renamed).await,
            "environment_slug_taken",
            "An environment with slug 'development' already exists in this workspace",
        );
        // The same slug in another workspace is fine.
        let other = workspace_fixture(store, "globex").await;
        store
            .create_environment(&other, new_environment("QA", "qa"), ACTOR)
            .await
            .expect("qa elsewhere");
        assert_eq!(
            slugs(store, &scope).await,
            owned(&[
                ("production", true),
                ("staging", false),
                ("development", false),
                ("qa", false),
            ])
        );
    })
}

pub fn the_default_moves_and_is_never_lost() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = workspace_fixture(store, "acme").await;
        let make_default = || EnvironmentPatch {
            is_default: Some(true),
            ..Default::default()
        };
        let staging = store
            .update_environment(&scope, &slug("staging"), make_default())
            .await
            .expect("staging becomes the default");
        assert!(staging.is_default);
        assert_eq!(
            slugs(store, &scope).await,
            owned(&[
                ("production", false),
                ("staging", true),
                ("development", false)
            ])
        );
        let mut canary = new_environment("Canary", "canary");
        canary.is_default = true;
        let canary = store
            .create_environment(&scope, canary, ACTOR)
            .await
            .expect("canary");
        assert!(canary.is_default);
        assert_eq!(
            slugs(store, &scope).await,
            owned(&[
                ("production", false),
                ("staging", false),
                ("development", false),
                ("canary", true),
            ])
        );
        let unflag = EnvironmentPatch {
            is_default: Some(false),
            ..Default::default()
        };
        assert_conflict(
            store
                .update_environment(&scope, &slug("canary"), unflag)
                .await,
            "environment_is_default",
            "'canary' is the workspace's default environment: make another environment the \
             default first",
        );
        let details = assert_conflict(
            store.delete_environment(&scope, &slug("canary")).await,
            "environment_is_default",
            "'canary' is the workspace's default environment: make another environment the \
             default first",
        );
        assert_eq!(details, object(json!({"slug": "canary"})));
        // A change that fails (its slug is taken) moves nothing.
        let failing = EnvironmentPatch {
            slug: Some("production".into()),
            is_default: Some(true),
            ..Default::default()
        };
        assert_conflict(
            store
                .update_environment(&scope, &slug("staging"), failing)
                .await,
            "environment_slug_taken",
            "An environment with slug 'production' already exists in this workspace",
        );
        let mut clashing = new_environment("Again", "staging");
        clashing.is_default = true;
        assert_conflict(
            store.create_environment(&scope, clashing, ACTOR).await,
            "environment_slug_taken",
            "An environment with slug 'staging' already exists in this workspace",
        );
        let canary = store
            .get_environment(&scope, &slug("canary"))
            .await
            .expect("canary");
        assert!(canary.is_default, "the default kept its flag");
        // Making the default the default again changes nothing else.
        store
            .update_environment(&scope, &slug("canary"), make_default())
            .await
            .expect("already the default");
        let defaults = slugs(store, &scope)
            .await
            .into_iter()
            .filter(|(_, is_default)| *is_default)
            .count();
        assert_eq!(defaults, 1);
    })
}

pub fn environments_update_and_delete_as_asked() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = workspace_fixture(store, "acme").await;
        let before = store
            .get_environment(&scope, &slug("development"))
            .await
            .expect("development");
        let patch = EnvironmentPatch {
            name: Some("Dev".into()),
            slug: Some("dev".into()),
            description: Some(Some("laptops".into())),
            protected: Some(true),
            ..Default::default()
        };
        let after = store
            .update_environment(&scope, &slug("development"), patch)
            .await
            .expect("update");
        assert_eq!(after.environment_id, before.environment_id);
        assert_eq!((after.name.as_str(), after.slug.as_str()), ("Dev", "dev"));
        assert_eq!(after.description.as_deref(), Some("laptops"));
        assert!(after.protected && !after.is_default);
        assert!(after.updated_at >= before.updated_at);
        assert_eq!(after.created_at, before.created_at);
        assert_eq!(
            store
                .get_environment(&scope, &slug("dev"))
                .await
                .expect("read back"),
            after
        );
        assert_not_found(
            store.get_environment(&scope, &slug("development")).await,
            "environment",
        );
        let cleared = EnvironmentPatch {
            description: Some(None),
            ..Default::default()
        };
        let cleared = store
            .update_environment(
                &scope,
                &EnvironmentRef::Id(after.environment_id.clone()),
                cleared,
            )
            .await
            .expect("clear");
        assert_eq!(cleared.description, None);
        store
            .delete_environment(&scope, &slug("dev"))
            .await
            .expect("delete");
        assert_not_found(
            store.delete_environment(&scope, &slug("dev")).await,
            "environment",
        );
        assert_eq!(
            slugs(store, &scope).await,
            owned(&[("production", true), ("staging", false)])
        );
    })
}

pub fn each_environment_holds_what_was_deployed_there() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let app = app_fixture(store).await;
        let workspace = app.workspace();
        let production = store
            .get_environment(&workspace, &slug("production"))
            .await
            .expect("production");
        assert!(production.active_deployments.is_empty());
        let release = store
            .create_release(app.clone(), new_release("v1", true), ACTOR.to_owned())
            .await
            .expect("cut and activate");
        let production = store
            .get_environment(&workspace, &slug("production"))
            .await
            .expect("production");
        assert_eq!(
            production.active_deployments.get(&app.app_id),
            Some(&release.summary.release_id)
        );
        assert_eq!(production.active_deployments.len(), 1);
        let staging = store
            .get_environment(&workspace, &slug("staging"))
            .await
            .expect("staging");
        assert!(staging.active_deployments.is_empty());
        let listed = store
            .list_environments(&workspace, first(10))
            .await
            .expect("list");
        assert_eq!(listed.items[0], production);
        // A new default has nothing deployed: the app has no active release now.
        let mut canary = new_environment("Canary", "canary");
        canary.is_default = true;
        let canary = store
            .create_environment(&workspace, canary, ACTOR)
            .await
            .expect("canary");
        assert!(canary.active_deployments.is_empty());
        assert_eq!(store.get_active_release(&app).await.expect("active"), None);
        let apps = store.get_app(&app).await.expect("app");
        assert_eq!(apps.active_release_id, None);
        // Production keeps its deployment, as a plain environment now.
        let production = store
            .get_environment(&workspace, &slug("production"))
            .await
            .expect("production");
        assert_eq!(
            production.active_deployments.get(&app.app_id),
            Some(&release.summary.release_id)
        );
    })
}

pub fn concurrent_default_moves_leave_exactly_one_default() -> Case {
    Case::new(|stores: Stores| async move {
        let scope = workspace_fixture(stores.first(), "acme").await;
        let mut tasks = tokio::task::JoinSet::new();
        for index in 0..12 {
            let (store, scope) = (stores.for_caller(index), scope.clone());
            tasks.spawn(async move {
                let mut new = new_environment(&format!("Env {index}"), &format!("env-{index}"));
                new.is_default = index % 2 == 0;
                store.create_environment(&scope, new, ACTOR).await?;
                let patch = EnvironmentPatch {
                    is_default: Some(true),
                    ..Default::default()
                };
                let target = ["production", "staging", "development"][index % 3];
                store.update_environment(&scope, &slug(target), patch).await
            });
        }
        while let Some(outcome) = tasks.join_next().await {
            outcome
                .expect("task")
                .expect("every create and move succeeds");
        }
        let listed = slugs(stores.first(), &scope).await;
        assert_eq!(listed.len(), 15);
        let defaults = listed.iter().filter(|(_, is_default)| *is_default).count();
        assert_eq!(defaults, 1, "{listed:?}");
    })
}

pub fn the_app_board_shows_what_is_deployed_where() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let app = app_fixture(store).await;
        let board = store.app_board(&app, first(10)).await.expect("board");
        assert_eq!(board.total, 3);
        assert!(board.items.iter().all(|entry| entry.release.is_none()
            && entry.deployed_at.is_none()
            && entry.deployed_by.is_none()));
        let release = store
            .create_release(app.clone(), new_release("v1", true), ACTOR.to_owned())
            .await
            .expect("cut and activate");
        let board = store.app_board(&app, first(10)).await.expect("board");
        let entries: Vec<_> = board
            .items
            .iter()
            .map(|entry| {
                let deployed = entry.release.as_ref().map(|r| r.release_id.clone());
                (
                    entry.slug.as_str(),
                    entry.is_default,
                    entry.protected,
                    deployed,
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (
                    "production",
                    true,
                    true,
                    Some(release.summary.release_id.clone())
                ),
                ("staging", false, false, None),
                ("development", false, false, None),
            ]
        );
        let production = &board.items[0];
        assert_eq!(production.deployed_at, release.summary.activated_at);
        assert_eq!(production.deployed_by.as_deref(), Some(ACTOR));
        let paged = store.app_board(&app, first(2)).await.expect("a page");
        assert_eq!((paged.items.len(), paged.total), (2, 3));
        assert!(paged.next_after.is_some());
        let elsewhere = crate::AppScope {
            app_id: cutover_domain::AppId::generate(),
            ..app.clone()
        };
        assert_not_found(store.app_board(&elsewhere, first(10)).await, "app");
    })
}

pub fn environments_per_workspace_are_capped() -> Case {
    let limits = Limits {
        max_environments_per_workspace: 4,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let scope = workspace_fixture(store, "acme").await;
        store
            .create_environment(&scope, new_environment("QA", "qa"), ACTOR)
            .await
            .expect("the fourth fits");
        let details = assert_conflict(
            store
                .create_environment(&scope, new_environment("UAT", "uat"), ACTOR)
                .await,
            "limit_reached",
            "A workspace can have at most 4 environments",
        );
        assert_eq!(details["limit_name"], json!("environments_per_workspace"));
        store
            .delete_environment(&scope, &slug("qa"))
            .await
            .expect("delete");
        store
            .create_environment(&scope, new_environment("UAT", "uat"), ACTOR)
            .await
            .expect("room again");
    })
}
