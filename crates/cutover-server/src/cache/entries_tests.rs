//! The fencing rules of the read cache, step by step.

use super::*;
use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::{OrgId, WorkspaceId};

fn scope() -> AppScope {
    AppScope {
        org_id: OrgId::generate(),
        workspace_id: WorkspaceId::generate(),
        app_id: AppId::generate(),
    }
}

fn release(bytes: usize) -> Arc<RenderedRelease> {
    let release_id = ReleaseId::generate();
    Arc::new(RenderedRelease {
        // Its own content: no two of these releases share one.
        content_hash: release_id.as_str().to_owned(),
        release_id,
        head: Bytes::new(),
        content: Bytes::from(vec![b' '; bytes]),
        tail: Bytes::new(),
        etag: HeaderValue::from_static("\"tag\""),
    })
}

fn kept_id(cache: &ReadCache, scope: &AppScope) -> Option<Option<ReleaseId>> {
    cache
        .active(scope)
        .map(|active| active.map(|release| release.release_id.clone()))
}

#[test]
fn a_read_with_a_ticket_from_before_any_write_is_kept() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let ticket = cache.app_ticket(&scope.app_id).expect("no write in flight");
    let one = release(100);
    cache.keep_active(ticket, &scope, Some(one.clone()));
    assert_eq!(kept_id(&cache, &scope), Some(Some(one.release_id.clone())));
}

#[test]
fn a_read_that_overlapped_a_write_is_not_kept() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    // The write begins and ends while the read is at the database.
    drop(cache.begin_app_write(&scope.app_id));
    cache.keep_active(ticket, &scope, Some(release(100)));
    assert_eq!(kept_id(&cache, &scope), None);
}

#[test]
fn no_ticket_while_a_write_is_in_flight_and_what_was_kept_is_gone() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_active(ticket, &scope, None);
    assert_eq!(kept_id(&cache, &scope), Some(None));
    let write = cache.begin_app_write(&scope.app_id);
    assert_eq!(kept_id(&cache, &scope), None, "a write drops what was kept");
    assert!(cache.app_ticket(&scope.app_id).is_none());
    let second = cache.begin_app_write(&scope.app_id);
    drop(write);
    assert!(
        cache.app_ticket(&scope.app_id).is_none(),
        "still one write in flight"
    );
    drop(second);
    let fresh = cache.app_ticket(&scope.app_id).expect("all writes done");
    assert_ne!(fresh, ticket, "a new generation after the writes");
}

#[test]
fn writes_of_one_app_leave_another_app_alone() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let (one, two) = (scope(), scope());
    let ticket = cache.app_ticket(&two.app_id).unwrap();
    cache.keep_active(ticket, &two, None);
    let _write = cache.begin_app_write(&one.app_id);
    assert_eq!(kept_id(&cache, &two), Some(None));
    assert!(cache.app_ticket(&two.app_id).is_some());
}

#[test]
fn a_kept_app_is_not_found_through_other_parents() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let kept = release(10);
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_release(ticket, &scope, kept.clone());
    let elsewhere = AppScope {
        org_id: OrgId::generate(),
        ..scope.clone()
    };
    assert!(cache.release(&elsewhere, &kept.release_id).is_none());
    assert!(cache.active(&elsewhere).is_none());
    assert!(cache.release(&scope, &kept.release_id).is_some());
    // Nor is anything kept under the wrong parents.
    cache.keep_release(ticket, &elsewhere, release(10));
    assert!(cache.active(&elsewhere).is_none());
}

#[test]
fn tokens_are_forgotten_by_a_revocation_and_a_stale_ticket_keeps_nothing() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let token: Token = serde_json::from_value(serde_json::json!({
        "token_id": cutover_domain::TokenId::generate(),
        "name": "ci",
        "prefix": "cut_abcd",
        "permissions": ["releases:read"],
        "workspace_ids": null,
        "expires_at": null,
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "test",
    }))
    .unwrap();
    let ticket = cache.token_ticket().unwrap();
    cache.keep_token(ticket, "digest", token.clone());
    assert!(cache.token("digest").is_some());
    let revoking = cache.begin_token_write();
    assert!(cache.token("digest").is_none());
    assert!(cache.token_ticket().is_none());
    drop(revoking);
    cache.keep_token(ticket, "digest", token);
    assert!(cache.token("digest").is_none(), "the old ticket is spent");
    assert_eq!(cache.bytes(), 0);
}

#[test]
fn over_budget_bodies_are_dropped_and_the_count_stays_exact() {
    let cache = Arc::new(ReadCache::new(10_000));
    let scopes: Vec<AppScope> = (0..8).map(|_| scope()).collect();
    for scope in &scopes {
        let ticket = cache.app_ticket(&scope.app_id).unwrap();
        cache.keep_active(ticket, scope, Some(release(2_000)));
    }
    assert!(cache.bytes() <= 10_000, "{} bytes kept", cache.bytes());
    let kept = scopes
        .iter()
        .filter(|scope| cache.active(scope).is_some())
        .count();
    assert!((1..8).contains(&kept), "{kept} bodies kept");
    let per_app = 2_000 + 256;
    assert_eq!(cache.bytes(), kept * per_app);
    for scope in &scopes {
        drop(cache.begin_app_write(&scope.app_id));
    }
    assert_eq!(cache.bytes(), 0);
}

#[test]
fn the_active_release_kept_by_id_too_is_counted_once() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let active = release(1000);
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_active(ticket, &scope, Some(active.clone()));
    cache.keep_release(ticket, &scope, active.clone());
    assert_eq!(cache.bytes(), weight(&active));
    // In the other order too, and replacing the active release frees only what
    // nothing else holds.
    let other = scope_with_release(&cache, &active);
    assert_eq!(cache.bytes(), 2 * weight(&active));
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_active(ticket, &scope, None);
    assert_eq!(cache.bytes(), 2 * weight(&active), "still kept by id");
    drop(cache.begin_app_write(&other.app_id));
    drop(cache.begin_app_write(&scope.app_id));
    assert_eq!(cache.bytes(), 0);
}

/// What keeping `release` alone costs.
fn weight(release: &RenderedRelease) -> usize {
    release.weight_without_content() + release.content.len()
}

#[test]
fn releases_with_the_same_content_count_it_once() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let first = release(1000);
    let second = Arc::new(RenderedRelease {
        release_id: ReleaseId::generate(),
        content_hash: first.content_hash.clone(),
        head: Bytes::from_static(b"{"),
        content: first.content.clone(),
        tail: Bytes::from_static(b"}"),
        etag: HeaderValue::from_static("\"other\""),
    });
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_active(ticket, &scope, Some(first.clone()));
    cache.keep_release(ticket, &scope, second.clone());
    assert_eq!(
        cache.bytes(),
        weight(&first) + second.weight_without_content()
    );
    let shared = cache.content(&scope, &first.content_hash).expect("kept");
    assert_eq!(shared.as_ptr(), first.content.as_ptr());
    assert_eq!(cache.content(&scope, "another hash"), None);
    // A write to the app forgets the content with the releases.
    drop(cache.begin_app_write(&scope.app_id));
    assert_eq!(cache.bytes(), 0);
    assert_eq!(cache.content(&scope, &first.content_hash), None);
}

/// Keeps `release` by id and then as active for a fresh app; answers the app.
fn scope_with_release(cache: &Arc<ReadCache>, release: &Arc<RenderedRelease>) -> AppScope {
    let scope = scope();
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    cache.keep_release(ticket, &scope, release.clone());
    cache.keep_active(ticket, &scope, Some(release.clone()));
    scope
}

#[test]
fn trimming_drops_bodies_but_keeps_the_active_tag_until_a_write() {
    let cache = Arc::new(ReadCache::new(2500));
    let apps: Vec<AppScope> = (0..4).map(|_| scope()).collect();
    for scope in &apps {
        let ticket = cache.app_ticket(&scope.app_id).unwrap();
        cache.keep_active(ticket, scope, Some(release(1000)));
    }
    assert!(cache.bytes() <= 2500);
    let bodies = apps.iter().filter(|s| kept_id(&cache, s).is_some()).count();
    assert!(bodies < 4, "some bodies were dropped");
    for scope in &apps {
        assert_eq!(
            cache.active_tag(scope),
            Some(Some(HeaderValue::from_static("\"tag\""))),
            "every tag stays"
        );
    }
    let write = cache.begin_app_write(&apps[0].app_id);
    assert_eq!(cache.active_tag(&apps[0]), None, "a write drops the tag");
    drop(write);
    assert_eq!(cache.active_tag(&apps[0]), None);
}

#[test]
fn what_an_environment_has_is_kept_by_reference_and_fenced_by_environment_writes() {
    let cache = Arc::new(ReadCache::new(1 << 20));
    let scope = scope();
    let staging = EnvironmentRef::Slug("staging".into());
    let qa = EnvironmentRef::Slug("qa".into());
    let ticket = cache.app_ticket(&scope.app_id).unwrap();
    let one = release(100);
    cache.keep_release(ticket, &scope, one.clone());
    cache.keep_deployed(ticket, &scope, &staging, Some(one.release_id.clone()));
    cache.keep_deployed(ticket, &scope, &qa, None);
    let kept = cache.deployed(&scope, &staging).expect("kept");
    assert!(Arc::ptr_eq(&kept.expect("a release"), &one));
    assert_eq!(cache.deployed(&scope, &qa).map(|r| r.is_none()), Some(true));
    assert!(
        cache
            .deployed(&scope, &EnvironmentRef::Slug("dev".into()))
            .is_none()
    );

    // A read that overlapped an environment write (of any workspace) keeps nothing,
    // and the write forgets every app's entries.
    let stale = cache.app_ticket(&scope.app_id).unwrap();
    let fence = cache.begin_environment_write();
    assert!(cache.deployed(&scope, &staging).is_none(), "forgotten");
    assert!(
        cache.app_ticket(&scope.app_id).is_none(),
        "no ticket while it runs"
    );
    drop(fence);
    cache.keep_deployed(stale, &scope, &staging, Some(one.release_id.clone()));
    assert!(
        cache.deployed(&scope, &staging).is_none(),
        "not kept across the write"
    );
    assert_eq!(cache.bytes(), 0);
}
