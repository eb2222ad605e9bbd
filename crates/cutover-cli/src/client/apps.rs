//! `cutover apps …`: the apps of the workspace in context (list, show, create,
//! update, delete). An APP argument is an app id; without one, the app in context.

use clap::{Args, Subcommand};
use cutover_domain::AppId;
use cutover_domain::model::App;
use serde_json::Value;

use super::args::{GlobalArgs, PageArgs};
use super::body::{Body, json_flag};
use super::context::{Ctx, parse_answer};
use super::error::{CliError, CliResult};
use super::output::{Table, note, or_dash, print, print_raw, since};

#[derive(Args)]
pub struct AppsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: AppsCommand,
}

#[derive(Subcommand)]
pub enum AppsCommand {
    /// List the workspace's apps.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show an app (default: the one in context).
    Show {
        /// App id (app_…).
        app: Option<String>,
    },
    /// Create an app in the workspace.
    Create {
        /// Its name, unique in the workspace.
        name: String,
        /// Free text.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// A JSON object of parameters: JSON, @FILE or @-.
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
    },
    /// Change an app (only the fields given).
    Update {
        /// App id (app_…); default: the one in context.
        app: Option<String>,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Clear the description.
        #[arg(long, conflicts_with = "description")]
        no_description: bool,
        /// Replace the parameters with this JSON object (null resets to {}).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
    },
    /// Delete an app with its draft and releases (refused while one is active).
    Delete {
        /// App id (app_…).
        app: String,
    },
}

pub fn run(args: AppsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = format!("{}/apps", ctx.workspace_path()?);
    match args.command {
        AppsCommand::List { page } => list(&ctx, &base, &page),
        AppsCommand::Show { app } => {
            let id = app_id(&ctx, app)?;
            let answer = ctx.api.get(&format!("{base}/{id}"), &[])?;
            render(&ctx, &answer)
        }
        AppsCommand::Create {
            name,
            description,
            parameters,
        } => {
            let mut body = Body::start(None)?;
            body.text("name", Some(name));
            body.text("description", description);
            body.set("parameters", json_flag("--parameters", parameters)?);
            let answer = ctx.api.post(&base, &body.into_value())?;
            render(&ctx, &answer)
        }
        AppsCommand::Update {
            app,
            name,
            description,
            no_description,
            parameters,
        } => {
            let id = app_id(&ctx, app)?;
            let mut body = Body::start(None)?;
            body.text("name", name);
            body.text("description", description);
            body.clear_if("description", no_description);
            body.set("parameters", json_flag("--parameters", parameters)?);
            if body.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: give --name, --description, --no-description or --parameters",
                ));
            }
            let answer = ctx.api.patch(&format!("{base}/{id}"), &body.into_value())?;
            render(&ctx, &answer)
        }
        AppsCommand::Delete { app } => {
            let id = app_id(&ctx, Some(app))?;
            let answer = ctx.api.delete(&format!("{base}/{id}"))?;
            if ctx.json() {
                return print_raw(&answer);
            }
            print(&format!("Deleted app {id} with its draft and releases.\n"))
        }
    }
}

fn app_id(ctx: &Ctx, given: Option<String>) -> CliResult<AppId> {
    match given {
        Some(text) => AppId::parse(&text)
            .map_err(|_| CliError::usage(format!("{text:?} is not an app id (app_…)"))),
        None => ctx.app(),
    }
}

fn list(ctx: &Ctx, base: &str, page: &PageArgs) -> CliResult {
    let listing = ctx.list(base, "apps", &[], page)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let apps: Vec<App> = listing.typed()?;
    let mut table = Table::new([
        "NAME",
        "ACTIVE RELEASE",
        "RELEASES",
        "DRAFT CHANGED",
        "LAST RELEASE",
        "ID",
    ]);
    for app in &apps {
        table.row(vec![
            app.name.clone(),
            or_dash(app.active_release_id.as_ref().map(|r| r.as_str())),
            app.total_releases.to_string(),
            if app.draft_has_changes { "yes" } else { "no" }.to_owned(),
            app.last_release_at.map_or_else(|| "-".to_owned(), since),
            app.app_id.to_string(),
        ]);
    }
    print(&table.render())?;
    if apps.is_empty() {
        note("(no apps in this workspace)");
    }
    listing.note_more();
    Ok(())
}

fn render(ctx: &Ctx, answer: &super::http::Answer) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let app: App = parse_answer(answer)?;
    let mut text = format!("App {}  {}\n", app.name, app.app_id);
    let rows = [
        ("Workspace", app.workspace_id.to_string()),
        ("Organisation", app.org_id.to_string()),
        ("Description", or_dash(app.description.as_deref())),
        (
            "Active",
            or_dash(app.active_release_id.as_ref().map(|r| r.as_str())),
        ),
        ("Releases", app.total_releases.to_string()),
        (
            "Last release",
            app.last_release_at.map_or_else(|| "-".to_owned(), since),
        ),
        (
            "Draft",
            match (app.draft_has_changes, app.total_releases) {
                (true, 0) => "not released yet",
                (false, 0) => "empty, nothing released yet",
                (true, _) => "changed since the newest release",
                (false, _) => "same as the newest release",
            }
            .to_owned(),
        ),
        (
            "Parameters",
            Value::Object(app.parameters.clone()).to_string(),
        ),
        (
            "Created",
            format!(
                "{} ({}) by {}",
                app.created_at,
                since(app.created_at),
                app.created_by
            ),
        ),
    ];
    for (name, value) in rows {
        text.push_str(&format!("{:<14}{value}\n", format!("{name}:")));
    }
    print(&text)
}
