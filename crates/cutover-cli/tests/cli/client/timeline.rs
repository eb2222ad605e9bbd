//! `cutover timeline`: the app's history newest first, one row per commit, release
//! event and deployment, paged like every list but in the timeline's smaller pages.

use super::harness::{Env, rows};

/// Each row from its TYPE column on (WHEN is "just now" or "5 seconds ago", so its
/// word count varies).
fn from_type(table: &str) -> Vec<Vec<String>> {
    rows(table)
        .into_iter()
        .map(|row| {
            let at = row
                .iter()
                .position(|word| ["commit", "release", "deployment"].contains(&word.as_str()))
                .unwrap_or_else(|| panic!("a row without a type: {row:?}"));
            row[at..].to_vec()
        })
        .collect()
}

/// A draft of three entities, one edit, v1 cut and deployed to staging, v2 cut and
/// archived: eight events.
fn history(env: &Env) {
    env.seed_draft();
    env.ok(&["endpoints", "update", "chat", "-d", "talk to it"]);
    env.ok(&["releases", "create", "v1"]);
    env.ok(&["deploy", "v1", "--env", "staging"]);
    env.ok(&["releases", "create", "v2"]);
    env.ok(&["releases", "archive", "v2"]);
}

#[test]
fn the_timeline_reads_newest_first_with_who_did_what() {
    let env = Env::with_app();
    history(&env);
    let table = env.ok(&["timeline"]).stdout;
    assert!(table.starts_with("WHEN"), "{table}");
    let events = from_type(&table);
    let kinds: Vec<[&str; 2]> = events
        .iter()
        .map(|row| [row[0].as_str(), row[1].as_str()])
        .collect();
    assert_eq!(
        kinds,
        [
            ["release", "archive"],
            ["release", "cut"],
            ["deployment", "deploy"],
            ["release", "cut"],
            ["commit", "update"],
            ["commit", "create"],
            ["commit", "create"],
            ["commit", "create"],
        ],
        "{table}"
    );
    assert_eq!(events[0][3..5], ["v2", "(#2)"], "{table}");
    assert_eq!(events[2][3..7], ["v1", "(#1)", "in", "staging"], "{table}");
    let edit = events[4].join(" ");
    assert!(
        edit.contains(r#"Update endpoint "chat": description cmt_"#),
        "{table}"
    );
    // Every row says who: the bootstrap token's actor.
    let by: Vec<&str> = events.iter().map(|row| row[2].as_str()).collect();
    assert!(by.iter().all(|actor| *actor == by[0]), "{table}");
}

#[test]
fn pages_come_in_the_timelines_sizes_and_join_up() {
    let env = Env::with_app();
    history(&env);
    let first = env.ok(&["timeline", "--limit", "3"]);
    assert_eq!(rows(&first.stdout).len(), 3, "{}", first.stdout);
    assert!(
        first
            .stderr
            .contains("(showing 3; more with --all-pages, or --cursor "),
        "{}",
        first.stderr
    );

    let page = env.json(&["timeline", "--limit", "3"]);
    assert_eq!(page["has_more"], true);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = env.json(&["timeline", "--limit", "3", "--cursor", cursor]);
    assert_eq!(next["events"].as_array().unwrap().len(), 3);

    let all = env.json(&["timeline", "--all-pages", "--limit", "3"]);
    let events = all["events"].as_array().unwrap();
    assert_eq!(events.len(), 8);
    assert_eq!(all["has_more"], false);
    assert_eq!(events[..3], page["events"].as_array().unwrap()[..]);
    assert_eq!(events[3..6], next["events"].as_array().unwrap()[..]);
    let whole = env.json(&["timeline", "--all-pages"]);
    assert_eq!(whole["events"], all["events"]);

    let refused = env.run(&["timeline", "--limit", "101"]).expect(2);
    assert!(refused.stderr.contains("--limit"), "{}", refused.stderr);
}

#[test]
fn reasons_show_after_what_changed_and_reach_the_server_whole() {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1"]);
    env.ok(&["releases", "create", "v2"]);
    env.ok(&["deploy", "v1", "--env", "staging", "--reason", "try it"]);
    env.ok(&["releases", "archive", "v2", "--reason", "superseded"]);
    env.ok(&["releases", "delete", "v2", "--reason", "café: 50% off\tnow"]);
    let table = env.ok(&["timeline"]).stdout;
    let lines: Vec<&str> = table.lines().skip(1).collect();
    assert!(
        lines[0].contains("delete") && lines[0].contains("v2 (#2): café: 50% off"),
        "{table}"
    );
    assert!(
        lines[1].contains("archive") && lines[1].contains("v2 (#2): superseded"),
        "{table}"
    );
    assert!(lines[2].contains("v1 (#1) in staging: try it"), "{table}");
    let events = env.json(&["timeline"]);
    assert_eq!(
        events["events"][0]["release"]["reason"],
        "café: 50% off\tnow"
    );
    env.ok(&["releases", "activate", "v1", "--reason", "go live"]);
    let history = env.ok(&["activations", "list"]).stdout;
    assert!(
        history
            .lines()
            .nth(1)
            .is_some_and(|row| row.ends_with("go live")),
        "{history}"
    );
}
