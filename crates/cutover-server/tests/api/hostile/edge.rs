//! The HTTP edge under hostile input (issue 12, findings 4, 5, 6 and 10): 422
//! answers stay small whatever the body, list lengths are refused before their items
//! are read, `/metrics` keeps a closed label set, and oversized request heads get
//! our envelope where hyper lets them reach us.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{AppPath, Backend, TestApp};
use crate::shapes::assert_envelope;

const MIB: usize = 1024 * 1024;
const MAX_ANSWER: usize = 64 * 1024;

/// An answer with its exact bytes.
struct RawReply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl RawReply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).expect("a JSON answer")
    }
}

async fn post_bytes(app: &TestApp, path: &str, body: String) -> RawReply {
    assert!(
        body.len() <= MIB,
        "{} bytes: over the body limit",
        body.len()
    );
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.admin)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    RawReply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("body").to_vec(),
    }
}

/// `{"name": "x", <key>: [item, item, …]}` as large as fits in `bytes`.
fn filled_list(prefix: &str, item: &str, bytes: usize) -> String {
    let mut body = String::with_capacity(bytes);
    body.push_str(prefix);
    body.push('[');
    while body.len() + item.len() + 3 < bytes {
        if !body.ends_with('[') {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("]}");
    body
}

/// 50 stages of 50 steps (the most the parser reads), each step `step`, and every
/// stage without its name and with a wrong execution mode.
fn full_pipeline(step: &str) -> String {
    let steps = vec![step; 50].join(",");
    let stage = format!(r#"{{"execution_mode":"sideways","steps":[{steps}]}}"#);
    let stages = vec![stage.as_str(); 50].join(",");
    format!(r#"{{"name":"x","stages":[{stages}]}}"#)
}

/// Bodies as hostile as fit within the 1 MiB limit: what each is, where it goes, and
/// the body.
fn worst_bodies(app: &AppPath) -> Vec<(&'static str, String, String)> {
    let augmentations = format!("{}/augmentations", app.path());
    let tokens = format!("/v1/orgs/{}/tokens", app.org_id);
    // Fifteen escaped control characters: text no name may hold, 90 bytes of JSON.
    let long = "\\u0001".repeat(15);
    vec![
        (
            "1 MiB of empty stages",
            augmentations.clone(),
            filled_list(r#"{"name":"x","stages":"#, "{}", MIB),
        ),
        (
            "1 MiB of one-member objects as stages",
            augmentations.clone(),
            filled_list(r#"{"name":"x","stages":"#, r#"{"a":0}"#, MIB),
        ),
        (
            "1 MiB of one-member objects in a step config",
            augmentations.clone(),
            filled_list(
                r#"{"name":"x","stages":[{"name":"s","steps":[{"name":"n","type":"inference","config":{"a":"#,
                r#"{"b":0}"#,
                MIB - 10,
            )
            .replacen("]}", "]}}]}]}", 1),
        ),
        (
            "1 MiB of tags that are not strings",
            augmentations.clone(),
            filled_list(r#"{"name":"x","tags":"#, "[]", MIB),
        ),
        (
            "2,500 empty steps",
            augmentations.clone(),
            full_pipeline("{}"),
        ),
        (
            "2,500 steps with every field wrong and long",
            augmentations.clone(),
            full_pipeline(&format!(
                r#"{{"name":"{long}","type":"{long}","config":[],"timeout_seconds":0.5,"max_retries":"{long}"}}"#
            )),
        ),
        (
            "a step config nested as deep as JSON parses, and a long name",
            augmentations.clone(),
            format!(
                r#"{{"name":"{}","stages":[{{"name":"s","steps":[{{"name":"n","type":"inference","config":{}1{}}}]}}]}}"#,
                "n".repeat(MIB / 2),
                "[".repeat(120),
                "]".repeat(120)
            ),
        ),
        (
            "1 MiB of unknown fields and no name",
            augmentations.clone(),
            {
                let mut body = String::from("{");
                let mut index = 0;
                while body.len() < MIB - 40 {
                    body.push_str(&format!(r#""field{index}":0,"#));
                    index += 1;
                }
                body.push_str(r#""last":0}"#);
                body
            },
        ),
        (
            "31,500 workspace ids",
            tokens.clone(),
            filled_list(
                r#"{"name":"t","role":"viewer","workspace_ids":"#,
                r#""ws_00000000000000000000000000""#,
                MIB,
            ),
        ),
        (
            "100 unknown permission words, each long",
            tokens.clone(),
            format!(
                r#"{{"name":"t","permissions":[{}]}}"#,
                (0..100)
                    .map(|i| format!(r#""{i}{}""#, "p".repeat(5_000)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
    ]
}

/// Finding 4: whatever the body, a 422 lists at most 50 problems in at most 64 KiB,
/// each echoing a bounded input, and says when it left some out; nothing is stored.
async fn validation_answers_stay_small_for_the_worst_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens_before = app
        .get(&format!("/v1/orgs/{}/tokens", home.org_id))
        .await
        .expect(200)
        .body["total"]
        .clone();
    for (what, path, body) in worst_bodies(&home) {
        let reply = post_bytes(&app, &path, body).await;
        assert_eq!(
            reply.status,
            422,
            "{what}: {}",
            String::from_utf8_lossy(&reply.bytes)
        );
        assert!(reply.headers.contains_key("x-request-id"), "{what}");
        assert!(
            reply.bytes.len() <= MAX_ANSWER,
            "{what}: a {} byte answer",
            reply.bytes.len()
        );
        let answer = reply.json();
        let detail = answer["detail"].as_array().expect("detail");
        assert!(
            !detail.is_empty() && detail.len() <= 50,
            "{what}: {}",
            detail.len()
        );
        for entry in detail {
            let input = serde_json::to_vec(&entry["input"]).unwrap();
            assert!(input.len() <= 256, "{what}: input of {} bytes", input.len());
        }
        let last = detail.last().unwrap();
        if last["type"] == "too_many_errors" {
            let total = last["ctx"]["total"].as_u64().unwrap();
            let listed = last["ctx"]["listed"].as_u64().unwrap();
            assert_eq!(listed as usize, detail.len() - 1, "{what}");
            assert!(total > listed, "{what}");
        }
    }
    let listed = app
        .get(&format!("{}/augmentations", home.path()))
        .await
        .expect(200);
    assert_eq!(listed.body["total"], 0, "nothing was stored");
    let tokens_after = app
        .get(&format!("/v1/orgs/{}/tokens", home.org_id))
        .await
        .expect(200);
    assert_eq!(tokens_after.body["total"], tokens_before);
}

/// A list over its maximum is one `too_long` problem for the list, never one per
/// item; and one problem too many is said in a last entry.
async fn long_lists_are_one_problem_and_extra_problems_are_counted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let augmentations = format!("{}/augmentations", home.path());
    // 256 KiB of empty stages (1 MiB of them is refused as too dense to parse).
    let stages = post_bytes(
        &app,
        &augmentations,
        filled_list(r#"{"name":"x","stages":"#, "{}", MIB / 4),
    )
    .await;
    let detail = stages.json()["detail"].as_array().unwrap().clone();
    assert_eq!(detail.len(), 1, "{detail:?}");
    assert_eq!(detail[0]["type"], "too_long");
    assert_eq!(detail[0]["loc"], json!(["body", "stages"]));
    assert_eq!(detail[0]["ctx"]["max_length"], 50);
    let actual = detail[0]["ctx"]["actual_length"].as_u64().unwrap();
    assert!(actual > 80_000, "{actual}");
    assert_eq!(
        detail[0]["input"],
        json!({"truncated": "array", "length": actual})
    );

    // 51 steps in a stage, 51 tags: over their maximums (50) by one.
    let step = json!({"name": "s", "type": "inference"});
    let over = json!({"name": "x", "tags": vec!["t"; 51],
        "stages": [{"name": "s", "steps": vec![step.clone(); 51]}]});
    let reply = app.post(&augmentations, over).await;
    let kinds: Vec<(Value, Value)> = reply.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["loc"].clone(), e["type"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!(["body", "stages", 0, "steps"]), json!("too_long")),
            (json!(["body", "tags"]), json!("too_long")),
        ]
    );
    // Exactly at the maximums, it is accepted.
    let at_most = json!({"name": "x", "tags": vec!["t"; 50],
        "stages": vec![json!({"name": "s", "steps": vec![step; 50]}); 50]});
    app.post(&augmentations, at_most).await.expect(201);

    // 51 problems (26 and 25 steps of an unknown type): 49 listed, then the count.
    let bad_steps = |count: usize| vec![json!({"name": "s", "type": "nope"}); count];
    let many = json!({"name": "y", "stages": [
        {"name": "a", "steps": bad_steps(26)}, {"name": "b", "steps": bad_steps(25)}]});
    let reply = app.post(&augmentations, many).await.expect(422);
    let detail = reply.body["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 50);
    assert!(detail[..49].iter().all(|e| e["type"] == "enum"));
    assert_eq!(detail[49]["type"], "too_many_errors");
    assert_eq!(detail[49]["loc"], json!(["body"]));
    assert_eq!(detail[49]["ctx"], json!({"listed": 49, "total": 51}));
}

/// Finding 6: `workspace_ids` and `permissions` are capped (100) and de-duplicated
/// with a set: 31,500 ids are refused at once, repeats are kept once.
async fn token_lists_are_capped_and_deduplicated_in_linear_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let tokens = format!("/v1/orgs/{}/tokens", home.org_id);
    let body = filled_list(
        r#"{"name":"t","role":"viewer","workspace_ids":"#,
        &format!(r#""{}""#, home.workspace_id),
        MIB,
    );
    let started = Instant::now();
    let reply = post_bytes(&app, &tokens, body).await;
    let took = started.elapsed();
    assert_eq!(reply.status, 422);
    let detail = reply.json()["detail"].as_array().unwrap().clone();
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0]["loc"], json!(["body", "workspace_ids"]));
    assert_eq!(detail[0]["ctx"]["max_length"], 100);
    // Generous: the point is that it is not seconds of quadratic work.
    assert!(took < Duration::from_secs(5), "{took:?}");

    let words = vec!["releases:read"; 150];
    let reply = app
        .post(&tokens, json!({"name": "t", "permissions": words}))
        .await;
    let detail = reply.expect(422).body["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["body", "permissions"]));
    assert_eq!(detail[0]["type"], "too_long");

    // Within the caps, repeats count once.
    let created = app
        .post(
            &tokens,
            json!({"name": "t", "permissions": vec!["releases:read"; 100],
                   "workspace_ids": vec![home.workspace_id.as_str(); 100]}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["permissions"], json!(["releases:read"]));
    assert_eq!(created.body["workspace_ids"], json!([home.workspace_id]));
}

/// Sends `request` on a fresh connection and reads until the server closes it.
async fn raw_exchange(app: &TestApp, request: String) -> String {
    let address = app.base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .expect("exchange")
}

/// The request series (labelled by method, route and status); every other series
/// has no labels at all, which this checks on the way.
fn metric_lines(text: &str) -> Vec<&str> {
    let series = text.lines().filter(|line| !line.starts_with('#'));
    let (requests, others): (Vec<&str>, Vec<&str>) =
        series.partition(|line| line.starts_with("cutover_http_"));
    for line in others {
        assert!(!line.contains('{'), "a series with labels: {line}");
    }
    requests
}

/// Finding 5: made-up methods and paths (unauthenticated) do not add series: every
/// method label is a standard method or `OTHER`, unknown paths share one route.
async fn metrics_labels_come_from_a_closed_set(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let read = || async {
        let reply = app
            .send(Method::GET, "/metrics", None, None)
            .await
            .expect(200);
        reply.body.as_str().unwrap_or_default().to_owned()
    };
    // One request of each kind first, so their series exist.
    for method in ["BREW", "GET"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.send(method.clone(), "/nowhere", None, None).await;
        app.send(method, &home.path(), None, None).await;
    }
    let before = metric_lines(&read().await).len();
    for index in 0..300u32 {
        let method = Method::from_bytes(format!("M{}", index * 7919 % 100_003).as_bytes()).unwrap();
        let path = match index % 3 {
            0 => format!("/x{index}/{}", index * 31),
            1 => format!("{}/releases/rel_{index}", home.path()),
            _ => home.path(),
        };
        let reply = app.send(method, &path, None, None).await;
        assert!(matches!(reply.status, 401 | 404 | 405), "{}", reply.status);
    }
    let text = read().await;
    let after = metric_lines(&text);
    // The release route, and 401 beside 404/405, may add a few series; never 300.
    assert!(
        after.len() <= before + 60,
        "{before} lines before, {} after",
        after.len()
    );
    let allowed = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "OTHER",
    ];
    for line in &after {
        let method = line
            .split("method=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no method label: {line}"));
        assert!(allowed.contains(&method), "{line}");
        assert!(!line.contains("/x1"), "a raw path became a label: {line}");
        assert!(!line.contains("rel_1"), "an id became a label: {line}");
    }
}

/// Finding 10: a request target over 8 KiB, or header fields over 32 KiB, get our
/// envelope with a request id; past hyper's own limits (a 64 KiB target, 100 fields)
/// hyper answers bare, and the server goes on serving.
async fn oversized_request_heads_are_refused_in_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let long_query = format!("/healthz?pad={}", "q".repeat(9 * 1024));
    let reply = app.send(Method::GET, &long_query, None, None).await;
    let details = assert_envelope(&reply, 414, "URI_TOO_LONG");
    assert_eq!(details["limit_bytes"], 8 * 1024);
    let long_path = format!("/v1/orgs/{}", "o".repeat(9 * 1024));
    let reply = app
        .send(Method::GET, &long_path, Some(&app.admin), None)
        .await;
    assert_envelope(&reply, 414, "URI_TOO_LONG");

    let big = "h".repeat(8 * 1024);
    let mut request = app.client.get(format!("{}/healthz", app.base));
    for index in 0..5 {
        request = request.header(format!("x-pad-{index}"), &big);
    }
    let response = request.send().await.expect("answered");
    assert_eq!(response.status().as_u16(), 431);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("the envelope");
    assert_eq!(body["error"], "REQUEST_HEADER_FIELDS_TOO_LARGE");
    assert_eq!(body["details"]["limit_bytes"], 32 * 1024);

    // What hyper refuses itself: a bare answer without a body or request id.
    let huge = format!(
        "GET /healthz?pad={} HTTP/1.1\r\nHost: test\r\n\r\n",
        "q".repeat(70_000)
    );
    let answer = raw_exchange(&app, huge).await;
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("x-request-id"),
        "{answer}"
    );
    let many: String = (0..120).map(|i| format!("x-many-{i}: 1\r\n")).collect();
    let answer = raw_exchange(
        &app,
        format!("GET /healthz HTTP/1.1\r\nHost: test\r\n{many}\r\n"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let answer = raw_exchange(&app, "GET /he lthz HTTP/1.1\r\nHost: test\r\n\r\n".into()).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // A path axum cannot decode reaches us: it is an unknown route, in the envelope.
    let reply = app.send(Method::GET, "/docs/%FF", None, None).await;
    let details = assert_envelope(&reply, 404, "RESOURCE_NOT_FOUND");
    assert_eq!(details["resource_type"], "route");

    app.send(Method::GET, "/healthz", None, None)
        .await
        .expect(200);
}

on_every_backend!(
    validation_answers_stay_small_for_the_worst_bodies,
    long_lists_are_one_problem_and_extra_problems_are_counted,
    token_lists_are_capped_and_deduplicated_in_linear_time,
    metrics_labels_come_from_a_closed_set,
    oversized_request_heads_are_refused_in_the_envelope,
);
