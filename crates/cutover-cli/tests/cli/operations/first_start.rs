//! The first start: one working token printed once; the bootstrap token's length rule and its rotation.

use super::*;

#[test]
fn first_start_prints_one_working_token_and_a_restart_prints_none() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let first = Server::spawn(&mut serve(&database));
    let printed: Vec<String> = first
        .lines()
        .iter()
        .map(|line| line.trim().to_owned())
        .filter(|line| line.starts_with("cut_"))
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "one token on the first start; log:\n{}",
        first.log()
    );
    let token = printed[0].clone();
    assert!(
        token.len() >= 32 && !token.contains(char::is_whitespace),
        "a token: {token:?}"
    );
    expect(call(&first, "GET", "/v1/orgs", Some(&token), None), 200);
    assert_eq!(call(&first, "GET", "/v1/orgs", None, None).status, 401);
    let lines = stop(first);
    assert_eq!(
        lines.join("\n").matches(&token).count(),
        1,
        "the token is shown only once; log:\n{}",
        lines.join("\n")
    );

    let second = Server::spawn(&mut serve(&database));
    expect(call(&second, "GET", "/v1/orgs", Some(&token), None), 200);
    let lines = stop(second);
    assert!(
        !lines.iter().any(|line| line.contains("cut_")),
        "a restart prints no token; log:\n{}",
        lines.join("\n")
    );
}

#[test]
fn a_bootstrap_token_shorter_than_32_characters_is_refused_in_one_line() {
    let dir = temp_dir();
    let secret = "cut_short_bootstrap_secret_0123";
    assert_eq!(secret.chars().count(), 31);
    let output = run(
        serve(&dir.path().join("cutover.db"))
            .env("CUTOVER_BOOTSTRAP_TOKEN", secret)
            .env("RUST_BACKTRACE", "1"),
        COMMAND_TIMEOUT,
    );
    let stderr = text(&output.stderr);
    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "serve must exit non-zero, not {}; stderr:\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line of error; stderr:\n{stderr}");
    assert!(lines[0].contains("CUTOVER_BOOTSTRAP_TOKEN"), "{stderr}");
    assert!(!stderr.contains(secret), "the secret is echoed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bootstrap_token_of_32_characters_works() {
    let dir = temp_dir();
    let secret = "cut_exactly_32_characters_012345";
    assert_eq!(secret.chars().count(), 32);
    let server =
        Server::spawn(serve(&dir.path().join("cutover.db")).env("CUTOVER_BOOTSTRAP_TOKEN", secret));
    expect(call(&server, "GET", "/v1/orgs", Some(secret), None), 200);
    let lines = stop(server);
    assert!(
        !lines.join("\n").contains(secret),
        "the bootstrap secret is in the log:\n{}",
        lines.join("\n")
    );
}

#[test]
fn changing_the_bootstrap_token_retires_the_old_one_and_says_so_in_one_line() {
    let dir = temp_dir();
    let database = dir.path().join("cutover.db");
    let old = "cut_old_bootstrap_secret_0123456789abcdef";
    let new = "cut_new_bootstrap_secret_0123456789abcdef";
    let notice = |lines: &[String]| -> String {
        let found: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("CUTOVER_BOOTSTRAP_TOKEN ("))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one bootstrap line; log:\n{}",
            lines.join("\n")
        );
        found[0].clone()
    };
    let starts = [
        (old, "(cut_old_boot…) registered as a platform admin token"),
        (old, "(cut_old_boot…) already known"),
        (
            new,
            "(cut_new_boot…) registered as a platform admin token; 1 earlier bootstrap token was retired",
        ),
        (old, "(cut_old_boot…) was revoked and stays revoked"),
    ];
    for (secret, expected) in starts {
        let server = Server::spawn(serve(&database).env("CUTOVER_BOOTSTRAP_TOKEN", secret));
        let old_answers = call(&server, "GET", "/v1/orgs", Some(old), None).status;
        let new_answers = call(&server, "GET", "/v1/orgs", Some(new), None).status;
        let lines = stop(server);
        let line = notice(&lines);
        assert!(line.contains(expected), "{line:?} should say {expected:?}");
        assert!(
            !line.contains(old) && !line.contains(new),
            "a secret in {line:?}"
        );
        let rotated = secret == new || expected.contains("revoked");
        assert_eq!(old_answers, if rotated { 401 } else { 200 }, "{expected}");
        assert_eq!(new_answers, if rotated { 200 } else { 401 }, "{expected}");
    }
}
