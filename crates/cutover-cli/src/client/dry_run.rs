//! `--dry-run` on every command whose write takes it (`releases create|activate|
//! rollback|archive|delete`, `deploy`, `promote`, `rollback --env`): the same request
//! with `?dry_run=true`, and what the server says it would do, for people (or its
//! JSON as it came). A dry run the real command would have refused exits as that
//! refusal does, so a script can gate on it.

use clap::Args;
use reqwest::Method;
use serde_json::Value;

use super::context::Ctx;
use super::diff;
use super::error::{CliError, CliResult};
use super::http::answer_error;
use super::output::{print, print_raw};

#[derive(Args, Clone, Copy, Debug, Default)]
pub struct DryRunArg {
    /// Change nothing: show what this would do (the release, what it replaces,
    /// status changes, warnings, the diff), or why it would be refused (and exit as
    /// that refusal would).
    #[arg(long)]
    pub dry_run: bool,
}

/// Sends `method path` (with `body` and `headers`) as a dry run and reports it.
pub fn send(
    ctx: &Ctx,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, String)],
) -> CliResult {
    let query = [("dry_run", "true".to_owned())];
    let answer = ctx.api.send_with(method, path, &query, body, headers)?;
    let said = answer.json()?;
    if ctx.json() {
        print_raw(&answer)?;
    } else {
        print(&render(&said))?;
    }
    match said["blockers"].as_array().and_then(|all| all.first()) {
        Some(blocker) => Err(refusal(blocker)),
        None => Ok(()),
    }
}

/// The real call's refusal, as the command would have failed with it.
fn refusal(blocker: &Value) -> CliError {
    let status = blocker["status_code"]
        .as_u64()
        .and_then(|status| u16::try_from(status).ok())
        .unwrap_or(409);
    let body = blocker.to_string();
    let error = answer_error(status, "refused", None, body.as_bytes());
    CliError::http(
        status,
        format!("the real command would be refused: {error}"),
    )
}

/// `v2 (#2)`, from a release brief.
fn release(brief: &Value) -> String {
    format!(
        "{} (#{})",
        brief["release_tag"].as_str().unwrap_or("?"),
        brief["release_number"]
    )
}

/// A dry run's answer for people.
pub fn render(said: &Value) -> String {
    let mut text = String::from("Dry run: nothing was changed.\n");
    if said["allowed"] != Value::Bool(true) {
        return text;
    }
    let environment = said["environment"]["slug"].as_str().unwrap_or("?");
    let target = release(&said["release"]);
    let would = match said["action"].as_str().unwrap_or_default() {
        "create_release" => format!("cut {target}"),
        "activate" => format!("activate {target}"),
        "rollback" => format!("roll back to {target}"),
        "deploy" => format!("deploy {target} to {environment}"),
        "promote" => format!("promote {target} to {environment}"),
        "environment_rollback" => format!("roll {environment} back to {target}"),
        "archive" => format!("archive {target}"),
        "delete" => format!("delete {target}"),
        other => format!("{other} {target}"),
    };
    let replacing = match &said["replaces"] {
        Value::Null => String::new(),
        replaced => format!(", replacing {}", release(replaced)),
    };
    if said["changes"] == Value::Bool(true) {
        text.push_str(&format!("Would {would}{replacing}.\n"));
    }
    for change in said["status_changes"].as_array().into_iter().flatten() {
        let status = |value: &Value| value.as_str().unwrap_or("(none)").to_owned();
        let (from, to) = (status(&change["from"]), status(&change["to"]));
        let to = if change["to"].is_null() {
            "deleted".to_owned()
        } else {
            to
        };
        let from = if change["from"].is_null() {
            "new".to_owned()
        } else {
            from
        };
        text.push_str(&format!("  {}: {from} → {to}\n", release(change)));
    }
    for warning in said["warnings"].as_array().into_iter().flatten() {
        let message = warning["message"].as_str().unwrap_or_default();
        text.push_str(&format!(
            "Warning ({}): {message}\n",
            warning["code"].as_str().unwrap_or("?")
        ));
    }
    if !said["diff"].is_null() {
        text.push('\n');
        text.push_str(&diff::render(&said["diff"]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deploy_reads_as_what_would_replace_what() {
        let said = json!({
            "dry_run": true, "action": "deploy", "allowed": true, "changes": true,
            "environment": {"slug": "production"},
            "release": {"release_id": "rel_2", "release_tag": "v2", "release_number": 2},
            "replaces": {"release_id": "rel_1", "release_tag": "v1", "release_number": 1},
            "status_changes": [
                {"release_id": "rel_2", "release_tag": "v2", "release_number": 2, "from": "ready", "to": "active"},
                {"release_id": "rel_1", "release_tag": "v1", "release_number": 1, "from": "active", "to": "archived"}
            ],
            "blockers": [],
            "warnings": [{"code": "rolled_back_before", "message": "v2 (#2) was rolled back"}],
            "diff": null
        });
        assert_eq!(
            render(&said),
            "Dry run: nothing was changed.\n\
             Would deploy v2 (#2) to production, replacing v1 (#1).\n  \
             v2 (#2): ready → active\n  \
             v1 (#1): active → archived\n\
             Warning (rolled_back_before): v2 (#2) was rolled back\n"
        );
    }

    #[test]
    fn a_refused_dry_run_fails_as_the_real_command_would() {
        let blocker = json!({
            "error": "CONFLICT", "message": "Release is deployed",
            "details": {"reason": "release_is_deployed"}, "status_code": 409
        });
        let error = refusal(&blocker);
        assert_eq!(error.status(), Some(409));
        assert!(error.to_string().contains("release_is_deployed"), "{error}");
    }
}
