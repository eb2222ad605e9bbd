//! `Idempotency-Key` over HTTP: a retried write is answered again byte for byte with
//! `Idempotency-Replayed: true` and done once; the key with another request, or a
//! malformed key, is refused; refusals are kept and server failures are not; keys
//! belong to their org and token; and a kept answer survives a restart.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::assert_issues;

/// One raw exchange: the status, the headers and the body's very bytes.
struct Raw {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Raw {
    fn replayed(&self) -> bool {
        self.headers
            .get("idempotency-replayed")
            .is_some_and(|v| v == "true")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}

async fn keyed(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    token: &str,
    body: Option<Value>,
) -> Raw {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answered");
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("a body").to_vec(),
    }
}

async fn release_count(app: &TestApp, home: &AppPath) -> usize {
    let list = app
        .get(&format!(
            "{}?include_archived=true&limit=200",
            home.releases()
        ))
        .await
        .expect(200);
    list.body["releases"].as_array().expect("releases").len()
}

async fn a_retried_write_is_answered_again_byte_for_byte_and_done_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let rag = app.add_augmentation(&home, "rag").await;
    app.add_endpoint(&home, "chat", "/chat", &rag).await;
    let releases = home.releases();
    let cut = || {
        keyed(
            &app,
            Method::POST,
            &releases,
            "ci-build-42",
            &app.admin,
            Some(json!({"release_tag": "v1", "activate": true})),
        )
    };
    let first = cut().await;
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.bytes)
    );
    assert!(!first.replayed());
    let again = cut().await;
    assert_eq!(again.status, 201);
    assert!(again.replayed());
    assert_eq!(again.bytes, first.bytes);
    for header in ["location", "etag", "content-type"] {
        assert_eq!(
            again.headers.get(header),
            first.headers.get(header),
            "{header}"
        );
    }
    assert_eq!(release_count(&app, &home).await, 1);

    // A delete too: the repeat answers what the first did and deletes nothing more.
    let endpoints = app
        .get(&format!("{}/endpoints", home.path()))
        .await
        .expect(200);
    let chat = endpoints.body["endpoints"][0]["endpoint_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{}/endpoints/{chat}", home.path());
    let delete = || keyed(&app, Method::DELETE, &path, "rm-chat", &app.admin, None);
    let gone = delete().await;
    let repeat = delete().await;
    assert_eq!((repeat.status, repeat.replayed()), (gone.status, true));
    assert_eq!(repeat.bytes, gone.bytes);
    // Without the key, the same delete is a new request and finds nothing.
    app.delete(&path).await.expect(404);

    // Reads ignore the header.
    let read = keyed(
        &app,
        Method::GET,
        &home.releases(),
        "ci-build-42",
        &app.admin,
        None,
    )
    .await;
    assert_eq!(read.status, 200);
    assert!(!read.replayed());
}

async fn a_key_with_another_request_or_a_malformed_key_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let path = format!("{}/augmentations", home.path());
    let body = |name: &str| json!({"name": name, "stages": []});
    let first = keyed(&app, Method::POST, &path, "k1", &app.admin, Some(body("a"))).await;
    assert_eq!(first.status, 201);
    let other = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("Idempotency-Key", "k1")
        .json(&body("b"))
        .send()
        .await
        .expect("answered");
    let other = crate::harness::Reply {
        status: other.status().as_u16(),
        headers: other.headers().clone(),
        body: other.json().await.expect("json"),
    };
    let issues = assert_issues(&other);
    assert_eq!(issues[0]["loc"], json!(["header", "Idempotency-Key"]));
    assert!(
        issues[0]["msg"]
            .as_str()
            .unwrap()
            .contains("different request"),
        "{}",
        other.body
    );
    // Another path with the key is another request too.
    let elsewhere = keyed(
        &app,
        Method::PATCH,
        &home.path(),
        "k1",
        &app.admin,
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(elsewhere.status, 422);

    // A method the path does not have answers 405 whatever key it carries.
    let unrouted = keyed(&app, Method::PUT, &path, "k1", &app.admin, Some(body("a"))).await;
    assert_eq!(unrouted.status, 405);
    let no_patch = keyed(
        &app,
        Method::PATCH,
        &path,
        "k1",
        &app.admin,
        Some(body("a")),
    )
    .await;
    assert_eq!(no_patch.status, 405);

    for bad in ["", &"k".repeat(256), "tab\tin"] {
        let refused = keyed(&app, Method::POST, &path, bad, &app.admin, Some(body("c"))).await;
        assert_eq!(refused.status, 422, "key {bad:?}");
        assert_eq!(
            refused.json()["detail"][0]["loc"],
            json!(["header", "Idempotency-Key"])
        );
    }
    let list = app.get(&path).await.expect(200);
    assert_eq!(list.body["total"], 1, "nothing refused was written");
}

async fn refusals_are_kept_and_server_failures_are_not(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.busy_timeout = std::time::Duration::from_millis(200)
    })
    .await;
    let home = app.create_app().await;
    let path = format!("{}/augmentations", home.path());
    app.add_augmentation(&home, "taken").await;
    let clash = || {
        keyed(
            &app,
            Method::POST,
            &path,
            "again",
            &app.admin,
            Some(json!({"name": "taken", "stages": []})),
        )
    };
    let refused = clash().await;
    assert_eq!(refused.status, 409);
    let repeat = clash().await;
    assert_eq!((repeat.status, repeat.replayed()), (409, true));
    assert_eq!(repeat.bytes, refused.bytes);

    // A write the database cannot take answers 503; its key is let go, and the
    // retry once the database is back runs.
    let mut database = app.direct_database().await;
    database.lock_writes().await;
    let create = || {
        keyed(
            &app,
            Method::POST,
            &path,
            "after-outage",
            &app.admin,
            Some(json!({"name": "fresh", "stages": []})),
        )
    };
    let failed = create().await;
    database.unlock().await;
    assert_eq!(
        failed.status,
        503,
        "{}",
        String::from_utf8_lossy(&failed.bytes)
    );
    let retried = create().await;
    assert_eq!((retried.status, retried.replayed()), (201, false));
}

async fn keys_belong_to_their_org_and_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let path = format!("{}/augmentations", home.path());
    let body = || Some(json!({"name": "one", "stages": []}));
    let admin_of = |org: String| {
        let app = &app;
        async move { app.mint(&org, json!({"name": "ci", "role": "admin"})).await }
    };
    let first_token = admin_of(home.org_id.clone()).await;
    let first = keyed(&app, Method::POST, &path, "shared", &first_token, body()).await;
    assert_eq!(first.status, 201);
    // Another token of the same org sending the same key and request: the key is
    // the org's, taken by the first token's request.
    let second_token = admin_of(home.org_id.clone()).await;
    let borrowed = keyed(&app, Method::POST, &path, "shared", &second_token, body()).await;
    assert_eq!(borrowed.status, 422);
    // Another org's key of the same text is its own.
    let other = app.create_app().await;
    let other_token = admin_of(other.org_id.clone()).await;
    let other_path = format!("{}/augmentations", other.path());
    let own = keyed(
        &app,
        Method::POST,
        &other_path,
        "shared",
        &other_token,
        body(),
    )
    .await;
    assert_eq!((own.status, own.replayed()), (201, false));
}

async fn an_org_past_its_limit_of_keys_is_refused_new_ones(backend: Backend) {
    let mut app = TestApp::spawn_with(backend, |config| {
        config.limits.max_idempotency_keys_per_org = 1
    })
    .await;
    let home = app.create_app().await;
    let path = format!("{}/augmentations", home.path());
    let body = |name: &str| Some(json!({"name": name, "stages": []}));
    let first = keyed(&app, Method::POST, &path, "one", &app.admin, body("a")).await;
    assert_eq!(first.status, 201);
    let refused = keyed(&app, Method::POST, &path, "two", &app.admin, body("b")).await;
    assert_eq!(refused.status, 409);
    let details = &refused.json()["details"];
    assert_eq!(details["reason"], "limit_reached");
    assert_eq!(details["limit_name"], "idempotency_keys_per_org");
    // The kept key still replays, and a write without a key still runs.
    let again = keyed(&app, Method::POST, &path, "one", &app.admin, body("a")).await;
    assert_eq!((again.status, again.replayed()), (201, true));
    app.post(&path, json!({"name": "b", "stages": []}))
        .await
        .expect(201);
    // The count of stored keys outlives the server: after a restart the org is
    // still at its limit.
    app.restart().await;
    let refused = keyed(&app, Method::POST, &path, "three", &app.admin, body("c")).await;
    assert_eq!(refused.status, 409, "{:?}", refused.json());
    assert_eq!(refused.json()["details"]["reason"], "limit_reached");
}

async fn a_kept_answer_survives_a_restart(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let path = format!("{}/augmentations", home.path());
    let body = || Some(json!({"name": "kept", "stages": []}));
    let first = keyed(
        &app,
        Method::POST,
        &path,
        "across-restart",
        &app.admin,
        body(),
    )
    .await;
    assert_eq!(first.status, 201);
    app.restart().await;
    let again = keyed(
        &app,
        Method::POST,
        &path,
        "across-restart",
        &app.admin,
        body(),
    )
    .await;
    assert_eq!((again.status, again.replayed()), (201, true));
    assert_eq!(again.bytes, first.bytes);
    let list = app.get(&path).await.expect(200);
    assert_eq!(list.body["total"], 1);
}

on_every_backend!(
    a_retried_write_is_answered_again_byte_for_byte_and_done_once,
    a_key_with_another_request_or_a_malformed_key_is_refused,
    refusals_are_kept_and_server_failures_are_not,
    keys_belong_to_their_org_and_token,
    a_kept_answer_survives_a_restart,
    an_org_past_its_limit_of_keys_is_refused_new_ones,
);
