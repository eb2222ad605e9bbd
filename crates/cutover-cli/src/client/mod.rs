//! The `cutover` command line as a client of the API: one module per resource
//! (named like the API's operations, `releases_activate` → `cutover releases
//! activate`), the settings they share (flags > `CUTOVER_*` variables > config file),
//! the HTTP client, and output for people (tables) or scripts (`--output json`).

pub mod apps;
pub mod args;
pub mod augmentations;
mod body;
pub mod config;
mod context;
pub mod deployments;
mod diff;
mod dry_run;
pub mod endpoints;
pub mod environments;
pub mod error;
mod http;
mod output;
pub mod probes;
pub mod releases;
mod selector;
pub mod session;
pub mod tenancy;
pub mod timeline;
pub mod tokens;

use std::process::ExitCode;

use clap::Args;

use error::CliResult;

/// `cutover openapi`: the document built into this binary, or with `--remote` the
/// one a running server serves.
#[derive(Args)]
pub struct OpenapiArgs {
    /// Fetch GET /openapi.json from the server (--url) instead.
    #[arg(long)]
    pub remote: bool,
    #[command(flatten)]
    pub global: args::GlobalArgs,
}

/// Prints a failed command's one line and turns its kind into the exit code.
pub fn finish(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::note(&format!("cutover: {error}"));
            ExitCode::from(error.exit_code())
        }
    }
}

/// Writes generated text (a completion script) to standard output.
pub fn print_bytes(bytes: &[u8]) -> CliResult {
    output::print(&String::from_utf8_lossy(bytes))
}

/// What `--help` says after the command list: settings and exit codes.
pub const AFTER_HELP: &str = "\
Client commands read the server, token and context from flags, else from
CUTOVER_URL, CUTOVER_TOKEN, CUTOVER_ORG, CUTOVER_WORKSPACE, CUTOVER_APP, else
from the config file `cutover login` writes (CUTOVER_CONFIG or --config to move it).

Exit codes of the client commands:
  0  success
  1  local failure (config file, unexpected answer, output)
  2  usage error (bad or missing flags, arguments or context)
  3  the server refused the request (HTTP 4xx, or a release or name not found)
  4  the server failed (HTTP 5xx)
  5  the server could not be reached (connection, DNS, TLS, timeout)";
