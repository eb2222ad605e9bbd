//! How client commands fail: one line with the server's message, code and request
//! id, and an exit code per kind of failure (2 usage, 3 refused, 4 server error,
//! 5 unreachable); never a panic. Also `--help` and shell completions.

use std::time::Duration;

use crate::client::harness::{Env, closed_port};

#[test]
fn an_unreachable_server_exits_5_with_one_line() {
    let env = Env::start();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let run = env.run(&["orgs", "list", "--url", &dead]).expect(5);
    let line = run.error_line();
    assert!(
        line.contains("cannot connect") && line.contains(&dead),
        "{line}"
    );
    assert!(run.stdout.is_empty());
    // Probes need no token and fail the same way.
    env.run_with(env.bare().env("CUTOVER_URL", &dead), &["health", "live"])
        .expect(5);
}

#[test]
fn a_server_failure_exits_4_with_the_code_and_request_id() {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1"]);
    // Break the database under the running server: activation can no longer write
    // its history, so the server answers 500.
    let db = rusqlite::Connection::open(env.database()).expect("open the database");
    db.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    db.execute_batch("DROP TABLE deployments")
        .expect("drop a table");
    drop(db);

    let run = env.run(&["releases", "activate", "v1"]).expect(4);
    let line = run.error_line();
    assert!(
        line.contains("INTERNAL_SERVER_ERROR") && line.contains("HTTP 500"),
        "{line}"
    );
    let request_id = line
        .split("request ")
        .nth(1)
        .map(|rest| rest.trim_end_matches(')'))
        .unwrap_or_default();
    assert!(request_id.len() >= 8 && request_id != "-", "{line}");
    // The server logged the cause under the same request id.
    assert!(
        env.server.logs_within(request_id, Duration::from_secs(5)),
        "request {request_id} not in the server log:\n{}",
        env.server.log()
    );
}

#[test]
fn refusals_exit_3_with_the_message_code_and_request_id() {
    let env = Env::with_app();
    let run = env
        .run(&["apps", "show", "app_06g2x0d1q8v3k5m7n9p4r6t8w0"])
        .expect(3);
    let line = run.error_line();
    assert!(line.contains("RESOURCE_NOT_FOUND"), "{line}");
    assert!(line.contains("HTTP 404"), "{line}");
    assert!(line.contains("request "), "{line}");
    assert!(!line.contains("request -"), "no request id: {line}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::start();
    for args in [
        &["releases"][..],
        &["releases", "frobnicate"],
        &["releases", "list", "--limit", "500"],
        &["releases", "list", "--output", "yaml"],
        &["completions", "tcsh"],
    ] {
        let run = env.run(args).expect(2);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    for url in ["ftp://example.test", "not a url", "http://"] {
        let run = env.run(&["orgs", "list", "--url", url]).expect(2);
        assert!(
            run.error_line().contains("server URL"),
            "{url}: {}",
            run.stderr
        );
    }
}

#[test]
#[cfg(not(feature = "https"))]
fn https_without_tls_support_is_a_usage_error_that_says_why() {
    let env = Env::start();
    let run = env
        .run(&["orgs", "list", "--url", "https://127.0.0.1:1"])
        .expect(2);
    let line = run.error_line();
    assert!(
        line.contains("without TLS") && line.contains("--features https"),
        "{line}"
    );
}

#[test]
#[cfg(feature = "https")]
fn https_speaks_tls_to_whatever_listens() {
    // The test server speaks plain HTTP, so a TLS client fails its handshake: that
    // failure (rather than a refusal to try) shows TLS is built in.
    let env = Env::start();
    let url = env.url().replace("http://", "https://");
    let run = env.run(&["orgs", "list", "--url", &url]).expect(5);
    assert!(run.error_line().contains("https://"), "{}", run.stderr);
}

#[test]
fn help_documents_the_exit_codes_and_settings() {
    let env = Env::start();
    let help = env.run(&["--help"]).expect(0).stdout;
    for needle in [
        "releases",
        "login",
        "completions",
        "CUTOVER_URL",
        "CUTOVER_TOKEN",
        "CUTOVER_CONFIG",
        "2  usage error",
        "3  the server refused",
        "4  the server failed",
        "5  the server could not be reached",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
    let releases = env.run(&["releases", "--help"]).expect(0).stdout;
    for sub in [
        "list", "show", "active", "create", "activate", "rollback", "archive", "delete", "diff",
    ] {
        assert!(
            releases.contains(sub),
            "releases --help lacks {sub}:\n{releases}"
        );
    }
    let diff = env.run(&["releases", "diff", "--help"]).expect(0).stdout;
    assert!(
        diff.contains("@draft") && diff.contains("identical"),
        "{diff}"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    let env = Env::start();
    for shell in ["bash", "zsh", "fish"] {
        let script = env.run(&["completions", shell]).expect(0).stdout;
        assert!(script.contains("cutover"), "{shell}");
        assert!(
            script.contains("rollback"),
            "{shell} completion lacks subcommands"
        );
    }
    // bash can load it.
    let script = env.run(&["completions", "bash"]).expect(0).stdout;
    let path = env.dir.path().join("cutover.bash");
    std::fs::write(&path, script).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p cutover", path.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}
