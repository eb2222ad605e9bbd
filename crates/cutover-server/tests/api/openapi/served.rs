//! The document against a running server: every documented route answers (and
//! others are 405), documented examples are accepted, answers have exactly the
//! documented keys, and the served document and docs page are the built ones.

use super::*;

/// `path` with every `{name}` replaced by a well-formed id from `ids`.
fn concrete(path: &str, ids: &BTreeMap<&str, String>) -> String {
    ids.iter().fold(path.to_owned(), |path, (name, id)| {
        path.replace(&format!("{{{name}}}"), id)
    })
}

async fn every_documented_route_answers_and_others_are_405(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids: BTreeMap<&str, String> = [
        ("org_id", OrgId::EXAMPLE),
        ("workspace_id", WorkspaceId::EXAMPLE),
        ("app_id", AppId::EXAMPLE),
        ("endpoint_id", EndpointId::EXAMPLE),
        ("augmentation_id", AugmentationId::EXAMPLE),
        ("release_id", ReleaseId::EXAMPLE),
        ("token_id", TokenId::EXAMPLE),
        ("deployment_id", DeploymentId::EXAMPLE),
    ]
    .into_iter()
    .map(|(name, id)| (name, id.to_owned()))
    .collect();
    let doc = document();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = concrete(template, &ids);
        let methods: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        for method in &methods {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let reply = app
                .send(method.clone(), &path, Some(&app.admin), None)
                .await;
            assert_ne!(reply.status, 405, "{method} {template}");
            assert_ne!(
                reply.body["details"]["resource_type"], "route",
                "{method} {template}"
            );
        }
        let reply = app.send(Method::PUT, &path, Some(&app.admin), None).await;
        assert_eq!(reply.status, 405, "PUT {template}");
        let mut expected: BTreeSet<String> = methods.iter().cloned().collect();
        if expected.contains("GET") {
            expected.insert("HEAD".into());
        }
        let allowed: BTreeSet<String> = reply
            .header("allow")
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        assert_eq!(allowed, expected, "{template}");
    }
}

async fn documented_request_examples_are_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentation = app.add_augmentation(&home, "rag").await;
    let endpoint = app.add_endpoint(&home, "ask", "/ask", &augmentation).await;
    // Staging has had two releases, so the rollback example has one to go back to
    // once the deploy example has put a third there.
    let deployments = format!("{}/deployments", home.path());
    let mut deployment_id = String::new();
    for tag in ["v0", "v1"] {
        let release = app.cut(&home, tag).await;
        deployment_id = app
            .post(
                &deployments,
                json!({"environment": "staging", "release_id": release}),
            )
            .await
            .expect(201)
            .str("deployment_id");
    }
    let third = app.cut(&home, "v2").await;
    let ids: BTreeMap<&str, String> = [
        ("org_id", home.org_id.clone()),
        ("workspace_id", home.workspace_id.clone()),
        ("app_id", home.app_id.clone()),
        ("endpoint_id", endpoint),
        ("augmentation_id", augmentation.clone()),
        ("environment", "staging".to_owned()),
        ("deployment_id", deployment_id),
        ("release_id", third.clone()),
    ]
    .into_iter()
    .collect();
    let doc = document();
    let mut tried = 0;
    for (template, method, operation) in operations(&doc) {
        let Some(body) = operation.get("requestBody") else {
            continue;
        };
        let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
        let example = schema["examples"][0].to_string();
        assert_ne!(example, "null", "{template} has no example");
        let example = example
            .replace(AugmentationId::EXAMPLE, &augmentation)
            .replace(WorkspaceId::EXAMPLE, &home.workspace_id)
            .replace(ReleaseId::EXAMPLE, &third);
        let body: Value = serde_json::from_str(&example).unwrap();
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let path = concrete(&template, &ids);
        let reply = app
            .send(method.clone(), &path, Some(&app.admin), Some(body))
            .await;
        // Activate answers 200 (it makes no resource); the archive and rollback
        // examples are accepted and then refused by the lifecycle, since the path's
        // release is the one the activate example (which runs first) made active.
        let expected = match operation["operationId"].as_str() {
            Some("releases_activate") => 200,
            Some("releases_archive" | "releases_rollback") => 409,
            _ if method == Method::POST => 201,
            _ => 200,
        };
        assert_eq!(
            reply.status, expected,
            "{method} {template}: {}",
            reply.body
        );
        assert_shape(&doc, &operation, &reply, &format!("{method} {template}"));
        tried += 1;
    }
    assert_eq!(tried, 17, "every create and update body has an example");

    // Every read answers exactly the documented keys (lists are built as JSON).
    let release = app.cut(&home, "v9").await;
    let ids: BTreeMap<&str, String> = ids.into_iter().chain([("release_id", release)]).collect();
    for (template, method, operation) in operations(&doc) {
        if method != "GET" || !template.starts_with("/v1/") {
            continue;
        }
        // The activate example made a release active, so `…/active` answers it too.
        let reply = app.get(&concrete(&template, &ids)).await;
        assert_eq!(reply.status, 200, "GET {template}: {}", reply.body);
        assert_shape(&doc, &operation, &reply, &format!("GET {template}"));
    }
}

/// The top-level keys a schema documents (through `$ref` and `allOf`).
fn documented_keys(doc: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = resolve(doc, schema);
    let mut keys: BTreeSet<String> = schema["properties"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.keys().cloned())
        .collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        keys.extend(documented_keys(doc, part));
    }
    keys
}

/// Asserts that `reply` has exactly the keys its documented success schema lists (or
/// one of its `oneOf` schemas: a write's answer, or its dry run's).
fn assert_shape(doc: &Value, operation: &Value, reply: &crate::harness::Reply, what: &str) {
    let response = resolve(doc, &operation["responses"][reply.status.to_string()]);
    let schema = &response["content"]["application/json"]["schema"];
    let sent: BTreeSet<String> = reply.body.as_object().unwrap().keys().cloned().collect();
    let Some(either) = schema["oneOf"].as_array() else {
        assert_eq!(sent, documented_keys(doc, schema), "{what}");
        return;
    };
    let documented: Vec<BTreeSet<String>> =
        either.iter().map(|one| documented_keys(doc, one)).collect();
    assert!(
        documented.contains(&sent),
        "{what}: {sent:?} is none of {documented:?}"
    );
}

on_every_backend!(
    every_documented_route_answers_and_others_are_405,
    documented_request_examples_are_accepted,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_the_generated_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), document_json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_and_its_assets_load_from_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/docs/");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("//cdn") && !html.contains("https://"),
        "no CDN: {html}"
    );
    let assets: Vec<&str> = regex::Regex::new(r#"(?:src|href)="\./([^"]+)""#)
        .unwrap()
        .captures_iter(&html)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    for wanted in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(assets.contains(&wanted), "{wanted} in {assets:?}");
    }
    for asset in assets {
        let reply = app
            .client
            .get(format!("{}/docs/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{asset}");
        let kind = reply.headers()["content-type"].to_str().unwrap().to_owned();
        let body = reply.text().await.unwrap();
        assert!(!body.is_empty(), "{asset}");
        if asset.ends_with(".js") {
            assert!(kind.contains("javascript"), "{asset}: {kind}");
        } else if asset.ends_with(".css") {
            assert!(kind.starts_with("text/css"), "{asset}: {kind}");
        }
        if asset == "swagger-initializer.js" {
            assert!(body.contains("/openapi.json"), "{body}");
        }
    }
    let missing = app
        .send(Method::GET, "/docs/no-such-asset.js", None, None)
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"], "RESOURCE_NOT_FOUND");
    let wrong = app.send(Method::POST, "/docs/", None, None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.body["error"], "METHOD_NOT_ALLOWED");
}
