//! The unauthenticated operational endpoints: liveness, readiness and metrics.

use crate::harness::{Backend, TestApp};
use reqwest::Method;

async fn probes_answer_without_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app
        .send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
    assert_eq!(health.body["status"], "ok");
    let ready = app
        .send(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    assert_eq!(ready.body["status"], "ready");
}

async fn metrics_count_requests_by_route_template_and_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = app.create_app().await;
    app.get(&path.path()).await.expect(200);
    app.get(&path.path()).await.expect(200);
    app.send(Method::GET, "/no/such/route", None, None)
        .await
        .expect(404);

    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let template = "/v1/orgs/{org_id}/workspaces/{workspace_id}/apps/{app_id}";
    assert!(
        text.contains(&format!(
            "cutover_http_requests_total{{method=\"GET\",route=\"{template}\",status=\"200\"}} 2"
        )),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(!text.contains(&path.app_id), "ids never become labels");
    assert!(text.contains("cutover_http_request_duration_seconds_bucket"));
}

on_every_backend!(
    probes_answer_without_a_token,
    metrics_count_requests_by_route_template_and_status,
);
