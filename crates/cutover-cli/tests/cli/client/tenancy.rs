//! `cutover orgs …`, `workspaces …`, `apps …` and `tokens …`.

use crate::client::harness::{Env, rows};

#[test]
fn orgs_and_workspaces() {
    let env = Env::with_app();
    let context = env.context().clone();
    let made = env
        .ok(&["orgs", "create", "Beta Corp", "--slug", "beta"])
        .stdout;
    assert!(made.starts_with("Organisation Beta Corp  org_"), "{made}");
    assert!(made.contains("Slug:     beta"), "{made}");
    let list = env.ok(&["orgs", "list"]).stdout;
    let table = rows(&list);
    assert_eq!(table.len(), 2, "{list}");
    assert_eq!(table[0][..2], ["Acme", "acme"], "{list}");
    assert_eq!(table[1][..3], ["Beta", "Corp", "beta"], "{list}");
    let taken = env
        .run(&["orgs", "create", "Again", "--slug", "beta"])
        .expect(3);
    assert!(
        taken.error_line().contains("CONFLICT: org_slug_taken"),
        "{}",
        taken.stderr
    );
    assert!(env.ok(&["orgs", "show"]).stdout.contains(&context.org));
    assert_eq!(env.json(&["orgs", "show", &context.org])["name"], "Acme");
    env.run(&["orgs", "show", "acme"]).expect(2);

    let ws = env
        .ok(&["workspaces", "create", "staging", "-d", "pre-production"])
        .stdout;
    assert!(ws.starts_with("Workspace staging  ws_"), "{ws}");
    let list = env.ok(&["workspaces", "list"]).stdout;
    assert_eq!(rows(&list).len(), 2, "{list}");
    assert!(list.contains("pre-production"), "{list}");
    assert!(
        env.ok(&["workspaces", "show"])
            .stdout
            .contains("Workspace production")
    );
    let one = env.json(&["workspaces", "list", "--limit", "1"]);
    assert_eq!(one["has_more"], true);
}

#[test]
fn apps_are_created_updated_and_deleted() {
    let env = Env::with_app();
    let made = env.json(&[
        "apps",
        "create",
        "billing",
        "--parameters",
        r#"{"region": "eu"}"#,
    ]);
    let id = made["app_id"].as_str().unwrap().to_owned();
    assert_eq!(made["parameters"]["region"], "eu");

    let list = env.ok(&["apps", "list"]).stdout;
    assert!(
        list.lines().next().unwrap().contains("ACTIVE RELEASE"),
        "{list}"
    );
    let names: Vec<String> = rows(&list).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["support-bot", "billing"], "{list}");

    let shown = env.ok(&["apps", "show", &id]).stdout;
    assert!(
        shown.contains("Parameters:   {\"region\":\"eu\"}"),
        "{shown}"
    );
    assert!(
        shown.contains("Draft:        empty, nothing released yet"),
        "{shown}"
    );
    let updated = env.json(&[
        "apps",
        "update",
        &id,
        "--name",
        "invoicing",
        "--parameters",
        "null",
        "-d",
        "bills",
    ]);
    assert_eq!(updated["name"], "invoicing");
    assert_eq!(updated["parameters"], serde_json::json!({}));
    assert_eq!(updated["description"], "bills");
    env.run(&["apps", "update", &id]).expect(2);

    // The app in context has gone live: deleting it is refused with the reason.
    env.seed_draft();
    env.ok(&["releases", "create", "v1", "--activate"]);
    let app = env.context().app.clone();
    let refused = env.run(&["apps", "delete", &app]).expect(3);
    assert!(
        refused
            .error_line()
            .contains("CONFLICT: app_has_active_release"),
        "{}",
        refused.stderr
    );
    let deleted = env.ok(&["apps", "delete", &id]);
    assert!(
        deleted.stdout.contains(&format!("Deleted app {id}")),
        "{}",
        deleted.stdout
    );
    env.run(&["apps", "show", &id]).expect(3);
}

#[test]
fn tokens_are_minted_listed_used_and_revoked() {
    let env = Env::with_app();
    let minted = env.ok(&["tokens", "create", "ci", "--role", "viewer"]);
    let secret = minted.stdout.trim().to_owned();
    assert!(
        secret.starts_with("cut_") && !secret.contains(' '),
        "{}",
        minted.stdout
    );
    assert!(
        minted.stderr.contains("shown only now"),
        "{}",
        minted.stderr
    );

    let list = env.ok(&["tokens", "list"]).stdout;
    let ci = rows(&list)
        .into_iter()
        .find(|r| r[0] == "ci")
        .unwrap_or_else(|| panic!("no ci token:\n{list}"));
    assert!(secret.starts_with(&ci[1]), "the prefix column: {list}");
    assert!(!list.contains(&secret), "a secret in the list:\n{list}");
    let token_id = ci.last().unwrap().clone();

    // The new token works, and a viewer may not cut releases: 403 names the permission.
    let mut as_ci = env.cli();
    as_ci.env("CUTOVER_TOKEN", &secret);
    env.run_with(as_ci, &["apps", "show"]).expect(0);
    let mut as_ci = env.cli();
    as_ci.env("CUTOVER_TOKEN", &secret);
    let forbidden = env.run_with(as_ci, &["releases", "create", "v1"]).expect(3);
    let line = forbidden.error_line();
    assert!(
        line.contains("FORBIDDEN") && line.contains("needs releases:create"),
        "{line}"
    );

    let limited = env.json(&[
        "tokens",
        "create",
        "deployer",
        "--permission",
        "releases:activate",
        "--permission",
        "releases:read",
        "--limit-to-workspace",
        &env.context().workspace,
        "--expires-at",
        "2099-01-01T00:00:00Z",
    ]);
    assert_eq!(
        limited["permissions"],
        serde_json::json!(["releases:activate", "releases:read"])
    );
    assert!(limited["token"].as_str().unwrap().starts_with("cut_"));

    let revoked = env.ok(&["tokens", "revoke", &token_id]);
    assert!(
        revoked
            .stdout
            .contains(&format!("Revoked token {token_id}")),
        "{}",
        revoked.stdout
    );
    let mut as_ci = env.cli();
    as_ci.env("CUTOVER_TOKEN", &secret);
    let gone = env.run_with(as_ci, &["apps", "show"]).expect(3);
    assert!(gone.error_line().contains("HTTP 401"), "{}", gone.stderr);

    env.run(&[
        "tokens",
        "create",
        "both",
        "--role",
        "viewer",
        "--permission",
        "apps:read",
    ])
    .expect(2);
    env.run(&["tokens", "create", "neither"]).expect(2);
    let unknown_role = env
        .run(&["tokens", "create", "x", "--role", "wizard"])
        .expect(3);
    assert!(
        unknown_role.error_line().contains("HTTP 422"),
        "{}",
        unknown_role.stderr
    );
    env.run(&["tokens", "revoke", "nope"]).expect(2);
}

#[test]
fn platform_tokens_are_listed_and_revoked_with_platform() {
    let env = Env::with_app();
    let list = env.ok(&["tokens", "list", "--platform"]).stdout;
    let names: Vec<String> = rows(&list).into_iter().map(|row| row[0].clone()).collect();
    assert!(names.contains(&"bootstrap".to_owned()), "{list}");

    let org_token = env.json(&["tokens", "create", "ci", "--role", "viewer"]);
    let org_token_id = org_token["token_id"].as_str().unwrap().to_owned();
    let org_list = env.ok(&["tokens", "list"]).stdout;
    assert!(!org_list.contains("bootstrap"), "{org_list}");
    // An org token is not a platform token: 404, and it keeps working.
    let refused = env
        .run(&["tokens", "revoke", "--platform", &org_token_id])
        .expect(3);
    assert!(
        refused.error_line().contains("HTTP 404"),
        "{}",
        refused.stderr
    );
    let mut as_ci = env.cli();
    as_ci.env("CUTOVER_TOKEN", org_token["token"].as_str().unwrap());
    env.run_with(as_ci, &["apps", "show"]).expect(0);
    env.run(&["tokens", "revoke", "--platform", "nope"])
        .expect(2);
}

#[test]
fn environments_are_listed_created_updated_and_deleted() {
    let env = Env::with_app();
    let list = env.ok(&["envs", "list"]).stdout;
    let table = rows(&list);
    assert_eq!(table.len(), 3, "{list}");
    assert_eq!(
        table[0][..4],
        ["production", "Production", "yes", "yes"],
        "{list}"
    );
    assert_eq!(table[1][..4], ["staging", "Staging", "-", "-"], "{list}");
    assert_eq!(table[2][0], "development", "{list}");

    let made = env
        .ok(&[
            "envs",
            "create",
            "QA",
            "--slug",
            "qa",
            "-d",
            "testers",
            "--protected",
        ])
        .stdout;
    assert!(made.starts_with("Environment QA  (qa)  env_"), "{made}");
    assert!(made.contains("Protected:   yes"), "{made}");
    let taken = env
        .run(&["envs", "create", "QA again", "--slug", "qa"])
        .expect(3);
    assert!(
        taken
            .error_line()
            .contains("CONFLICT: environment_slug_taken"),
        "{}",
        taken.stderr
    );
    let changed = env.json(&["envs", "update", "qa", "--default", "--name", "Quality"]);
    assert_eq!(
        (changed["is_default"].clone(), changed["name"].clone()),
        (true.into(), "Quality".into())
    );
    let refused = env.run(&["envs", "delete", "qa"]).expect(3);
    assert!(
        refused.error_line().contains("environment_is_default"),
        "{}",
        refused.stderr
    );
    env.ok(&["envs", "update", "production", "--default"]);
    let unprotected = env.json(&["envs", "update", "qa", "--unprotected", "--no-description"]);
    assert_eq!(unprotected["protected"], false);
    assert_eq!(unprotected["description"], serde_json::Value::Null);
    env.run(&["envs", "update", "qa", "--protected", "--unprotected"])
        .expect(2);
    assert_eq!(env.json(&["envs", "list"])["total"], 4);
    env.ok(&["envs", "delete", "qa"]);
    env.run(&["envs", "show", "qa"]).expect(3);
    env.run(&["envs", "show", "Not A Slug"]).expect(2);
    env.run(&["envs", "update", "staging"]).expect(2);
    assert_eq!(
        env.json(&["envs", "show", "production"])["is_default"],
        true
    );
}

#[test]
fn status_shows_what_is_deployed_in_each_environment() {
    let env = Env::with_app();
    let before = env.ok(&["status"]).stdout;
    let table = rows(&before);
    assert_eq!(table.len(), 3, "{before}");
    assert_eq!(table[0][..3], ["production", "(default)", "-"], "{before}");
    env.ok(&["releases", "create", "v1", "--activate"]);
    let after = env.ok(&["status"]).stdout;
    let table = rows(&after);
    assert_eq!(
        table[0][..4],
        ["production", "(default)", "v1", "1"],
        "{after}"
    );
    assert_eq!(table[1][..3], ["staging", "-", "-"], "{after}");
    let json = env.json(&["status"]);
    assert_eq!(json["environments"][0]["release"]["release_tag"], "v1");
    let live = env
        .ok(&["releases", "active", "--env", "production"])
        .stdout;
    assert!(live.starts_with("Release v1"), "{live}");
    let nothing = env
        .run(&["releases", "active", "--env", "staging"])
        .expect(3);
    assert!(
        nothing.error_line().contains("HTTP 404"),
        "{}",
        nothing.stderr
    );
}
