//! Compare-and-swap over HTTP: activate, rollback, deploy, promote and environment
//! rollback go ahead only while the environment has what `expected_release_id` or
//! `If-Match` names, answer 412 with `details.current_release_id` otherwise and change
//! nothing; a malformed `If-Match` is a 422 at the header; of many concurrent
//! deploys that expect the same release, exactly one wins; and draft entities and
//! apps carry an `ETag` that their updates' and deletes' `If-Match` compares.

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::deployments::{deploy, deployments, rollback};
use crate::harness::{AppPath, Backend, Reply, TestApp};
use crate::shapes::{assert_envelope, assert_one_issue};

/// `method path` with `body`, and `If-Match: if_match` when given.
async fn conditional(
    app: &TestApp,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let headers: Vec<_> = if_match
        .map(|tag| {
            (
                "If-Match",
                HeaderValue::from_str(tag).expect("a header value"),
            )
        })
        .into_iter()
        .collect();
    app.send_with_headers(method, path, Some(&app.admin), &headers, body)
        .await
}

fn activate(home: &AppPath, release: &str) -> String {
    format!("{}/activate", home.release(release))
}

fn active_in(home: &AppPath, environment: &str) -> String {
    format!("{}/active?environment={environment}", home.releases())
}

/// The `ETag` of what `environment` has now.
async fn tag_of(app: &TestApp, home: &AppPath, environment: &str) -> String {
    let read = app.get(&active_in(home, environment)).await.expect(200);
    read.header("etag").expect("an ETag").to_owned()
}

async fn live_in(app: &TestApp, home: &AppPath, environment: &str) -> Value {
    let read = app.get(&active_in(home, environment)).await;
    match read.status {
        200 => read.body["release_id"].clone(),
        404 => Value::Null,
        other => panic!("reading what {environment} has answered {other}"),
    }
}

/// A 412 whose `details.current_release_id` is `current`.
fn assert_precondition_failed(reply: &Reply, current: &Value) {
    let details = assert_envelope(reply, 412, "PRECONDITION_FAILED");
    assert_eq!(details["current_release_id"], *current, "{:?}", reply.body);
}

async fn activate_goes_ahead_only_while_production_has_the_expected_release(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let (v1, v2, v3) = (
        app.cut(&home, "v1").await,
        app.cut(&home, "v2").await,
        app.cut(&home, "v3").await,
    );
    // Nothing is deployed: `null` expects exactly that, a release id does not.
    let refused = conditional(
        &app,
        Method::POST,
        &activate(&home, &v1),
        None,
        Some(json!({"expected_release_id": v2})),
    )
    .await;
    assert_precondition_failed(&refused, &Value::Null);
    assert_eq!(live_in(&app, &home, "production").await, Value::Null);
    let body = json!({"expected_release_id": null, "reason": "first go-live"});
    conditional(&app, Method::POST, &activate(&home, &v1), None, Some(body))
        .await
        .expect(200);

    // v1 is live: expecting v2 is refused and changes nothing, expecting v1 switches.
    let stale = json!({"expected_release_id": v2});
    let refused = conditional(&app, Method::POST, &activate(&home, &v3), None, Some(stale)).await;
    assert_precondition_failed(&refused, &json!(v1));
    assert_eq!(live_in(&app, &home, "production").await, json!(v1));
    let fresh = json!({"expected_release_id": v1});
    conditional(&app, Method::POST, &activate(&home, &v2), None, Some(fresh))
        .await
        .expect(200);
    let records = app
        .get(&format!("{}?environment=production", deployments(&home)))
        .await
        .expect(200);
    assert_eq!(records.body["total"], 2, "the refusals wrote no record");
    assert_eq!(records.body["deployments"][1]["reason"], "first go-live");

    // Rollback takes the same conditions, and the no-op activate checks them too.
    let back = format!("{}/rollback", home.release(&v1));
    let refused = conditional(
        &app,
        Method::POST,
        &back,
        None,
        Some(json!({"expected_release_id": v3})),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v2));
    let refused = conditional(
        &app,
        Method::POST,
        &activate(&home, &v2),
        None,
        Some(json!({"expected_release_id": v1})),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v2));
    conditional(
        &app,
        Method::POST,
        &back,
        None,
        Some(json!({"expected_release_id": v2, "reason": "errors after v2"})),
    )
    .await
    .expect(200);
    assert_eq!(live_in(&app, &home, "production").await, json!(v1));
}

async fn if_match_compares_the_etag_of_the_environments_current_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let (v1, v2) = (app.cut(&home, "v1").await, app.cut(&home, "v2").await);
    // `*` needs something deployed.
    let refused = conditional(&app, Method::POST, &activate(&home, &v1), Some("*"), None).await;
    assert_precondition_failed(&refused, &Value::Null);
    app.act(&activate(&home, &v1)).await.expect(200);
    let tag = tag_of(&app, &home, "production").await;

    // A weak tag never matches (strong comparison), a stale one neither.
    let weak = format!("W/{tag}");
    let refused = conditional(&app, Method::POST, &activate(&home, &v2), Some(&weak), None).await;
    assert_precondition_failed(&refused, &json!(v1));
    let list = format!("\"other\", {tag}");
    conditional(&app, Method::POST, &activate(&home, &v2), Some(&list), None)
        .await
        .expect(200);
    let refused = conditional(&app, Method::POST, &activate(&home, &v1), Some(&tag), None).await;
    assert_precondition_failed(&refused, &json!(v2));
    assert_eq!(live_in(&app, &home, "production").await, json!(v2));

    // Deploy to another environment with the tag of what it has.
    deploy(&app, &home, "staging", &v1).await;
    let staging = tag_of(&app, &home, "staging").await;
    let body = json!({"environment": "staging", "release_id": v2});
    let wrong_env = tag_of(&app, &home, "production").await;
    let refused = conditional(
        &app,
        Method::POST,
        &deployments(&home),
        Some(&wrong_env),
        Some(body.clone()),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v1));
    conditional(
        &app,
        Method::POST,
        &deployments(&home),
        Some(&staging),
        Some(body),
    )
    .await
    .expect(201);

    // Both conditions must hold when both are given.
    let refused = conditional(
        &app,
        Method::POST,
        &rollback(&home, "staging"),
        Some("*"),
        Some(json!({"expected_release_id": v1})),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v2));
    assert_eq!(live_in(&app, &home, "staging").await, json!(v2));
}

async fn promote_and_environment_rollback_check_the_target_environment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let (v1, v2) = (app.cut(&home, "v1").await, app.cut(&home, "v2").await);
    deploy(&app, &home, "production", &v1).await;
    deploy(&app, &home, "staging", &v2).await;
    let promote = |expected: Value| {
        json!({"environment": "production", "from_environment": "staging",
               "expected_release_id": expected})
    };
    let refused = conditional(
        &app,
        Method::POST,
        &deployments(&home),
        None,
        Some(promote(json!(v2))),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v1));
    let promoted = conditional(
        &app,
        Method::POST,
        &deployments(&home),
        None,
        Some(promote(json!(v1))),
    )
    .await
    .expect(201);
    assert_eq!(promoted.body["action"], "promote");

    let back = rollback(&home, "production");
    let refused = conditional(
        &app,
        Method::POST,
        &back,
        None,
        Some(json!({"expected_release_id": v1})),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v2));
    let tag = tag_of(&app, &home, "production").await;
    let rolled = conditional(&app, Method::POST, &back, Some(&tag), None)
        .await
        .expect(201);
    assert_eq!(rolled.body["release_id"], json!(v1));
    // The condition comes before the rules (RFC 9110 §13.2.1: before the request is
    // processed): nothing older to go back to is a 412 while the condition fails,
    // and the rules' 409 once it holds.
    let refused = conditional(
        &app,
        Method::POST,
        &back,
        None,
        Some(json!({"expected_release_id": v2})),
    )
    .await;
    assert_precondition_failed(&refused, &json!(v1));
    let refused = conditional(
        &app,
        Method::POST,
        &back,
        None,
        Some(json!({"expected_release_id": v1})),
    )
    .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert_eq!(refused.reason(), "nothing_to_roll_back_to");
}

async fn a_malformed_condition_is_a_422_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    for bad in ["abc", "\"open", "*, \"a\""] {
        let refused = conditional(&app, Method::POST, &activate(&home, &v1), Some(bad), None).await;
        assert_one_issue(&refused, json!(["header", "If-Match"]), "value_error");
    }
    let refused = conditional(
        &app,
        Method::POST,
        &activate(&home, &v1),
        None,
        Some(json!({"expected_release_id": "v1"})),
    )
    .await;
    assert_one_issue(
        &refused,
        json!(["body", "expected_release_id"]),
        "string_pattern_mismatch",
    );
    assert_eq!(live_in(&app, &home, "production").await, Value::Null);
    // No body at all still activates, whatever the (empty) body is labelled.
    let bare = app
        .client
        .post(format!("{}{}", app.base, activate(&home, &v1)))
        .bearer_auth(&app.admin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("answered");
    assert_eq!(bare.status().as_u16(), 200);
}

async fn of_concurrent_deploys_expecting_the_same_release_exactly_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    deploy(&app, &home, "staging", &v1).await;
    let mut candidates = Vec::new();
    for number in 2..=7 {
        candidates.push(app.cut(&home, &format!("v{number}")).await);
    }
    let replies = futures::future::join_all(candidates.iter().map(|release| {
        let body = json!({"environment": "staging", "release_id": release,
                          "expected_release_id": v1});
        let path = deployments(&home);
        let app = &app;
        async move { conditional(app, Method::POST, &path, None, Some(body)).await }
    }))
    .await;
    let winners: Vec<_> = replies.iter().filter(|reply| reply.status == 201).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = winners[0].body["release_id"].clone();
    for reply in replies.iter().filter(|reply| reply.status != 201) {
        assert_precondition_failed(reply, &winner);
    }
    assert_eq!(live_in(&app, &home, "staging").await, winner);
    let records = app
        .get(&format!("{}?environment=staging", deployments(&home)))
        .await
        .expect(200);
    assert_eq!(records.body["total"], 2);
}

/// Asserts a 412 for a draft entity, and answers its current `ETag`.
async fn assert_entity_unchanged(app: &TestApp, path: &str, refused: &Reply, tag: &str) {
    let details = assert_envelope(refused, 412, "PRECONDITION_FAILED");
    assert_eq!(*details, json!({}), "{:?}", refused.body);
    let now = app.get(path).await.expect(200);
    assert_eq!(now.header("etag"), Some(tag), "nothing changed");
}

async fn draft_entities_and_apps_carry_an_etag_that_if_match_compares(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentations = format!("{}/augmentations", home.path());
    let made = app
        .post(
            &augmentations,
            json!({"name": "rag", "stages": [{"name": "answer", "execution_mode": "sequential",
                   "steps": [{"name": "llm", "type": "inference",
                              "config": {"temperature": 0.7, "prompt": "h\u{e9}llo \"there\""}}]}]}),
        )
        .await
        .expect(201);
    let first = made
        .header("etag")
        .expect("a created entity has an ETag")
        .to_owned();
    let path = made.header("location").expect("a Location").to_owned();
    assert_eq!(
        app.get(&path).await.header("etag"),
        Some(first.as_str()),
        "the read's"
    );

    let patched = conditional(
        &app,
        Method::PATCH,
        &path,
        Some(&first),
        Some(json!({"description": "retrieval first"})),
    )
    .await
    .expect(200);
    let second = patched.header("etag").expect("an ETag").to_owned();
    assert_ne!(second, first);
    let stale = conditional(
        &app,
        Method::PATCH,
        &path,
        Some(&first),
        Some(json!({"description": "lost update"})),
    )
    .await;
    assert_entity_unchanged(&app, &path, &stale, &second).await;
    let weak = format!("W/{second}");
    let refused = conditional(&app, Method::DELETE, &path, Some(&weak), None).await;
    assert_entity_unchanged(&app, &path, &refused, &second).await;

    // An endpoint, with a nested input schema, the same way; then delete both.
    let augmentation = patched.body["augmentation_id"].as_str().unwrap().to_owned();
    let endpoint_path = format!(
        "{}/endpoints/{}",
        home.path(),
        app.add_endpoint(&home, "ask", "/ask", &augmentation).await
    );
    let tag = app.get(&endpoint_path).await.expect(200);
    let tag = tag.header("etag").expect("an ETag").to_owned();
    let body = json!({"input_schema": {"type": "object", "maximum": 1.5e3, "title": "\u{fc}"}});
    let changed = conditional(&app, Method::PATCH, &endpoint_path, Some(&tag), Some(body))
        .await
        .expect(200);
    let changed_tag = changed.header("etag").unwrap().to_owned();
    assert_eq!(
        app.get(&endpoint_path).await.header("etag"),
        Some(changed_tag.as_str()),
        "the read of what was written carries the write's tag"
    );
    let refused = conditional(&app, Method::DELETE, &endpoint_path, Some(&tag), None).await;
    assert_entity_unchanged(&app, &endpoint_path, &refused, &changed_tag).await;
    conditional(
        &app,
        Method::DELETE,
        &endpoint_path,
        Some(&changed_tag),
        None,
    )
    .await
    .expect(200);
    conditional(&app, Method::DELETE, &path, Some(&second), None)
        .await
        .expect(200);
    // A missing entity is a 404 whatever the condition.
    let gone = conditional(&app, Method::DELETE, &path, Some(&second), None).await;
    assert_envelope(&gone, 404, "RESOURCE_NOT_FOUND");

    // The app: a rename with a stale tag is refused, with the current one done.
    let app_path = home.path();
    let read = app.get(&app_path).await.expect(200);
    let app_tag = read.header("etag").expect("an ETag").to_owned();
    let renamed = conditional(
        &app,
        Method::PATCH,
        &app_path,
        Some(&app_tag),
        Some(json!({"name": "renamed"})),
    )
    .await
    .expect(200);
    let renamed_tag = renamed.header("etag").unwrap().to_owned();
    let refused = conditional(
        &app,
        Method::PATCH,
        &app_path,
        Some(&app_tag),
        Some(json!({"name": "lost"})),
    )
    .await;
    assert_entity_unchanged(&app, &app_path, &refused, &renamed_tag).await;
    let refused = conditional(&app, Method::DELETE, &app_path, Some(&app_tag), None).await;
    assert_entity_unchanged(&app, &app_path, &refused, &renamed_tag).await;
    conditional(&app, Method::DELETE, &app_path, Some(&renamed_tag), None)
        .await
        .expect(200);
}

on_every_backend!(
    activate_goes_ahead_only_while_production_has_the_expected_release,
    if_match_compares_the_etag_of_the_environments_current_read,
    promote_and_environment_rollback_check_the_target_environment,
    a_malformed_condition_is_a_422_and_changes_nothing,
    of_concurrent_deploys_expecting_the_same_release_exactly_one_wins,
    draft_entities_and_apps_carry_an_etag_that_if_match_compares,
);
