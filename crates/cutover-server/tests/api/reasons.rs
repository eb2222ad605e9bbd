//! Why a change was made, over HTTP: `reason` on activate, rollback and archive (in
//! the optional body) and on a release delete (`X-Cutover-Reason`, percent-decoded) is
//! kept, and shown in the deployment records, the activation history and the
//! timeline; a reason that breaks the rules is a 422 at its field or header and
//! changes nothing.

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::harness::{AppPath, Backend, Reply, TestApp};
use crate::shapes::assert_one_issue;

async fn delete_with_reason(app: &TestApp, home: &AppPath, release: &str, reason: &str) -> Reply {
    delete_with_raw_reason(app, home, release, reason.as_bytes()).await
}

async fn delete_with_raw_reason(
    app: &TestApp,
    home: &AppPath,
    release: &str,
    reason: &[u8],
) -> Reply {
    let reason = HeaderValue::from_bytes(reason).expect("a header value");
    let headers = [("X-Cutover-Reason", reason)];
    let path = home.release(release);
    app.send_with_headers(Method::DELETE, &path, Some(&app.admin), &headers, None)
        .await
}

/// The release events of the app's timeline, newest first: (action, reason).
async fn release_events(app: &TestApp, home: &AppPath) -> Vec<(String, Value)> {
    let page = app
        .get(&format!("{}/timeline?limit=100", home.path()))
        .await
        .expect(200);
    page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == "release")
        .map(|event| {
            let release = &event["release"];
            (
                release["action"].as_str().unwrap().to_owned(),
                release["reason"].clone(),
            )
        })
        .collect()
}

async fn every_change_keeps_why_it_was_made(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let (v1, v2, v3) = (
        app.cut(&home, "v1").await,
        app.cut(&home, "v2").await,
        app.cut(&home, "v3").await,
    );
    let activate = |release: &str| format!("{}/activate", home.release(release));
    app.post(&activate(&v1), json!({"reason": "first go-live"}))
        .await
        .expect(200);
    app.act(&activate(&v2)).await.expect(200);
    let back = format!("{}/rollback", home.release(&v1));
    app.post(&back, json!({"reason": "errors after v2"}))
        .await
        .expect(200);
    let history = app
        .get(&format!("{}/activations", home.path()))
        .await
        .expect(200);
    let reasons: Vec<_> = history.body["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!("first go-live"),
            Value::Null,
            json!("errors after v2")
        ]
    );
    let records = app
        .get(&format!("{}/deployments", home.path()))
        .await
        .expect(200);
    assert_eq!(records.body["deployments"][0]["reason"], "errors after v2");

    // Archive takes its reason in the body (no body still archives), delete in the
    // header, percent-decoded.
    let archive = format!("{}/archive", home.release(&v3));
    app.post(&archive, json!({"reason": "superseded by v4"}))
        .await
        .expect(200);
    let v4 = app.cut(&home, "v4").await;
    app.act(&format!("{}/archive", home.release(&v4)))
        .await
        .expect(200);
    delete_with_reason(&app, &home, &v3, "gone for good, caf%C3%A9 50% off")
        .await
        .expect(200);
    let events = release_events(&app, &home).await;
    let (cuts, changes): (Vec<_>, Vec<_>) =
        events.into_iter().partition(|(action, _)| action == "cut");
    assert_eq!(
        changes,
        [
            ("delete".to_owned(), json!("gone for good, café 50% off")),
            ("archive".to_owned(), Value::Null),
            ("archive".to_owned(), json!("superseded by v4")),
        ]
    );
    assert!(cuts.iter().all(|(_, reason)| reason.is_null()), "{cuts:?}");
}

async fn a_reason_that_breaks_the_rules_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let v1 = app.cut(&home, "v1").await;
    let too_long = "x".repeat(1001);
    let refused = delete_with_reason(&app, &home, &v1, &too_long).await;
    assert_one_issue(
        &refused,
        json!(["header", "X-Cutover-Reason"]),
        "string_too_long",
    );
    // Only visible ASCII travels as it is; a raw byte past it is refused.
    let refused = delete_with_raw_reason(&app, &home, &v1, b"caf\xe9").await;
    assert_one_issue(
        &refused,
        json!(["header", "X-Cutover-Reason"]),
        "value_error",
    );
    let archive = format!("{}/archive", home.release(&v1));
    let refused = app.post(&archive, json!({"reason": too_long})).await;
    assert_one_issue(&refused, json!(["body", "reason"]), "string_too_long");
    let activate = format!("{}/activate", home.release(&v1));
    let refused = app.post(&activate, json!({"reason": 7})).await;
    assert_one_issue(&refused, json!(["body", "reason"]), "string_type");
    let release = app.get(&home.release(&v1)).await.expect(200);
    assert_eq!(release.body["status"], "ready", "nothing changed");
    assert_eq!(release_events(&app, &home).await.len(), 1, "only the cut");
    // Escapes that are not UTF-8 are kept as they were sent.
    delete_with_reason(&app, &home, &v1, "bytes %FF%FE")
        .await
        .expect(200);
    let events = release_events(&app, &home).await;
    assert_eq!(events[0], ("delete".to_owned(), json!("bytes %FF%FE")));
}

on_every_backend!(
    every_change_keeps_why_it_was_made,
    a_reason_that_breaks_the_rules_changes_nothing,
);
