//! `cutover timeline`: the app's history, newest first, one line per event: each
//! draft commit (who changed what), each release cut, archived or deleted, and each
//! deployment.

use clap::Args;
use cutover_domain::timeline::{EventType, TimelineEvent};

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, unexpected};
use super::deployments::release_label;
use super::error::CliResult;
use super::output::{Table, cell, note, print, since};

/// The most events one page of the timeline holds (the API's own bound).
const MAX_PAGE: u32 = 100;

// The paging flags of every list, with the timeline's smaller pages.
#[derive(Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Events per page (1–100; the server's default is 20).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=MAX_PAGE as i64))]
    pub limit: Option<u32>,
    /// Start from this cursor (the `next_cursor` of an earlier page).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all_pages")]
    pub cursor: Option<String>,
    /// Fetch every page, back to the app's first event.
    #[arg(long)]
    pub all_pages: bool,
}

pub fn run(args: TimelineArgs) -> CliResult {
    let page = PageArgs {
        limit: args.limit,
        cursor: args.cursor,
        all_pages: args.all_pages,
    };
    let ctx = Ctx::new(&args.global, true)?;
    let path = format!("{}/timeline", ctx.app_path()?);
    let listing = ctx.list_within(&path, "events", &[], &page, MAX_PAGE)?;
    if ctx.json() {
        return ctx.print_listing_json(listing);
    }
    let events: Vec<TimelineEvent> = listing.typed()?;
    let mut table = Table::new(["WHEN", "TYPE", "ACTION", "BY", "WHAT", "ID"]);
    for event in &events {
        table.row(row(event)?);
    }
    print(&table.render())?;
    if events.is_empty() {
        note("(nothing yet: the first draft change, release or deployment starts it)");
    }
    listing.note_more();
    Ok(())
}

/// `what`, then `: reason` when the change said why.
fn said_why(what: String, reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("{what}: {}", cell(reason)),
        None => what,
    }
}

/// One event's cells: when, its type, what was done, by whom, to what, and its id.
fn row(event: &TimelineEvent) -> CliResult<Vec<String>> {
    let when = since(event.timestamp);
    let cells = match (
        event.event_type,
        &event.commit,
        &event.release,
        &event.deployment,
    ) {
        (EventType::Commit, Some(commit), _, _) => {
            let operation = commit
                .changes
                .first()
                .map_or("change", |change| change.operation.as_str());
            [
                "commit".to_owned(),
                operation.to_owned(),
                commit.author.clone(),
                cell(&commit.message),
                commit.commit_id.to_string(),
            ]
        }
        (EventType::Release, _, Some(release), _) => [
            "release".to_owned(),
            release.action.as_str().to_owned(),
            release.action_by.clone(),
            said_why(
                format!(
                    "{} (#{})",
                    cell(release.summary.release_tag.as_str()),
                    release.summary.release_number
                ),
                release.reason.as_deref(),
            ),
            release.summary.release_id.to_string(),
        ],
        (EventType::Deployment, _, _, Some(deployment)) => [
            "deployment".to_owned(),
            deployment.action.as_str().to_owned(),
            deployment.deployed_by.clone(),
            said_why(
                format!(
                    "{} in {}",
                    release_label(deployment),
                    deployment.environment_slug
                ),
                deployment.reason.as_deref(),
            ),
            deployment.deployment_id.to_string(),
        ],
        _ => {
            return Err(unexpected(
                "a timeline event without the part its type names",
            ));
        }
    };
    let mut row = vec![when];
    row.extend(cells);
    Ok(row)
}
