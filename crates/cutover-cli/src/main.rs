//! The `cutover` binary: parses the command line and hands off to the subcommand
//! (the server in `serve.rs`, the API client in `client/`).

mod client;
mod openapi;
mod serve;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use client::{
    apps, augmentations, deployments, endpoints, environments, probes, releases, session, tenancy,
    timeline, tokens,
};

#[derive(Parser)]
#[command(
    name = "cutover",
    version,
    about = "A release registry: cut, activate and roll back app releases",
    after_help = client::AFTER_HELP
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
    Openapi(client::OpenapiArgs),
    /// Check a token against the server and save server, token and context.
    Login(session::LoginArgs),
    /// Remove the saved token from the config file.
    Logout(session::LogoutArgs),
    /// Show the client's settings and where each comes from.
    Config(session::ConfigArgs),
    /// Organisations: list, show, create.
    Orgs(tenancy::OrgsArgs),
    /// Workspaces of the organisation: list, show, create.
    Workspaces(tenancy::WorkspacesArgs),
    /// Environments of the workspace: list, show, create, update, delete.
    Envs(environments::EnvsArgs),
    /// The app's board: what of it is deployed in each environment.
    Status(environments::StatusArgs),
    /// API tokens of the organisation: create, list, revoke.
    Tokens(tokens::TokensArgs),
    /// Apps of the workspace: list, show, create, update, delete.
    Apps(apps::AppsArgs),
    /// Endpoints of the app's draft: list, show, create, update, delete.
    Endpoints(endpoints::EndpointsArgs),
    /// Augmentations (pipelines) of the app's draft: list, show, create, update, delete.
    Augmentations(augmentations::AugmentationsArgs),
    /// Releases of the app: list, show, active, create, activate, rollback, archive,
    /// delete, diff.
    Releases(releases::ReleasesArgs),
    /// The app's activation history (every activate and rollback).
    Activations(releases::ActivationsArgs),
    /// Deploy a release to an environment (`--env staging`).
    Deploy(deployments::DeployArgs),
    /// Deploy what one environment has to another (`--from staging --to production`).
    Promote(deployments::PromoteArgs),
    /// Take one environment back to an earlier release (`--env production [RELEASE]`).
    Rollback(deployments::RollbackArgs),
    /// The app's deployment records: list (newest first, `--env` for one), show.
    Deployments(deployments::DeploymentsArgs),
    /// The app's history, newest first: draft commits, releases cut, archived and
    /// deleted, and deployments.
    Timeline(timeline::TimelineArgs),
    /// The server's liveness and readiness probes.
    Health(probes::HealthArgs),
    /// The server's Prometheus metrics.
    Metrics(probes::MetricsArgs),
    /// Print a shell completion script (e.g. `cutover completions bash > ~/.local/share/bash-completion/completions/cutover`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: Shell,
    },
}

/// How a server-side command (`serve`, `migrate`, `openapi`) ends: a failure is one
/// line on standard error, the error and every cause beneath it.
fn server<E: std::error::Error + 'static>(outcome: Result<(), E>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cutover: {}", cutover_store::one_line_chain(&error));
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => server(serve::serve(args)),
        Command::Migrate(args) => server(serve::migrate(args)),
        Command::Openapi(args) if args.remote => client::finish(probes::openapi(&args.global)),
        Command::Openapi(_) => server(openapi::print()),
        Command::Login(args) => client::finish(session::login(args)),
        Command::Logout(args) => client::finish(session::logout(args)),
        Command::Config(args) => client::finish(session::run_config(args)),
        Command::Orgs(args) => client::finish(tenancy::run_orgs(args)),
        Command::Workspaces(args) => client::finish(tenancy::run_workspaces(args)),
        Command::Envs(args) => client::finish(environments::run(args)),
        Command::Status(args) => client::finish(environments::status(args)),
        Command::Tokens(args) => client::finish(tokens::run(args)),
        Command::Apps(args) => client::finish(apps::run(args)),
        Command::Endpoints(args) => client::finish(endpoints::run(args)),
        Command::Augmentations(args) => client::finish(augmentations::run(args)),
        Command::Releases(args) => client::finish(releases::run(args)),
        Command::Activations(args) => client::finish(releases::run_activations(args)),
        Command::Deploy(args) => client::finish(deployments::deploy(args)),
        Command::Promote(args) => client::finish(deployments::promote(args)),
        Command::Rollback(args) => client::finish(deployments::rollback(args)),
        Command::Deployments(args) => client::finish(deployments::run(args)),
        Command::Timeline(args) => client::finish(timeline::run(args)),
        Command::Health(args) => client::finish(probes::health(args)),
        Command::Metrics(args) => client::finish(probes::metrics(args)),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "cutover", &mut script);
            client::finish(client::print_bytes(&script))
        }
    }
}
