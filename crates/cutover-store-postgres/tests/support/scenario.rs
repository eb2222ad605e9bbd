//! One walk through every store operation, with the rules' refusals, that records
//! what it saw with ids and times left out, so two backends' transcripts can be
//! compared line by line. It also asserts what it knows must hold.

use cutover_domain::draft::{AppPatch, EndpointPatch, NewOrg, NewWorkspace};
use cutover_domain::model::{ActivationAction, ReleaseStatus};
use cutover_domain::token::NewToken;
use cutover_domain::{AppId, TokenId};
use cutover_store::{
    AppScope, PageRequest, ReleaseQuery, Store, StoreError, TokenToStore, WorkspaceScope,
};
use sqlx::{Connection, PgConnection};

use super::{app_fixture, new_app, new_augmentation, new_endpoint, new_release};

/// Replaces every generated id (`rel_` + 26 base32 characters, …) by `<id>`.
fn without_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in ["org_", "ws_", "app_", "ep_", "aug_", "rel_", "tok_"] {
            if let Some(tail) = rest.strip_prefix(prefix) {
                let body: String = tail.chars().take(26).collect();
                if body.len() == 26 && body.chars().all(|c| c.is_ascii_alphanumeric()) {
                    out.push_str("<id>");
                    rest = &tail[26..];
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        out.extend(chars.next());
        rest = chars.as_str();
    }
    out
}

fn outcome<T>(result: &Result<T, StoreError>, ok: impl FnOnce(&T) -> String) -> String {
    let text = match result {
        Ok(value) => format!("ok {}", ok(value)),
        Err(StoreError::NotFound { resource_type, .. }) => format!("not_found {resource_type}"),
        Err(StoreError::Conflict {
            reason,
            message,
            details,
        }) => format!(
            "conflict {reason}: {message} {}",
            serde_json::Value::Object(details.clone())
        ),
        Err(StoreError::InvalidReference { field, message, .. }) => {
            format!("invalid {field}: {message}")
        }
        Err(other) => format!("unexpected {other:?}"),
    };
    without_ids(&text)
}

fn page() -> PageRequest {
    PageRequest {
        limit: 50,
        after: None,
    }
}

pub async fn run(store: &dyn Store, postgres_url: Option<&str>) -> Vec<String> {
    let mut log = Vec::new();
    let secret = store.server_secret("cursor").await.expect("secret");
    assert_eq!(secret.len(), 32);
    assert_eq!(store.server_secret("cursor").await.expect("secret"), secret);

    let scope = app_fixture(store).await;
    let ws = WorkspaceScope {
        org_id: scope.org_id.clone(),
        workspace_id: scope.workspace_id.clone(),
    };
    let org = store.get_org(&scope.org_id).await.expect("org");
    let again = NewOrg {
        name: "Other".into(),
        slug: org.slug.clone(),
    };
    log.push(outcome(&store.create_org(again, "t").await, |o| {
        o.name.clone()
    }));
    let dup_ws = NewWorkspace {
        name: "prod".into(),
        description: None,
    };
    log.push(outcome(
        &store.create_workspace(&scope.org_id, dup_ws, "t").await,
        |w| w.name.clone(),
    ));
    log.push(outcome(
        &store.create_app(&ws, new_app("shop"), "t").await,
        |a| a.name.clone(),
    ));
    let listed = store
        .list_workspaces(
            &scope.org_id,
            Some(std::slice::from_ref(&scope.workspace_id)),
            page(),
        )
        .await;
    log.push(outcome(&listed, |p| {
        format!("{} {}", p.total, p.items.len())
    }));

    // Tokens.
    log.push(outcome(&store.count_tokens().await, u64::to_string));
    let token = TokenToStore {
        token_id: TokenId::generate(),
        org_id: Some(scope.org_id.clone()),
        spec: NewToken {
            name: "ci".into(),
            permissions: vec!["releases:*".into()],
            workspace_ids: Some(vec![scope.workspace_id.clone()]),
            expires_at: None,
        },
        prefix: "cut_abcd".into(),
        secret_digest: "digest-1".into(),
        created_by: "t".into(),
    };
    log.push(outcome(&store.create_token(token.clone()).await, |t| {
        format!("{:?}", t.permissions)
    }));
    log.push(outcome(
        &store
            .create_token(TokenToStore {
                token_id: TokenId::generate(),
                ..token.clone()
            })
            .await,
        |_| String::new(),
    ));
    let found = store
        .find_token("digest-1")
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.workspace_ids, Some(vec![scope.workspace_id.clone()]));
    log.push(outcome(
        &store.list_tokens(Some(&scope.org_id), None, page()).await,
        |p| p.total.to_string(),
    ));
    log.push(outcome(
        &store
            .revoke_token(Some(&scope.org_id), &token.token_id)
            .await,
        |_| String::new(),
    ));
    log.push(outcome(
        &store.get_token(Some(&scope.org_id), &token.token_id).await,
        |t| t.name.clone(),
    ));
    log.push(outcome(
        &store
            .revoke_token(Some(&scope.org_id), &token.token_id)
            .await,
        |_| String::new(),
    ));

    // The draft.
    let aug = store
        .create_augmentation(&scope, new_augmentation("pipeline"), "t")
        .await
        .expect("aug");
    log.push(outcome(
        &store
            .create_augmentation(&scope, new_augmentation("pipeline"), "t")
            .await,
        |a| a.name.clone(),
    ));
    let first = store
        .create_endpoint(
            &scope,
            new_endpoint("list", "/items", &aug.augmentation_id),
            "t",
        )
        .await;
    log.push(outcome(&first, |e| e.path.clone()));
    log.push(outcome(
        &store
            .create_endpoint(
                &scope,
                new_endpoint("other", "/items", &aug.augmentation_id),
                "t",
            )
            .await,
        |e| e.path.clone(),
    ));
    log.push(outcome(
        &store
            .create_endpoint(
                &scope,
                new_endpoint("list", "/x", &aug.augmentation_id),
                "t",
            )
            .await,
        |e| e.path.clone(),
    ));
    let stranger = cutover_domain::AugmentationId::generate();
    log.push(outcome(
        &store
            .create_endpoint(&scope, new_endpoint("x", "/y", &stranger), "t")
            .await,
        |e| e.path.clone(),
    ));
    let second = store
        .create_endpoint(
            &scope,
            new_endpoint("second", "/second", &aug.augmentation_id),
            "t",
        )
        .await
        .expect("second");
    let rename = EndpointPatch {
        path: Some("/items".into()),
        ..Default::default()
    };
    log.push(outcome(
        &store
            .update_endpoint(&scope, &second.endpoint_id, rename, "t")
            .await,
        |e| e.path.clone(),
    ));
    log.push(outcome(
        &store
            .delete_augmentation(&scope, &aug.augmentation_id)
            .await,
        |_| String::new(),
    ));
    log.push(outcome(&store.get_app(&scope).await, |a| {
        format!(
            "changes={} releases={}",
            a.draft_has_changes, a.total_releases
        )
    }));

    // Releases.
    let v1 = store
        .create_release(&scope, new_release("v1", false), "t")
        .await
        .expect("v1");
    log.push(format!(
        "v1 #{} {:?} {:?}",
        v1.summary.release_number, v1.summary.status, v1.change_log
    ));
    log.push(outcome(&store.get_app(&scope).await, |a| {
        format!("changes={}", a.draft_has_changes)
    }));
    log.push(outcome(
        &store
            .create_release(&scope, new_release("v1", false), "t")
            .await,
        |_| String::new(),
    ));
    log.push(outcome(
        &store
            .activate_release(
                &scope,
                &v1.summary.release_id,
                ActivationAction::Rollback,
                "t",
            )
            .await,
        |o| format!("{:?}", o.release.status),
    ));
    store
        .delete_endpoint(&scope, &second.endpoint_id)
        .await
        .expect("delete endpoint");
    log.push(outcome(&store.get_app(&scope).await, |a| {
        format!("changes={}", a.draft_has_changes)
    }));
    let v2 = store
        .create_release(&scope, new_release("v2", true), "t")
        .await
        .expect("v2");
    log.push(format!(
        "v2 #{} {:?} {:?}",
        v2.summary.release_number, v2.summary.status, v2.change_log
    ));
    assert_eq!(
        v2.previous_release_id.as_ref(),
        Some(&v1.summary.release_id)
    );
    let id = |d: &cutover_store::ReleaseDocument| d.summary.release_id.clone();
    let (v1, v2) = (id(&v1), id(&v2));
    let show = |o: &cutover_store::ActivationOutcome| {
        format!(
            "{:?} changed={} replaced={}",
            o.release.status,
            o.changed,
            o.previous_active_release_id.is_some()
        )
    };
    log.push(outcome(
        &store
            .activate_release(&scope, &v1, ActivationAction::Rollback, "t")
            .await,
        show,
    ));
    log.push(outcome(
        &store
            .activate_release(&scope, &v2, ActivationAction::Activate, "t")
            .await,
        show,
    ));
    log.push(outcome(
        &store
            .activate_release(&scope, &v2, ActivationAction::Rollback, "t")
            .await,
        show,
    ));
    log.push(outcome(&store.archive_release(&scope, &v2).await, |s| {
        format!("{:?}", s.status)
    }));
    log.push(outcome(&store.delete_release(&scope, &v2).await, |_| {
        String::new()
    }));
    log.push(outcome(&store.delete_app(&scope).await, |_| String::new()));
    let v3 = id(&store
        .create_release(&scope, new_release("v3", false), "t")
        .await
        .expect("v3"));
    log.push(outcome(
        &store
            .activate_release(&scope, &v3, ActivationAction::Activate, "t")
            .await,
        show,
    ));
    log.push(outcome(
        &store
            .activate_release(&scope, &v1, ActivationAction::Rollback, "t")
            .await,
        show,
    ));
    let v4 = id(&store
        .create_release(&scope, new_release("v4", false), "t")
        .await
        .expect("v4"));
    log.push(outcome(
        &store
            .activate_release(&scope, &v4, ActivationAction::Rollback, "t")
            .await,
        show,
    ));
    log.push(outcome(
        &store
            .activate_release(&scope, &v2, ActivationAction::Rollback, "t")
            .await,
        show,
    ));
    log.push(outcome(&store.archive_release(&scope, &v4).await, |s| {
        format!("{:?}", s.status)
    }));
    log.push(outcome(&store.archive_release(&scope, &v4).await, |s| {
        format!("{:?}", s.status)
    }));
    log.push(outcome(&store.delete_release(&scope, &v4).await, |_| {
        String::new()
    }));
    log.push(outcome(&store.get_release(&scope, &v4).await, |_| {
        String::new()
    }));
    let v5 = store
        .create_release(&scope, new_release("v5", false), "t")
        .await
        .expect("v5");
    assert_eq!(v5.summary.release_number, 5, "numbers are never reused");
    log.push(format!(
        "v5 #{} prev_is_v3={}",
        v5.summary.release_number,
        v5.previous_release_id == Some(v3.clone())
    ));

    for include_archived in [false, true] {
        let mut before_number = None;
        loop {
            let query = ReleaseQuery {
                limit: 2,
                before_number,
                include_archived,
            };
            let listed = store.list_releases(&scope, query).await.expect("list");
            let tags: Vec<String> = listed
                .releases
                .iter()
                .map(|r| format!("{}:{}", r.release_tag, r.status.as_str()))
                .collect();
            log.push(format!(
                "page {tags:?} total={} active={}",
                listed.total,
                listed.active_release_id.is_some()
            ));
            match listed.next_before_number {
                Some(next) => before_number = Some(next),
                None => break,
            }
        }
    }
    let active = store
        .get_active_release(&scope)
        .await
        .expect("active")
        .expect("some");
    assert_eq!(active.summary.release_id, v2);
    assert_eq!(active.summary.status, ReleaseStatus::Active);
    let history = store
        .list_activations(
            &scope,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .expect("history");
    let rest = store
        .list_activations(
            &scope,
            PageRequest {
                limit: 50,
                after: history.next_after.clone(),
            },
        )
        .await
        .expect("history");
    let entries: Vec<String> = history
        .items
        .iter()
        .chain(&rest.items)
        .map(|e| {
            format!(
                "{} replaced={}",
                e.action.as_str(),
                e.replaced_release_id.is_some()
            )
        })
        .collect();
    log.push(format!("history {entries:?} total={}", history.total));

    // Not found through the wrong parents; app updates and deletes.
    let elsewhere = AppScope {
        app_id: AppId::generate(),
        ..scope.clone()
    };
    log.push(outcome(&store.get_app(&elsewhere).await, |a| {
        a.name.clone()
    }));
    log.push(outcome(
        &store
            .list_releases(
                &elsewhere,
                ReleaseQuery {
                    limit: 5,
                    before_number: None,
                    include_archived: false,
                },
            )
            .await,
        |_| String::new(),
    ));
    let other = store
        .create_app(&ws, new_app("other"), "t")
        .await
        .expect("other");
    let patch = AppPatch {
        name: Some("other".into()),
        ..Default::default()
    };
    log.push(outcome(&store.update_app(&scope, patch).await, |a| {
        a.name.clone()
    }));
    let patch = AppPatch {
        description: Some(None),
        ..Default::default()
    };
    log.push(outcome(&store.update_app(&scope, patch).await, |a| {
        format!("{:?} {:?}", a.description, a.parameters)
    }));
    let other = AppScope {
        app_id: other.app_id,
        ..scope.clone()
    };
    store
        .create_release(&other, new_release("o1", false), "t")
        .await
        .expect("o1");
    log.push(outcome(&store.delete_app(&other).await, |_| String::new()));
    log.push(outcome(&store.get_app(&other).await, |_| String::new()));
    log.push(outcome(&store.list_apps(&ws, page()).await, |p| {
        p.total.to_string()
    }));

    if let Some(url) = postgres_url {
        immutable_by_schema(url, &v2).await;
    }
    log
}

/// The schema itself refuses changes to release content and to the history.
async fn immutable_by_schema(url: &str, release: &cutover_domain::ReleaseId) {
    let mut connection = PgConnection::connect(url).await.expect("connect");
    for sql in [
        "UPDATE releases SET release_tag = 'changed' WHERE release_id = $1",
        "UPDATE releases SET snapshot = '{}' WHERE release_id = $1",
        "UPDATE activations SET actor = 'mallory' WHERE release_id = $1",
    ] {
        let refused = sqlx::query(sql)
            .bind(release.as_str())
            .execute(&mut connection)
            .await;
        assert!(refused.is_err(), "{sql} must be refused");
    }
    sqlx::query("UPDATE releases SET description = description WHERE false")
        .execute(&mut connection)
        .await
        .expect("an update touching no row is fine");
}
