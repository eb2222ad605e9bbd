//! `cutover deploy`, `cutover promote`, `cutover rollback --env` and `cutover
//! deployments …`: putting a release in an environment, carrying one environment's
//! release to the next, taking one environment back, and the records of it all.

use clap::{Args, Subcommand};
use cutover_domain::deployment::Deployment;
use reqwest::Method;
use serde_json::{Value, json};

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, parse_answer};
use super::dry_run::{self, DryRunArg};
use super::error::CliResult;
use super::output::{Table, note, or_dash, print, print_raw, since};
use super::selector::resolve;

#[derive(Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The release: id, number, tag or @active.
    pub release: String,
    /// The environment, by slug (staging) or id (env_…).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The environment whose release goes.
    #[arg(long, value_name = "ENV")]
    pub from: String,
    /// The environment it goes to.
    #[arg(long, value_name = "ENV")]
    pub to: String,
    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The environment to take back.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The release to go back to (id, number or tag); without it, the one before.
    pub release: Option<String>,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// What every write that changes an environment may carry: why, and what the
/// environment must have for it to go ahead (compare-and-swap).
#[derive(Args)]
pub struct ChangeArgs {
    /// Why, kept on the deployment record (up to 1,000 characters).
    #[arg(long)]
    pub reason: Option<String>,
    /// Go ahead only if the environment has this release now (id, number, tag or
    /// @active; @none: only if it has nothing). Otherwise nothing changes and the
    /// command fails, saying what the environment has.
    #[arg(long, value_name = "RELEASE")]
    pub expect: Option<String>,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

impl ChangeArgs {
    /// `body` with `reason` and `expected_release_id` added as given.
    pub fn add_to(&self, ctx: &Ctx, mut body: Value) -> CliResult<Value> {
        if let Some(reason) = &self.reason {
            body["reason"] = Value::String(reason.clone());
        }
        match self.expect.as_deref() {
            None => {}
            Some("@none") => body["expected_release_id"] = Value::Null,
            Some(release) => {
                body["expected_release_id"] = Value::String(resolve(ctx, release)?.to_string());
            }
        }
        Ok(body)
    }
}

#[derive(Args)]
pub struct DeploymentsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: DeploymentsCommand,
}

#[derive(Subcommand)]
pub enum DeploymentsCommand {
    /// The app's deployment records, newest first.
    List {
        /// Only this environment's.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One record.
    Show {
        /// Its id (dep_…).
        deployment: String,
    },
}

/// Posts a deploy or promote (or its dry run) and says what happened.
fn send(ctx: &Ctx, body: &Value, dry_run: DryRunArg) -> CliResult {
    let path = format!("{}/deployments", ctx.app_path()?);
    if dry_run.dry_run {
        return dry_run::send(ctx, Method::POST, &path, Some(body), &[]);
    }
    let answer = ctx.api.post(&path, body)?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let record: Deployment = parse_answer(&answer)?;
    print(&say(&record, answer.status == 200))
}

/// One line for people: what the environment has now, and what it had.
fn say(record: &Deployment, unchanged: bool) -> String {
    let release = release_label(record);
    if unchanged {
        return format!(
            "{} already has {release}; nothing changed ({}).\n",
            record.environment_slug, record.deployment_id
        );
    }
    let verb = match record.action.as_str() {
        "promote" => "Promoted",
        "rollback" => "Rolled back",
        _ => "Deployed",
    };
    let previous = record
        .previous_release_id
        .as_ref()
        .map_or(String::new(), |id| format!(", replacing {id}"));
    let target = match record.action.as_str() {
        "rollback" => format!("{} to {release}", record.environment_slug),
        _ => format!("{release} to {}", record.environment_slug),
    };
    format!("{verb} {target}{previous} ({}).\n", record.deployment_id)
}

/// `v1 (#1)`, or the release id where the record has no tag and number.
pub(super) fn release_label(record: &Deployment) -> String {
    match (&record.release_tag, record.release_number) {
        (Some(tag), Some(number)) => format!("{tag} (#{number})"),
        _ => record.release_id.to_string(),
    }
}

pub fn deploy(args: DeployArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let release = resolve(&ctx, &args.release)?;
    let body = json!({"environment": args.env, "release_id": release});
    send(&ctx, &args.change.add_to(&ctx, body)?, args.change.dry_run)
}

pub fn promote(args: PromoteArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let body = json!({"environment": args.to, "from_environment": args.from});
    send(&ctx, &args.change.add_to(&ctx, body)?, args.change.dry_run)
}

pub fn rollback(args: RollbackArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let mut body = json!({});
    if let Some(release) = &args.release {
        body["release_id"] = Value::String(resolve(&ctx, release)?.to_string());
    }
    let path = format!("{}/environments/{}/rollback", ctx.app_path()?, args.env);
    let body = args.change.add_to(&ctx, body)?;
    if args.change.dry_run.dry_run {
        return dry_run::send(&ctx, Method::POST, &path, Some(&body), &[]);
    }
    let answer = ctx.api.post(&path, &body)?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let record: Deployment = parse_answer(&answer)?;
    print(&say(&record, false))
}

pub fn run(args: DeploymentsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let path = format!("{}/deployments", ctx.app_path()?);
    match args.command {
        DeploymentsCommand::List { env, page } => {
            let query: Vec<(&str, String)> =
                env.into_iter().map(|env| ("environment", env)).collect();
            let listing = ctx.list(&path, "deployments", &query, &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let records: Vec<Deployment> = listing.typed()?;
            let mut table = Table::new([
                "ENVIRONMENT",
                "ACTION",
                "RELEASE",
                "PREVIOUS",
                "BY",
                "WHEN",
                "REASON",
                "ID",
            ]);
            for record in &records {
                table.row(vec![
                    record.environment_slug.clone(),
                    record.action.as_str().to_owned(),
                    release_label(record),
                    or_dash(record.previous_release_id.as_ref().map(|id| id.as_str())),
                    record.deployed_by.clone(),
                    since(record.deployed_at),
                    or_dash(record.reason.as_deref()),
                    record.deployment_id.to_string(),
                ]);
            }
            print(&table.render())?;
            if records.is_empty() {
                note("(nothing deployed yet: `cutover deploy RELEASE --env staging`)");
            }
            listing.note_more();
            Ok(())
        }
        DeploymentsCommand::Show { deployment } => {
            let answer = ctx.api.get(&format!("{path}/{deployment}"), &[])?;
            if ctx.json() {
                return print_raw(&answer);
            }
            let record: Deployment = parse_answer(&answer)?;
            let mut text = say(&record, false);
            text.push_str(&format!(
                "By {} {} ({}); reason: {}\n",
                record.deployed_by,
                since(record.deployed_at),
                record.deployed_at,
                or_dash(record.reason.as_deref())
            ));
            print(&text)
        }
    }
}
