//! `cutover orgs …` and `cutover workspaces …`: the containers apps live in.

use clap::{Args, Subcommand};
use cutover_domain::model::{Org, Workspace};
use cutover_domain::{OrgId, WorkspaceId};
use serde_json::json;

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, parse_answer};
use super::error::{CliError, CliResult};
use super::output::{Table, note, or_dash, print, print_raw, since};

#[derive(Args)]
pub struct OrgsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: OrgsCommand,
}

#[derive(Subcommand)]
pub enum OrgsCommand {
    /// List the organisations this token can see.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show an organisation (default: the one in context).
    Show {
        /// Organisation id (org_…).
        org: Option<String>,
    },
    /// Create an organisation (needs a platform token).
    Create {
        /// Its name.
        name: String,
        /// URL-friendly unique name (derived from the name when omitted).
        #[arg(long)]
        slug: Option<String>,
    },
}

#[derive(Args)]
pub struct WorkspacesArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: WorkspacesCommand,
}

#[derive(Subcommand)]
pub enum WorkspacesCommand {
    /// List the organisation's workspaces.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a workspace (default: the one in context).
    Show {
        /// Workspace id (ws_…).
        workspace: Option<String>,
    },
    /// Create a workspace in the organisation.
    Create {
        /// Its name, unique in the organisation.
        name: String,
        /// Free text.
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
}

pub fn run_orgs(args: OrgsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    match args.command {
        OrgsCommand::List { page } => {
            let listing = ctx.list("/v1/orgs", "orgs", &[], &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let orgs: Vec<Org> = listing.typed()?;
            let mut table = Table::new(["NAME", "SLUG", "CREATED", "ID"]);
            for org in &orgs {
                table.row(vec![
                    org.name.clone(),
                    org.slug.clone(),
                    since(org.created_at),
                    org.org_id.to_string(),
                ]);
            }
            print(&table.render())?;
            if orgs.is_empty() {
                note("(no organisations)");
            }
            listing.note_more();
            Ok(())
        }
        OrgsCommand::Show { org } => {
            let id = match org {
                Some(text) => OrgId::parse(&text).map_err(|_| {
                    CliError::usage(format!("{text:?} is not an organisation id (org_…)"))
                })?,
                None => ctx.org()?,
            };
            let answer = ctx.api.get(&format!("/v1/orgs/{id}"), &[])?;
            render_org(&ctx, &answer)
        }
        OrgsCommand::Create { name, slug } => {
            let mut body = json!({ "name": name });
            if let Some(slug) = slug {
                body["slug"] = json!(slug);
            }
            let answer = ctx.api.post("/v1/orgs", &body)?;
            render_org(&ctx, &answer)
        }
    }
}

fn render_org(ctx: &Ctx, answer: &super::http::Answer) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let org: Org = parse_answer(answer)?;
    print(&format!(
        "Organisation {}  {}\nSlug:     {}\nCreated:  {} ({}) by {}\n",
        org.name,
        org.org_id,
        org.slug,
        org.created_at,
        since(org.created_at),
        org.created_by
    ))
}

pub fn run_workspaces(args: WorkspacesArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = format!("{}/workspaces", ctx.org_path()?);
    match args.command {
        WorkspacesCommand::List { page } => {
            let listing = ctx.list(&base, "workspaces", &[], &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let workspaces: Vec<Workspace> = listing.typed()?;
            let mut table = Table::new(["NAME", "DESCRIPTION", "CREATED", "ID"]);
            for workspace in &workspaces {
                table.row(vec![
                    workspace.name.clone(),
                    or_dash(workspace.description.as_deref()),
                    since(workspace.created_at),
                    workspace.workspace_id.to_string(),
                ]);
            }
            print(&table.render())?;
            if workspaces.is_empty() {
                note("(no workspaces)");
            }
            listing.note_more();
            Ok(())
        }
        WorkspacesCommand::Show { workspace } => {
            let id = match workspace {
                Some(text) => WorkspaceId::parse(&text).map_err(|_| {
                    CliError::usage(format!("{text:?} is not a workspace id (ws_…)"))
                })?,
                None => ctx.workspace()?,
            };
            let answer = ctx.api.get(&format!("{base}/{id}"), &[])?;
            render_workspace(&ctx, &answer)
        }
        WorkspacesCommand::Create { name, description } => {
            let mut body = json!({ "name": name });
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            let answer = ctx.api.post(&base, &body)?;
            render_workspace(&ctx, &answer)
        }
    }
}

fn render_workspace(ctx: &Ctx, answer: &super::http::Answer) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let workspace: Workspace = parse_answer(answer)?;
    print(&format!(
        "Workspace {}  {}\nOrganisation: {}\nDescription:  {}\nCreated:      {} ({}) by {}\n",
        workspace.name,
        workspace.workspace_id,
        workspace.org_id,
        or_dash(workspace.description.as_deref()),
        workspace.created_at,
        since(workspace.created_at),
        workspace.created_by
    ))
}
