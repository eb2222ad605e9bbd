//! Tokens and server secrets: storing, finding by secret digest, listing (with the
//! workspace filter), revoking, the first token and the bootstrap secret.

use cutover_domain::token::{BOOTSTRAP_ACTOR, BOOTSTRAP_TOKEN_NAME};
use cutover_domain::{OrgId, TokenId, WorkspaceId};

use super::fixtures::{assert_conflict, assert_not_found, first, token, workspace_fixture};
use super::{Case, Stores};
use crate::{BootstrapState, PageRequest, TokenToStore};

pub fn server_secrets_are_made_once_and_kept() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let cursor = store.server_secret("cursor").await.expect("secret");
        assert_eq!(cursor.len(), 32);
        assert_eq!(store.server_secret("cursor").await.expect("again"), cursor);
        let other = store.server_secret("other").await.expect("other");
        assert_ne!(other, cursor, "each name has its own secret");
        for index in 1..4 {
            let peer = stores.for_caller(index);
            assert_eq!(peer.server_secret("cursor").await.expect("peer"), cursor);
        }
    })
}

fn limited_to(mut token: TokenToStore, workspaces: &[&WorkspaceId]) -> TokenToStore {
    token.spec.workspace_ids = Some(workspaces.iter().map(|id| (*id).clone()).collect());
    token
}

pub fn tokens_are_stored_found_listed_and_revoked() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let acme = workspace_fixture(store, "acme").await;
        let other = store
            .create_workspace(
                &acme.org_id,
                cutover_domain::draft::NewWorkspace {
                    name: "staging".into(),
                    description: None,
                },
                "tester",
            )
            .await
            .expect("workspace")
            .workspace_id;
        assert_eq!(store.count_tokens().await.expect("count"), 0);

        let wide = token(Some(&acme.org_id), "wide", "digest-wide");
        let stored = store.create_token(wide.clone()).await.expect("wide");
        assert_eq!(stored.token_id, wide.token_id);
        assert_eq!(stored.org_id.as_ref(), Some(&acme.org_id));
        assert_eq!(
            (stored.name.as_str(), stored.prefix.as_str()),
            ("wide", "cut_abcd")
        );
        assert_eq!(stored.permissions, ["releases:*"]);
        assert_eq!(
            (stored.workspace_ids.clone(), stored.revoked_at),
            (None, None)
        );
        let duplicate = TokenToStore {
            token_id: TokenId::generate(),
            ..wide.clone()
        };
        assert_conflict(
            store.create_token(duplicate).await,
            "token_exists",
            "A token with this secret already exists",
        );
        let prod_only = limited_to(
            token(Some(&acme.org_id), "prod", "digest-prod"),
            &[&acme.workspace_id],
        );
        let both = limited_to(
            token(Some(&acme.org_id), "both", "digest-both"),
            &[&acme.workspace_id, &other],
        );
        store.create_token(prod_only.clone()).await.expect("prod");
        store.create_token(both.clone()).await.expect("both");
        store
            .create_token(token(None, "platform", "digest-platform"))
            .await
            .expect("platform");
        assert_eq!(store.count_tokens().await.expect("count"), 4);

        let found = store
            .find_token("digest-prod")
            .await
            .expect("find")
            .expect("found");
        assert_eq!(found.workspace_ids, Some(vec![acme.workspace_id.clone()]));
        assert_eq!(store.find_token("nothing").await.expect("find"), None);
        let got = store
            .get_token(Some(&acme.org_id), &both.token_id)
            .await
            .expect("get");
        assert_eq!(got.name, "both");
        assert_not_found(store.get_token(None, &both.token_id).await, "token");

        let org = store
            .list_tokens(Some(&acme.org_id), None, first(2))
            .await
            .expect("org tokens");
        assert_eq!((org.total, org.items.len()), (3, 2));
        let rest = store
            .list_tokens(
                Some(&acme.org_id),
                None,
                PageRequest {
                    limit: 2,
                    after: org.next_after.clone(),
                },
            )
            .await
            .expect("rest");
        assert_eq!((rest.items.len(), rest.next_after.clone()), (1, None));
        let platform = store
            .list_tokens(None, None, first(10))
            .await
            .expect("platform");
        assert_eq!(platform.total, 1);
        // Within a set of workspaces: only tokens limited to a subset of it.
        let within_prod = store
            .list_tokens(
                Some(&acme.org_id),
                Some(std::slice::from_ref(&acme.workspace_id)),
                first(10),
            )
            .await
            .expect("within prod");
        let names: Vec<&str> = within_prod.items.iter().map(|t| t.name.as_str()).collect();
        assert_eq!((names, within_prod.total), (vec!["prod"], 1));
        let within_both = store
            .list_tokens(
                Some(&acme.org_id),
                Some(&[acme.workspace_id.clone(), other.clone()]),
                first(10),
            )
            .await
            .expect("within both");
        assert_eq!(within_both.total, 2);
        assert_not_found(
            store
                .list_tokens(Some(&OrgId::generate()), None, first(10))
                .await,
            "org",
        );

        store
            .revoke_token(Some(acme.org_id.clone()), prod_only.token_id.clone())
            .await
            .expect("revoke");
        assert_not_found(
            store
                .get_token(Some(&acme.org_id), &prod_only.token_id)
                .await,
            "token",
        );
        assert_not_found(
            store
                .revoke_token(Some(acme.org_id.clone()), prod_only.token_id.clone())
                .await,
            "token",
        );
        assert_not_found(
            store.revoke_token(None, both.token_id.clone()).await,
            "token",
        );
        let revoked = store
            .find_token("digest-prod")
            .await
            .expect("find")
            .expect("a revoked token is still found by its secret");
        assert!(revoked.revoked_at.is_some());
        let listed = store
            .list_tokens(Some(&acme.org_id), None, first(10))
            .await
            .expect("listed");
        assert_eq!(listed.total, 2, "revoked tokens are not listed");
    })
}

pub fn the_first_token_is_made_only_on_an_empty_store() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let made = store
            .create_first_token(token(None, "admin", "first"))
            .await
            .expect("first");
        assert_eq!(made.map(|t| t.name), Some("admin".to_owned()));
        let again = store
            .create_first_token(token(None, "admin-2", "second"))
            .await
            .expect("again");
        assert_eq!(again, None);
        assert_eq!(store.count_tokens().await.expect("count"), 1);
        assert_eq!(store.find_token("second").await.expect("find"), None);
    })
}

fn bootstrap(digest: &str) -> TokenToStore {
    TokenToStore {
        created_by: BOOTSTRAP_ACTOR.into(),
        ..token(None, BOOTSTRAP_TOKEN_NAME, digest)
    }
}

pub fn a_bootstrap_secret_leaves_exactly_one_bootstrap_token() -> Case {
    Case::new(|stores: Stores| async move {
        let store = stores.first();
        let registered = store
            .register_bootstrap_token(bootstrap("boot-1"))
            .await
            .expect("register");
        assert_eq!(
            (registered.state, registered.retired),
            (BootstrapState::Registered, 0)
        );
        let known = store
            .register_bootstrap_token(bootstrap("boot-1"))
            .await
            .expect("again");
        assert_eq!(
            (known.state, known.retired),
            (BootstrapState::AlreadyKnown, 0)
        );
        // Another (non-bootstrap) platform token is left alone by a new secret.
        store
            .create_token(token(None, "ops", "ops"))
            .await
            .expect("ops");
        let rotated = store
            .register_bootstrap_token(bootstrap("boot-2"))
            .await
            .expect("rotate");
        assert_eq!(
            (rotated.state, rotated.retired),
            (BootstrapState::Registered, 1)
        );
        let old = store
            .find_token("boot-1")
            .await
            .expect("find")
            .expect("old");
        assert!(
            old.revoked_at.is_some(),
            "the old bootstrap token is revoked"
        );
        let ops = store.find_token("ops").await.expect("find").expect("ops");
        assert_eq!(ops.revoked_at, None);
        let platform = store
            .list_tokens(None, None, first(10))
            .await
            .expect("list");
        assert_eq!(platform.total, 2);

        let returned = store
            .register_bootstrap_token(bootstrap("boot-1"))
            .await
            .expect("a revoked secret");
        assert_eq!(
            (returned.state, returned.retired),
            (BootstrapState::Revoked, 0),
            "a revoked secret stays revoked and changes nothing"
        );
        let live = store
            .find_token("boot-2")
            .await
            .expect("find")
            .expect("new");
        assert_eq!(live.revoked_at, None);
    })
}
