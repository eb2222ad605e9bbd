//! Dry runs over HTTP: every write that changes releases or what is live takes
//! `?dry_run=true`, writes nothing, and answers what the real call then does (the
//! release, what it replaces, every status change, the environment); a refusal is
//! the real call's, exactly, as a blocker; warnings and the diff say what a careful
//! operator would check; a malformed flag or request is the real call's error.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::deployments::{deploy, deployments, rollback};
use crate::harness::{AppPath, Backend, Reply, TestApp};
use crate::shapes::{assert_envelope, assert_one_issue};

fn dry(path: &str) -> String {
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}dry_run=true")
}

/// Everything a write could change that a reader sees: releases (archived too) with
/// their statuses, the deployment records, and the timeline.
async fn everything(app: &TestApp, home: &AppPath) -> Value {
    let releases = app
        .get(&format!(
            "{}?include_archived=true&limit=200",
            home.releases()
        ))
        .await
        .expect(200);
    let records = app.get(&deployments(home)).await.expect(200);
    let events = app
        .get(&format!("{}/timeline?limit=100", home.path()))
        .await
        .expect(200);
    json!({"releases": releases.body["releases"], "records": records.body, "events": events.body})
}

/// The keys the document says a dry run answers.
static DOCUMENTED_KEYS: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    let doc: Value = serde_json::from_str(&cutover_server::openapi::document_json()).unwrap();
    let properties = doc["components"]["schemas"]["DryRunAnswer"]["properties"]
        .as_object()
        .expect("DryRunAnswer is documented");
    properties.keys().cloned().collect()
});

/// Sends `method path?dry_run=true` and asserts it changed nothing and answered the
/// documented keys; answers the reply.
async fn dry_run(
    app: &TestApp,
    home: &AppPath,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let before = everything(app, home).await;
    let reply = app
        .send(method, &dry(path), Some(&app.admin), body)
        .await
        .expect(200);
    assert_eq!(reply.body["dry_run"], true, "{}", reply.body);
    let keys: BTreeSet<String> = reply.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, *DOCUMENTED_KEYS);
    assert_eq!(
        everything(app, home).await,
        before,
        "a dry run changes nothing"
    );
    reply.body
}

/// Each status change the dry run named is the release's status now (null: gone).
async fn assert_statuses_are_now(app: &TestApp, home: &AppPath, said: &Value) {
    for change in said["status_changes"].as_array().expect("status changes") {
        let Some(id) = change["release_id"].as_str() else {
            continue;
        };
        let read = app.get(&home.release(id)).await;
        let now = match read.status {
            200 => read.body["status"].clone(),
            404 => Value::Null,
            other => panic!("reading {id} answered {other}"),
        };
        assert_eq!(now, change["to"], "{id}: {said}");
    }
}

fn status_change(said: &Value, release_number: i64) -> &Value {
    said["status_changes"]
        .as_array()
        .expect("status changes")
        .iter()
        .find(|change| change["release_number"] == release_number)
        .unwrap_or_else(|| panic!("no change of #{release_number}: {said}"))
}

async fn every_write_has_a_dry_run_that_the_real_call_then_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "pipeline").await;
    app.add_endpoint(&home, "chat", "/chat", &augmentation)
        .await;

    // A cut, deployed on the way: the release it would be, and production's change.
    let cut = json!({"release_tag": "v1", "activate": true});
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &home.releases(),
        Some(cut.clone()),
    )
    .await;
    assert_eq!(
        (
            said["action"].clone(),
            said["allowed"].clone(),
            said["changes"].clone()
        ),
        (json!("create_release"), json!(true), json!(true))
    );
    assert_eq!(
        said["release"],
        json!({"release_id": null, "release_tag": "v1", "release_number": 1})
    );
    assert_eq!(said["replaces"], Value::Null);
    assert_eq!(said["environment"]["slug"], "production");
    assert_eq!(status_change(&said, 1)["to"], "active");
    assert_eq!(said["diff"]["counts"]["endpoints"]["added"], 1, "{said}");
    let v1 = app.post(&home.releases(), cut).await.expect(201);
    assert_eq!(
        (v1.body["release_number"].clone(), v1.body["status"].clone()),
        (json!(1), json!("active"))
    );
    let v1 = v1.str("release_id");
    let v2 = app.cut(&home, "v2").await;

    // A deploy: v2 replaces v1 in production.
    let body = json!({"environment": "production", "release_id": v2, "reason": "ship"});
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &deployments(&home),
        Some(body.clone()),
    )
    .await;
    assert_eq!(said["action"], "deploy");
    assert_eq!(
        (
            said["release"]["release_id"].as_str(),
            said["replaces"]["release_id"].as_str()
        ),
        (Some(v2.as_str()), Some(v1.as_str()))
    );
    assert_eq!(
        (
            status_change(&said, 2)["from"].clone(),
            status_change(&said, 2)["to"].clone()
        ),
        (json!("ready"), json!("active"))
    );
    assert_eq!(status_change(&said, 1)["to"], "archived");
    assert_eq!(said["diff"]["identical"], true);
    let codes: Vec<&str> = said["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["same_content"], "{said}");
    let real = app.post(&deployments(&home), body).await.expect(201);
    assert_eq!(
        real.body["previous_release_id"],
        said["replaces"]["release_id"]
    );
    assert_eq!(
        real.body["environment_id"],
        said["environment"]["environment_id"]
    );
    assert_statuses_are_now(&app, &home, &said).await;

    // A promotion to staging, and staging's rollback.
    let promote = json!({"environment": "staging", "from_environment": "production"});
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &deployments(&home),
        Some(promote.clone()),
    )
    .await;
    assert_eq!(
        (
            said["action"].clone(),
            said["release"]["release_id"].clone()
        ),
        (json!("promote"), json!(v2))
    );
    assert_eq!(said["status_changes"], json!([]), "v2 is active already");
    app.post(&deployments(&home), promote).await.expect(201);

    // Activate and roll back (the default environment).
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &format!("{}/rollback", home.release(&v1)),
        None,
    )
    .await;
    assert_eq!(
        (
            said["action"].clone(),
            said["replaces"]["release_id"].clone()
        ),
        (json!("rollback"), json!(v2))
    );
    assert_eq!(status_change(&said, 1)["to"], "active");
    assert!(
        said["status_changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["release_number"] != 2),
        "staging keeps v2: {said}"
    );
    app.act(&format!("{}/rollback", home.release(&v1)))
        .await
        .expect(200);
    assert_statuses_are_now(&app, &home, &said).await;
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &format!("{}/activate", home.release(&v1)),
        None,
    )
    .await;
    assert_eq!(
        (said["changes"].clone(), said["warnings"][0]["code"].clone()),
        (json!(false), json!("no_change"))
    );
    assert_eq!(
        (said["environment"].clone(), said["status_changes"].clone()),
        (Value::Null, json!([]))
    );

    // An environment's rollback.
    let path = rollback(&home, "staging");
    deploy(&app, &home, "staging", &v1).await;
    deploy(&app, &home, "staging", &v2).await;
    let said = dry_run(&app, &home, Method::POST, &path, None).await;
    assert_eq!(
        (
            said["action"].clone(),
            said["release"]["release_id"].clone()
        ),
        (json!("environment_rollback"), json!(v1))
    );
    let real = app.act(&path).await.expect(201);
    assert_eq!(real.body["release_id"], said["release"]["release_id"]);
    assert_statuses_are_now(&app, &home, &said).await;

    // Archive and delete.
    let v3 = app.cut(&home, "v3").await;
    let archive = format!("{}/archive", home.release(&v3));
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &archive,
        Some(json!({"reason": "superseded"})),
    )
    .await;
    assert_eq!(
        (
            status_change(&said, 3)["from"].clone(),
            status_change(&said, 3)["to"].clone()
        ),
        (json!("ready"), json!("archived"))
    );
    assert_eq!(
        (said["environment"].clone(), said["diff"].clone()),
        (Value::Null, Value::Null)
    );
    app.act(&archive).await.expect(200);
    assert_statuses_are_now(&app, &home, &said).await;
    let said = dry_run(&app, &home, Method::DELETE, &home.release(&v3), None).await;
    assert_eq!(
        (
            said["action"].clone(),
            status_change(&said, 3)["to"].clone()
        ),
        (json!("delete"), Value::Null)
    );
    app.delete(&home.release(&v3)).await.expect(200);
    assert_statuses_are_now(&app, &home, &said).await;
}

/// The blocker of a refused dry run is the real call's error, key for key but time.
fn assert_same_refusal(said: &Value, real: &Reply) {
    assert_eq!(
        (said["allowed"].clone(), said["changes"].clone()),
        (json!(false), json!(false))
    );
    let blockers = said["blockers"].as_array().expect("blockers");
    assert_eq!(blockers.len(), 1, "{said}");
    for key in ["error", "message", "details", "status_code"] {
        assert_eq!(
            blockers[0][key], real.body[key],
            "{key}: {said} vs {}",
            real.body
        );
    }
    assert_eq!(blockers[0]["status_code"], real.status);
}

async fn a_refused_dry_run_names_the_real_calls_refusal(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut_active(&home, "v1").await;
    let v2 = app.cut(&home, "v2").await;

    // 409: a deployed release cannot go.
    let said = dry_run(&app, &home, Method::DELETE, &home.release(&v1), None).await;
    let real = app.delete(&home.release(&v1)).await;
    assert_envelope(&real, 409, "CONFLICT");
    assert_same_refusal(&said, &real);

    // 412: production does not have what the caller expects.
    let expecting =
        json!({"environment": "production", "release_id": v2, "expected_release_id": v2});
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &deployments(&home),
        Some(expecting.clone()),
    )
    .await;
    let real = app.post(&deployments(&home), expecting).await;
    assert_envelope(&real, 412, "PRECONDITION_FAILED");
    assert_same_refusal(&said, &real);
    let stale = HeaderValue::from_static("\"stale\"");
    let path = dry(&format!("{}/activate", home.release(&v2)));
    let said = app
        .send_with_headers(
            Method::POST,
            &path,
            Some(&app.admin),
            &[("If-Match", stale)],
            None,
        )
        .await
        .expect(200);
    assert_eq!(said.body["blockers"][0]["status_code"], 412);

    // 403: production is protected, and a developer may not change it.
    let developer = app
        .mint(&home.org_id, json!({"name": "dev", "role": "developer"}))
        .await;
    let body = json!({"environment": "production", "release_id": v2});
    let said = app
        .send(
            Method::POST,
            &dry(&deployments(&home)),
            Some(&developer),
            Some(body.clone()),
        )
        .await
        .expect(200);
    let real = app
        .send(
            Method::POST,
            &deployments(&home),
            Some(&developer),
            Some(body),
        )
        .await;
    assert_envelope(&real, 403, "FORBIDDEN");
    assert_same_refusal(&said.body, &real);

    // 409 of a rollback with nowhere to go back to.
    let said = dry_run(&app, &home, Method::POST, &rollback(&home, "staging"), None).await;
    let real = app.act(&rollback(&home, "staging")).await;
    assert_same_refusal(&said, &real);
}

async fn a_release_rolled_back_before_is_worth_a_warning_and_the_diff_shows_why(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "pipeline").await;
    let v1 = app.cut_active(&home, "v1").await;
    app.add_endpoint(&home, "chat", "/chat", &augmentation)
        .await;
    let v2 = app.cut(&home, "v2").await;
    deploy(&app, &home, "production", &v2).await;
    app.post(
        &rollback(&home, "production"),
        json!({"reason": "errors spiked"}),
    )
    .await
    .expect(201);

    let body = json!({"environment": "production", "release_id": v2});
    let said = dry_run(&app, &home, Method::POST, &deployments(&home), Some(body)).await;
    let warning = &said["warnings"][0];
    assert_eq!(warning["code"], "rolled_back_before", "{said}");
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.starts_with("v2 (#2) was deployed to production for "),
        "{message}"
    );
    assert!(message.ends_with("(\"errors spiked\")"), "{message}");
    assert_eq!(
        (
            said["diff"]["from"]["release_id"].clone(),
            said["diff"]["to"]["release_id"].clone()
        ),
        (json!(v1), json!(v2))
    );
    assert_eq!(said["diff"]["endpoints"]["added"][0]["name"], "chat");

    // Without releases:read the diff is left out; the rest is told.
    let deployer = app
        .mint(
            &home.org_id,
            json!({"name": "ci", "permissions": ["releases:deploy"]}),
        )
        .await;
    let body = json!({"environment": "staging", "release_id": v2});
    let said = app
        .send(
            Method::POST,
            &dry(&deployments(&home)),
            Some(&deployer),
            Some(body),
        )
        .await
        .expect(200);
    assert_eq!(
        (said.body["allowed"].clone(), said.body["diff"].clone()),
        (json!(true), Value::Null)
    );

    // A cut that deploys nowhere is compared with the newest release.
    let said = dry_run(
        &app,
        &home,
        Method::POST,
        &home.releases(),
        Some(json!({"release_tag": "v3"})),
    )
    .await;
    assert_eq!(
        (
            said["environment"].clone(),
            said["diff"]["from"]["release_id"].clone()
        ),
        (Value::Null, json!(v2))
    );
    assert_eq!(said["warnings"][0]["code"], "same_content");
}

async fn a_malformed_flag_or_request_is_the_real_calls_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let before = everything(&app, &home).await;
    let reply = app
        .act(&format!("{}/archive?dry_run=yes", home.release(&v1)))
        .await;
    assert_one_issue(&reply, json!(["query", "dry_run"]), "bool_parsing");
    let missing = home.release("rel_01jqzzzzzzzzzzzzzzzzzzzzzz");
    let reply = app.act(&dry(&format!("{missing}/activate"))).await;
    assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    let reply = app
        .post(
            &dry(&deployments(&home)),
            json!({"environment": "nowhere", "release_id": v1}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let reply = app
        .post(&dry(&home.releases()), json!({"release_tag": ""}))
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    // dry_run=false is the real call.
    app.act(&format!("{}/archive?dry_run=false", home.release(&v1)))
        .await
        .expect(200);
    assert_ne!(everything(&app, &home).await, before);
}

on_every_backend!(
    every_write_has_a_dry_run_that_the_real_call_then_does,
    a_refused_dry_run_names_the_real_calls_refusal,
    a_release_rolled_back_before_is_worth_a_warning_and_the_diff_shows_why,
    a_malformed_flag_or_request_is_the_real_calls_error,
);
