//! `cutover tokens create|list|revoke`: API tokens of the organisation in context, or
//! with `--platform` (list, revoke) the platform tokens, which belong to no org.
//! `create` prints the secret alone on standard output (the only time it is shown),
//! so `TOKEN=$(cutover tokens create ci --role operator)` captures just it.

use clap::{Args, Subcommand};
use cutover_domain::TokenId;
use cutover_domain::token::Token;
use serde::Deserialize;
use serde_json::json;

use super::args::{GlobalArgs, PageArgs};
use super::context::{Ctx, parse_answer};
use super::error::{CliError, CliResult};
use super::output::{Table, note, print, print_raw, since};

#[derive(Args)]
pub struct TokensArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Mint a token; its secret is printed once, alone on standard output.
    Create {
        /// A name to tell it apart.
        name: String,
        /// A role: admin, developer, operator or viewer.
        #[arg(
            long,
            conflicts_with = "permissions",
            required_unless_present = "permissions"
        )]
        role: Option<String>,
        /// A permission such as releases:activate (repeat for several).
        #[arg(long = "permission", value_name = "PERMISSION")]
        permissions: Vec<String>,
        /// Limit it to this workspace id (repeat for several).
        #[arg(long = "limit-to-workspace", value_name = "WORKSPACE_ID")]
        workspace_ids: Vec<String>,
        /// When it stops working (RFC 3339, e.g. 2027-01-31T00:00:00Z).
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
    /// List the organisation's tokens (never their secrets).
    List {
        /// List the platform tokens (of no org) instead; needs a platform token.
        #[arg(long)]
        platform: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// Revoke a platform token (of no org); needs a platform token.
        #[arg(long)]
        platform: bool,
        /// Token id (tok_…).
        token_id: String,
    },
}

#[derive(Deserialize)]
struct TokenCreated {
    #[serde(flatten)]
    token: Token,
    #[serde(rename = "token")]
    secret: String,
}

pub fn run(args: TokensArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, true)?;
    let base = |platform: bool| -> CliResult<String> {
        if platform {
            Ok("/v1/tokens".to_owned())
        } else {
            Ok(format!("{}/tokens", ctx.org_path()?))
        }
    };
    match args.command {
        TokensCommand::Create {
            name,
            role,
            permissions,
            workspace_ids,
            expires_at,
        } => {
            let mut body = json!({ "name": name });
            if let Some(role) = role {
                body["role"] = json!(role);
            }
            if !permissions.is_empty() {
                body["permissions"] = json!(permissions);
            }
            if !workspace_ids.is_empty() {
                body["workspace_ids"] = json!(workspace_ids);
            }
            if let Some(expires_at) = expires_at {
                body["expires_at"] = json!(expires_at);
            }
            let answer = ctx.api.post(&base(false)?, &body)?;
            if ctx.json() {
                return print_raw(&answer);
            }
            let created: TokenCreated = parse_answer(&answer)?;
            note(&format!(
                "Created token {} ({}) with {}{}. Its secret follows; it is shown only now:",
                created.token.name,
                created.token.token_id,
                created.token.permissions.join(", "),
                scope(&created.token)
            ));
            print(&format!("{}\n", created.secret))
        }
        TokensCommand::List { platform, page } => {
            let listing = ctx.list(&base(platform)?, "tokens", &[], &page)?;
            if ctx.json() {
                return ctx.print_listing_json(listing);
            }
            let tokens: Vec<Token> = listing.typed()?;
            let mut table = Table::new([
                "NAME",
                "PREFIX",
                "PERMISSIONS",
                "WORKSPACES",
                "EXPIRES",
                "CREATED",
                "ID",
            ]);
            for token in &tokens {
                table.row(vec![
                    token.name.clone(),
                    token.prefix.clone(),
                    token.permissions.join(","),
                    match &token.workspace_ids {
                        None => "all".to_owned(),
                        Some(ids) => ids
                            .iter()
                            .map(|id| id.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    },
                    token
                        .expires_at
                        .map_or_else(|| "never".to_owned(), |t| t.to_string()),
                    since(token.created_at),
                    token.token_id.to_string(),
                ]);
            }
            print(&table.render())?;
            if tokens.is_empty() {
                note("(no tokens)");
            }
            listing.note_more();
            Ok(())
        }
        TokensCommand::Revoke { platform, token_id } => {
            let id = TokenId::parse(&token_id)
                .map_err(|_| CliError::usage(format!("{token_id:?} is not a token id (tok_…)")))?;
            let answer = ctx.api.delete(&format!("{}/{id}", base(platform)?))?;
            if ctx.json() {
                return print_raw(&answer);
            }
            print(&format!("Revoked token {id}.\n"))
        }
    }
}

fn scope(token: &Token) -> String {
    match &token.workspace_ids {
        None => String::new(),
        Some(ids) => format!(
            ", limited to {}",
            ids.iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
