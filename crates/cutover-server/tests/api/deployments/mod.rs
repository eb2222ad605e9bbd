//! Deployments over HTTP: deploy and promote (201 with `Location`, 200 when nothing
//! changes), the record's shape, rolling one environment back, paging the records,
//! and what each environment answers at `releases/active`. Who may deploy where,
//! what a deployment blocks and the refusals are in `rules`.

mod rules;

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::{assert_envelope, assert_fields, assert_issues, assert_timestamp};
use reqwest::Method;
use serde_json::{Value, json};

const RECORD_FIELDS: &[&str] = &[
    "deployment_id",
    "app_id",
    "environment_id",
    "environment_slug",
    "environment_name",
    "release_id",
    "release_tag",
    "release_number",
    "action",
    "previous_release_id",
    "reason",
    "deployed_by",
    "deployed_at",
];

pub(super) fn deployments(home: &AppPath) -> String {
    format!("{}/deployments", home.path())
}

pub(super) fn rollback(home: &AppPath, environment: &str) -> String {
    format!("{}/environments/{environment}/rollback", home.path())
}

/// Asks to deploy `release` to `environment` with `token`.
pub(super) fn deploy_as<'a>(
    app: &'a TestApp,
    home: &AppPath,
    token: &'a str,
    environment: &str,
    release: &str,
) -> impl std::future::Future<Output = crate::harness::Reply> + 'a {
    let (path, body) = (
        deployments(home),
        json!({"environment": environment, "release_id": release}),
    );
    async move { app.send(Method::POST, &path, Some(token), Some(body)).await }
}

/// Asks to cut a release with `body` using `token`.
pub(super) fn cut_as<'a>(
    app: &'a TestApp,
    home: &AppPath,
    token: &'a str,
    body: Value,
) -> impl std::future::Future<Output = crate::harness::Reply> + 'a {
    let path = home.releases();
    async move { app.send(Method::POST, &path, Some(token), Some(body)).await }
}

/// Deploys `release` to `environment` as the admin, answering the reply.
pub(super) async fn deploy(
    app: &TestApp,
    home: &AppPath,
    environment: &str,
    release: &str,
) -> Value {
    app.post(
        &deployments(home),
        json!({"environment": environment, "release_id": release}),
    )
    .await
    .expect(201)
    .body
}

async fn a_deploy_answers_its_record_and_a_repeat_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let reply = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "release_id": v1, "reason": "try it"}),
        )
        .await
        .expect(201);
    let record = &reply.body;
    assert_fields(record, RECORD_FIELDS);
    assert_eq!(record["action"], "deploy");
    assert_eq!(record["environment_slug"], "staging");
    assert_eq!(record["environment_name"], "Staging");
    assert_eq!(record["release_tag"], "v1");
    assert_eq!(record["release_number"], 1);
    assert_eq!(record["previous_release_id"], Value::Null);
    assert_eq!(record["reason"], "try it");
    assert_timestamp(record["deployed_at"].as_str().unwrap());
    let id = record["deployment_id"].as_str().unwrap();
    assert!(id.starts_with("dep_"));
    let location = reply.header("location").expect("a Location");
    assert_eq!(location, format!("{}/{id}", deployments(&home)));
    assert_eq!(app.get(location).await.expect(200).body, *record);

    let again = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "release_id": v1}),
        )
        .await
        .expect(200);
    assert_eq!(again.body, *record, "the record that put it there");
    let listed = app.get(&deployments(&home)).await.expect(200);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(listed.body["deployments"][0], *record);
    let release = app.get(&home.release(&v1)).await.expect(200);
    assert_eq!(release.body["status"], "active");
    assert_eq!(release.body["activated_at"], record["deployed_at"]);
    // Production has nothing: the seed's "active" is the default environment's.
    assert_envelope(
        &app.get(&format!("{}/active", home.releases())).await,
        404,
        "RESOURCE_NOT_FOUND",
    );
    let board = app
        .get(&format!("{}/environments", home.path()))
        .await
        .expect(200);
    assert_eq!(
        board.body["environments"][1]["release"]["release_id"],
        v1.as_str()
    );
    assert_eq!(
        board.body["environments"][1]["deployed_at"],
        record["deployed_at"]
    );
}

async fn a_promotion_carries_what_staging_has_to_production(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    deploy(&app, &home, "staging", &v1).await;
    let promoted = app
        .post(
            &deployments(&home),
            json!({"environment": "production", "from_environment": "staging"}),
        )
        .await
        .expect(201);
    assert_eq!(promoted.body["action"], "promote");
    assert_eq!(promoted.body["release_id"], v1.as_str());
    let active = app
        .get(&format!("{}/active", home.releases()))
        .await
        .expect(200);
    assert_eq!(active.body["release_id"], v1.as_str());
    let history = app
        .get(&format!("{}/activations", home.path()))
        .await
        .expect(200);
    assert_eq!(history.body["activations"][0]["action"], "activate");
    let empty = app
        .post(
            &deployments(&home),
            json!({"environment": "production", "from_environment": "development"}),
        )
        .await;
    let details = assert_envelope(&empty, 409, "CONFLICT");
    assert_eq!(details["reason"], "nothing_to_promote");
    assert_eq!(details["slug"], "development");
}

async fn each_environment_rolls_back_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let v2 = app.cut(&home, "v2").await;
    for environment in ["staging", "production"] {
        deploy(&app, &home, environment, &v1).await;
        deploy(&app, &home, environment, &v2).await;
    }
    let reply = app.act(&rollback(&home, "staging")).await.expect(201);
    assert_eq!(reply.body["action"], "rollback");
    assert_eq!(reply.body["release_id"], v1.as_str());
    assert_eq!(reply.body["previous_release_id"], v2.as_str());
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with(reply.body["deployment_id"].as_str().unwrap())
    );
    let active = app
        .get(&format!("{}/active", home.releases()))
        .await
        .expect(200);
    assert_eq!(
        active.body["release_id"],
        v2.as_str(),
        "production keeps v2"
    );
    let refused = app.act(&rollback(&home, "staging")).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "nothing_to_roll_back_to"
    );
    let refused = app.act(&rollback(&home, "development")).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "no_deployment"
    );
    let refused = app
        .post(&rollback(&home, "staging"), json!({"release_id": v2}))
        .await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "not_older_than_current"
    );
    let named = app
        .post(
            &rollback(&home, "production"),
            json!({"release_id": v1, "reason": "errors after v2"}),
        )
        .await
        .expect(201);
    assert_eq!(named.body["reason"], "errors after v2");
    // Both environments left v2: it is archived, and may now be deleted.
    assert_eq!(
        app.get(&home.release(&v2)).await.expect(200).body["status"],
        "archived"
    );
    app.delete(&home.release(&v2)).await.expect(200);
    let staging = app
        .get(&format!("{}?environment=staging", deployments(&home)))
        .await
        .expect(200);
    assert_eq!(staging.body["total"], 3, "records outlive the release");
}

async fn records_page_newest_first_and_cursors_keep_their_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let v2 = app.cut(&home, "v2").await;
    for (environment, release) in [("staging", &v1), ("development", &v1), ("staging", &v2)] {
        deploy(&app, &home, environment, release).await;
    }
    let first = app
        .get(&format!(
            "{}?environment=staging&limit=1",
            deployments(&home)
        ))
        .await
        .expect(200);
    assert_eq!(first.body["total"], 2);
    assert_eq!(first.body["deployments"][0]["release_id"], v2.as_str());
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(&format!(
            "{}?environment=staging&limit=1&cursor={cursor}",
            deployments(&home)
        ))
        .await
        .expect(200);
    assert_eq!(second.body["deployments"][0]["release_id"], v1.as_str());
    assert_eq!(second.body["has_more"], false);
    let crossed = app
        .get(&format!("{}?limit=1&cursor={cursor}", deployments(&home)))
        .await;
    assert_eq!(crossed.status, 422, "a cursor of another filter");
    assert_issues(&crossed);
}

async fn renaming_an_environment_moves_what_its_slug_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    deploy(&app, &home, "staging", &v1).await;
    let active = format!("{}/active", home.releases());
    app.get(&format!("{active}?environment=staging"))
        .await
        .expect(200);
    let environments = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    app.patch(&format!("{environments}/staging"), json!({"slug": "stage"}))
        .await
        .expect(200);
    let gone = app.get(&format!("{active}?environment=staging")).await;
    assert_eq!(
        assert_envelope(&gone, 404, "RESOURCE_NOT_FOUND")["resource_type"],
        "environment"
    );
    let moved = app
        .get(&format!("{active}?environment=stage"))
        .await
        .expect(200);
    assert_eq!(moved.body["release_id"], v1.as_str());
    // Making it the default moves the seed's "active" to it at once.
    app.patch(
        &format!("{environments}/stage"),
        json!({"is_default": true}),
    )
    .await
    .expect(200);
    let now = app.get(&active).await.expect(200);
    assert_eq!(now.body["release_id"], v1.as_str());
}

on_every_backend!(
    a_deploy_answers_its_record_and_a_repeat_changes_nothing,
    a_promotion_carries_what_staging_has_to_production,
    each_environment_rolls_back_alone,
    records_page_newest_first_and_cursors_keep_their_filter,
    renaming_an_environment_moves_what_its_slug_answers,
);
