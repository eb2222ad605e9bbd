//! `cutover deploy`, `promote`, `rollback --env` and `deployments …`: staging to
//! production from a terminal, the lines they print, where `releases list` says each
//! release is deployed, and the records for scripts.

use super::harness::Env;

/// The table's rows below its header, split on runs of spaces.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn staging_then_production_then_back_reads_like_a_release_train() {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1"]);
    env.ok(&["releases", "create", "v2"]);
    let staged = env
        .ok(&["deploy", "v1", "--env", "staging", "--reason", "try it"])
        .stdout;
    assert!(
        staged.starts_with("Deployed v1 (#1) to staging (dep_"),
        "{staged}"
    );
    let again = env.ok(&["deploy", "v1", "--env", "staging"]).stdout;
    assert!(
        again.starts_with("staging already has v1 (#1); nothing changed"),
        "{again}"
    );
    let promoted = env
        .ok(&["promote", "--from", "staging", "--to", "production"])
        .stdout;
    assert!(
        promoted.starts_with("Promoted v1 (#1) to production (dep_"),
        "{promoted}"
    );
    env.ok(&["deploy", "#2", "--env", "staging"]);
    env.ok(&["deploy", "v2", "--env", "production"]);

    let list = env.ok(&["releases", "list", "--include-archived"]).stdout;
    let table = rows(&list);
    assert_eq!(
        table[0][..5],
        ["*", "2", "v2", "active", "production,staging"],
        "{list}"
    );
    assert_eq!(table[1][..4], ["1", "v1", "archived", "-"], "{list}");

    let back = env.ok(&["rollback", "--env", "production"]).stdout;
    assert!(
        back.starts_with("Rolled back production to v1 (#1), replacing rel_"),
        "{back}"
    );
    let board = rows(&env.ok(&["status"]).stdout);
    assert_eq!(board[0][..3], ["production", "(default)", "v1"]);
    assert_eq!(board[1][..2], ["staging", "v2"]);
    let refused = env.run(&["rollback", "--env", "production"]).expect(3);
    assert!(
        refused.error_line().contains("nothing_to_roll_back_to"),
        "{}",
        refused.stderr
    );
    env.ok(&["rollback", "--env", "staging", "v1"]);

    let records = env.json(&["deployments", "list", "--env", "staging"]);
    assert_eq!(records["total"], 3);
    assert_eq!(records["deployments"][0]["action"], "rollback");
    assert_eq!(records["deployments"][2]["reason"], "try it");
    let people = env.ok(&["deployments", "list"]).stdout;
    assert_eq!(rows(&people).len(), 6, "{people}");
    let id = records["deployments"][0]["deployment_id"].as_str().unwrap();
    let shown = env.ok(&["deployments", "show", id]).stdout;
    assert!(
        shown.starts_with("Rolled back staging to v1 (#1)"),
        "{shown}"
    );
}

#[test]
fn a_release_cut_into_an_environment_goes_live_there_only() {
    let env = Env::with_app();
    env.seed_draft();
    let cut = env.json(&["releases", "create", "v1", "--env", "staging"]);
    assert_eq!(cut["status"], "active");
    let board = env.json(&["status"]);
    assert_eq!(board["environments"][1]["release"]["release_tag"], "v1");
    assert_eq!(board["environments"][0]["release"], serde_json::Value::Null);
    env.run(&["releases", "create", "v2", "--env", "staging", "--activate"])
        .expect(2);
    env.run(&["deploy", "v1", "--env", "Not A Slug"]).expect(3);
    env.run(&["deploy", "v9", "--env", "staging"]).expect(3);
}

#[test]
fn expect_makes_a_change_go_ahead_only_while_the_environment_has_that_release() {
    let env = Env::with_app();
    env.seed_draft();
    for tag in ["v1", "v2", "v3"] {
        env.ok(&["releases", "create", tag]);
    }
    // Nothing deployed: only @none is expected rightly.
    let refused = env
        .run(&["deploy", "v1", "--env", "staging", "--expect", "v2"])
        .expect(3);
    assert!(
        refused.error_line().contains("PRECONDITION_FAILED"),
        "{}",
        refused.stderr
    );
    env.ok(&["deploy", "v1", "--env", "staging", "--expect", "@none"]);
    env.ok(&["deploy", "v2", "--env", "staging", "--expect", "v1"]);
    let refused = env
        .run(&[
            "promote",
            "--from",
            "staging",
            "--to",
            "production",
            "--expect",
            "v1",
        ])
        .expect(3);
    assert!(
        refused.error_line().contains("HTTP 412"),
        "{}",
        refused.stderr
    );
    env.ok(&[
        "releases", "activate", "v1", "--expect", "@none", "--reason", "go live",
    ]);
    env.ok(&[
        "promote",
        "--from",
        "staging",
        "--to",
        "production",
        "--expect",
        "v1",
    ]);
    let refused = env
        .run(&["rollback", "--env", "production", "--expect", "v3"])
        .expect(3);
    assert!(
        refused.error_line().contains("HTTP 412"),
        "{}",
        refused.stderr
    );
    env.ok(&[
        "releases",
        "rollback",
        "v1",
        "--expect",
        "v2",
        "--reason",
        "errors in v2",
    ]);

    let records = env.json(&["deployments", "list", "--env", "production"]);
    assert_eq!(records["total"], 3, "the refusals recorded nothing");
    assert_eq!(records["deployments"][0]["action"], "rollback");
    assert_eq!(records["deployments"][0]["reason"], "errors in v2");
    assert_eq!(records["deployments"][2]["reason"], "go live");
}

#[test]
fn dry_run_says_what_each_write_would_do_and_changes_nothing() {
    let env = Env::with_app();
    env.seed_draft();
    let said = env
        .ok(&["releases", "create", "v1", "--activate", "--dry-run"])
        .stdout;
    assert!(
        said.starts_with("Dry run: nothing was changed.\nWould cut v1 (#1)."),
        "{said}"
    );
    assert!(said.contains("v1 (#1): new → active"), "{said}");
    assert_eq!(
        env.json(&["releases", "list"])["total"],
        0,
        "nothing was cut"
    );
    env.ok(&["releases", "create", "v1", "--activate"]);
    env.ok(&["releases", "create", "v2"]);

    let said = env
        .ok(&[
            "deploy",
            "v2",
            "--env",
            "production",
            "--dry-run",
            "--reason",
            "ship",
        ])
        .stdout;
    assert!(
        said.contains("Would deploy v2 (#2) to production, replacing v1 (#1)."),
        "{said}"
    );
    assert!(said.contains("v2 (#2): ready → active"), "{said}");
    assert!(said.contains("v1 (#1): active → archived"), "{said}");
    assert!(said.contains("Warning (same_content)"), "{said}");
    let answer = env.json(&["deploy", "v2", "--env", "staging", "--dry-run"]);
    assert_eq!(
        (answer["dry_run"].clone(), answer["action"].clone()),
        (true.into(), "deploy".into())
    );
    for args in [
        vec![
            "promote",
            "--from",
            "production",
            "--to",
            "staging",
            "--dry-run",
        ],
        vec!["releases", "archive", "v2", "--dry-run"],
        vec![
            "releases",
            "delete",
            "v2",
            "--reason",
            "unused",
            "--dry-run",
        ],
    ] {
        let said = env.ok(&args).stdout;
        assert!(
            said.starts_with("Dry run: nothing was changed.\nWould "),
            "{args:?}: {said}"
        );
    }
    let records = env.json(&["deployments", "list"]);
    assert_eq!(records["total"], 1, "only the cut's deploy was recorded");

    // A dry run the real command would refuse fails as it would.
    let refused = env
        .run(&["releases", "delete", "v1", "--dry-run"])
        .expect(3);
    assert_eq!(refused.stdout, "Dry run: nothing was changed.\n");
    assert!(
        refused.error_line().contains("release_is_deployed"),
        "{}",
        refused.stderr
    );
    let refused = env
        .run(&["releases", "rollback", "v2", "--dry-run", "--expect", "v2"])
        .expect(3);
    assert!(
        refused.error_line().contains("HTTP 412"),
        "{}",
        refused.stderr
    );
    let refused = env
        .run(&["rollback", "--env", "staging", "--dry-run"])
        .expect(3);
    assert!(
        refused.error_line().contains("HTTP 409"),
        "{}",
        refused.stderr
    );
    let said = env.ok(&["releases", "activate", "v1", "--dry-run"]).stdout;
    assert!(said.contains("Warning (no_change)"), "{said}");
}
