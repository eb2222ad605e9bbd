//! Every error answer (docs/API.md, "Errors and limits") in the envelope
//! `{error, message, details, timestamp, status_code}`, with its headers, and the
//! request id every response carries. The 422 shape is in `validation.rs`.

use std::time::Duration;

use crate::harness::{Backend, TestApp};
use crate::shapes::{assert_envelope, assert_request_id, send_raw};
use reqwest::Method;
use serde_json::json;

async fn unauthenticated_is_401_with_a_bearer_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for token in [None, Some("cut_unknown_secret_that_was_never_issued")] {
        let reply = app.send(Method::GET, "/v1/orgs", token, None).await;
        let details = assert_envelope(&reply, 401, "AUTHENTICATION_FAILED");
        assert_eq!(*details, json!({}));
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

async fn forbidden_names_the_missing_permission(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let viewer = app
        .mint(&home.org_id, json!({"name": "v", "role": "viewer"}))
        .await;
    let reply = app
        .send(
            Method::POST,
            &home.releases(),
            Some(&viewer),
            Some(json!({"release_tag": "v1"})),
        )
        .await;
    let details = assert_envelope(&reply, 403, "FORBIDDEN");
    assert_eq!(*details, json!({"required_permission": "releases:create"}));
}

async fn not_found_names_the_resource_and_unknown_routes_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let unknown = "rel_00000000000000000000000000";
    let reply = app.get(&home.release(unknown)).await;
    let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(
        *details,
        json!({"resource_type": "release", "resource_id": unknown})
    );

    let reply = app.get(&format!("{}/active", home.releases())).await;
    let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(
        *details,
        json!({"resource_type": "release", "resource_id": "active"})
    );

    for path in ["/v1/nothing-here", "/", "/v1/orgs/x/y/z/w/v/u"] {
        let reply = app.send(Method::GET, path, None, None).await;
        let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
        assert_eq!(
            *details,
            json!({"resource_type": "route", "resource_id": path})
        );
    }
}

async fn method_not_allowed_lists_the_allowed_methods(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let reply = app
        .send(Method::PUT, &home.releases(), Some(&app.admin), None)
        .await;
    let details = assert_envelope(&reply, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(*details, json!({"allowed": ["GET", "HEAD", "POST"]}));
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));

    let reply = app
        .send(Method::DELETE, "/v1/orgs", Some(&app.admin), None)
        .await;
    let details = assert_envelope(&reply, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(details["allowed"], json!(["GET", "HEAD", "POST"]));
}

async fn conflict_carries_a_reason_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let reply = app
        .post(&home.releases(), json!({"release_tag": "v1"}))
        .await;
    let details = assert_envelope(&reply, 409, "CONFLICT");
    assert_eq!(details["reason"], "release_tag_exists");
    assert_eq!(details["existing_release_id"], v1.as_str());

    let augmentation = app.add_augmentation(&home, "rag").await;
    app.add_endpoint(&home, "chat", "/chat", &augmentation)
        .await;
    let reply = app
        .delete(&format!("{}/augmentations/{augmentation}", home.path()))
        .await;
    let details = assert_envelope(&reply, 409, "CONFLICT");
    let reason = details["reason"].as_str().unwrap();
    assert!(
        !reason.is_empty() && reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "{reason} is snake_case"
    );
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.limits.max_body_bytes = 256).await;
    let home = app.create_app().await;
    let big = json!({"name": "big", "description": "x".repeat(1_000)});
    let reply = app
        .post(&format!("{}/augmentations", home.path()), big)
        .await;
    let details = assert_envelope(&reply, 413, "PAYLOAD_TOO_LARGE");
    assert_eq!(*details, json!({"limit_bytes": 256}));
    // Nothing was stored.
    let listed = app.get(&format!("{}/augmentations", home.path())).await;
    assert_eq!(listed.body["total"], 0);

    // A chunked body declares no length and is cut off at the limit all the same.
    let address = app.base.trim_start_matches("http://").to_owned();
    let path = format!("{}/augmentations", home.path());
    let token = app.admin.clone();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let body = format!(
            r#"{{"name": "big", "description": "{}"}}"#,
            "x".repeat(1_000)
        );
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""limit_bytes":256"#), "{answer}");
}

async fn non_json_bodies_are_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let reply = send_raw(
            &app,
            Method::POST,
            "/v1/orgs",
            content_type,
            &[],
            b"name=acme".to_vec(),
        )
        .await;
        let details = assert_envelope(&reply, 415, "UNSUPPORTED_MEDIA_TYPE");
        assert_eq!(*details, json!({}), "{content_type:?}");
    }
    let reply = send_raw(
        &app,
        Method::POST,
        "/v1/orgs",
        Some("application/json; charset=utf-8"),
        &[],
        br#"{"name": "acme"}"#.to_vec(),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

async fn too_many_requests_are_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.rate_limit_per_second = Some(1);
        config.rate_limit_burst = 2;
    })
    .await;
    for _ in 0..2 {
        app.get("/v1/orgs").await.expect(200);
    }
    let reply = app.get("/v1/orgs").await;
    let details = assert_envelope(&reply, 429, "RATE_LIMIT_EXCEEDED");
    let retry_after = details["retry_after"].as_u64().expect("retry_after");
    assert!(retry_after >= 1);
    assert_eq!(
        reply.header("retry-after"),
        Some(retry_after.to_string().as_str())
    );
}

async fn internal_errors_are_500_without_the_cause(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    app.direct_database()
        .await
        .execute("DROP TABLE deployments")
        .await;

    let reply = app.act(&format!("{}/activate", home.release(&v1))).await;
    let details = assert_envelope(&reply, 500, "INTERNAL_SERVER_ERROR");
    assert_eq!(*details, json!({}));
    let text = reply.body.to_string().to_lowercase();
    for leak in [
        "deployments",
        "sqlite",
        "no such table",
        "sql",
        "relation",
        "postgres",
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked into {text}");
    }
    // The failed activation changed nothing.
    assert_eq!(app.get(&home.release(&v1)).await.body["status"], "ready");
}

/// A stored status or deployment action that this server never writes (a row from
/// elsewhere, or from a newer version) is an unreadable row: 500, never a guess.
async fn stored_values_outside_their_sets_are_500_not_guesses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    app.cut_active(&home, "v1").await;
    let corrupt = match backend {
        Backend::Sqlite => {
            "PRAGMA ignore_check_constraints = ON;
             DROP TRIGGER deployments_are_append_only;
             UPDATE releases SET status = 'paused';
             UPDATE deployments SET action = 'redeploy';"
        }
        Backend::Postgres => {
            "ALTER TABLE releases DROP CONSTRAINT releases_status_check;
             ALTER TABLE deployments DROP CONSTRAINT deployments_action_check;
             DROP TRIGGER deployments_are_append_only ON deployments;
             UPDATE releases SET status = 'paused';
             UPDATE deployments SET action = 'redeploy';"
        }
    };
    app.direct_database().await.execute(corrupt).await;

    for path in [
        home.releases(),
        format!("{}/activations", home.path()),
        format!("{}/deployments", home.path()),
    ] {
        let reply = app.get(&path).await;
        let details = assert_envelope(&reply, 500, "INTERNAL_SERVER_ERROR");
        assert_eq!(*details, json!({}), "{path}");
        let text = reply.body.to_string();
        assert!(
            !text.contains("paused") && !text.contains("redeploy"),
            "{text}"
        );
    }
}

async fn a_locked_database_is_503_until_the_lock_goes(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.busy_timeout = Duration::from_millis(200)
    })
    .await;
    let home = app.create_app().await;
    let mut locker = app.direct_database().await;
    locker.lock_writes().await;

    let body = json!({"release_tag": "v1"});
    let reply = app.post(&home.releases(), body.clone()).await;
    let details = assert_envelope(&reply, 503, "SERVICE_UNAVAILABLE");
    assert_eq!(*details, json!({}));
    assert!(
        reply
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok())
    );
    assert!(!reply.body.to_string().to_lowercase().contains("locked"));

    locker.unlock().await;
    let created = app.post(&home.releases(), body).await.expect(201);
    assert_eq!(created.body["release_number"], 1);
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let replies = [
        app.send(Method::GET, "/healthz", None, None).await,
        app.get("/v1/orgs").await,
        app.post(&home.releases(), json!({"release_tag": "v1"}))
            .await,
        app.get("/nowhere").await,
    ];
    let mut ids: Vec<String> = Vec::new();
    for reply in &replies {
        assert_request_id(reply);
        ids.push(reply.header("x-request-id").unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), replies.len(), "each request gets its own id");
}

async fn a_plain_incoming_request_id_is_echoed_and_others_replaced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let get = |id: String| {
        let request = app
            .client
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", id);
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(get("abc-123".into()).await, "abc-123");
    for odd in ["has space".to_owned(), "x".repeat(500), "a<b>".to_owned()] {
        let echoed = get(odd.clone()).await;
        assert_ne!(echoed, odd);
        assert!(!echoed.is_empty());
    }
}

on_every_backend!(
    internal_errors_are_500_without_the_cause,
    stored_values_outside_their_sets_are_500_not_guesses,
    a_locked_database_is_503_until_the_lock_goes,
    unauthenticated_is_401_with_a_bearer_challenge,
    forbidden_names_the_missing_permission,
    not_found_names_the_resource_and_unknown_routes_too,
    method_not_allowed_lists_the_allowed_methods,
    conflict_carries_a_reason_code,
    bodies_over_the_limit_are_413,
    non_json_bodies_are_415,
    too_many_requests_are_429_with_retry_after,
    every_response_carries_a_request_id,
    a_plain_incoming_request_id_is_echoed_and_others_replaced,
);
