//! `cutover releases …` and `cutover activations list`: the release registry from a
//! terminal, shaped like `helm history` / `heroku releases` (a table with the active
//! release marked), with `show` printing the change log and the snapshot.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use cutover_domain::ReleaseId;
use cutover_domain::environment::BoardEntry;
use cutover_domain::model::{Activation, ReleaseDetail, ReleaseSummary};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, parse_answer};
use super::deployments::ChangeArgs;
use super::diff;
use super::dry_run::{self, DryRunArg};
use super::error::CliResult;
use super::output::{Table, or_dash, print, print_raw, since};
use super::selector::{label, resolve};

#[derive(Args)]
pub struct ReleasesArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: ReleasesCommand,
}

/// RELEASE arguments take a release id (rel_…), a number (7 or #7), a tag (v1.2.0;
/// tag:NAME for a tag made only of digits) or @active.
#[derive(Subcommand)]
pub enum ReleasesCommand {
    /// List the app's releases, newest first, with the environments each is deployed
    /// in; the default environment's is marked with *.
    List {
        /// Include archived releases.
        #[arg(long, short = 'a')]
        include_archived: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a release: its fields, change log, endpoints and augmentations.
    Show {
        /// The release: id, number, tag or @active.
        release: String,
    },
    /// Show the live release: the default environment's, or another's with --env.
    Active {
        /// The environment, by slug (staging) or id (env_…).
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
    },
    /// Cut a release from the app's draft.
    Create {
        /// The new release's tag (e.g. v1.2.0), unique in the app.
        tag: String,
        /// What this release is about.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Activate it too (deploy it to the default environment), in the same
        /// transaction.
        #[arg(long)]
        activate: bool,
        /// Deploy it to this environment instead, in the same transaction.
        #[arg(long, value_name = "ENV", conflicts_with = "activate")]
        env: Option<String>,
        #[command(flatten)]
        dry_run: DryRunArg,
    },
    /// Make a release the active one: deploy it to the default environment (what it
    /// replaces there is archived unless another environment has it).
    Activate {
        /// The release: id, number, tag or @active.
        release: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Roll the default environment back to an earlier release it had (`cutover
    /// rollback --env` takes any environment back).
    Rollback {
        /// The release to go back to: id, number or tag.
        release: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Archive a release deployed nowhere.
    Archive {
        /// The release: id, number or tag.
        release: String,
        /// Why, kept on the timeline's event (up to 1,000 characters).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        dry_run: DryRunArg,
    },
    /// Delete a release deployed nowhere (its number is never reused).
    Delete {
        /// The release: id, number or tag.
        release: String,
        /// Why, kept on the timeline's event (sent as `X-Cutover-Reason`).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        dry_run: DryRunArg,
    },
    /// What changed between two releases' snapshots (FROM → TO).
    #[command(
        long_about = "What changed between two snapshots, FROM → TO: endpoints and \
        augmentations added, removed and changed, with the fields that changed. Each \
        side is a release id, number, tag, @active, or @draft (the app's current \
        draft: what the next release would hold). Entities are matched by id, so a \
        rename shows as a change of `name`. With --output json the answer is \
        {from, to, identical, endpoints: {added, removed, changed}, augmentations: \
        {…}}; see docs/CLI.md."
    )]
    Diff {
        /// The older side.
        from: String,
        /// The newer side.
        to: String,
    },
}

#[derive(Args)]
pub struct ActivationsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: ActivationsCommand,
}

#[derive(Subcommand)]
pub enum ActivationsCommand {
    /// The app's activation history, oldest first: every activate and rollback.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
}

#[derive(Deserialize)]
struct ActivationAnswer {
    message: String,
    release: ReleaseSummary,
    previous_active_release_id: Option<ReleaseId>,
}

pub fn run(args: ReleasesArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let app = ctx.app_path()?;
    match args.command {
        ReleasesCommand::List {
            include_archived,
            page,
        } => list(&ctx, &app, include_archived, &page),
        ReleasesCommand::Show { release } => {
            let id = resolve(&ctx, &release)?;
            show(&ctx, &format!("{app}/releases/{id}"))
        }
        ReleasesCommand::Active { env } => {
            let query: Vec<(&str, String)> = env.into_iter().map(|e| ("environment", e)).collect();
            show_with(&ctx, &format!("{app}/releases/active"), &query)
        }
        ReleasesCommand::Create {
            tag,
            description,
            activate,
            env,
            dry_run,
        } => create(
            &ctx,
            &app,
            Cut {
                tag,
                description,
                activate,
                env,
            },
            dry_run,
        ),
        ReleasesCommand::Activate { release, change } => {
            transition(&ctx, &app, &release, "activate", &change)
        }
        ReleasesCommand::Rollback { release, change } => {
            transition(&ctx, &app, &release, "rollback", &change)
        }
        ReleasesCommand::Archive {
            release,
            reason,
            dry_run,
        } => {
            let id = resolve(&ctx, &release)?;
            let body = match reason {
                Some(reason) => serde_json::json!({ "reason": reason }),
                None => serde_json::json!({}),
            };
            let path = format!("{app}/releases/{id}/archive");
            if dry_run.dry_run {
                return dry_run::send(&ctx, Method::POST, &path, Some(&body), &[]);
            }
            let answer = ctx.api.post(&path, &body)?;
            if ctx.json() {
                return print_raw(&answer);
            }
            let summary: ReleaseSummary = parse_answer(&answer)?;
            print(&format!(
                "Release {} is {}.\n",
                label(&summary),
                summary.status.as_str()
            ))
        }
        ReleasesCommand::Delete {
            release,
            reason,
            dry_run,
        } => {
            let id = resolve(&ctx, &release)?;
            let headers: Vec<_> = reason
                .iter()
                .map(|reason| ("x-cutover-reason", percent_encode(reason)))
                .collect();
            let path = format!("{app}/releases/{id}");
            if dry_run.dry_run {
                return dry_run::send(&ctx, Method::DELETE, &path, None, &headers);
            }
            // Read first, so the message can say which release went; best effort, as
            // a token may be allowed to delete without being allowed to read.
            let known = if ctx.json() {
                None
            } else {
                ctx.api
                    .get(&format!("{app}/releases/{id}"), &[])
                    .and_then(|answer| parse_answer::<ReleaseDetail>(&answer))
                    .ok()
                    .map(|detail| label(&detail.summary))
            };
            let answer = ctx
                .api
                .send_with(Method::DELETE, &path, &[], None, &headers)?;
            if ctx.json() {
                return print_raw(&answer);
            }
            match known {
                Some(label) => print(&format!("Deleted release {label} ({id}).\n")),
                None => print(&format!("Deleted release {id}.\n")),
            }
        }
        ReleasesCommand::Diff { from, to } => diff::run(&ctx, &from, &to),
    }
}

pub fn run_activations(args: ActivationsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let app = ctx.app_path()?;
    match args.command {
        ActivationsCommand::List { page } => {
            let listing = ctx.list(&format!("{app}/activations"), "activations", &[], &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let entries: Vec<Activation> = listing.typed()?;
            let mut table = Table::new([
                "SEQ", "ACTION", "RELEASE", "REPLACED", "BY", "WHEN", "REASON",
            ]);
            for entry in &entries {
                table.row(vec![
                    entry.sequence.to_string(),
                    entry.action.as_str().to_owned(),
                    entry.release_id.to_string(),
                    or_dash(entry.replaced_release_id.as_ref().map(ReleaseId::as_str)),
                    entry.actor.clone(),
                    since(entry.at),
                    or_dash(entry.reason.as_deref()),
                ]);
            }
            print(&table.render())?;
            if entries.is_empty() {
                super::output::note("(no activations yet)");
            }
            listing.note_more();
            Ok(())
        }
    }
}

fn list(ctx: &Ctx, app: &str, include_archived: bool, page: &PageArgs) -> CliResult {
    let query = [("include_archived", include_archived.to_string())];
    let listing = ctx.list(&format!("{app}/releases"), "releases", &query, page)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let releases: Vec<ReleaseSummary> = listing.typed()?;
    let active = listing
        .field("active_release_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let deployed_in = deployed_in(ctx, app)?;
    let mut table = Table::new([
        "",
        "NUMBER",
        "TAG",
        "STATUS",
        "DEPLOYED IN",
        "ENDPOINTS",
        "AUGMENTATIONS",
        "CREATED",
        "BY",
        "DESCRIPTION",
    ]);
    for release in &releases {
        let is_active = active.as_deref() == Some(release.release_id.as_str());
        table.row(vec![
            if is_active { "*" } else { "" }.to_owned(),
            release.release_number.to_string(),
            release.release_tag.to_string(),
            release.status.as_str().to_owned(),
            or_dash(
                deployed_in
                    .get(&release.release_id)
                    .map(|slugs| slugs.join(","))
                    .as_deref(),
            ),
            release.endpoint_count.to_string(),
            release.augmentation_count.to_string(),
            since(release.created_at),
            release.created_by.clone(),
            or_dash(release.description.as_deref()),
        ]);
    }
    print(&table.render())?;
    if releases.is_empty() {
        super::output::note(if include_archived {
            "(no releases yet: cut one with `cutover releases create TAG`)"
        } else {
            "(no releases to show; archived ones appear with --include-archived)"
        });
    }
    listing.note_more();
    Ok(())
}

/// The slugs of the environments each release of the app is deployed in, from the
/// app's board (every page of it).
fn deployed_in(ctx: &Ctx, app: &str) -> CliResult<BTreeMap<ReleaseId, Vec<String>>> {
    let page = PageArgs {
        limit: Some(100),
        cursor: None,
        all_pages: true,
    };
    let listing = ctx.list(&format!("{app}/environments"), "environments", &[], &page)?;
    let mut deployed: BTreeMap<ReleaseId, Vec<String>> = BTreeMap::new();
    for entry in listing.typed::<BoardEntry>()? {
        if let Some(release) = entry.release {
            deployed
                .entry(release.release_id)
                .or_default()
                .push(entry.slug);
        }
    }
    Ok(deployed)
}

fn show(ctx: &Ctx, path: &str) -> CliResult {
    show_with(ctx, path, &[])
}

fn show_with(ctx: &Ctx, path: &str, query: &[(&str, String)]) -> CliResult {
    let answer = ctx.api.get(path, query)?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let detail: ReleaseDetail = parse_answer(&answer)?;
    print(&render_detail(&detail))
}

/// The whole of a release for people: fields, change log, snapshot.
fn render_detail(detail: &ReleaseDetail) -> String {
    let summary = &detail.summary;
    let mut text = format!("Release {}  {}\n", label(summary), summary.release_id);
    let mut field = |name: &str, value: String| {
        text.push_str(&format!("{:<15}{value}\n", format!("{name}:")));
    };
    let status = match (&summary.activated_at, &summary.activated_by) {
        (Some(at), Some(by)) => format!(
            "{} (last activated {} by {by})",
            summary.status.as_str(),
            since(*at)
        ),
        _ => summary.status.as_str().to_owned(),
    };
    field("Status", status);
    field("App", summary.app_id.to_string());
    field(
        "Created",
        format!(
            "{} ({}) by {}",
            summary.created_at,
            since(summary.created_at),
            summary.created_by
        ),
    );
    field("Description", or_dash(summary.description.as_deref()));
    field("Content hash", summary.content_hash.clone());
    field(
        "Previous",
        or_dash(detail.previous_release_id.as_ref().map(ReleaseId::as_str)),
    );
    text.push_str("\nChange log:\n");
    for line in detail.change_log.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!("\nEndpoints ({}):\n", detail.endpoints.len()));
    let augmentation_name = |id: &cutover_domain::AugmentationId| {
        detail
            .augmentations
            .iter()
            .find(|a| &a.augmentation_id == id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    if !detail.endpoints.is_empty() {
        let mut table = Table::new(["NAME", "METHOD", "PATH", "TYPE", "AUGMENTATION", "ID"]);
        for endpoint in &detail.endpoints {
            table.row(vec![
                endpoint.name.clone(),
                endpoint.method.as_str().to_owned(),
                endpoint.path.clone(),
                endpoint.endpoint_type.as_str().to_owned(),
                augmentation_name(&endpoint.augmentation_id),
                endpoint.endpoint_id.to_string(),
            ]);
        }
        text.push_str(&indent(&table.render()));
    }
    text.push_str(&format!(
        "\nAugmentations ({}):\n",
        detail.augmentations.len()
    ));
    if !detail.augmentations.is_empty() {
        let mut table = Table::new(["NAME", "STAGES", "STEPS", "TAGS", "TEMPLATE", "ID"]);
        for augmentation in &detail.augmentations {
            let steps: usize = augmentation.stages.iter().map(|s| s.steps.len()).sum();
            table.row(vec![
                augmentation.name.clone(),
                augmentation.stages.len().to_string(),
                steps.to_string(),
                if augmentation.tags.is_empty() {
                    "-".to_owned()
                } else {
                    augmentation.tags.join(",")
                },
                if augmentation.is_template {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
                augmentation.augmentation_id.to_string(),
            ]);
        }
        text.push_str(&indent(&table.render()));
    }
    text
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}

/// What `releases create` cuts.
struct Cut {
    tag: String,
    description: Option<String>,
    activate: bool,
    env: Option<String>,
}

fn create(ctx: &Ctx, app: &str, cut: Cut, dry_run: DryRunArg) -> CliResult {
    let Cut {
        tag,
        description,
        activate,
        env,
    } = cut;
    let mut body = json!({ "release_tag": tag });
    if let Some(description) = description {
        body["description"] = Value::String(description);
    }
    if activate || env.is_some() {
        body["activate"] = Value::Bool(true);
    }
    if let Some(env) = env {
        body["environment"] = Value::String(env);
    }
    let path = format!("{app}/releases");
    if dry_run.dry_run {
        return dry_run::send(ctx, Method::POST, &path, Some(&body), &[]);
    }
    let answer = ctx.api.post(&path, &body)?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let detail: ReleaseDetail = parse_answer(&answer)?;
    let summary = &detail.summary;
    let mut text = format!(
        "Created release {}, {}: {}\n",
        label(summary),
        summary.status.as_str(),
        summary.release_id
    );
    for line in detail.change_log.lines() {
        text.push_str(&format!("  {line}\n"));
    }
    print(&text)
}

/// Activate or roll back: POST …/{id}/{action}, then say what replaced what.
fn transition(ctx: &Ctx, app: &str, release: &str, action: &str, change: &ChangeArgs) -> CliResult {
    let id = resolve(ctx, release)?;
    let body = change.add_to(ctx, serde_json::json!({}))?;
    let path = format!("{app}/releases/{id}/{action}");
    if change.dry_run.dry_run {
        return dry_run::send(ctx, Method::POST, &path, Some(&body), &[]);
    }
    let answer = ctx.api.post(&path, &body)?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let outcome: ActivationAnswer = parse_answer(&answer)?;
    let mut text = format!("{}.\n", outcome.message);
    if let Some(previous) = outcome
        .previous_active_release_id
        .filter(|p| *p != outcome.release.release_id)
    {
        // Only for the message: the change is made, so a failure here (say, a token
        // that may activate but not read) must not turn it into an error.
        let before = ctx
            .api
            .get(&format!("{app}/releases/{previous}"), &[])
            .and_then(|answer| parse_answer::<ReleaseDetail>(&answer));
        match before {
            Ok(before) => text.push_str(&format!(
                "Previously active: {} ({previous}), now {}.\n",
                label(&before.summary),
                before.summary.status.as_str()
            )),
            Err(_) => text.push_str(&format!("Previously active: {previous}.\n")),
        }
    }
    print(&text)
}

/// `text` as `X-Cutover-Reason` carries it: visible ASCII and spaces as they are,
/// `%` and every other byte of its UTF-8 as `%XX` (the server decodes them).
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (b' '..=b'~').contains(&byte) && byte != b'%' {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
