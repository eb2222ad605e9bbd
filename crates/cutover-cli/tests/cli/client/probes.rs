//! `cutover health live|ready`, `cutover metrics` and `cutover openapi --remote`:
//! the operations outside `/v1`, which need no token.

use crate::client::harness::Env;

#[test]
fn probes_metrics_and_the_remote_document() {
    let env = Env::start();
    let bare = || {
        let mut command = env.bare();
        command.env("CUTOVER_URL", env.url());
        command
    };
    assert_eq!(
        env.run_with(bare(), &["health", "live"]).expect(0).stdout,
        "ok\n"
    );
    assert_eq!(
        env.run_with(bare(), &["health", "ready"]).expect(0).stdout,
        "ready\n"
    );
    let json = env
        .run_with(bare(), &["health", "ready", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(json["status"], "ready");

    let metrics = env.run_with(bare(), &["metrics"]).expect(0).stdout;
    assert!(metrics.contains("cutover_http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/readyz\""), "{metrics}");

    let remote = env
        .run_with(bare(), &["openapi", "--remote"])
        .expect(0)
        .stdout;
    let local = env.run_with(bare(), &["openapi"]).expect(0).stdout;
    assert_eq!(remote.trim_end(), local.trim_end());
    let document: serde_json::Value = serde_json::from_str(&remote).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
}
