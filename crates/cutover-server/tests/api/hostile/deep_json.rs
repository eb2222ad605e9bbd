//! Finding 1: a deeply nested step `config` or `input_schema` once broke an app for
//! good (its next release could not be cut, read back or changed). Now a value deeper
//! than `--max-json-depth` is a 422, and a value at the limit goes through every
//! operation: stored, read back, snapshotted into releases, compared by the change
//! log, served, activated, archived, deleted.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};

/// `{"a": {"a": … {"a": 1}}}`, `depth` objects deep.
fn nested(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = json!({ "a": value });
    }
    value
}

fn augmentation_with_config(name: &str, config: Value) -> Value {
    json!({
        "name": name,
        "stages": [{"name": "s", "execution_mode": "sequential",
                    "steps": [{"name": "llm", "type": "inference", "config": config}]}]
    })
}

async fn values_deeper_than_the_limit_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentations = format!("{}/augmentations", home.path());
    let limit = cutover_domain::limits::Limits::default().max_json_depth;

    let refused = app
        .post(
            &augmentations,
            augmentation_with_config("deep", nested(limit + 1)),
        )
        .await
        .expect(422);
    let issue = &refused.body["detail"][0];
    assert_eq!(issue["type"], "json_too_deep");
    assert_eq!(
        issue["loc"],
        json!(["body", "stages", 0, "steps", 0, "config"])
    );
    assert_eq!(issue["ctx"]["max_depth"], limit);

    // The attack of the review: depth 127, just under the parser's own limit.
    let attack = app
        .post(
            &augmentations,
            augmentation_with_config("deeper", nested(127)),
        )
        .await;
    assert_eq!(attack.status, 422);
    assert!(
        serde_json::to_vec(&attack.body).unwrap().len() < 4096,
        "the refusal does not echo the value"
    );

    let aug = app.add_augmentation(&home, "fine").await;
    let endpoint = app
        .post(
            &format!("{}/endpoints", home.path()),
            json!({"name": "e", "path": "/e", "method": "POST", "augmentation_id": aug,
                   "input_schema": nested(limit + 1)}),
        )
        .await
        .expect(422);
    assert_eq!(
        endpoint.body["detail"][0]["loc"],
        json!(["body", "input_schema"])
    );
    let parameters = app
        .patch(&home.path(), json!({"parameters": nested(limit + 1)}))
        .await
        .expect(422);
    assert_eq!(
        parameters.body["detail"][0]["loc"],
        json!(["body", "parameters"])
    );

    let listed = app.get(&augmentations).await.expect(200);
    assert_eq!(listed.body["total"], 1, "nothing refused was stored");
}

async fn values_at_the_limit_go_through_every_operation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let limit = cutover_domain::limits::Limits::default().max_json_depth;
    let deep = nested(limit);
    // `config` is an object, so `nested(limit)` is exactly `limit` levels deep.
    let aug = app
        .post(
            &format!("{}/augmentations", home.path()),
            augmentation_with_config("deep", deep.clone()),
        )
        .await
        .expect(201)
        .str("augmentation_id");
    let endpoint = app
        .post(
            &format!("{}/endpoints", home.path()),
            json!({"name": "e", "path": "/e", "method": "POST", "augmentation_id": aug,
                   "input_schema": deep.clone()}),
        )
        .await
        .expect(201)
        .str("endpoint_id");
    app.patch(&home.path(), json!({"parameters": deep.clone()}))
        .await
        .expect(200);

    let v1 = app.cut_active(&home, "v1").await;
    let read = app.get(&home.release(&v1)).await.expect(200);
    assert_eq!(
        read.body["augmentations"][0]["stages"][0]["steps"][0]["config"],
        deep
    );
    assert_eq!(read.body["endpoints"][0]["input_schema"], deep);
    let active = app
        .get(&format!("{}/active", home.releases()))
        .await
        .expect(200);
    assert_eq!(active.body["release_id"], v1.as_str());

    // Change the deep value: the next cut compares the two releases and says so.
    app.patch(
        &format!("{}/endpoints/{endpoint}", home.path()),
        json!({"input_schema": nested(limit - 1)}),
    )
    .await
    .expect(200);
    let v2 = app
        .post(
            &home.releases(),
            json!({"release_tag": "v2", "activate": true}),
        )
        .await
        .expect(201);
    assert_eq!(
        v2.body["change_log"],
        "Changes since v1 (#1):\n~ changed endpoint \"e\" (POST /e): input_schema"
    );
    let v3 = app
        .post(&home.releases(), json!({"release_tag": "v3"}))
        .await
        .expect(201);
    assert_eq!(v3.body["change_log"], "No changes since v2 (#2)");

    app.act(&format!("{}/rollback", home.release(&v1)))
        .await
        .expect(200);
    app.act(&format!("{}/archive", home.release(&v3.str("release_id"))))
        .await
        .expect(200);
    app.delete(&home.release(&v3.str("release_id")))
        .await
        .expect(200);
    let app_read = app.get(&home.path()).await.expect(200);
    assert_eq!(app_read.body["parameters"], deep);
    // v2, the newest release left, holds what the draft holds.
    assert_eq!(app_read.body["draft_has_changes"], false);
}

async fn a_draft_cannot_grow_past_its_byte_limit(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, |config| config.limits.max_draft_bytes = 64 * 1024).await;
    let home = app.create_app().await;
    let augmentations = format!("{}/augmentations", home.path());
    let big = json!({"text": "x".repeat(20_000)});
    for name in ["a", "b", "c"] {
        app.post(&augmentations, augmentation_with_config(name, big.clone()))
            .await
            .expect(201);
    }
    let refused = app
        .post(&augmentations, augmentation_with_config("d", big.clone()))
        .await
        .expect(409);
    assert_eq!(refused.reason(), "draft_limit_reached");
    assert_eq!(refused.body["details"]["limit_bytes"], 64 * 1024);
    // Shrinking stays possible, and then there is room again.
    let listed = app.get(&augmentations).await.expect(200);
    let first = listed.body["augmentations"][0]["augmentation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("{augmentations}/{first}"), json!({"stages": []}))
        .await
        .expect(200);
    app.post(&augmentations, augmentation_with_config("d", big))
        .await
        .expect(201);
    let release = app
        .post(&home.releases(), json!({"release_tag": "v1"}))
        .await
        .expect(201);
    assert_eq!(release.body["augmentation_count"], 4);
}

on_every_backend!(
    values_deeper_than_the_limit_are_refused_and_change_nothing,
    values_at_the_limit_go_through_every_operation,
    a_draft_cannot_grow_past_its_byte_limit,
);
