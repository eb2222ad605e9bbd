//! The draft: endpoints and augmentations, their references and unique rules, the
//! per-app limits, listing, and whether the draft differs from the newest release.

use cutover_domain::draft::{AugmentationPatch, EndpointPatch};
use cutover_domain::limits::Limits;
use cutover_domain::values::HttpMethod;
use cutover_domain::{AugmentationId, EndpointId};
use serde_json::{Value, json};

use super::fixtures::{
    ACTOR, app_fixture, assert_conflict, assert_not_found, augmentation_in, endpoint_in, first,
    new_augmentation, new_endpoint, new_release, object,
};
use super::{Case, Stores};
use crate::{PageRequest, StoreError};

pub fn endpoints_need_an_augmentation_of_their_app() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let stranger = AugmentationId::generate();
        match store
            .create_endpoint(&scope, new_endpoint("x", "/x", &stranger), ACTOR)
            .await
        {
            Err(StoreError::InvalidReference {
                field,
                message,
                input,
            }) => {
                assert_eq!(field, "augmentation_id");
                assert_eq!(message, "must name an augmentation of this app");
                assert_eq!(input, Value::String(stranger.to_string()));
            }
            other => panic!("expected an invalid reference, got {other:?}"),
        }
        // One of another app is no better.
        let workspace = crate::WorkspaceScope {
            org_id: scope.org_id.clone(),
            workspace_id: scope.workspace_id.clone(),
        };
        let other = super::fixtures::app_in(store, &workspace, "other").await;
        let theirs = store
            .create_augmentation(&other, new_augmentation("theirs"), ACTOR)
            .await
            .expect("theirs");
        let refused = store
            .create_endpoint(
                &scope,
                new_endpoint("x", "/x", &theirs.augmentation_id),
                ACTOR,
            )
            .await;
        assert!(matches!(refused, Err(StoreError::InvalidReference { .. })));

        let aug = augmentation_in(store, &scope, "mine").await;
        let endpoint = endpoint_in(store, &scope, "x", "/x", &aug.augmentation_id).await;
        assert_eq!(
            (endpoint.created_by.as_str(), endpoint.path.as_str()),
            (ACTOR, "/x")
        );
        assert_eq!(
            store
                .get_endpoint(&scope, &endpoint.endpoint_id)
                .await
                .expect("get"),
            endpoint
        );
        let repoint = EndpointPatch {
            augmentation_id: Some(theirs.augmentation_id.clone()),
            ..EndpointPatch::default()
        };
        let refused = store
            .update_endpoint(&scope, &endpoint.endpoint_id, repoint, ACTOR, None)
            .await;
        assert!(matches!(refused, Err(StoreError::InvalidReference { .. })));
        assert_eq!(
            store
                .get_endpoint(&scope, &endpoint.endpoint_id)
                .await
                .expect("get"),
            endpoint,
            "a refused update changes nothing"
        );
        assert_not_found(
            store.get_endpoint(&other, &endpoint.endpoint_id).await,
            "endpoint",
        );
        assert_not_found(
            store.get_endpoint(&scope, &EndpointId::generate()).await,
            "endpoint",
        );
        assert_not_found(
            store
                .update_endpoint(
                    &scope,
                    &EndpointId::generate(),
                    EndpointPatch::default(),
                    ACTOR,
                    None,
                )
                .await,
            "endpoint",
        );
        assert_not_found(
            store
                .delete_endpoint(&scope, &EndpointId::generate(), ACTOR, None)
                .await,
            "endpoint",
        );
    })
}

pub fn endpoint_routes_and_names_are_unique_within_the_app() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let aug = augmentation_in(store, &scope, "pipeline")
            .await
            .augmentation_id;
        let list = endpoint_in(store, &scope, "list", "/items", &aug).await;
        let details = assert_conflict(
            store
                .create_endpoint(&scope, new_endpoint("other", "/items", &aug), ACTOR)
                .await,
            "endpoint_route_taken",
            "Another endpoint of this app already answers GET /items",
        );
        assert_eq!(
            details,
            object(json!({"endpoint_id": list.endpoint_id.as_str()}))
        );
        let details = assert_conflict(
            store
                .create_endpoint(&scope, new_endpoint("list", "/elsewhere", &aug), ACTOR)
                .await,
            "endpoint_name_taken",
            "Another endpoint of this app is already named 'list'",
        );
        assert_eq!(details, object(json!({"name": "list"})));
        // Both rules broken: the route is reported.
        assert_conflict(
            store
                .create_endpoint(&scope, new_endpoint("list", "/items", &aug), ACTOR)
                .await,
            "endpoint_route_taken",
            "Another endpoint of this app already answers GET /items",
        );
        let mut post = new_endpoint("create", "/items", &aug);
        post.method = HttpMethod::Post;
        store
            .create_endpoint(&scope, post, ACTOR)
            .await
            .expect("another method on the same path");

        let second = endpoint_in(store, &scope, "second", "/second", &aug).await;
        let onto_list = EndpointPatch {
            path: Some("/items".into()),
            ..EndpointPatch::default()
        };
        assert_conflict(
            store
                .update_endpoint(&scope, &second.endpoint_id, onto_list, ACTOR, None)
                .await,
            "endpoint_route_taken",
            "Another endpoint of this app already answers GET /items",
        );
        let rename = EndpointPatch {
            name: Some("list".into()),
            ..EndpointPatch::default()
        };
        assert_conflict(
            store
                .update_endpoint(&scope, &second.endpoint_id, rename, ACTOR, None)
                .await,
            "endpoint_name_taken",
            "Another endpoint of this app is already named 'list'",
        );
        let keep_own = EndpointPatch {
            name: Some("second".into()),
            path: Some("/second".into()),
            description: Some(Some("the same route as before".into())),
            ..EndpointPatch::default()
        };
        let updated = store
            .update_endpoint(&scope, &second.endpoint_id, keep_own, "editor", None)
            .await
            .expect("an endpoint does not clash with itself");
        assert_eq!(
            updated.description.as_deref(),
            Some("the same route as before")
        );
        assert_eq!(
            (updated.created_by.as_str(), updated.updated_by.as_str()),
            (ACTOR, "editor")
        );
        store
            .delete_endpoint(&scope, &list.endpoint_id, ACTOR, None)
            .await
            .expect("delete");
        endpoint_in(store, &scope, "list", "/items", &aug).await;
    })
}

pub fn augmentations_have_unique_names_and_cannot_go_while_used() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let aug = augmentation_in(store, &scope, "pipeline").await;
        assert_eq!(
            store
                .get_augmentation(&scope, &aug.augmentation_id)
                .await
                .expect("get"),
            aug
        );
        let details = assert_conflict(
            store
                .create_augmentation(&scope, new_augmentation("pipeline"), ACTOR)
                .await,
            "augmentation_name_taken",
            "Another augmentation of this app is already named 'pipeline'",
        );
        assert_eq!(details, object(json!({"name": "pipeline"})));
        let spare = augmentation_in(store, &scope, "spare").await;
        let rename = AugmentationPatch {
            name: Some("pipeline".into()),
            ..AugmentationPatch::default()
        };
        assert_conflict(
            store
                .update_augmentation(&scope, &spare.augmentation_id, rename, ACTOR, None)
                .await,
            "augmentation_name_taken",
            "Another augmentation of this app is already named 'pipeline'",
        );
        let patch = AugmentationPatch {
            tags: Some(vec!["b".into(), "c".into()]),
            is_template: Some(true),
            ..AugmentationPatch::default()
        };
        let updated = store
            .update_augmentation(&scope, &spare.augmentation_id, patch, ACTOR, None)
            .await
            .expect("update");
        assert_eq!(
            (updated.tags.clone(), updated.is_template),
            (vec!["b".to_owned(), "c".to_owned()], true)
        );
        assert_eq!(updated.name, "spare", "untouched fields stay");

        let mut users = Vec::new();
        for (name, path) in [("one", "/one"), ("two", "/two")] {
            let endpoint = store
                .create_endpoint(
                    &scope,
                    new_endpoint(name, path, &aug.augmentation_id),
                    ACTOR,
                )
                .await
                .expect("endpoint");
            users.push(endpoint.endpoint_id.to_string());
        }
        users.sort();
        let details = assert_conflict(
            store
                .delete_augmentation(&scope, &aug.augmentation_id, ACTOR, None)
                .await,
            "augmentation_in_use",
            "Endpoints still use this augmentation; point them elsewhere or delete them first",
        );
        assert_eq!(details, object(json!({"endpoint_ids": users})));
        store
            .delete_augmentation(&scope, &spare.augmentation_id, ACTOR, None)
            .await
            .expect("an unused augmentation goes");
        assert_not_found(
            store.get_augmentation(&scope, &spare.augmentation_id).await,
            "augmentation",
        );
        assert_not_found(
            store
                .delete_augmentation(&scope, &spare.augmentation_id, ACTOR, None)
                .await,
            "augmentation",
        );
    })
}

pub fn draft_lists_page_in_id_order() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let mut augmentations = Vec::new();
        for index in 0..5 {
            let aug = store
                .create_augmentation(&scope, new_augmentation(&format!("a{index}")), ACTOR)
                .await
                .expect("aug");
            augmentations.push(aug);
        }
        let mut endpoints = Vec::new();
        for index in 0..5 {
            let endpoint = store
                .create_endpoint(
                    &scope,
                    new_endpoint(
                        &format!("e{index}"),
                        &format!("/e{index}"),
                        &augmentations[0].augmentation_id,
                    ),
                    ACTOR,
                )
                .await
                .expect("endpoint");
            endpoints.push(endpoint);
        }
        augmentations.sort_by(|a, b| a.augmentation_id.as_str().cmp(b.augmentation_id.as_str()));
        endpoints.sort_by(|a, b| a.endpoint_id.as_str().cmp(b.endpoint_id.as_str()));

        let mut listed = Vec::new();
        let mut request = first(2);
        loop {
            let page = store
                .list_augmentations(&scope, request.clone())
                .await
                .expect("page");
            assert_eq!(page.total, 5);
            listed.extend(page.items);
            match page.next_after {
                Some(after) => request.after = Some(after),
                None => break,
            }
        }
        assert_eq!(listed, augmentations);
        let page = store.list_endpoints(&scope, first(3)).await.expect("page");
        assert_eq!((page.total, page.items.as_slice()), (5, &endpoints[..3]));
        let rest = store
            .list_endpoints(
                &scope,
                PageRequest {
                    limit: 3,
                    after: page.next_after.clone(),
                },
            )
            .await
            .expect("rest");
        assert_eq!(
            (rest.items.as_slice(), rest.next_after),
            (&endpoints[3..], None)
        );
        let exact = store.list_endpoints(&scope, first(5)).await.expect("exact");
        assert_eq!(exact.next_after, None, "a full last page has no next page");
    })
}

pub fn draft_entity_limits_refuse_the_next_entity() -> Case {
    let limits = Limits {
        max_endpoints_per_app: 2,
        max_augmentations_per_app: 1,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let aug = augmentation_in(store, &scope, "only").await.augmentation_id;
        let details = assert_conflict(
            store
                .create_augmentation(&scope, new_augmentation("second"), ACTOR)
                .await,
            "draft_limit_reached",
            "An app can have at most 1 augmentations",
        );
        assert_eq!(details, object(json!({"limit": 1})));
        for (name, path) in [("one", "/one"), ("two", "/two")] {
            store
                .create_endpoint(&scope, new_endpoint(name, path, &aug), ACTOR)
                .await
                .expect("endpoint");
        }
        assert_conflict(
            store
                .create_endpoint(&scope, new_endpoint("three", "/three", &aug), ACTOR)
                .await,
            "draft_limit_reached",
            "An app can have at most 2 endpoints",
        );
        let listed = store.list_endpoints(&scope, first(10)).await.expect("list");
        assert_eq!(listed.total, 2, "nothing was stored past the limit");
    })
}

pub fn the_draft_byte_limit_refuses_a_write_past_it() -> Case {
    let limits = Limits {
        max_draft_bytes: 900,
        ..Limits::default()
    };
    Case::with_limits(limits, |stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let described = |name: &str, chars: usize| {
            let mut new = new_augmentation(name);
            new.description = Some("x".repeat(chars));
            new
        };
        let big = store
            .create_augmentation(&scope, described("big", 400), ACTOR)
            .await
            .expect("fits");
        let refused = store
            .create_augmentation(&scope, described("bigger", 400), ACTOR)
            .await;
        match &refused {
            Err(StoreError::Conflict {
                reason, details, ..
            }) => {
                assert_eq!(*reason, "draft_limit_reached");
                assert_eq!(details.get("limit_bytes"), Some(&json!(900)));
                let would_be = details["draft_bytes"].as_u64().expect("draft_bytes");
                assert!(would_be > 900, "{would_be}");
            }
            other => panic!("expected draft_limit_reached, got {other:?}"),
        }
        let listed = store
            .list_augmentations(&scope, first(10))
            .await
            .expect("list");
        assert_eq!(listed.total, 1);
        // An update counts the entity's new size in place of its old one.
        let grow = AugmentationPatch {
            description: Some(Some("x".repeat(600))),
            ..AugmentationPatch::default()
        };
        store
            .update_augmentation(&scope, &big.augmentation_id, grow, ACTOR, None)
            .await
            .expect("growing in place within the limit");
        let too_much = AugmentationPatch {
            description: Some(Some("x".repeat(1_000))),
            ..AugmentationPatch::default()
        };
        assert_eq!(
            super::fixtures::reason(
                &store
                    .update_augmentation(&scope, &big.augmentation_id, too_much, ACTOR, None)
                    .await
            ),
            "draft_limit_reached"
        );
        let kept = store
            .get_augmentation(&scope, &big.augmentation_id)
            .await
            .expect("get");
        assert_eq!(kept.description.map(|d| d.len()), Some(600));
    })
}

pub fn draft_has_changes_compares_the_draft_with_the_newest_release() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let scope = app_fixture(store).await;
        let changes = || async { store.get_app(&scope).await.expect("app").draft_has_changes };
        assert!(!changes().await, "an empty draft without releases");
        let aug = augmentation_in(store, &scope, "pipeline").await;
        assert!(changes().await);
        store
            .create_release(scope.clone(), new_release("v1", false), ACTOR.to_owned())
            .await
            .expect("v1");
        assert!(!changes().await, "just released");
        let patch = AugmentationPatch {
            tags: Some(vec!["changed".into()]),
            ..AugmentationPatch::default()
        };
        store
            .update_augmentation(&scope, &aug.augmentation_id, patch, ACTOR, None)
            .await
            .expect("update");
        assert!(changes().await);
        store
            .create_release(scope.clone(), new_release("v2", false), ACTOR.to_owned())
            .await
            .expect("v2");
        assert!(!changes().await);
        store
            .delete_augmentation(&scope, &aug.augmentation_id, ACTOR, None)
            .await
            .expect("delete");
        assert!(
            changes().await,
            "an emptied draft differs from a release with content"
        );
        let app = store.get_app(&scope).await.expect("app");
        assert_eq!(app.total_releases, 2);
        assert!(app.last_release_at.is_some());
    })
}
