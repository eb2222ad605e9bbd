//! `cutover endpoints …`: the endpoints of the app's draft (list, show, create,
//! update, delete). An ENDPOINT argument is an id (ep_…) or a name.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cutover_domain::EndpointId;
use cutover_domain::model::Endpoint;
use serde_json::Value;

use super::args::{GlobalArgs, PageArgs};
use super::body::{Body, Named, find_in_draft, json_flag};
use super::context::{Ctx, parse_answer};
use super::error::{CliError, CliResult};
use super::output::{Table, note, or_dash, print, print_raw, since};

#[derive(Args)]
pub struct EndpointsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: EndpointsCommand,
}

/// Fields of an endpoint, for create and update.
#[derive(Args)]
pub struct EndpointFields {
    /// URL path, starting with / (unique with --method).
    #[arg(long)]
    pub path: Option<String>,
    /// GET, POST, PUT, PATCH or DELETE.
    #[arg(long)]
    pub method: Option<String>,
    /// The augmentation behind it: id (aug_…) or name.
    #[arg(long, value_name = "AUGMENTATION")]
    pub augmentation: Option<String>,
    /// sync, async or stream.
    #[arg(long = "type", value_name = "TYPE")]
    pub endpoint_type: Option<String>,
    /// Free text.
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// JSON Schema of its input: JSON, @FILE or @- (null clears it).
    #[arg(long, value_name = "JSON")]
    pub input_schema: Option<String>,
    /// Start from the JSON body in FILE (- for standard input); flags override it.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub from_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum EndpointsCommand {
    /// List the draft's endpoints.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one endpoint.
    Show {
        /// Id (ep_…) or name.
        endpoint: String,
    },
    /// Add an endpoint to the draft.
    Create {
        /// Its name, unique in the app.
        name: Option<String>,
        #[command(flatten)]
        fields: EndpointFields,
    },
    /// Change an endpoint of the draft (only the fields given).
    Update {
        /// Id (ep_…) or name.
        endpoint: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// Clear the description.
        #[arg(long, conflicts_with = "description")]
        no_description: bool,
        #[command(flatten)]
        fields: EndpointFields,
    },
    /// Remove an endpoint from the draft.
    Delete {
        /// Id (ep_…) or name.
        endpoint: String,
    },
}

pub fn run(args: EndpointsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = format!("{}/endpoints", ctx.app_path()?);
    match args.command {
        EndpointsCommand::List { page } => list(&ctx, &base, &page),
        EndpointsCommand::Show { endpoint } => {
            let found = find(&ctx, &endpoint)?;
            let answer = ctx.api.get(&format!("{base}/{}", found.id), &[])?;
            render(&ctx, &answer)
        }
        EndpointsCommand::Create { name, fields } => {
            let mut body = fill(&ctx, fields)?;
            body.text("name", name);
            let answer = ctx.api.post(&base, &body.into_value())?;
            if ctx.json() {
                return print_raw(&answer);
            }
            let endpoint: Endpoint = parse_answer(&answer)?;
            print(&format!(
                "Created endpoint {} ({}): {} {}\n",
                endpoint.name, endpoint.endpoint_id, endpoint.method, endpoint.path
            ))
        }
        EndpointsCommand::Update {
            endpoint,
            name,
            no_description,
            fields,
        } => {
            let found = find(&ctx, &endpoint)?;
            let mut body = fill(&ctx, fields)?;
            body.text("name", name);
            body.clear_if("description", no_description);
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
        EndpointsCommand::Delete { endpoint } => {
            let found = find(&ctx, &endpoint)?;
            let answer = ctx.api.delete(&format!("{base}/{}", found.id))?;
            if ctx.json() {
                return print_raw(&answer);
            }
            print(&format!("Deleted endpoint {}.\n", found.label()))
        }
    }
}

fn find(ctx: &Ctx, text: &str) -> CliResult<Named> {
    find_in_draft(
        ctx,
        "endpoints",
        "endpoint_id",
        |t| EndpointId::parse(t).is_ok(),
        text,
    )
}

/// The body from `--from-file` and the field flags; `--augmentation` may be a name.
fn fill(ctx: &Ctx, fields: EndpointFields) -> CliResult<Body> {
    let mut body = Body::start(fields.from_file.as_deref())?;
    body.text("path", fields.path);
    body.text("method", fields.method.map(|m| m.to_ascii_uppercase()));
    body.text("endpoint_type", fields.endpoint_type);
    body.text("description", fields.description);
    body.set(
        "input_schema",
        json_flag("--input-schema", fields.input_schema)?,
    );
    if let Some(augmentation) = fields.augmentation {
        let found = super::augmentations::find(ctx, &augmentation)?;
        body.set("augmentation_id", Some(Value::String(found.id)));
    }
    Ok(body)
}

fn list(ctx: &Ctx, base: &str, page: &PageArgs) -> CliResult {
    let listing = ctx.list(base, "endpoints", &[], page)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let endpoints: Vec<Endpoint> = listing.typed()?;
    let mut table = Table::new([
        "NAME",
        "METHOD",
        "PATH",
        "TYPE",
        "AUGMENTATION",
        "UPDATED",
        "ID",
    ]);
    for endpoint in &endpoints {
        table.row(vec![
            endpoint.name.clone(),
            endpoint.method.as_str().to_owned(),
            endpoint.path.clone(),
            endpoint.endpoint_type.as_str().to_owned(),
            endpoint.augmentation_id.to_string(),
            since(endpoint.updated_at),
            endpoint.endpoint_id.to_string(),
        ]);
    }
    print(&table.render())?;
    if endpoints.is_empty() {
        note("(the draft has no endpoints)");
    }
    listing.note_more();
    Ok(())
}

fn render(ctx: &Ctx, answer: &super::http::Answer) -> CliResult {
    if ctx.json() {
        return print_raw(answer);
    }
    let endpoint: Endpoint = parse_answer(answer)?;
    let schema = match &endpoint.input_schema {
        Some(schema) => serde_json::to_string_pretty(schema)
            .map_err(|e| CliError::local(format!("cannot encode JSON: {e}")))?,
        None => "-".to_owned(),
    };
    let mut text = format!("Endpoint {}  {}\n", endpoint.name, endpoint.endpoint_id);
    let rows = [
        ("Route", format!("{} {}", endpoint.method, endpoint.path)),
        ("Type", endpoint.endpoint_type.as_str().to_owned()),
        ("Augmentation", endpoint.augmentation_id.to_string()),
        ("Description", or_dash(endpoint.description.as_deref())),
        (
            "Created",
            format!(
                "{} ({}) by {}",
                endpoint.created_at,
                since(endpoint.created_at),
                endpoint.created_by
            ),
        ),
        (
            "Updated",
            format!(
                "{} ({}) by {}",
                endpoint.updated_at,
                since(endpoint.updated_at),
                endpoint.updated_by
            ),
        ),
        ("Input schema", schema),
    ];
    for (name, value) in rows {
        text.push_str(&format!("{:<14}{value}\n", format!("{name}:")));
    }
    print(&text)
}
