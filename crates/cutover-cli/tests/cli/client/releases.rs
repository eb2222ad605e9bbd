//! `cutover releases …` and `cutover activations list`: the lifecycle from a
//! terminal, the table with the active release marked, `show`, selectors (number,
//! tag, id, @active), `--output json` as the server sent it, and paging with `--all-pages`.

use serde_json::Value;

use crate::client::harness::{Env, rows};

/// The row of release `number` in a `releases list` table.
fn row_of(table: &str, number: &str) -> Vec<String> {
    rows(table)
        .into_iter()
        .find(|row| row[0] == number || (row[0] == "*" && row[1] == number))
        .unwrap_or_else(|| panic!("no row for release {number}:\n{table}"))
}

#[test]
fn the_release_lifecycle_reads_like_helm_history() {
    let env = Env::with_app();
    env.seed_draft();

    let created = env.ok(&["releases", "create", "v1", "--description", "first cut"]);
    assert!(
        created.stdout.contains("Created release v1 (#1), ready"),
        "{}",
        created.stdout
    );
    assert!(
        created.stdout.contains("Initial release"),
        "{}",
        created.stdout
    );
    assert!(
        created.stdout.contains("added endpoint \"chat\""),
        "{}",
        created.stdout
    );

    let activated = env.ok(&["releases", "activate", "v1"]);
    assert!(
        activated.stdout.contains("Release v1 (#1) activated"),
        "{}",
        activated.stdout
    );

    env.ok(&["endpoints", "update", "chat", "--path", "/v2/chat"]);
    let v2 = env.ok(&["releases", "create", "v2", "--activate"]);
    assert!(
        v2.stdout.contains("Created release v2 (#2), active"),
        "{}",
        v2.stdout
    );
    assert!(v2.stdout.contains("Changes since v1 (#1)"), "{}", v2.stdout);

    // Archived v1 is hidden by default, shown with --include-archived.
    let list = env.ok(&["releases", "list"]).stdout;
    let header = list.lines().next().unwrap();
    for column in [
        "NUMBER",
        "TAG",
        "STATUS",
        "DEPLOYED IN",
        "ENDPOINTS",
        "AUGMENTATIONS",
        "CREATED",
        "BY",
        "DESCRIPTION",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(rows(&list).len(), 1, "{list}");
    let all = env.ok(&["releases", "list", "--include-archived"]).stdout;
    let active = row_of(&all, "2");
    assert_eq!(
        &active[..6],
        ["*", "2", "v2", "active", "production", "2"],
        "{all}"
    );
    let archived = row_of(&all, "1");
    assert_eq!(&archived[..5], ["1", "v1", "archived", "-", "2"], "{all}");
    assert!(all.contains("first cut"), "{all}");
    assert!(all.contains(" ago ") || all.contains("just now"), "{all}");
    // Columns line up: every row starts its TAG where the header does.
    let tag_at = header.find("TAG").unwrap();
    for line in all.lines().skip(1) {
        assert!(line[tag_at..].starts_with('v'), "misaligned:\n{all}");
    }

    // Roll back to v1 by number, see it in the history, then forward again by id.
    let rolled = env.ok(&["releases", "rollback", "1"]);
    assert!(
        rolled.stdout.contains("Rolled back to release v1 (#1)"),
        "{}",
        rolled.stdout
    );
    assert!(
        rolled.stdout.contains("Previously active: v2 (#2)"),
        "{}",
        rolled.stdout
    );
    let history = env.ok(&["activations", "list"]).stdout;
    let entries = rows(&history);
    assert_eq!(entries.len(), 3, "{history}");
    assert_eq!(entries[2][1], "rollback", "{history}");

    let active = env.json(&["releases", "active"]);
    assert_eq!(active["release_tag"], "v1");
    let v2_id = env.json(&["releases", "show", "v2"])["release_id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["releases", "activate", &v2_id]);
    assert_eq!(
        env.json(&["releases", "show", "@active"])["release_tag"],
        "v2"
    );

    // Archive and delete by tag; the active one is refused with the server's reason.
    let archived = env.ok(&["releases", "archive", "v1"]);
    assert!(
        archived.stdout.contains("Release v1 (#1) is archived"),
        "{}",
        archived.stdout
    );
    let refused = env.run(&["releases", "delete", "v2"]).expect(3);
    let line = refused.error_line();
    assert!(
        line.contains("CONFLICT: release_is_deployed") && line.contains("HTTP 409"),
        "{line}"
    );
    assert!(line.contains("request "), "{line}");
    let deleted = env.ok(&["releases", "delete", "#1"]);
    assert!(
        deleted.stdout.contains("Deleted release v1 (#1)"),
        "{}",
        deleted.stdout
    );
    let left = env.json(&["releases", "list", "--include-archived"]);
    assert_eq!(left["releases"].as_array().unwrap().len(), 1);
    // The history keeps every entry, deleted release included.
    assert_eq!(
        env.json(&["activations", "list"])["activations"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn show_prints_the_change_log_and_the_snapshot() {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1"]);
    env.ok(&[
        "augmentations",
        "update",
        "answer",
        "--description",
        "with a description",
    ]);
    env.ok(&["releases", "create", "v2", "-d", "second"]);

    let shown = env.ok(&["releases", "show", "v2"]).stdout;
    assert!(shown.starts_with("Release v2 (#2)  rel_"), "{shown}");
    assert!(shown.contains("Status:        ready"), "{shown}");
    assert!(shown.contains("Description:   second"), "{shown}");
    assert!(
        shown.contains("Change log:\n  Changes since v1 (#1):"),
        "{shown}"
    );
    assert!(
        shown.contains("changed augmentation \"answer\": description"),
        "{shown}"
    );
    assert!(shown.contains("Endpoints (2):"), "{shown}");
    assert!(shown.contains("Augmentations (1):"), "{shown}");
    let chat = shown
        .lines()
        .find(|l| l.trim_start().starts_with("chat "))
        .unwrap_or_else(|| panic!("no chat row:\n{shown}"));
    let cells: Vec<&str> = chat.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        ["chat", "POST", "/chat", "sync", "answer"],
        "{chat}"
    );

    let none = Env::with_app();
    let refused = none.run(&["releases", "active"]).expect(3);
    let line = refused.error_line();
    assert!(
        line.contains("RESOURCE_NOT_FOUND") && line.contains("HTTP 404"),
        "{line}"
    );
}

#[test]
fn json_output_is_the_servers_answer_unchanged() {
    let env = Env::with_app();
    env.seed_draft();
    let created = env.ok(&["releases", "create", "v1", "-o", "json"]);
    let id = created.json()["release_id"].as_str().unwrap().to_owned();

    let shown = env.ok(&["releases", "show", &id, "-o", "json"]).stdout;
    let (status, body) = env.raw_get(&format!("{}/releases/{id}", env.app_path()));
    assert_eq!(status, 200);
    assert_eq!(shown.trim_end(), body.trim_end());

    let listed = env.ok(&["releases", "list", "-o", "json"]).stdout;
    let (_, body) = env.raw_get(&format!(
        "{}/releases?include_archived=false",
        env.app_path()
    ));
    assert_eq!(listed.trim_end(), body.trim_end());

    let apps = env.ok(&["apps", "list", "-o", "json"]).stdout;
    let c = env.context();
    let (_, body) = env.raw_get(&format!(
        "/v1/orgs/{}/workspaces/{}/apps",
        c.org, c.workspace
    ));
    assert_eq!(apps.trim_end(), body.trim_end());
}

#[test]
fn selectors_name_releases_by_number_tag_id_or_active() {
    let env = Env::with_app();
    env.seed_draft();
    // A tag made only of digits needs `tag:`; a bare number is a release number.
    env.ok(&["releases", "create", "2024"]);
    env.ok(&["releases", "create", "v2"]);
    assert_eq!(env.json(&["releases", "show", "1"])["release_tag"], "2024");
    assert_eq!(env.json(&["releases", "show", "#2"])["release_tag"], "v2");
    assert_eq!(
        env.json(&["releases", "show", "tag:2024"])["release_number"],
        1
    );
    let missing = env.run(&["releases", "show", "2024"]).expect(3);
    assert!(
        missing.error_line().contains("no release #2024"),
        "{}",
        missing.stderr
    );
    let unknown_tag = env.run(&["releases", "activate", "v9"]).expect(3);
    assert!(
        unknown_tag.error_line().contains("tag \"v9\""),
        "{}",
        unknown_tag.stderr
    );
    let no_active = env.run(&["releases", "show", "@active"]).expect(3);
    assert!(
        no_active.error_line().contains("HTTP 404"),
        "{}",
        no_active.stderr
    );
    for bad in ["@live", "-x", "v 1", "#0"] {
        let run = env.run(&["releases", "show", "--", bad]).expect(2);
        assert!(
            run.error_line().contains("release"),
            "{bad}: {}",
            run.stderr
        );
    }
    let draft = env.run(&["releases", "activate", "@draft"]).expect(2);
    assert!(draft.error_line().contains("@draft"), "{}", draft.stderr);
    // A well-formed id that names nothing is the server's 404.
    let ghost = env
        .run(&["releases", "show", "rel_06g2x0d1q8v3k5m7n9p4r6t8w0"])
        .expect(3);
    assert!(ghost.error_line().contains("HTTP 404"), "{}", ghost.stderr);
}

#[test]
fn all_pages_follows_cursors_across_pages() {
    let env = Env::with_app();
    env.seed_draft();
    for n in 1..=5 {
        env.ok(&["releases", "create", &format!("v{n}")]);
    }
    let first = env.ok(&["releases", "list", "--limit", "2"]);
    assert_eq!(rows(&first.stdout).len(), 2, "{}", first.stdout);
    assert!(
        first.stderr.contains("showing 2 of 5") && first.stderr.contains("--all-pages"),
        "{}",
        first.stderr
    );

    let all = env.ok(&["releases", "list", "--limit", "2", "--all-pages"]);
    let numbers: Vec<String> = rows(&all.stdout)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(numbers, ["5", "4", "3", "2", "1"], "{}", all.stdout);
    assert!(all.stderr.is_empty(), "{}", all.stderr);

    let merged = env.json(&["releases", "list", "--limit", "2", "--all-pages"]);
    let tags: Vec<&str> = merged["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["release_tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["v5", "v4", "v3", "v2", "v1"]);
    assert_eq!(merged["has_more"], false);
    assert_eq!(merged["next_cursor"], Value::Null);
    assert_eq!(merged["total"], 5);

    // By hand: --cursor continues where a page stopped.
    let page = env.json(&["releases", "list", "--limit", "2"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let next = env.json(&["releases", "list", "--limit", "2", "--cursor", &cursor]);
    assert_eq!(next["releases"][0]["release_tag"], "v3");
    let bad = env
        .run(&["releases", "list", "--cursor", "not-a-cursor"])
        .expect(3);
    assert!(bad.error_line().contains("HTTP 422"), "{}", bad.stderr);
    // Selectors page too: v1 sits on the last page of 2-item pages... and of 200.
    assert_eq!(env.json(&["releases", "show", "v1"])["release_number"], 1);
    env.run(&["releases", "list", "--all-pages", "--cursor", &cursor])
        .expect(2);
    // `--all`, the flag's first name, still works, and is not offered in --help.
    let old_name = env.json(&["releases", "list", "--limit", "2", "--all"]);
    assert_eq!(old_name, merged);
    let help = env.ok(&["releases", "list", "--help"]).stdout;
    assert!(help.contains("--all-pages"), "{help}");
    assert!(!help.contains("--all "), "{help}");
    assert!(help.contains("does not widen the list"), "{help}");
    env.run(&["releases", "list", "--limit", "0"]).expect(2);
}

#[test]
fn the_activation_history_pages_like_the_other_lists() {
    let env = Env::with_app();
    env.seed_draft();
    env.ok(&["releases", "create", "v1", "--activate"]);
    env.ok(&["releases", "create", "v2", "--activate"]);
    env.ok(&["releases", "rollback", "v1"]);
    let page = env.ok(&["activations", "list", "--limit", "2"]);
    assert_eq!(rows(&page.stdout).len(), 2, "{}", page.stdout);
    assert!(page.stderr.contains("--all-pages"), "{}", page.stderr);
    let all = env
        .ok(&["activations", "list", "--limit", "2", "--all-pages"])
        .stdout;
    let actions: Vec<String> = rows(&all).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(actions, ["activate", "activate", "rollback"], "{all}");
}

#[test]
fn a_token_that_may_act_but_not_read_acts_on_release_ids() {
    let env = Env::with_app();
    env.seed_draft();
    let v1 = env.json(&["releases", "create", "v1", "--activate"])["release_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v2 = env.json(&["releases", "create", "v2"])["release_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = env
        .ok(&[
            "tokens",
            "create",
            "deployer",
            "--permission",
            "releases:activate",
            "--permission",
            "releases:delete",
        ])
        .stdout
        .trim()
        .to_owned();
    let as_deployer = || {
        let mut command = env.cli();
        command.env("CUTOVER_TOKEN", &secret);
        command
    };
    // By tag it would need to read the list: refused, naming the permission.
    let refused = env
        .run_with(as_deployer(), &["releases", "activate", "v2"])
        .expect(3);
    assert!(
        refused.error_line().contains("needs releases:read"),
        "{}",
        refused.stderr
    );
    // By id it acts, and says what it can.
    let done = env
        .run_with(as_deployer(), &["releases", "activate", &v2])
        .expect(0);
    assert!(
        done.stdout.contains("Release v2 (#2) activated"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains(&format!("Previously active: {v1}")),
        "{}",
        done.stdout
    );
    let deleted = env
        .run_with(as_deployer(), &["releases", "delete", &v1])
        .expect(0);
    assert_eq!(deleted.stdout, format!("Deleted release {v1}.\n"));
    assert_eq!(env.json(&["releases", "active"])["release_tag"], "v2");
}
