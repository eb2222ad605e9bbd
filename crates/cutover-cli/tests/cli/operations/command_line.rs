//! The command line: `serve --help`, `migrate`, and start-up errors in one line.

use super::*;

/// Every `CUTOVER_*` name in `text`.
fn variable_names(text: &str) -> BTreeSet<String> {
    text.match_indices("CUTOVER_")
        .map(|(start, _)| {
            text[start..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| name.len() > "CUTOVER_".len())
        .collect()
}

#[test]
fn serve_help_names_every_variable_and_hides_the_bootstrap_token() {
    let secret = "cut_help_must_never_show_this_secret_0123456789";
    let output = run(
        cutover()
            .args(["serve", "--help"])
            .env("CUTOVER_BOOTSTRAP_TOKEN", secret),
        COMMAND_TIMEOUT,
    );
    let help = text(&output.stdout);
    assert!(output.status.success(), "{help}{}", text(&output.stderr));
    let listed = variable_names(&help);

    // Every variable serve.rs declares (`env = "CUTOVER_..."`), and at least these.
    let source = include_str!("../../../src/serve.rs");
    let declared: BTreeSet<String> = source
        .match_indices("env = \"")
        .map(|(start, marker)| {
            let rest = &source[start + marker.len()..];
            rest[..rest.find('"').expect("a closing quote")].to_owned()
        })
        .collect();
    let required = [
        "CUTOVER_BIND",
        "CUTOVER_DATABASE_URL",
        "CUTOVER_LOG_FORMAT",
        "CUTOVER_MAX_BODY_BYTES",
        "CUTOVER_BOOTSTRAP_TOKEN",
    ];
    for name in required {
        assert!(declared.contains(name), "serve.rs declares no {name}");
    }
    let missing: Vec<&String> = declared.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "serve --help does not mention {missing:?}:\n{help}"
    );
    assert!(
        !help.contains(secret) && !text(&output.stderr).contains(secret),
        "--help shows the bootstrap token:\n{help}"
    );
}

#[test]
fn migrate_creates_a_fresh_database_then_finds_it_up_to_date() {
    let dir = temp_dir();
    let database = dir.path().join("fresh.db");
    assert!(!database.exists());
    let migrate = || {
        let output = run(
            cutover()
                .args(["migrate", "--database-url"])
                .arg(crate::common::sqlite_url(&database)),
            COMMAND_TIMEOUT,
        );
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "cutover migrate failed: {stdout}{}",
            text(&output.stderr)
        );
        stdout
    };

    let first = migrate();
    assert!(database.exists(), "migrate created no database: {first}");
    let applied = first
        .split_once("applied migration")
        .map(|(_, rest)| rest.trim_start_matches('s').trim_start())
        .unwrap_or_else(|| panic!("migrate did not say what it applied: {first}"));
    let first_version: String = applied.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(first_version, "1", "migrate said: {first}");

    let second = migrate();
    assert!(second.contains("up to date"), "migrate said: {second}");
    assert!(!second.contains("applied"), "migrate said: {second}");
}

/// `migrate --pg-connect-timeout-seconds` is honoured: against a server that accepts
/// the connection and then says nothing, it gives up after 1 s (the default is 5 s)
/// with one line, without the password.
#[test]
fn migrate_gives_up_on_a_silent_server_after_its_connect_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
    let port = silent.local_addr().expect("its address").port();
    let url = format!("postgres://cutover:s3cret@127.0.0.1:{port}/cutover");
    let started = Instant::now();
    let output = run(
        cutover().args([
            "migrate",
            "--database-url",
            &url,
            "--pg-connect-timeout-seconds",
            "1",
        ]),
        COMMAND_TIMEOUT,
    );
    let took = started.elapsed();
    drop(silent);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "migrate gave up after {took:?}: {stderr}"
    );
    assert!(stderr.contains("no answer within 1000 ms"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn an_unsupported_database_url_fails_in_one_line_without_a_panic() {
    let serve_flag = || {
        let mut command = cutover();
        command.args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "mysql://x",
        ]);
        command
    };
    let serve_env = || {
        let mut command = cutover();
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("CUTOVER_DATABASE_URL", "mysql://x");
        command
    };
    let migrate = || {
        let mut command = cutover();
        command.args(["migrate", "--database-url", "mysql://x"]);
        command
    };
    for (what, mut command) in [
        ("serve --database-url", serve_flag()),
        ("serve with CUTOVER_DATABASE_URL", serve_env()),
        ("migrate --database-url", migrate()),
    ] {
        let output = run(
            command
                .env("RUST_BACKTRACE", "1")
                .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN),
            COMMAND_TIMEOUT,
        );
        let stderr = text(&output.stderr);
        assert!(
            output.status.code().is_some_and(|code| code != 0),
            "{what}: must exit non-zero, not {}; stderr:\n{stderr}",
            output.status
        );
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{what}: one line of error; stderr:\n{stderr}"
        );
        assert!(lines[0].contains("mysql://x"), "{what}: {stderr}");
        let lower = stderr.to_ascii_lowercase();
        assert!(
            !lower.contains("panicked") && !lower.contains("backtrace"),
            "{what}: {stderr}"
        );
    }
}
