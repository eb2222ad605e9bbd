//! `cutover login`, `cutover logout` and `cutover config show`: saving the server,
//! token and context to the config file, and showing where each setting comes from.

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use serde_json::json;

use super::args::GlobalArgs;
use super::config::{self, FileConfig, Setting, Settings, Source, mask_token};
use super::context::Ctx;
use super::error::{CliError, CliResult};
use super::output::{Table, print};

#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Read the token from standard input (one line), so it never shows in `ps`
    /// or the shell history.
    #[arg(long, conflicts_with = "token")]
    pub token_stdin: bool,
}

#[derive(Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Show each setting, its value (the token masked) and where it came from.
    Show,
    /// Print the config file's path.
    Path,
}

/// Checks the token against the server, then saves the effective settings (server,
/// token, org, workspace, app) to the config file with mode 0600.
pub fn login(args: LoginArgs) -> CliResult {
    let mut global = args.global.clone();
    if args.token_stdin {
        global.token = Some(read_token_line()?);
    }
    let ctx = Ctx::new(&global, true)?;
    let settings = &ctx.settings;
    let path = settings.config_path.clone().ok_or_else(|| {
        CliError::usage("no place for the config file: give --config, set CUTOVER_CONFIG or HOME")
    })?;
    // Context ids are checked for form before they are saved.
    if settings.org.value.is_some() {
        ctx.org()?;
    }
    if settings.workspace.value.is_some() {
        ctx.workspace()?;
    }
    if settings.app.value.is_some() {
        ctx.app()?;
    }
    // Any answer but 401 proves the token is known: a token without orgs:read is
    // refused with 403 after it was recognised.
    match ctx.api.get("/v1/orgs", &[("limit", "1".to_owned())]) {
        Err(e) if e.status() != Some(403) => return Err(e),
        _ => {}
    }
    let saved = FileConfig {
        url: settings.url.value.clone(),
        token: settings.token.value.clone(),
        org: settings.org.value.clone(),
        workspace: settings.workspace.value.clone(),
        app: settings.app.value.clone(),
    };
    config::write_file(&path, &saved)?;
    let context: Vec<String> = [
        ("org", &saved.org),
        ("workspace", &saved.workspace),
        ("app", &saved.app),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
    .collect();
    let token = saved.token.as_deref().map(mask_token).unwrap_or_default();
    let mut text = format!(
        "Logged in to {} with token {token}.\nSaved to {} (mode 0600).\n",
        ctx.api.base(),
        path.display()
    );
    if !context.is_empty() {
        text.push_str(&format!("Context: {}.\n", context.join(", ")));
    }
    print(&text)
}

fn read_token_line() -> CliResult<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "Token: ");
        let _ = err.flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("cannot read the token from standard input: {e}")))?;
    let token = line.trim().to_owned();
    if token.is_empty() {
        return Err(CliError::usage(
            "--token-stdin: standard input held no token",
        ));
    }
    Ok(token)
}

/// Removes the token from the config file, keeping the server and context.
pub fn logout(args: LogoutArgs) -> CliResult {
    let settings = Settings::resolve(&args.global)?;
    let Some(path) = settings.config_path else {
        return print("No config file location; nothing to forget.\n");
    };
    let mut saved = config::read_file(&path)?;
    if saved.token.take().is_none() {
        return print(&format!("No token saved in {}.\n", path.display()));
    }
    config::write_file(&path, &saved)?;
    print(&format!("Removed the token from {}.\n", path.display()))
}

pub fn run_config(args: ConfigArgs) -> CliResult {
    let settings = Settings::resolve(&args.global)?;
    let path = settings
        .config_path
        .as_ref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    match args.command {
        ConfigCommand::Path => print(&format!("{path}\n")),
        ConfigCommand::Show => {
            let token = Setting {
                value: settings.token.value.as_deref().map(mask_token),
                source: settings.token.source,
            };
            let rows = [
                ("url", &settings.url),
                ("token", &token),
                ("org", &settings.org),
                ("workspace", &settings.workspace),
                ("app", &settings.app),
            ];
            if args.global.output == super::args::Output::Json {
                let mut document = serde_json::Map::new();
                for (name, setting) in rows {
                    document.insert(
                        name.to_owned(),
                        json!({"value": setting.value, "source": source_word(setting.source)}),
                    );
                }
                document.insert(
                    "config_file".to_owned(),
                    json!({"value": settings.config_path, "source": source_word(settings.config_path_source)}),
                );
                let text = serde_json::to_string_pretty(&document)
                    .map_err(|e| CliError::local(format!("cannot encode JSON: {e}")))?;
                return print(&format!("{text}\n"));
            }
            let mut table = Table::new(["SETTING", "VALUE", "FROM"]);
            for (name, setting) in rows {
                table.row(vec![
                    name.to_owned(),
                    setting.value.clone().unwrap_or_else(|| "-".to_owned()),
                    setting.source.describe(),
                ]);
            }
            table.row(vec![
                "config file".to_owned(),
                path,
                settings.config_path_source.describe(),
            ]);
            print(&table.render())
        }
    }
}

/// The source as one word, for JSON.
fn source_word(source: Source) -> &'static str {
    match source {
        Source::Flag => "flag",
        Source::Env(_) => "env",
        Source::File => "file",
        Source::Default => "default",
        Source::Unset => "unset",
    }
}
