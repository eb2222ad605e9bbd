//! Regressions from contract fuzzing (`scripts/contract-fuzz/run`, schemathesis
//! against `/openapi.json`): each test pins one behaviour the fuzzer found wrong,
//! fixed so that what the document promises and what the server does agree. The
//! document's links, which the fuzzer's stateful phase follows, are checked here too.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::{Backend, TestApp};
use crate::shapes::assert_one_issue;
use cutover_domain::Timestamp;
use cutover_server::openapi::document_json;
use reqwest::Method;
use serde_json::{Value, json};

fn augmentation_with_step(step: Value) -> Value {
    json!({"name": "rag", "stages": [{"name": "s", "steps": [step]}]})
}

/// JSON Schema counts `30.0` as an integer, and so does Pydantic: whole floats are
/// accepted where integers are expected; a fraction is `int_from_float`.
async fn whole_floats_count_as_integers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentations = format!("{}/augmentations", home.path());
    let created = app
        .post(
            &augmentations,
            augmentation_with_step(json!({"name": "llm", "type": "inference",
                "timeout_seconds": 30.0, "max_retries": 2.0})),
        )
        .await
        .expect(201);
    let step = &created.body["stages"][0]["steps"][0];
    assert_eq!(step["timeout_seconds"], json!(30));
    assert_eq!(step["max_retries"], json!(2));
    let refused = app
        .post(
            &augmentations,
            augmentation_with_step(json!({"name": "llm", "type": "inference",
                "timeout_seconds": 2.5})),
        )
        .await
        .expect(422);
    let loc = json!(["body", "stages", 0, "steps", 0, "timeout_seconds"]);
    assert_one_issue(&refused, loc.clone(), "int_from_float");
    let above = app
        .post(
            &augmentations,
            augmentation_with_step(json!({"name": "llm", "type": "inference",
                "timeout_seconds": 1e30})),
        )
        .await
        .expect(422);
    assert_one_issue(&above, loc, "less_than_equal");
}

/// Query values are read as the document's types serialize: `include_archived` is
/// `true` or `false`, `limit` plain digits. Pydantic's looser spellings (`yes`, `1`,
/// ` 5`, `+5`) were accepted although the document never offered them.
async fn query_values_are_read_strictly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let releases = home.releases();
    for flag in ["true", "false"] {
        app.get(&format!("{releases}?include_archived={flag}"))
            .await
            .expect(200);
    }
    for flag in ["yes", "1", "on", "True", "t", ""] {
        let reply = app
            .get(&format!("{releases}?include_archived={flag}"))
            .await
            .expect(422);
        assert_one_issue(&reply, json!(["query", "include_archived"]), "bool_parsing");
    }
    app.get(&format!("{releases}?limit=5")).await.expect(200);
    for limit in ["%205", "5%20", "%2B5", "5.0", "1e2", ""] {
        let reply = app
            .get(&format!("{releases}?limit={limit}"))
            .await
            .expect(422);
        assert_one_issue(&reply, json!(["query", "limit"]), "int_parsing");
    }
}

/// Any RFC 3339 `expires_at` is accepted, as the document's `date-time` says; one in
/// the past makes a token that is expired from the start.
async fn a_past_expiry_makes_a_token_that_is_already_expired(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let past = Timestamp::now().plus_seconds(-60);
    let created = app
        .post(
            &format!("/v1/orgs/{}/tokens", home.org_id),
            json!({"name": "late", "role": "viewer", "expires_at": past.to_string()}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["expires_at"], past.to_string());
    let secret = created.str("token");
    let org = format!("/v1/orgs/{}", home.org_id);
    app.send(Method::GET, &org, Some(&secret), None)
        .await
        .expect(401);
}

/// A token for an org that does not exist is 404, also when the body names
/// workspaces (it was a 422 saying the workspaces were not the org's).
async fn minting_in_an_unknown_org_is_404_whatever_the_body_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unknown_org = "org_06g2x0d1q8v3k5m7n9p4r6t8w0";
    let unknown_ws = "ws_06g2x0d1q8v3k5m7n9p4r6t8w0";
    for body in [
        json!({"name": "ci", "role": "viewer"}),
        json!({"name": "ci", "role": "viewer", "workspace_ids": [unknown_ws]}),
    ] {
        let reply = app
            .post(&format!("/v1/orgs/{unknown_org}/tokens"), body)
            .await
            .expect(404);
        assert_eq!(reply.body["details"]["resource_type"], "org");
    }
}

on_every_backend!(
    whole_floats_count_as_integers,
    query_values_are_read_strictly,
    a_past_expiry_makes_a_token_that_is_already_expired,
    minting_in_an_unknown_org_is_404_whatever_the_body_names,
);

/// operationId → (path parameter names, answers with links).
fn operations(doc: &Value) -> BTreeMap<String, (BTreeSet<String>, Value)> {
    let mut all = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for operation in item.as_object().unwrap().values() {
            let params = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            let id = operation["operationId"].as_str().unwrap().to_owned();
            all.insert(id, (params, operation["responses"].clone()));
        }
    }
    all
}

#[test]
fn every_link_names_an_operation_and_fills_all_its_path_parameters() {
    let doc: Value = serde_json::from_str(&document_json()).unwrap();
    let operations = operations(&doc);
    let mut count = 0;
    for (source, (source_params, responses)) in &operations {
        for (status, response) in responses.as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                count += 1;
                let target = link["operationId"].as_str().unwrap();
                let (target_params, _) = operations
                    .get(target)
                    .unwrap_or_else(|| panic!("{source} {status} {name}: no {target}"));
                let given: BTreeSet<String> = link["parameters"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                assert_eq!(&given, target_params, "{source} {status} {name}");
                for expression in link["parameters"].as_object().unwrap().values() {
                    let expression = expression.as_str().unwrap();
                    if let Some(param) = expression.strip_prefix("$request.path.") {
                        assert!(source_params.contains(param), "{source} {name}");
                    } else {
                        assert!(expression.starts_with("$response.body#/"), "{expression}");
                    }
                }
            }
        }
    }
    assert!(count >= 40, "only {count} links");
}

#[test]
fn links_chain_a_release_from_create_to_delete_and_the_tree_down_to_it() {
    let doc: Value = serde_json::from_str(&document_json()).unwrap();
    let operations = operations(&doc);
    let linked = |source: &str, target: &str| {
        operations[source]
            .1
            .as_object()
            .unwrap()
            .values()
            .flat_map(|response| response["links"].as_object().into_iter().flatten())
            .any(|(_, link)| link["operationId"] == target)
    };
    let chains = [
        [
            "orgs_create",
            "workspaces_create",
            "apps_create",
            "augmentations_create",
        ],
        [
            "augmentations_create",
            "endpoints_create",
            "releases_create",
            "releases_get",
        ],
        [
            "releases_get",
            "releases_activate",
            "releases_rollback",
            "releases_archive",
        ],
    ];
    for chain in chains {
        for pair in chain.windows(2) {
            assert!(linked(pair[0], pair[1]), "{} → {}", pair[0], pair[1]);
        }
    }
    assert!(linked("releases_archive", "releases_delete"));
    // The endpoint link hands over the augmentation it needs.
    let create_endpoint =
        operations["augmentations_create"].1["201"]["links"]["CreateEndpoint"].clone();
    assert_eq!(
        create_endpoint["requestBody"]["augmentation_id"],
        "$response.body#/augmentation_id"
    );
}
