//! `cutover login`, `logout`, `config show|path`: the config file (location, mode
//! 0600, atomic rewrite) and the order settings are taken in: flags, then
//! `CUTOVER_*` variables, then the file.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::harness::{Env, Run, TOKEN, UNKNOWN_TOKEN, closed_port, mode};

/// Runs `command` with `input` on standard input (with a deadline).
fn run_with_stdin(mut command: Command, args: &[&str], input: &str) -> Run {
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cutover starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cutover {args:?} did not finish");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    }
}

#[test]
fn login_writes_a_private_file_in_the_default_place_and_later_commands_use_it() {
    let env = Env::with_app();
    let context = env.context().clone();
    let login = env.login_with_context(env.bare()).expect(0);
    let path = env.home().join(".config/cutover/config.toml");
    assert!(
        login.stdout.contains(&path.display().to_string()),
        "{}",
        login.stdout
    );
    assert!(
        !login.stdout.contains(TOKEN),
        "login echoed the token: {}",
        login.stdout
    );
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains(TOKEN) && saved.contains(&context.app),
        "{saved}"
    );

    // No flag and no variable: everything comes from the file.
    let apps = env.run_with(env.bare(), &["apps", "show"]).expect(0);
    assert!(apps.stdout.contains("support-bot"), "{}", apps.stdout);
    let shown = env
        .run_with(env.bare(), &["config", "show", "-o", "json"])
        .expect(0)
        .json();
    for key in ["url", "token", "org", "workspace", "app"] {
        assert_eq!(shown[key]["source"], "file", "{key}: {shown}");
    }
    assert_eq!(shown["config_file"]["source"], "default");
    // The token is shown by its prefix only.
    let token_shown = shown["token"]["value"].as_str().unwrap();
    assert!(TOKEN.starts_with(token_shown.trim_end_matches('…')));
    assert_ne!(token_shown, TOKEN);
}

#[test]
fn xdg_config_home_moves_the_default_file() {
    let env = Env::start();
    let xdg = env.dir.path().join("xdg");
    let mut command = env.bare();
    command.env("XDG_CONFIG_HOME", &xdg);
    env.run_with(command, &["login", "--url", env.url(), "--token", TOKEN])
        .expect(0);
    let path = xdg.join("cutover/config.toml");
    assert_eq!(mode(&path), 0o600);
    let mut command = env.bare();
    command.env("XDG_CONFIG_HOME", &xdg);
    let shown = env.run_with(command, &["config", "path"]).expect(0);
    assert_eq!(shown.stdout.trim(), path.display().to_string());
    assert!(!env.home().join(".config").exists());
}

#[test]
fn login_refuses_an_unknown_token_and_writes_nothing() {
    let env = Env::start();
    let run = env
        .run_with(
            env.bare().env("CUTOVER_CONFIG", env.config_path()),
            &["login", "--url", env.url(), "--token", UNKNOWN_TOKEN],
        )
        .expect(3);
    let line = run.error_line();
    assert!(
        line.contains("AUTHENTICATION_FAILED") && line.contains("HTTP 401"),
        "{line}"
    );
    assert!(!env.config_path().exists());
}

#[test]
fn login_reads_the_token_from_stdin_and_logout_forgets_it() {
    let env = Env::with_app();
    let mut command = env.bare();
    command.env("CUTOVER_CONFIG", env.config_path());
    let app = env.context().app.clone();
    let run = run_with_stdin(
        command,
        &[
            "login",
            "--token-stdin",
            "--url",
            env.url(),
            "--org",
            &env.context().org,
            "--workspace",
            &env.context().workspace,
            "--app",
            &app,
        ],
        &format!("{TOKEN}\n"),
    )
    .expect(0);
    assert!(run.stdout.contains("Logged in"), "{}", run.stdout);
    assert_eq!(mode(&env.config_path()), 0o600);

    let configured = || {
        let mut command = env.bare();
        command.env("CUTOVER_CONFIG", env.config_path());
        command
    };
    env.run_with(configured(), &["releases", "list"]).expect(0);
    let out = env.run_with(configured(), &["logout"]).expect(0);
    assert!(out.stdout.contains("Removed the token"), "{}", out.stdout);
    let saved = std::fs::read_to_string(env.config_path()).unwrap();
    assert!(!saved.contains(TOKEN), "{saved}");
    assert!(saved.contains(&app), "logout keeps the context: {saved}");
    assert_eq!(mode(&env.config_path()), 0o600);

    let refused = env.run_with(configured(), &["releases", "list"]).expect(2);
    assert!(
        refused.error_line().contains("no API token"),
        "{}",
        refused.stderr
    );
    let again = env.run_with(configured(), &["logout"]).expect(0);
    assert!(again.stdout.contains("No token saved"), "{}", again.stdout);
}

#[test]
fn a_config_file_readable_by_others_is_tightened_by_login_and_warned_about() {
    let env = Env::with_app();
    let path = env.config_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!("url = \"{}\"\ntoken = \"{TOKEN}\"\n", env.url()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut command = env.bare();
    command.env("CUTOVER_CONFIG", &path);
    let run = env.run_with(command, &["orgs", "list"]).expect(0);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    assert!(run.stdout.contains("Acme"), "{}", run.stdout);

    let mut command = env.bare();
    command.env("CUTOVER_CONFIG", &path);
    env.run_with(command, &["login"]).expect(0);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_broken_config_file_is_one_clear_error() {
    let env = Env::start();
    let path = env.config_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "tokne = \"x\"\n").unwrap();
    let run = env.run(&["orgs", "list"]).expect(1);
    let line = run.error_line();
    assert!(
        line.contains(&path.display().to_string()) && line.contains("tokne"),
        "{line}"
    );
}

#[test]
fn flags_beat_variables_and_variables_beat_the_file() {
    let env = Env::with_app();
    // The file: the right server, the right token, the app.
    env.login_with_context(env.bare().env("CUTOVER_CONFIG", env.config_path()))
        .expect(0);
    let with_file = || {
        let mut command = env.bare();
        command.env("CUTOVER_CONFIG", env.config_path());
        command
    };
    env.run_with(with_file(), &["apps", "show"]).expect(0);

    // A variable beats the file: a dead server in CUTOVER_URL is used (and fails)...
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let mut command = with_file();
    command.env("CUTOVER_URL", &dead);
    env.run_with(command, &["apps", "show"]).expect(5);
    // ...and a flag beats the variable.
    let mut command = with_file();
    command.env("CUTOVER_URL", &dead);
    env.run_with(command, &["apps", "show", "--url", env.url()])
        .expect(0);

    // The same for the token: an unknown one in CUTOVER_TOKEN is refused (401)...
    let mut command = with_file();
    command.env("CUTOVER_TOKEN", UNKNOWN_TOKEN);
    let refused = env.run_with(command, &["apps", "show"]).expect(3);
    assert!(
        refused.error_line().contains("HTTP 401"),
        "{}",
        refused.stderr
    );
    // ...unless --token says otherwise.
    let mut command = with_file();
    command.env("CUTOVER_TOKEN", UNKNOWN_TOKEN);
    env.run_with(command, &["apps", "show", "--token", TOKEN])
        .expect(0);

    // And for the context, as `config show` reports it.
    let other_app = "app_06g2x0d1q8v3k5m7n9p4r6t8w0";
    let flag_app = "app_06g2x0d1q8v3k5m7n9p4r6t8w1";
    let mut command = with_file();
    command.env("CUTOVER_APP", other_app);
    let shown: Value = env
        .run_with(command, &["config", "show", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(shown["app"]["value"], other_app);
    assert_eq!(shown["app"]["source"], "env");
    assert_eq!(shown["org"]["source"], "file");
    let mut command = with_file();
    command.env("CUTOVER_APP", other_app);
    let shown: Value = env
        .run_with(
            command,
            &["config", "show", "--app", flag_app, "-o", "json"],
        )
        .expect(0)
        .json();
    assert_eq!(shown["app"]["value"], flag_app);
    assert_eq!(shown["app"]["source"], "flag");
    // The app from the variable is the one requests go to: it does not exist.
    let mut command = with_file();
    command.env("CUTOVER_APP", other_app);
    let missing = env.run_with(command, &["apps", "show"]).expect(3);
    assert!(
        missing.error_line().contains("HTTP 404"),
        "{}",
        missing.stderr
    );
}

#[test]
fn commands_say_which_setting_is_missing() {
    let env = Env::start();
    let no_token = env
        .run_with(env.bare().env("CUTOVER_URL", env.url()), &["orgs", "list"])
        .expect(2);
    assert!(
        no_token.error_line().contains("CUTOVER_TOKEN"),
        "{}",
        no_token.stderr
    );
    let no_app = env.run(&["releases", "list"]).expect(2);
    let line = no_app.error_line();
    assert!(
        line.contains("--org") && line.contains("CUTOVER_ORG"),
        "{line}"
    );
    let bad_id = env
        .run(&[
            "releases",
            "list",
            "--org",
            "acme",
            "--workspace",
            "ws",
            "--app",
            "a",
        ])
        .expect(2);
    assert!(bad_id.error_line().contains("org_"), "{}", bad_id.stderr);
}
