//! The access log: one line per request, JSON or pretty, never a secret.

use super::*;

/// Neither token, nor the `Authorization` header's value, nor its scheme is logged.
#[track_caller]
fn assert_no_secrets(lines: &[String]) {
    let log = lines.join("\n");
    for secret in [TOKEN, WRONG_TOKEN] {
        assert!(
            !log.contains(secret),
            "a token secret is in the log:\n{log}"
        );
    }
    assert!(
        !log.to_ascii_lowercase().contains("bearer"),
        "the Authorization header is in the log:\n{log}"
    );
}

/// Requests with a good token, a wrong one, none, a client-chosen request id, and
/// two kinds of 404; answers each reply with its method and path.
fn logged_requests(server: &Server) -> Vec<(Reply, &'static str, String)> {
    let mut sent = Vec::new();
    let mut send = |method: &'static str, path: &str, token: Option<&str>, body: Option<Value>| {
        let reply = call(server, method, path, token, body);
        sent.push((reply, method, path.to_owned()));
    };
    send("GET", "/v1/orgs", Some(TOKEN), None);
    send(
        "POST",
        "/v1/orgs",
        Some(TOKEN),
        Some(json!({"name": "logged"})),
    );
    send("GET", "/v1/orgs", Some(WRONG_TOKEN), None);
    send("GET", "/v1/orgs", None, None);
    send(
        "GET",
        "/v1/orgs/org_00000000000000000000000000",
        Some(TOKEN),
        None,
    );
    send("GET", "/v1/no-such-route", Some(TOKEN), None);
    send("GET", "/healthz", None, None);
    let statuses: Vec<u16> = sent.iter().map(|(reply, _, _)| reply.status).collect();
    assert_eq!(statuses, [200, 201, 401, 401, 404, 404, 200]);

    // A client-chosen id is kept and echoed.
    let mut request = request(server.addr, "GET", "/v1/orgs", Some(TOKEN), None);
    let text = String::from_utf8(request.bytes).unwrap().replacen(
        "\r\n\r\n",
        "\r\nX-Request-Id: ops-chosen-id-1\r\n\r\n",
        1,
    );
    request.bytes = text.into_bytes();
    let reply = Connection::open(server.addr)
        .and_then(|mut connection| connection.call(&request))
        .expect("an answer");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.request_id(), "ops-chosen-id-1");
    sent.push((reply, "GET", "/v1/orgs".to_owned()));
    sent
}

#[test]
fn json_access_log_has_one_line_per_request_and_no_secrets() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "json");
    let sent = logged_requests(&server);
    let lines = stop(server);
    let log = lines.join("\n");

    let access: Vec<Value> = json_lines(&lines)
        .into_iter()
        .filter(|event| event["target"] == "cutover::access")
        .collect();
    assert_eq!(
        access.len(),
        sent.len(),
        "one access line per request; log:\n{log}"
    );
    let mut by_id: HashMap<&str, Vec<&Value>> = HashMap::new();
    for event in &access {
        let id = event["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("an access line without request_id: {event}"));
        by_id.entry(id).or_default().push(event);
    }
    for (reply, method, path) in &sent {
        let id = reply.request_id();
        let events = by_id
            .get(id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert_eq!(
            events.len(),
            1,
            "{method} {path} (X-Request-Id {id}) has {} access lines; log:\n{log}",
            events.len()
        );
        let event = events[0];
        assert_eq!(event["method"], *method, "{event}");
        assert_eq!(event["path"], path.as_str(), "{event}");
        assert_eq!(event["status"], reply.status, "{event}");
        assert!(
            event["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
            "duration_ms: {event}"
        );
    }
    // Milliseconds rounded to the microsecond: at most three decimals as written.
    for line in lines.iter().filter(|line| line.contains("cutover::access")) {
        let number: String = line
            .split_once("\"duration_ms\":")
            .map(|(_, rest)| {
                rest.chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect()
            })
            .unwrap_or_else(|| panic!("an access line without duration_ms: {line}"));
        let decimals = number
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len());
        assert!(
            decimals <= 3,
            "duration_ms {number} has {decimals} decimals: {line}"
        );
    }
    // Every line that speaks of the access log is one of those JSON lines.
    let mentions = lines
        .iter()
        .filter(|line| line.contains("cutover::access"))
        .count();
    assert_eq!(mentions, sent.len(), "log:\n{log}");
    assert_no_secrets(&lines);
}

#[test]
fn pretty_access_log_is_not_json_and_has_no_secrets() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "pretty");
    let sent = logged_requests(&server);
    let lines = stop(server);
    let log = lines.join("\n");

    for line in &lines {
        assert!(
            serde_json::from_str::<Value>(line).is_err(),
            "a pretty log line is JSON: {line}"
        );
        // Standard error is a pipe here, not a terminal: no colour codes.
        assert!(
            !line.contains('\u{1b}'),
            "an ANSI escape in a piped log: {line:?}"
        );
    }
    let access: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("cutover::access"))
        .collect();
    assert_eq!(
        access.len(),
        sent.len(),
        "one access line per request; log:\n{log}"
    );
    for (reply, method, path) in &sent {
        let id = reply.request_id();
        assert_eq!(
            access.iter().filter(|line| line.contains(&id)).count(),
            1,
            "{method} {path} (X-Request-Id {id}); log:\n{log}"
        );
    }
    assert_no_secrets(&lines);
}
