//! The app timeline over HTTP: the platform's event shape, commits with their field
//! diffs (long values kept as their digest), release and deployment events, newest
//! first, the timeline's own `limit` bounds, and cursors that stay with their app.

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::{assert_envelope, assert_fields, assert_issues, assert_timestamp};
use serde_json::{Value, json};

fn timeline(home: &AppPath) -> String {
    format!("{}/timeline", home.path())
}

fn event_types(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["type"].as_str().expect("a type").to_owned())
        .collect()
}

async fn the_timeline_shows_commits_releases_and_deployments_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let rag = app.add_augmentation(&home, "rag").await;
    let chat = app.add_endpoint(&home, "chat", "/chat", &rag).await;
    app.patch(
        &format!("{}/endpoints/{chat}", home.path()),
        json!({"path": "/talk"}),
    )
    .await
    .expect(200);
    let v1 = app.cut_active(&home, "v1").await;

    let page = app.get(&timeline(&home)).await.expect(200);
    assert_fields(&page.body, &["events", "has_more", "next_cursor"]);
    assert_eq!(
        event_types(&page.body),
        ["deployment", "release", "commit", "commit", "commit"]
    );
    assert_eq!(page.body["has_more"], false);
    assert_eq!(page.body["next_cursor"], Value::Null);
    for event in page.body["events"].as_array().unwrap() {
        assert_fields(
            event,
            &["type", "timestamp", "commit", "release", "deployment"],
        );
        assert_timestamp(event["timestamp"].as_str().expect("a timestamp"));
        let kind = event["type"].as_str().unwrap();
        for key in ["commit", "release", "deployment"] {
            assert_eq!(event[key].is_null(), key != kind, "{kind}: {event}");
        }
    }
    let events = &page.body["events"];
    assert_eq!(events[0]["deployment"]["release_id"], v1.as_str());
    assert_eq!(events[0]["deployment"]["environment_slug"], "production");
    let release = &events[1]["release"];
    assert_eq!(
        (
            &release["release_id"],
            &release["action"],
            &release["status"]
        ),
        (&json!(v1), &json!("cut"), &json!("ready"))
    );
    let commit = &events[2]["commit"];
    assert_fields(commit, &["commit_id", "message", "author", "changes"]);
    assert!(commit["commit_id"].as_str().unwrap().starts_with("cmt_"));
    assert_eq!(commit["message"], "Update endpoint \"chat\": path");
    let change = &commit["changes"][0];
    assert_fields(
        change,
        &[
            "entity_type",
            "entity_id",
            "entity_name",
            "operation",
            "change_diff",
        ],
    );
    assert_eq!(
        (
            &change["entity_type"],
            &change["entity_id"],
            &change["operation"]
        ),
        (&json!("endpoint"), &json!(chat), &json!("update"))
    );
    assert_eq!(
        change["change_diff"],
        json!([{"field": "path", "old": "/chat", "new": "/talk"}])
    );
    let created = &events[4]["commit"]["changes"][0];
    assert_eq!(
        (&created["entity_type"], &created["operation"]),
        (&json!("augmentation"), &json!("create"))
    );

    let unknown = format!(
        "/v1/orgs/{}/workspaces/{}/apps/app_7zzzzzzzzzzzzzzzzzzzzzzzzz/timeline",
        home.org_id, home.workspace_id
    );
    assert_envelope(&app.get(&unknown).await, 404, "RESOURCE_NOT_FOUND");
}

async fn a_long_value_is_kept_as_its_digest_and_size(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let rag = app.add_augmentation(&home, "rag").await;
    let chat = app.add_endpoint(&home, "chat", "/chat", &rag).await;
    let properties: serde_json::Map<String, Value> = (0..200)
        .map(|index| (format!("field_{index}"), json!({"type": "string"})))
        .collect();
    let schema = json!({"type": "object", "properties": properties});
    app.patch(
        &format!("{}/endpoints/{chat}", home.path()),
        json!({"input_schema": schema}),
    )
    .await
    .expect(200);
    let page = app
        .get(&format!("{}?limit=1", timeline(&home)))
        .await
        .expect(200);
    let diff = &page.body["events"][0]["commit"]["changes"][0]["change_diff"][0];
    assert_eq!(diff["field"], "input_schema");
    assert_eq!(diff["old"], Value::Null);
    assert_fields(&diff["new"], &["sha256", "bytes"]);
    assert_eq!(diff["new"]["bytes"], schema.to_string().len());
    assert_eq!(diff["new"]["sha256"].as_str().map(str::len), Some(64));
}

async fn the_timeline_pages_by_its_own_limits_and_cursors_stay_with_their_app(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    for index in 0..23 {
        app.add_augmentation(&home, &format!("aug-{index}")).await;
    }
    let first = app.get(&timeline(&home)).await.expect(200);
    assert_eq!(
        first.body["events"].as_array().unwrap().len(),
        20,
        "20 by default"
    );
    assert_eq!(first.body["has_more"], true);
    let cursor = first.str("next_cursor");
    let rest = app
        .get(&format!("{}?cursor={cursor}", timeline(&home)))
        .await
        .expect(200);
    let names: Vec<&str> = rest.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            event["commit"]["changes"][0]["entity_name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["aug-2", "aug-1", "aug-0"]);
    assert_eq!(rest.body["has_more"], false);
    let all = app
        .get(&format!("{}?limit=100", timeline(&home)))
        .await
        .expect(200);
    assert_eq!(all.body["events"].as_array().unwrap().len(), 23);

    for bad in ["0", "101", "ten"] {
        let reply = app.get(&format!("{}?limit={bad}", timeline(&home))).await;
        let issues = assert_issues(&reply);
        assert_eq!(issues[0]["loc"], json!(["query", "limit"]), "limit={bad}");
    }
    let other = app
        .create_app_in(&home.org_id, &home.workspace_id, "other")
        .await;
    let crossed = app
        .get(&format!("{}?cursor={cursor}", timeline(&other)))
        .await;
    assert_eq!(
        assert_issues(&crossed)[0]["loc"],
        json!(["query", "cursor"])
    );
}

on_every_backend!(
    the_timeline_shows_commits_releases_and_deployments_newest_first,
    a_long_value_is_kept_as_its_digest_and_size,
    the_timeline_pages_by_its_own_limits_and_cursors_stay_with_their_app,
);
