//! Health probes answer 200 with JSON.

use super::*;

#[test]
fn health_probes_answer_200_with_json() {
    let dir = temp_dir();
    let server = start(&dir.path().join("cutover.db"), "json");
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let reply = call(&server, "GET", path, None, None);
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "{path}: {reply:?}"
        );
        assert_eq!(reply.json(), json!({"status": status}), "{path}");
    }
}
