//! The diff API over HTTP: a release against its previous one (by default), another
//! release named by id, number or tag, what an environment has, or the draft; the
//! draft against a release ("what would the next release change"); field by field,
//! with stages and steps by name; and a 422 for an `against` that names nothing.

use serde_json::{Value, json};

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::{assert_envelope, assert_one_issue};

fn release_diff(home: &AppPath, release: &str, against: Option<&str>) -> String {
    let query = against.map_or(String::new(), |a| format!("?against={a}"));
    format!("{}/diff{query}", home.release(release))
}

fn draft_diff(home: &AppPath, against: Option<&str>) -> String {
    let query = against.map_or(String::new(), |a| format!("?against={a}"));
    format!("{}/draft/diff{query}", home.path())
}

/// The `field`s of the first changed entity of `kind`.
fn changed_fields(diff: &Value, kind: &str) -> Vec<String> {
    diff[kind]["changed"][0]["fields"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_release_is_compared_field_by_field_with_what_against_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "rag").await;
    let ask = app.add_endpoint(&home, "ask", "/ask", &augmentation).await;
    let v1 = app.cut(&home, "v1").await;
    let endpoints = format!("{}/endpoints", home.path());
    app.patch(&format!("{endpoints}/{ask}"), json!({"name": "question"}))
        .await
        .expect(200);
    app.add_endpoint(&home, "status", "/status", &augmentation)
        .await;
    let stages = json!([{"name": "answer", "execution_mode": "sequential",
        "steps": [{"name": "llm", "type": "inference", "config": {"model": "bigger"}}]}]);
    app.patch(
        &format!("{}/augmentations/{augmentation}", home.path()),
        json!({"stages": stages}),
    )
    .await
    .expect(200);
    let v2 = app.cut(&home, "v2").await;

    let diff = app
        .get(&release_diff(&home, &v2, None))
        .await
        .expect(200)
        .body;
    assert_eq!(diff["from"]["release_id"], json!(v1));
    assert_eq!(diff["from"]["kind"], "release");
    assert_eq!(diff["to"]["release_tag"], "v2");
    assert_eq!(diff["identical"], false);
    assert_eq!(diff["endpoints"]["added"][0]["name"], "status");
    assert_eq!(diff["endpoints"]["changed"][0]["name"], "question");
    assert_eq!(
        diff["endpoints"]["changed"][0]["fields"],
        json!([{"field": "name", "old": "ask", "new": "question"}])
    );
    assert_eq!(
        changed_fields(&diff, "augmentations"),
        ["stages[answer].steps[llm].config"]
    );
    assert_eq!(
        diff["counts"],
        json!({"endpoints": {"added": 1, "removed": 0, "changed": 1},
               "augmentations": {"added": 0, "removed": 0, "changed": 1}})
    );
    for against in [v1.as_str(), "1", "v1"] {
        let same = app
            .get(&release_diff(&home, &v2, Some(against)))
            .await
            .expect(200);
        assert_eq!(same.body, diff, "against={against}");
    }

    // The first release has nothing before it: everything is added.
    let first = app
        .get(&release_diff(&home, &v1, None))
        .await
        .expect(200)
        .body;
    assert_eq!(first["from"]["kind"], "nothing");
    assert_eq!(first["counts"]["endpoints"]["added"], 1);
    assert_eq!(first["counts"]["augmentations"]["added"], 1);
    // Backwards, v1 against v2, reads the other way round.
    let back = app
        .get(&release_diff(&home, &v1, Some("v2")))
        .await
        .expect(200)
        .body;
    assert_eq!(back["endpoints"]["removed"][0]["name"], "status");
}

async fn the_draft_says_what_the_next_release_would_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "rag").await;
    let empty = app.get(&draft_diff(&home, None)).await.expect(200).body;
    assert_eq!(empty["from"]["kind"], "nothing");
    assert_eq!(empty["to"]["kind"], "draft");
    assert_eq!(empty["counts"]["augmentations"]["added"], 1);
    let v1 = app.cut(&home, "v1").await;
    let unchanged = app.get(&draft_diff(&home, None)).await.expect(200).body;
    assert_eq!(unchanged["identical"], true, "{unchanged}");
    assert_eq!(unchanged["from"]["release_id"], json!(v1));
    app.add_endpoint(&home, "ask", "/ask", &augmentation).await;
    let next = app.get(&draft_diff(&home, None)).await.expect(200).body;
    assert_eq!(next["counts"]["endpoints"]["added"], 1);
    // What the default environment has, and what another has.
    let refused = app.get(&draft_diff(&home, Some("active"))).await;
    assert_one_issue(&refused, json!(["query", "against"]), "value_error");
    app.act(&format!("{}/activate", home.release(&v1)))
        .await
        .expect(200);
    let against_live = app
        .get(&draft_diff(&home, Some("active")))
        .await
        .expect(200);
    assert_eq!(against_live.body["from"]["release_id"], json!(v1));
    let refused = app.get(&draft_diff(&home, Some("env:staging"))).await;
    assert_one_issue(&refused, json!(["query", "against"]), "value_error");
    let v1_in_staging = json!({"environment": "staging", "release_id": v1});
    app.post(&format!("{}/deployments", home.path()), v1_in_staging)
        .await
        .expect(201);
    let staging = app
        .get(&draft_diff(&home, Some("env:staging")))
        .await
        .expect(200);
    assert_eq!(staging.body, against_live.body);
    // A release against the draft is the draft diff turned round.
    let turned = app
        .get(&release_diff(&home, &v1, Some("draft")))
        .await
        .expect(200);
    assert_eq!(turned.body["endpoints"]["removed"][0]["name"], "ask");
}

async fn an_against_that_names_nothing_is_a_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    for against in [
        "v9",
        "9",
        "rel_7zzzzzzzzzzzzzzzzzzzzzzzzz",
        "rel_nope",
        "env:nowhere",
        "env:",
        &"x".repeat(65),
    ] {
        let refused = app.get(&release_diff(&home, &v1, Some(against))).await;
        assert_one_issue(&refused, json!(["query", "against"]), "value_error");
    }
    let missing = app
        .get(&release_diff(&home, "rel_7zzzzzzzzzzzzzzzzzzzzzzzzz", None))
        .await;
    assert_envelope(&missing, 404, "RESOURCE_NOT_FOUND");
}

on_every_backend!(
    a_release_is_compared_field_by_field_with_what_against_names,
    the_draft_says_what_the_next_release_would_change,
    an_against_that_names_nothing_is_a_422,
);
