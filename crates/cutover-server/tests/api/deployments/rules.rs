//! The rules around deployments over HTTP: who may change a protected environment
//! (developers ship to staging, production needs releases:activate), cutting straight
//! into an environment, what a deployed release blocks, and bad bodies (422 with the
//! field, 404 with what is missing), none of which changes anything.

use super::{cut_as, deploy, deploy_as, deployments, rollback};
use crate::harness::{Backend, TestApp};
use crate::shapes::{assert_envelope, assert_one_issue};
use reqwest::Method;
use serde_json::{Value, json};

async fn developers_ship_to_staging_and_operators_to_production(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let developer = app
        .mint(&home.org_id, json!({"name": "dev", "role": "developer"}))
        .await;
    let operator = app
        .mint(&home.org_id, json!({"name": "ops", "role": "operator"}))
        .await;
    let viewer = app
        .mint(&home.org_id, json!({"name": "view", "role": "viewer"}))
        .await;
    deploy_as(&app, &home, &developer, "staging", &v1)
        .await
        .expect(201);
    let refused = deploy_as(&app, &home, &developer, "production", &v1).await;
    let details = assert_envelope(&refused, 403, "FORBIDDEN");
    assert_eq!(details["required_permission"], "releases:activate");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("'production'")
    );
    let refused = deploy_as(&app, &home, &viewer, "staging", &v1).await;
    assert_eq!(
        assert_envelope(&refused, 403, "FORBIDDEN")["required_permission"],
        "releases:deploy"
    );
    deploy_as(&app, &home, &operator, "production", &v1)
        .await
        .expect(201);
    // Rolling production back is the operator's too.
    let v2 = app.cut(&home, "v2").await;
    deploy(&app, &home, "production", &v2).await;
    let refused = app
        .send(
            Method::POST,
            &rollback(&home, "production"),
            Some(&developer),
            None,
        )
        .await;
    assert_envelope(&refused, 403, "FORBIDDEN");
    app.send(
        Method::POST,
        &rollback(&home, "production"),
        Some(&operator),
        None,
    )
    .await
    .expect(201);
    // An environment made unprotected is the developer's.
    let environments = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    app.patch(
        &format!("{environments}/production"),
        json!({"protected": false}),
    )
    .await
    .expect(200);
    deploy_as(&app, &home, &developer, "production", &v2)
        .await
        .expect(201);
    // A token holding only releases:activate may deploy: it implies releases:deploy.
    let activator = app
        .mint(
            &home.org_id,
            json!({"name": "act", "permissions": ["releases:activate"]}),
        )
        .await;
    deploy_as(&app, &home, &activator, "development", &v1)
        .await
        .expect(201);
}

async fn a_deployed_release_stays_until_every_environment_lets_go(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    deploy(&app, &home, "staging", &v1).await;
    let refused = app.act(&format!("{}/archive", home.release(&v1))).await;
    let details = assert_envelope(&refused, 409, "CONFLICT");
    assert_eq!(details["reason"], "release_is_deployed");
    assert_eq!(details["environments"], json!(["staging"]));
    let refused = app.delete(&home.release(&v1)).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "release_is_deployed"
    );
    let environments = format!(
        "/v1/orgs/{}/workspaces/{}/environments",
        home.org_id, home.workspace_id
    );
    let refused = app.delete(&format!("{environments}/staging")).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "environment_has_deployments"
    );
    let refused = app.delete(&home.path()).await;
    assert_eq!(
        assert_envelope(&refused, 409, "CONFLICT")["reason"],
        "app_has_active_release"
    );
}

async fn a_release_can_be_cut_straight_into_an_environment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let developer = app
        .mint(&home.org_id, json!({"name": "dev", "role": "developer"}))
        .await;
    let cut = |body: Value| cut_as(&app, &home, &developer, body);
    let release = cut(json!({"release_tag": "v1", "activate": true, "environment": "staging"}))
        .await
        .expect(201);
    assert_eq!(release.body["status"], "active");
    let records = app.get(&deployments(&home)).await.expect(200);
    assert_eq!(
        records.body["deployments"][0]["environment_slug"],
        "staging"
    );
    // Into production (protected) a developer may not; nor activate as the seed does.
    for body in [
        json!({"release_tag": "v2", "activate": true, "environment": "production"}),
        json!({"release_tag": "v2", "activate": true}),
    ] {
        let refused = cut(body).await;
        assert_eq!(
            assert_envelope(&refused, 403, "FORBIDDEN")["required_permission"],
            "releases:activate"
        );
    }
    let tags = app.get(&home.releases()).await.expect(200);
    assert_eq!(tags.body["total"], 1, "a refused cut leaves nothing behind");
    let lone = app
        .post(
            &home.releases(),
            json!({"release_tag": "v2", "environment": "staging"}),
        )
        .await;
    assert_one_issue(&lone, json!(["body", "environment"]), "value_error");
}

async fn bad_deploy_bodies_are_refused_clearly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let both = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "release_id": v1, "from_environment": "development"}),
        )
        .await;
    assert_one_issue(&both, json!(["body", "from_environment"]), "value_error");
    let neither = app
        .post(&deployments(&home), json!({"environment": "staging"}))
        .await;
    assert_one_issue(&neither, json!(["body", "release_id"]), "missing");
    let slug = app
        .post(
            &deployments(&home),
            json!({"environment": "Not A Slug", "release_id": v1}),
        )
        .await;
    assert_one_issue(
        &slug,
        json!(["body", "environment"]),
        "string_pattern_mismatch",
    );
    let long = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "release_id": v1, "reason": "x".repeat(1001)}),
        )
        .await;
    assert_one_issue(&long, json!(["body", "reason"]), "string_too_long");
    let unknown = app
        .post(
            &deployments(&home),
            json!({"environment": "qa", "release_id": v1}),
        )
        .await;
    let issue = assert_one_issue(&unknown, json!(["body", "environment"]), "value_error");
    assert!(
        issue["msg"]
            .as_str()
            .unwrap()
            .contains("must name an environment"),
        "{issue}"
    );
    let absent = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "release_id": cutover_domain::ReleaseId::EXAMPLE}),
        )
        .await;
    assert_one_issue(&absent, json!(["body", "release_id"]), "value_error");
    let nowhere = app
        .post(
            &deployments(&home),
            json!({"environment": "staging", "from_environment": "qa"}),
        )
        .await;
    assert_one_issue(&nowhere, json!(["body", "from_environment"]), "value_error");
    let cut_nowhere = app
        .post(
            &home.releases(),
            json!({"release_tag": "v9", "activate": true, "environment": "qa"}),
        )
        .await;
    assert_one_issue(&cut_nowhere, json!(["body", "environment"]), "value_error");
    let no_record = app
        .get(&format!(
            "{}/{}",
            deployments(&home),
            cutover_domain::DeploymentId::EXAMPLE
        ))
        .await;
    assert_eq!(
        assert_envelope(&no_record, 404, "RESOURCE_NOT_FOUND")["resource_type"],
        "deployment"
    );
    // Nothing was recorded by any of them.
    assert_eq!(
        app.get(&deployments(&home)).await.expect(200).body["total"],
        0
    );
}

on_every_backend!(
    developers_ship_to_staging_and_operators_to_production,
    a_deployed_release_stays_until_every_environment_lets_go,
    a_release_can_be_cut_straight_into_an_environment,
    bad_deploy_bodies_are_refused_clearly,
);
