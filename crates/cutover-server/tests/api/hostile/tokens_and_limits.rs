//! Findings 7 and 8: tokens that outlive their minter, platform tokens nobody could
//! revoke, a rotated bootstrap secret that stayed valid, a workspace-limited manager
//! that saw every token; failed authentication never throttled, no per-token limit
//! by default, unbounded counts per parent. Each replay asserts the refusal, its
//! size, and that nothing stored changed.

use std::sync::Arc;

use cutover_domain::limits::Limits;
use cutover_domain::token::digest_secret;
use cutover_server::{Application, ServeConfig, open_store};
use cutover_store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN_TOKEN, Backend, Reply, TestApp, insert_platform_token_with_secret};

/// No refusal here may answer more than this many bytes.
const SMALL_ANSWER: usize = 1024;

fn size(reply: &Reply) -> usize {
    reply.body.to_string().len()
}

fn token_names(reply: &Reply) -> Vec<String> {
    let mut names: Vec<String> = reply.body["tokens"]
        .as_array()
        .expect("a token list")
        .iter()
        .map(|token| token["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

async fn a_minted_token_cannot_outlive_its_minter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("expiring").await;
    let tokens = format!("/v1/orgs/{org}/tokens");
    let parent_expiry = "2099-01-01T00:00:00.000000Z";
    let parent = app
        .mint(
            &org,
            json!({"name": "parent", "role": "admin", "expires_at": parent_expiry}),
        )
        .await;
    let before = app.get(&tokens).await.expect(200).body["total"].clone();
    for body in [
        json!({"name": "forever", "role": "viewer", "expires_at": null}),
        json!({"name": "later", "role": "viewer", "expires_at": "2100-01-01T00:00:00Z"}),
    ] {
        let refused = app
            .send(Method::POST, &tokens, Some(&parent), Some(body))
            .await
            .expect(403);
        assert_eq!(refused.body["error"], "FORBIDDEN");
        assert_eq!(
            refused.body["details"]["required_permission"],
            "tokens:manage"
        );
        assert_eq!(refused.body["details"]["max_expires_at"], parent_expiry);
        assert!(size(&refused) < SMALL_ANSWER);
    }
    assert_eq!(
        app.get(&tokens).await.body["total"],
        before,
        "nothing stored"
    );

    let inherited = app
        .send(
            Method::POST,
            &tokens,
            Some(&parent),
            Some(json!({"name": "inherits", "role": "viewer"})),
        )
        .await
        .expect(201);
    assert_eq!(inherited.body["expires_at"], parent_expiry);
    let sooner = app
        .send(
            Method::POST,
            &tokens,
            Some(&parent),
            Some(json!({"name": "sooner", "role": "viewer",
                        "expires_at": "2030-01-01T00:00:00Z"})),
        )
        .await
        .expect(201);
    assert_eq!(sooner.body["expires_at"], "2030-01-01T00:00:00.000000Z");
    // An unlimited caller still mints tokens that never expire.
    let forever = app
        .post(
            &tokens,
            json!({"name": "forever", "role": "viewer", "expires_at": null}),
        )
        .await
        .expect(201);
    assert_eq!(forever.body["expires_at"], Value::Null);
}

async fn platform_admins_list_and_revoke_platform_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("tenant").await;
    let org_admin = app
        .mint(&org, json!({"name": "org admin", "role": "admin"}))
        .await;
    let (spare_id, spare) = insert_platform_token_with_secret(&app, "spare").await;
    // Used once, so a server that keeps tokens in memory has it kept.
    app.send(Method::GET, "/v1/orgs", Some(&spare), None)
        .await
        .expect(200);

    let listed = app.get("/v1/tokens").await.expect(200);
    assert_eq!(token_names(&listed), ["bootstrap", "spare"]);
    assert_eq!(listed.body["total"], 2);
    let refused = app
        .send(Method::GET, "/v1/tokens", Some(&org_admin), None)
        .await
        .expect(403);
    assert_eq!(refused.body["details"]["token_scope"], "platform");
    let org_token_id =
        app.get(&format!("/v1/orgs/{org}/tokens")).await.body["tokens"][0]["token_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let wrong_owner = app
        .delete(&format!("/v1/tokens/{org_token_id}"))
        .await
        .expect(404);
    assert_eq!(wrong_owner.body["details"]["resource_type"], "token");
    let not_allowed = app
        .send(
            Method::DELETE,
            &format!("/v1/tokens/{spare_id}"),
            Some(&org_admin),
            None,
        )
        .await
        .expect(403);
    assert!(size(&not_allowed) < SMALL_ANSWER);
    assert_eq!(
        token_names(&app.get("/v1/tokens").await),
        ["bootstrap", "spare"]
    );

    app.delete(&format!("/v1/tokens/{spare_id}"))
        .await
        .expect(200);
    // Dropped from memory at once: the very next request is refused.
    app.send(Method::GET, "/v1/orgs", Some(&spare), None)
        .await
        .expect(401);
    assert_eq!(token_names(&app.get("/v1/tokens").await), ["bootstrap"]);
    app.delete(&format!("/v1/tokens/{spare_id}"))
        .await
        .expect(404);
    // The org's own tokens are untouched.
    app.send(
        Method::GET,
        &format!("/v1/orgs/{org}"),
        Some(&org_admin),
        None,
    )
    .await
    .expect(200);
}

async fn a_workspace_limited_manager_sees_and_revokes_only_tokens_within(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.create_org("split").await;
    let (a, b) = (
        app.create_workspace(&org, "a").await,
        app.create_workspace(&org, "b").await,
    );
    let tokens = format!("/v1/orgs/{org}/tokens");
    let limited = app
        .mint(
            &org,
            json!({"name": "manager-a", "role": "admin", "workspace_ids": [a]}),
        )
        .await;
    let mut ids = std::collections::HashMap::new();
    for (name, workspaces) in [
        ("in-a", json!([a])),
        ("in-b", json!([b])),
        ("in-a-and-b", json!([a, b])),
        ("in-none", json!([])),
        ("unlimited", Value::Null),
    ] {
        let mut body = json!({"name": name, "role": "viewer"});
        if !workspaces.is_null() {
            body["workspace_ids"] = workspaces;
        }
        let created = app.post(&tokens, body).await.expect(201);
        ids.insert(name, created.str("token_id"));
    }
    let everyone = token_names(&app.get(&tokens).await.expect(200));
    assert_eq!(everyone.len(), 6);

    let seen = app
        .send(Method::GET, &tokens, Some(&limited), None)
        .await
        .expect(200);
    assert_eq!(token_names(&seen), ["in-a", "manager-a"]);
    assert_eq!(seen.body["total"], 2);

    for name in ["in-b", "in-a-and-b", "in-none", "unlimited"] {
        let refused = app
            .send(
                Method::DELETE,
                &format!("{tokens}/{}", ids[name]),
                Some(&limited),
                None,
            )
            .await
            .expect(403);
        assert_eq!(
            refused.body["details"]["required_permission"],
            "tokens:manage"
        );
    }
    assert_eq!(
        token_names(&app.get(&tokens).await),
        everyone,
        "nothing revoked"
    );
    // Nor can it mint a token it could not then see.
    for workspaces in [json!([]), json!([b]), Value::Null] {
        app.send(
            Method::POST,
            &tokens,
            Some(&limited),
            Some(json!({"name": "hidden", "role": "viewer", "workspace_ids": workspaces})),
        )
        .await
        .expect(403);
    }
    assert_eq!(
        token_names(&app.get(&tokens).await),
        everyone,
        "nothing minted"
    );
    app.send(
        Method::DELETE,
        &format!("{tokens}/{}", ids["in-a"]),
        Some(&limited),
        None,
    )
    .await
    .expect(200);
    assert_eq!(app.get(&tokens).await.body["total"], 5);
}

async fn failed_authentication_is_throttled_per_address_before_lookup(backend: Backend) {
    // The default burst of 100 failures; refilled at one a minute rather than the
    // default ten a second, so that no failure is refunded while the test runs (on a
    // loaded machine 100 ms can pass between two requests, and a refunded failure let
    // the valid token below through).
    let defaults = ServeConfig::new("sqlite://unused.db");
    assert_eq!(defaults.auth_failures_per_minute, Some(600));
    assert_eq!(defaults.auth_failure_burst, 100);
    let app = TestApp::spawn_with(backend, |config| {
        config.auth_failures_per_minute = Some(1);
    })
    .await;
    let wrong = format!("cut_{}", "w".repeat(52));
    let mut failures = 0;
    let throttled = loop {
        let reply = app.send(Method::GET, "/v1/orgs", Some(&wrong), None).await;
        if reply.status != 401 {
            break reply.expect(429);
        }
        failures += 1;
        assert!(
            failures < 200,
            "200 failed authentications were never throttled"
        );
    };
    assert!(failures >= 100, "throttled after only {failures} failures");
    assert_eq!(throttled.body["error"], "RATE_LIMIT_EXCEEDED");
    let retry_after: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(throttled.body["details"]["retry_after"], retry_after);
    assert!(retry_after >= 1);
    assert!(size(&throttled) < SMALL_ANSWER);
    // Refused before the token is looked up: even a valid one, from this address.
    app.send(Method::GET, "/v1/orgs", Some(ADMIN_TOKEN), None)
        .await
        .expect(429);
    // A request without credentials costs no lookup and is answered as before.
    app.send(Method::GET, "/v1/orgs", None, None)
        .await
        .expect(401);
    app.send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
}

async fn each_token_is_rate_limited_by_default(backend: Backend) {
    let defaults = ServeConfig::new("sqlite://unused.db");
    assert_eq!(defaults.rate_limit_per_second, Some(1_000));
    assert_eq!(defaults.rate_limit_burst, 2_000);
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit_per_second = Some(1);
        config.rate_limit_burst = 3;
    })
    .await;
    let org = app.create_org("busy").await;
    let busy = app
        .mint(&org, json!({"name": "busy", "role": "viewer"}))
        .await;
    let path = format!("/v1/orgs/{org}");
    for _ in 0..3 {
        app.send(Method::GET, &path, Some(&busy), None)
            .await
            .expect(200);
    }
    let limited = app
        .send(Method::GET, &path, Some(&busy), None)
        .await
        .expect(429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    // Per token: another caller is not held up by this one.
    app.get(&path).await.expect(200);
}

async fn counts_per_parent_are_capped(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.limits = Limits {
            max_workspaces_per_org: 2,
            max_apps_per_workspace: 2,
            max_tokens_per_org: 2,
            max_releases_per_app: 2,
            ..config.limits
        };
    })
    .await;
    let full = |reply: Reply, limit_name: &str| {
        let reply = reply.expect(409);
        assert_eq!(reply.reason(), "limit_reached", "{}", reply.body);
        assert_eq!(reply.body["details"]["limit"], 2);
        assert_eq!(reply.body["details"]["limit_name"], limit_name);
        assert!(size(&reply) < SMALL_ANSWER);
    };
    let org = app.create_org("capped").await;
    let workspaces = format!("/v1/orgs/{org}/workspaces");
    let ws = app.create_workspace(&org, "one").await;
    app.create_workspace(&org, "two").await;
    full(
        app.post(&workspaces, json!({"name": "three"})).await,
        "workspaces_per_org",
    );
    assert_eq!(app.get(&workspaces).await.body["total"], 2);

    let apps = format!("{workspaces}/{ws}/apps");
    let first = app.create_app_in(&org, &ws, "first").await;
    app.create_app_in(&org, &ws, "second").await;
    full(
        app.post(&apps, json!({"name": "third"})).await,
        "apps_per_workspace",
    );
    assert_eq!(app.get(&apps).await.body["total"], 2);

    let tokens = format!("/v1/orgs/{org}/tokens");
    let kept = app
        .mint(&org, json!({"name": "one", "role": "viewer"}))
        .await;
    let doomed = app
        .post(&tokens, json!({"name": "two", "role": "viewer"}))
        .await
        .expect(201)
        .str("token_id");
    full(
        app.post(&tokens, json!({"name": "three", "role": "viewer"}))
            .await,
        "tokens_per_org",
    );
    assert_eq!(app.get(&tokens).await.body["total"], 2);
    // Revoked tokens do not count: revoking one makes room.
    app.delete(&format!("{tokens}/{doomed}")).await.expect(200);
    app.post(&tokens, json!({"name": "three", "role": "viewer"}))
        .await
        .expect(201);
    app.send(Method::GET, &format!("/v1/orgs/{org}"), Some(&kept), None)
        .await
        .expect(200);

    app.cut(&first, "v1").await;
    let second = app.cut(&first, "v2").await;
    full(
        app.post(&first.releases(), json!({"release_tag": "v3"}))
            .await,
        "releases_per_app",
    );
    assert_eq!(app.get(&first.releases()).await.body["total"], 2);
    // Deleting a release makes room again.
    app.delete(&first.release(&second)).await.expect(200);
    app.post(&first.releases(), json!({"release_tag": "v3"}))
        .await
        .expect(201);
}

/// Builds the application over `store` with `bootstrap` configured, as a start does.
async fn start_with(store: &Arc<dyn Store>, bootstrap: &str) {
    let mut config = ServeConfig::new("sqlite://unused.db");
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.bootstrap_token = Some(bootstrap.to_owned());
    Application::build_with_store(config, store.clone())
        .await
        .expect("the application builds");
}

async fn live(store: &Arc<dyn Store>, secret: &str) -> bool {
    store
        .find_token(&digest_secret(secret))
        .await
        .unwrap()
        .is_some_and(|token| token.revoked_at.is_none())
}

async fn a_new_bootstrap_secret_retires_the_old_one(backend: Backend) {
    // SQLite: one server per file, so a store of the test's own; PostgreSQL: a
    // second server beside the test app on its database.
    let dir = tempfile::tempdir().unwrap();
    let app;
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("rotate.db").display()),
        Backend::Postgres => {
            app = TestApp::spawn(backend).await;
            app.postgres_url().unwrap()
        }
    };
    let store = open_store(&ServeConfig::new(url)).await.unwrap();
    let first = "cut_first_bootstrap_secret_0123456789abcdef";
    let second = "cut_second_bootstrap_secret_0123456789abcdef";
    start_with(&store, first).await;
    assert!(live(&store, first).await);
    start_with(&store, second).await;
    assert!(live(&store, second).await);
    assert!(
        !live(&store, first).await,
        "the old bootstrap token is retired"
    );
    // Going back to a retired secret does not bring it back.
    start_with(&store, first).await;
    assert!(!live(&store, first).await);
    assert!(live(&store, second).await);
    let platform = store.list_tokens(None, None, page()).await.unwrap();
    let bootstraps = platform
        .items
        .iter()
        .filter(|token| token.name == "bootstrap")
        .count();
    assert_eq!(bootstraps, 1, "exactly one live bootstrap token");
}

fn page() -> cutover_store::PageRequest {
    cutover_store::PageRequest {
        limit: 200,
        after: None,
    }
}

on_every_backend!(
    a_minted_token_cannot_outlive_its_minter,
    platform_admins_list_and_revoke_platform_tokens,
    a_workspace_limited_manager_sees_and_revokes_only_tokens_within,
    failed_authentication_is_throttled_per_address_before_lookup,
    each_token_is_rate_limited_by_default,
    counts_per_parent_are_capped,
    a_new_bootstrap_secret_retires_the_old_one,
);
