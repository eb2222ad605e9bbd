//! `cutover envs …`: the workspace's environments (production, staging, development
//! and any added), each named by its slug or its id; and `cutover status`, the app's
//! board.

use clap::{Args, Subcommand};
use cutover_domain::environment::{BoardEntry, Environment, EnvironmentRef};
use serde_json::{Map, Value, json};

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, parse_answer, unexpected};
use super::error::{CliError, CliResult};
use super::output::{Table, note, or_dash, print, print_raw, since};

#[derive(Args)]
pub struct EnvsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: EnvsCommand,
}

#[derive(Subcommand)]
pub enum EnvsCommand {
    /// List the workspace's environments (the default is marked).
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show an environment and what is deployed in it.
    Show {
        /// Its slug (production) or id (env_…).
        env: String,
    },
    /// Add an environment to the workspace.
    Create {
        /// Its display name.
        name: String,
        /// Lowercase letters, digits and '-'; unique in the workspace.
        #[arg(long)]
        slug: String,
        /// Free text.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Make it the workspace's default (the previous default loses the flag).
        #[arg(long)]
        default: bool,
        /// Deploying to it then needs releases:activate.
        #[arg(long)]
        protected: bool,
    },
    /// Change an environment: each option given is set.
    Update {
        /// Its slug or id.
        env: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New slug.
        #[arg(long)]
        slug: Option<String>,
        /// New description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Clear the description.
        #[arg(long, conflicts_with = "description")]
        no_description: bool,
        /// Make it the workspace's default.
        #[arg(long)]
        default: bool,
        /// Protect it: deploying to it then needs releases:activate.
        #[arg(long)]
        protected: bool,
        /// Stop protecting it.
        #[arg(long, conflicts_with = "protected")]
        unprotected: bool,
    },
    /// Delete an environment (not the default, not one with deployments).
    Delete {
        /// Its slug or id.
        env: String,
    },
}

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub page: PageArgs,
}

/// `cutover status`: the app's board, what of it is deployed in each environment.
pub fn status(args: StatusArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let path = format!("{}/environments", ctx.app_path()?);
    let listing = ctx.list(&path, "environments", &[], &args.page)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let entries: Vec<BoardEntry> = listing.typed()?;
    let mut table = Table::new(["ENVIRONMENT", "RELEASE", "#", "DEPLOYED", "BY"]);
    for entry in &entries {
        let marked = match entry.is_default {
            true => format!("{} (default)", entry.slug),
            false => entry.slug.clone(),
        };
        let (tag, number) = match &entry.release {
            Some(release) => (
                release.release_tag.as_str().to_owned(),
                release.release_number.to_string(),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        table.row(vec![
            marked,
            tag,
            number,
            entry.deployed_at.map_or("-".to_owned(), since),
            or_dash(entry.deployed_by.as_deref()),
        ]);
    }
    print(&table.render())?;
    listing.note_more();
    Ok(())
}

/// `env` as a path segment, refused here when it can name no environment.
fn segment(env: &str) -> CliResult<String> {
    EnvironmentRef::parse(env)
        .map(|reference| reference.as_str().to_owned())
        .map_err(|_| {
            CliError::usage(format!(
                "{env:?} is neither an environment slug (lowercase letters, digits, '-') \
                 nor an id (env_…)"
            ))
        })
}

pub fn run(args: EnvsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = format!("{}/environments", ctx.workspace_path()?);
    match args.command {
        EnvsCommand::List { page } => {
            let listing = ctx.list(&base, "environments", &[], &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let environments: Vec<Environment> = listing.typed()?;
            let mut table = Table::new(["SLUG", "NAME", "DEFAULT", "PROTECTED", "APPS", "ID"]);
            for environment in &environments {
                let yes = |flag: bool| if flag { "yes" } else { "-" }.to_owned();
                table.row(vec![
                    environment.slug.clone(),
                    environment.name.clone(),
                    yes(environment.is_default),
                    yes(environment.protected),
                    environment.active_deployments.len().to_string(),
                    environment.environment_id.to_string(),
                ]);
            }
            print(&table.render())?;
            if environments.is_empty() {
                note("(no environments)");
            }
            listing.note_more();
            Ok(())
        }
        EnvsCommand::Show { env } => {
            let answer = ctx.api.get(&format!("{base}/{}", segment(&env)?), &[])?;
            render(&ctx, &answer, None)
        }
        EnvsCommand::Create {
            name,
            slug,
            description,
            default,
            protected,
        } => {
            let mut body = json!({ "name": name, "slug": slug, "is_default": default,
                                   "protected": protected });
            if let Some(description) = description {
                body["description"] = json!(description);
            }
            let answer = ctx.api.post(&base, &body)?;
            render(&ctx, &answer, Some("environment"))
        }
        EnvsCommand::Update {
            env,
            name,
            slug,
            description,
            no_description,
            default,
            protected,
            unprotected,
        } => {
            let mut body = Map::new();
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            if let Some(slug) = slug {
                body.insert("slug".into(), json!(slug));
            }
            if let Some(description) = description {
                body.insert("description".into(), json!(description));
            }
            if no_description {
                body.insert("description".into(), Value::Null);
            }
            if default {
                body.insert("is_default".into(), json!(true));
            }
            if protected || unprotected {
                body.insert("protected".into(), json!(protected));
            }
            if body.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: give --name, --slug, --description, \
                     --no-description, --default, --protected or --unprotected",
                ));
            }
            let path = format!("{base}/{}", segment(&env)?);
            let answer = ctx.api.patch(&path, &Value::Object(body))?;
            render(&ctx, &answer, None)
        }
        EnvsCommand::Delete { env } => {
            let answer = ctx.api.delete(&format!("{base}/{}", segment(&env)?))?;
            if ctx.json() {
                return print_raw(&answer);
            }
            note(&format!("Deleted environment {env}"));
            Ok(())
        }
    }
}

/// Prints an environment; `under` names the key it is under in the answer, if any.
fn render(ctx: &Ctx, answer: &super::http::Answer, under: Option<&str>) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let environment: Environment = match under {
        Some(key) => {
            let mut whole: Map<String, Value> = parse_answer(answer)?;
            let inner = whole.remove(key).unwrap_or(Value::Null);
            serde_json::from_value(inner)
                .map_err(|err| unexpected(&format!("the answer's {key}: {err}")))?
        }
        None => parse_answer(answer)?,
    };
    let mut text = format!(
        "Environment {}  ({})  {}\nDefault:     {}\nProtected:   {}\nDescription: {}\n\
         Created:     {} ({}) by {}\n",
        environment.name,
        environment.slug,
        environment.environment_id,
        if environment.is_default { "yes" } else { "no" },
        if environment.protected { "yes" } else { "no" },
        or_dash(environment.description.as_deref()),
        environment.created_at,
        since(environment.created_at),
        environment.created_by,
    );
    if environment.active_deployments.is_empty() {
        text.push_str("Deployed:    nothing\n");
    } else {
        text.push_str("Deployed:\n");
        for (app, release) in &environment.active_deployments {
            text.push_str(&format!("  {app}  {release}\n"));
        }
    }
    print(&text)
}
