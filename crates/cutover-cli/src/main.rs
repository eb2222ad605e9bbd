//! The `cutover` binary: parses the command line and hands off to the subcommand.

mod openapi;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cutover",
    version,
    about = "A release registry: cut, activate and roll back app releases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server.
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(serve::MigrateArgs),
    /// Print the API's OpenAPI 3.1 document (what GET /openapi.json serves).
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Migrate(args) => serve::migrate(args),
        Command::Openapi => openapi::print(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cutover: {message}");
            ExitCode::FAILURE
        }
    }
}
