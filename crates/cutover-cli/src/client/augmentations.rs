//! `cutover augmentations …`: the augmentations (pipelines) of the app's draft
//! (list, show, create, update, delete). An AUGMENTATION argument is an id (aug_…)
//! or a name.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cutover_domain::AugmentationId;
use cutover_domain::model::Augmentation;
use serde_json::Value;

use super::args::{GlobalArgs, PageArgs};
use super::body::{Body, Named, find_in_draft, json_flag};
use super::context::{Ctx, parse_answer};
use super::error::{CliError, CliResult};
use super::output::{Table, note, or_dash, print, print_raw, since};

#[derive(Args)]
pub struct AugmentationsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: AugmentationsCommand,
}

/// Fields of an augmentation, for create and update.
#[derive(Args)]
pub struct AugmentationFields {
    /// Free text.
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// The stages, as a JSON array: JSON, @FILE or @- (see docs/API.md for the shape).
    #[arg(long, value_name = "JSON")]
    pub stages: Option<String>,
    /// A tag (repeat for several); replaces the whole list.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Whether it is a template (`--template` alone means true).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub template: Option<bool>,
    /// Start from the JSON body in FILE (- for standard input); flags override it.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub from_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AugmentationsCommand {
    /// List the draft's augmentations.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one augmentation with its stages and steps.
    Show {
        /// Id (aug_…) or name.
        augmentation: String,
    },
    /// Add an augmentation to the draft.
    Create {
        /// Its name, unique in the app.
        name: Option<String>,
        #[command(flatten)]
        fields: AugmentationFields,
    },
    /// Change an augmentation of the draft (only the fields given).
    Update {
        /// Id (aug_…) or name.
        augmentation: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// Clear the description.
        #[arg(long, conflicts_with = "description")]
        no_description: bool,
        /// Remove every tag.
        #[arg(long, conflicts_with = "tags")]
        no_tags: bool,
        #[command(flatten)]
        fields: AugmentationFields,
    },
    /// Remove an augmentation from the draft (refused while an endpoint uses it).
    Delete {
        /// Id (aug_…) or name.
        augmentation: String,
    },
}

pub fn run(args: AugmentationsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = format!("{}/augmentations", ctx.app_path()?);
    match args.command {
        AugmentationsCommand::List { page } => list(&ctx, &base, &page),
        AugmentationsCommand::Show { augmentation } => {
            let found = find(&ctx, &augmentation)?;
            let answer = ctx.api.get(&format!("{base}/{}", found.id), &[])?;
            render(&ctx, &answer)
        }
        AugmentationsCommand::Create { name, fields } => {
            let mut body = fill(fields)?;
            body.text("name", name);
            let answer = ctx.api.post(&base, &body.into_value())?;
            if ctx.json() {
                return print_raw(&answer);
            }
            let augmentation: Augmentation = parse_answer(&answer)?;
            print(&format!(
                "Created augmentation {} ({}) with {} stage(s).\n",
                augmentation.name,
                augmentation.augmentation_id,
                augmentation.stages.len()
            ))
        }
        AugmentationsCommand::Update {
            augmentation,
            name,
            no_description,
            no_tags,
            fields,
        } => {
            let found = find(&ctx, &augmentation)?;
            let mut body = fill(fields)?;
            body.text("name", name);
            body.clear_if("description", no_description);
            if no_tags {
                body.set("tags", Some(Value::Array(Vec::new())));
            }
            if body.is_empty() {
                return Err(CliError::usage(
                    "nothing to change: give at least one field flag (see --help)",
                ));
            }
            let answer = ctx
                .api
                .patch(&format!("{base}/{}", found.id), &body.into_value())?;
            render(&ctx, &answer)
        }
        AugmentationsCommand::Delete { augmentation } => {
            let found = find(&ctx, &augmentation)?;
            let answer = ctx.api.delete(&format!("{base}/{}", found.id))?;
            if ctx.json() {
                return print_raw(&answer);
            }
            print(&format!("Deleted augmentation {}.\n", found.label()))
        }
    }
}

/// An augmentation of the app's draft by id or name.
pub fn find(ctx: &Ctx, text: &str) -> CliResult<Named> {
    find_in_draft(
        ctx,
        "augmentations",
        "augmentation_id",
        |t| AugmentationId::parse(t).is_ok(),
        text,
    )
}

fn fill(fields: AugmentationFields) -> CliResult<Body> {
    let mut body = Body::start(fields.from_file.as_deref())?;
    body.text("description", fields.description);
    body.set("stages", json_flag("--stages", fields.stages)?);
    if !fields.tags.is_empty() {
        let tags = fields.tags.into_iter().map(Value::String).collect();
        body.set("tags", Some(Value::Array(tags)));
    }
    body.set("is_template", fields.template.map(Value::Bool));
    Ok(body)
}

fn list(ctx: &Ctx, base: &str, page: &PageArgs) -> CliResult {
    let listing = ctx.list(base, "augmentations", &[], page)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let augmentations: Vec<Augmentation> = listing.typed()?;
    let mut table = Table::new([
        "NAME", "STAGES", "STEPS", "TAGS", "TEMPLATE", "UPDATED", "ID",
    ]);
    for augmentation in &augmentations {
        table.row(vec![
            augmentation.name.clone(),
            augmentation.stages.len().to_string(),
            steps(augmentation).to_string(),
            tags(augmentation),
            yes_no(augmentation.is_template),
            since(augmentation.updated_at),
            augmentation.augmentation_id.to_string(),
        ]);
    }
    print(&table.render())?;
    if augmentations.is_empty() {
        note("(the draft has no augmentations)");
    }
    listing.note_more();
    Ok(())
}

fn steps(augmentation: &Augmentation) -> usize {
    augmentation.stages.iter().map(|s| s.steps.len()).sum()
}

fn tags(augmentation: &Augmentation) -> String {
    if augmentation.tags.is_empty() {
        "-".to_owned()
    } else {
        augmentation.tags.join(",")
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

fn render(ctx: &Ctx, answer: &super::http::Answer) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let augmentation: Augmentation = parse_answer(answer)?;
    let mut text = format!(
        "Augmentation {}  {}\n",
        augmentation.name, augmentation.augmentation_id
    );
    let rows = [
        ("Description", or_dash(augmentation.description.as_deref())),
        ("Tags", tags(&augmentation)),
        ("Template", yes_no(augmentation.is_template)),
        (
            "Created",
            format!(
                "{} ({}) by {}",
                augmentation.created_at,
                since(augmentation.created_at),
                augmentation.created_by
            ),
        ),
        (
            "Updated",
            format!(
                "{} ({}) by {}",
                augmentation.updated_at,
                since(augmentation.updated_at),
                augmentation.updated_by
            ),
        ),
    ];
    for (name, value) in rows {
        text.push_str(&format!("{:<13}{value}\n", format!("{name}:")));
    }
    text.push_str(&format!("\nStages ({}):\n", augmentation.stages.len()));
    for (i, stage) in augmentation.stages.iter().enumerate() {
        text.push_str(&format!(
            "  {}. {} ({})\n",
            i + 1,
            stage.name,
            stage.execution_mode.as_str()
        ));
        if stage.steps.is_empty() {
            continue;
        }
        let mut table = Table::new(["STEP", "TYPE", "TIMEOUT", "RETRIES", "CONFIG"]);
        for step in &stage.steps {
            table.row(vec![
                step.name.clone(),
                step.step_type.as_str().to_owned(),
                format!("{}s", step.timeout_seconds),
                step.max_retries.to_string(),
                Value::Object(step.config.clone()).to_string(),
            ]);
        }
        for line in table.render().lines() {
            text.push_str(&format!("     {line}\n"));
        }
    }
    print(&text)
}
