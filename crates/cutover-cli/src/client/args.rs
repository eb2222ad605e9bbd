//! Flags every client command shares: which server and token, which org, workspace
//! and app, where the config file is, how to print, and how lists are paged.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Connection, context and output flags; each also reads a `CUTOVER_*` variable and
/// then the config file (flags win over variables, variables over the file).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Server, context and output")]
pub struct GlobalArgs {
    /// Server base URL [env: CUTOVER_URL] (default http://127.0.0.1:8080).
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// API token (prefer CUTOVER_TOKEN or `cutover login`: flags show in `ps`)
    /// [env: CUTOVER_TOKEN].
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Organisation id (org_…) [env: CUTOVER_ORG].
    #[arg(long, global = true, value_name = "ORG_ID")]
    pub org: Option<String>,
    /// Workspace id (ws_…) [env: CUTOVER_WORKSPACE].
    #[arg(long, global = true, value_name = "WORKSPACE_ID")]
    pub workspace: Option<String>,
    /// App id (app_…) [env: CUTOVER_APP].
    #[arg(long, global = true, value_name = "APP_ID")]
    pub app: Option<String>,
    /// Config file [env: CUTOVER_CONFIG] (default $XDG_CONFIG_HOME/cutover/config.toml,
    /// else ~/.config/cutover/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// table for people, json for scripts (the server's JSON, unchanged).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Seconds to wait for each answer before giving up (exit code 5).
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Times to try a request again when it got no answer, a 503, or a 409
    /// `idempotency_key_in_use`; a write keeps its Idempotency-Key, so it is done once.
    #[arg(long, global = true, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// The Idempotency-Key of this command's write (its next writes get KEY-2,
    /// KEY-3…): running the same command again with the same key repeats nothing.
    /// Without it, each write gets a fresh random key.
    #[arg(long, global = true, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Output {
    /// Aligned tables and short messages.
    #[default]
    Table,
    /// The server's JSON answer as it came.
    Json,
}

/// Paging flags of every list.
#[derive(Args, Debug, Clone)]
pub struct PageArgs {
    /// Items per page (1–200).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200))]
    pub limit: Option<u32>,
    /// Start from this cursor (the `next_cursor` of an earlier page).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all_pages")]
    pub cursor: Option<String>,
    /// Fetch every page (following `next_cursor` to the end), not just the first.
    /// This pages; it does not widen the list (archived releases need `releases list
    /// --include-archived`).
    // `--all` was this flag's first name; kept as a hidden alias for scripts.
    #[arg(long, alias = "all")]
    pub all_pages: bool,
}
