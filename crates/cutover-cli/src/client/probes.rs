//! The operations outside `/v1`: `cutover health live|ready` (the probes),
//! `cutover metrics` (Prometheus text) and `cutover openapi --remote` (the document a
//! running server serves). None needs a token.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::args::GlobalArgs;
use super::context::Ctx;
use super::error::CliResult;
use super::output::{print, print_raw};

#[derive(Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: HealthCommand,
}

#[derive(Subcommand)]
pub enum HealthCommand {
    /// Is the process up? (GET /healthz)
    Live,
    /// Can it serve, database included? (GET /readyz; 503 exits with 4)
    Ready,
}

#[derive(Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
}

pub fn health(args: HealthArgs) -> CliResult {
    // A probe says how the server is now: a 503 or no answer is the answer, not a
    // reason to try again.
    let global = GlobalArgs {
        retries: 0,
        ..args.global
    };
    let ctx = Ctx::new(&global, false)?;
    let path = match args.command {
        HealthCommand::Live => "/healthz",
        HealthCommand::Ready => "/readyz",
    };
    let answer = ctx.api.get(path, &[])?;
    if ctx.json() {
        return print_raw(&answer);
    }
    let status = answer
        .json()?
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("ok")
        .to_owned();
    print(&format!("{status}\n"))
}

/// Prometheus text, as served (`--output` does not apply: it is not JSON).
pub fn metrics(args: MetricsArgs) -> CliResult {
    let ctx = Ctx::new(&args.global, false)?;
    print_raw(&ctx.api.get("/metrics", &[])?)
}

/// The server's own OpenAPI document, as served.
pub fn openapi(global: &GlobalArgs) -> CliResult {
    let ctx = Ctx::new(global, false)?;
    print_raw(&ctx.api.get("/openapi.json", &[])?)
}
