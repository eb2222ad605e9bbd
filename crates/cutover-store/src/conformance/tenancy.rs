//! Orgs, workspaces and apps: creation, uniqueness, listing, updates, deletion,
//! scoping by parents, and the per-parent quotas.

use cutover_domain::draft::{AppPatch, NewOrg, NewWorkspace};
use cutover_domain::limits::Limits;
use cutover_domain::{AppId, OrgId, WorkspaceId};
use serde_json::json;

use super::fixtures::{
    ACTOR, app_fixture, app_in, assert_conflict, assert_not_found, first, new_app,
    new_augmentation, new_release, newest, object, token, workspace_fixture,
};
use super::{Case, Stores};
use crate::{AppScope, PageRequest, WorkspaceScope};

pub fn orgs_have_unique_slugs_and_are_listed_in_id_order() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let mut made = Vec::new();
        for slug in ["alpha", "bravo", "charlie", "delta", "echo"] {
            let new = NewOrg {
                name: format!("Org {slug}"),
                slug: slug.into(),
            };
            let org = store.create_org(new, ACTOR).await.expect("org");
            assert_eq!((org.slug.as_str(), org.created_by.as_str()), (slug, ACTOR));
            assert_eq!(store.get_org(&org.org_id).await.expect("get"), org);
            made.push(org);
        }
        let again = NewOrg {
            name: "Another".into(),
            slug: "bravo".into(),
        };
        let details = assert_conflict(
            store.create_org(again, ACTOR).await,
            "org_slug_taken",
            "An organisation with slug 'bravo' already exists",
        );
        assert_eq!(details, object(json!({"slug": "bravo"})));
        assert_not_found(store.get_org(&OrgId::generate()).await, "org");

        made.sort_by(|a, b| a.org_id.as_str().cmp(b.org_id.as_str()));
        let mut listed = Vec::new();
        let mut request = first(2);
        loop {
            let page = store.list_orgs(None, request.clone()).await.expect("list");
            assert_eq!(page.total, 5);
            assert!(page.items.len() <= 2);
            listed.extend(page.items);
            match page.next_after {
                Some(after) => request.after = Some(after),
                None => break,
            }
        }
        assert_eq!(listed, made, "every org once, in id order");
        let only = store
            .list_orgs(Some(&made[3].org_id), first(10))
            .await
            .expect("only");
        assert_eq!((only.total, only.items.len()), (1, 1));
        assert_eq!(only.items[0], made[3]);
    })
}

pub fn workspaces_have_unique_names_within_their_org() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let acme = workspace_fixture(store, "acme").await;
        let globex = workspace_fixture(store, "globex").await;
        assert_ne!(
            acme.workspace_id, globex.workspace_id,
            "same name, two orgs"
        );
        let got = store.get_workspace(&acme).await.expect("get");
        assert_eq!((got.name.as_str(), &got.org_id), ("prod", &acme.org_id));

        let prod = NewWorkspace {
            name: "prod".into(),
            description: Some("again".into()),
        };
        let details = assert_conflict(
            store.create_workspace(&acme.org_id, prod, ACTOR).await,
            "workspace_name_taken",
            "A workspace named 'prod' already exists in this org",
        );
        assert_eq!(details, object(json!({"name": "prod"})));
        let staging = NewWorkspace {
            name: "staging".into(),
            description: Some("pre-production".into()),
        };
        let staging = store
            .create_workspace(&acme.org_id, staging, ACTOR)
            .await
            .expect("staging");
        assert_eq!(staging.description.as_deref(), Some("pre-production"));
        let nowhere = NewWorkspace {
            name: "x".into(),
            description: None,
        };
        assert_not_found(
            store
                .create_workspace(&OrgId::generate(), nowhere, ACTOR)
                .await,
            "org",
        );

        let all = store
            .list_workspaces(&acme.org_id, None, first(50))
            .await
            .expect("all");
        assert_eq!(all.total, 2);
        let ids: Vec<&WorkspaceId> = all.items.iter().map(|w| &w.workspace_id).collect();
        let mut sorted = ids.clone();
        sorted.sort_by_key(|id| id.as_str());
        assert_eq!(ids, sorted, "in id order");
        let only = store
            .list_workspaces(
                &acme.org_id,
                Some(std::slice::from_ref(&staging.workspace_id)),
                first(50),
            )
            .await
            .expect("only");
        assert_eq!((only.total, only.items.len()), (1, 1));
        assert_eq!(only.items[0], staging);
        let theirs = store
            .list_workspaces(
                &acme.org_id,
                Some(std::slice::from_ref(&globex.workspace_id)),
                first(50),
            )
            .await
            .expect("another org's workspace");
        assert_eq!(theirs.total, 0, "`only` never reaches outside the org");
    })
}

pub fn apps_have_unique_names_within_their_workspace() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let workspace = workspace_fixture(store, "acme").await;
        let app = store
            .create_app(&workspace, new_app("shop"), ACTOR)
            .await
            .expect("app");
        assert_eq!(app.name, "shop");
        assert_eq!(app.description.as_deref(), Some("an app"));
        assert_eq!(app.parameters, new_app("shop").parameters);
        assert_eq!((app.total_releases, app.draft_has_changes), (0, false));
        assert_eq!((&app.active_release_id, app.last_release_at), (&None, None));
        let scope = AppScope {
            org_id: workspace.org_id.clone(),
            workspace_id: workspace.workspace_id.clone(),
            app_id: app.app_id.clone(),
        };
        assert_eq!(store.get_app(&scope).await.expect("get"), app);

        let details = assert_conflict(
            store.create_app(&workspace, new_app("shop"), ACTOR).await,
            "app_name_taken",
            "An app named 'shop' already exists in this workspace",
        );
        assert_eq!(details, object(json!({"name": "shop"})));
        let other = workspace_fixture(store, "globex").await;
        store
            .create_app(&other, new_app("shop"), ACTOR)
            .await
            .expect("the same name in another workspace");
        let missing = WorkspaceScope {
            workspace_id: WorkspaceId::generate(),
            ..workspace.clone()
        };
        assert_not_found(
            store.create_app(&missing, new_app("x"), ACTOR).await,
            "workspace",
        );

        for name in ["b", "c", "d"] {
            app_in(store, &workspace, name).await;
        }
        let page = store.list_apps(&workspace, first(3)).await.expect("page");
        assert_eq!((page.total, page.items.len()), (4, 3));
        let rest = store
            .list_apps(
                &workspace,
                PageRequest {
                    limit: 3,
                    after: page.next_after.clone(),
                },
            )
            .await
            .expect("rest");
        assert_eq!((rest.items.len(), rest.next_after), (1, None));
        let mut ids: Vec<&str> = page.items.iter().map(|a| a.app_id.as_str()).collect();
        ids.push(rest.items[0].app_id.as_str());
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "id order");
    })
}

pub fn apps_update_and_delete_as_their_patch_says() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let workspace = WorkspaceScope {
            org_id: scope.org_id.clone(),
            workspace_id: scope.workspace_id.clone(),
        };
        let other = app_in(store, &workspace, "other").await;
        let before = store.get_app(&scope).await.expect("app");

        let rename = AppPatch {
            name: Some("other".into()),
            ..AppPatch::default()
        };
        assert_conflict(
            store.update_app(&scope, rename, None).await,
            "app_name_taken",
            "An app named 'other' already exists in this workspace",
        );
        let clear = AppPatch {
            description: Some(None),
            ..AppPatch::default()
        };
        let cleared = store.update_app(&scope, clear, None).await.expect("clear");
        assert_eq!(cleared.description, None);
        assert_eq!(
            cleared.parameters, before.parameters,
            "untouched fields stay"
        );
        assert_eq!(cleared.name, "shop");
        assert!(cleared.updated_at >= before.updated_at);
        let parameters = object(json!({"tier": "gold"}));
        let patch = AppPatch {
            name: Some("shop-2".into()),
            parameters: Some(parameters.clone()),
            ..AppPatch::default()
        };
        let updated = store.update_app(&scope, patch, None).await.expect("update");
        assert_eq!(
            (updated.name.as_str(), &updated.parameters),
            ("shop-2", &parameters)
        );
        assert_eq!(store.get_app(&scope).await.expect("get"), updated);

        // An app with a live release stays; without one it goes, with its draft and
        // releases.
        store
            .create_augmentation(&other, new_augmentation("pipeline"), ACTOR)
            .await
            .expect("augmentation");
        let live = store
            .create_release(other.clone(), new_release("o1", true), ACTOR.to_owned())
            .await
            .expect("o1");
        let details = assert_conflict(
            store.delete_app(other.clone(), None).await,
            "app_has_active_release",
            "An app with an active release cannot be deleted",
        );
        assert_eq!(
            details,
            object(json!({"active_release_id": live.summary.release_id.as_str()}))
        );
        store
            .create_release(scope.clone(), new_release("v1", false), ACTOR.to_owned())
            .await
            .expect("v1");
        store.delete_app(scope.clone(), None).await.expect("delete");
        assert_not_found(store.get_app(&scope).await, "app");
        assert_not_found(store.delete_app(scope.clone(), None).await, "app");
        assert_not_found(store.list_releases(&scope, newest(50, true)).await, "app");
        let left = store.list_apps(&workspace, first(10)).await.expect("list");
        assert_eq!(left.total, 1);
        store
            .create_app(&workspace, new_app("shop"), ACTOR)
            .await
            .expect("the name is free again");
    })
}

pub fn nothing_is_reachable_through_the_wrong_parents() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let elsewhere = workspace_fixture(store, "globex").await;
        let wrong_workspace = AppScope {
            workspace_id: elsewhere.workspace_id.clone(),
            ..scope.clone()
        };
        let wrong_org = AppScope {
            org_id: elsewhere.org_id.clone(),
            ..scope.clone()
        };
        let no_app = AppScope {
            app_id: AppId::generate(),
            ..scope.clone()
        };
        for wrong in [&wrong_workspace, &wrong_org, &no_app] {
            assert_not_found(store.get_app(wrong).await, "app");
            assert_not_found(store.list_endpoints(wrong, first(5)).await, "app");
            assert_not_found(store.list_augmentations(wrong, first(5)).await, "app");
            assert_not_found(
                store
                    .create_augmentation(wrong, new_augmentation("a"), ACTOR)
                    .await,
                "app",
            );
            assert_not_found(
                store
                    .create_release(wrong.clone(), new_release("v1", false), ACTOR.to_owned())
                    .await,
                "app",
            );
            assert_not_found(store.get_active_release(wrong).await, "app");
            assert_not_found(store.list_activations(wrong, first(5)).await, "app");
            assert_not_found(
                store.update_app(wrong, AppPatch::default(), None).await,
                "app",
            );
        }
        let workspace_elsewhere = WorkspaceScope {
            org_id: elsewhere.org_id.clone(),
            workspace_id: scope.workspace_id.clone(),
        };
        assert_not_found(store.get_workspace(&workspace_elsewhere).await, "workspace");
        assert_not_found(
            store.list_apps(&workspace_elsewhere, first(5)).await,
            "workspace",
        );
        assert_eq!(
            store
                .list_releases(&scope, newest(50, true))
                .await
                .expect("own")
                .total,
            0
        );
    })
}

pub fn quotas_bound_the_children_of_a_parent() -> Case {
    let limits = Limits {
        max_workspaces_per_org: 2,
        max_apps_per_workspace: 2,
        max_tokens_per_org: 2,
        max_releases_per_app: 2,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let workspace = WorkspaceScope {
            org_id: scope.org_id.clone(),
            workspace_id: scope.workspace_id.clone(),
        };
        let second = NewWorkspace {
            name: "second".into(),
            description: None,
        };
        store
            .create_workspace(&scope.org_id, second, ACTOR)
            .await
            .expect("second workspace");
        let third = NewWorkspace {
            name: "third".into(),
            description: None,
        };
        let details = assert_conflict(
            store.create_workspace(&scope.org_id, third, ACTOR).await,
            "limit_reached",
            "An org can have at most 2 workspaces",
        );
        assert_eq!(
            details,
            object(json!({"limit": 2, "limit_name": "workspaces_per_org"}))
        );
        app_in(store, &workspace, "two").await;
        assert_eq!(
            super::fixtures::reason(&store.create_app(&workspace, new_app("three"), ACTOR).await),
            "limit_reached"
        );
        for digest in ["d1", "d2"] {
            store
                .create_token(token(Some(&scope.org_id), digest, digest))
                .await
                .expect("token");
        }
        let third = token(Some(&scope.org_id), "d3", "d3");
        assert_eq!(
            super::fixtures::reason(&store.create_token(third.clone()).await),
            "limit_reached"
        );
        let listed = store
            .list_tokens(Some(&scope.org_id), None, first(10))
            .await
            .expect("tokens");
        store
            .revoke_token(Some(scope.org_id.clone()), listed.items[0].token_id.clone())
            .await
            .expect("revoke");
        store
            .create_token(third)
            .await
            .expect("a revoked token frees its place");
        for tag in ["v1", "v2"] {
            store
                .create_release(scope.clone(), new_release(tag, false), ACTOR.to_owned())
                .await
                .expect("release");
        }
        assert_eq!(
            super::fixtures::reason(
                &store
                    .create_release(scope.clone(), new_release("v3", false), ACTOR.to_owned())
                    .await
            ),
            "limit_reached"
        );
    })
}
