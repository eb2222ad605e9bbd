//! Command-line flags of `cutover-bench`, and the hidden `ceiling` subcommand.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "cutover-bench",
    about = "Benchmarks a release build of cutover over loopback and prints a table.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Internal: the bare-axum ceiling server (re-executed by the harness itself).
    #[command(hide = true)]
    Ceiling {
        /// Where to listen.
        #[arg(long)]
        bind: SocketAddr,
        /// The response body to serve, byte for byte.
        #[arg(long)]
        body_file: PathBuf,
    },
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Also run every row against PostgreSQL. The URL names a server and a database
    /// the harness may connect to; it creates a scratch database there and drops it.
    #[arg(long, env = "CUTOVER_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Seconds each row is measured (after its warm-up).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration_seconds: u64,
    /// Seconds each row runs unmeasured first.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup_seconds: u64,
    /// Concurrent keep-alive HTTP/1.1 connections, per row.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// Apps in the data set (each with a full draft and two releases).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(120..))]
    pub apps: u32,
    /// How many of them hold a deep release history.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub deep_apps: u32,
    /// Depth of the deep list page: deep apps get this many releases plus one page.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(100..))]
    pub deep_releases: u32,
    /// Endpoints in every app's draft.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub endpoints: u32,
    /// Augmentations in every app's draft.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub augmentations: u32,
    /// Use this server binary instead of building one with `cargo build --release`.
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// `RUST_LOG` for the server (its log goes to a file in the scratch directory).
    /// The default keeps the access log on, as in production.
    #[arg(long, default_value = "info,sqlx=warn")]
    pub server_rust_log: String,
    /// Keep the scratch directory (database and server logs) instead of deleting it.
    #[arg(long)]
    pub keep_scratch: bool,
    /// Run only the rows whose name contains TEXT (any case; repeat for more). The
    /// ceiling runs when a read row does; targets of rows left out say "not measured".
    #[arg(long = "row", value_name = "TEXT")]
    pub rows: Vec<String>,
    /// Runs the write rows this many times; each variant row (a keyed cut, an
    /// If-Match activate) and its plain row swap order every round, and the report
    /// gives each pair's variant/plain ratio per round and their median.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
}

/// Apps whose releases the write rows create, activate and roll back.
pub const WRITE_APPS: u32 = 100;

/// Releases per list page, in both list rows.
pub const PAGE_LIMIT: u32 = 50;

impl BenchArgs {
    pub fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup_seconds)
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_seconds)
    }

    /// Whether the row called `name` is to run (see `--row`).
    pub fn wants(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.rows.is_empty()
            || self
                .rows
                .iter()
                .any(|wanted| name.contains(&wanted.to_lowercase()))
    }

    /// The deep apps get one page more than the depth, so the deep page is full.
    pub fn releases_per_deep_app(&self) -> u32 {
        self.deep_releases + PAGE_LIMIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cutover-bench").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_follow_the_issue() {
        let cli = parse(&[]).unwrap();
        assert!(cli.command.is_none());
        let bench = cli.bench;
        assert_eq!(bench.connections, 64);
        assert_eq!(bench.apps, 1000);
        assert_eq!(bench.deep_releases, 10_000);
        assert_eq!(bench.releases_per_deep_app(), 10_050);
        assert_eq!((bench.endpoints, bench.augmentations), (50, 20));
        assert_eq!(bench.duration(), Duration::from_secs(10));
        assert!(bench.postgres_url.is_none());
        assert!(bench.wants("GET active release"), "no --row runs every row");
    }

    #[test]
    fn rows_are_picked_by_any_case_substring() {
        let bench = parse(&["--row", "another APP", "--row", "ACTIVATE"])
            .unwrap()
            .bench;
        assert!(bench.wants("small draft write, another app taking 1 MB writes"));
        assert!(bench.wants("activate"));
        assert!(!bench.wants("GET active release"));
    }

    #[test]
    fn flags_are_read() {
        let cli = parse(&[
            "--postgres-url",
            "postgres://postgres@127.0.0.1/postgres",
            "--duration-seconds",
            "3",
            "--connections",
            "8",
        ])
        .unwrap();
        assert_eq!(cli.bench.connections, 8);
        assert_eq!(cli.bench.duration_seconds, 3);
        assert_eq!(
            cli.bench.postgres_url.as_deref(),
            Some("postgres://postgres@127.0.0.1/postgres")
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--duration-seconds", "0"]).is_err());
        assert!(parse(&["--apps", "50"]).is_err());
    }

    #[test]
    fn the_ceiling_subcommand_is_hidden_but_parses() {
        let cli = parse(&["ceiling", "--bind", "127.0.0.1:0", "--body-file", "/x"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Ceiling { .. })));
    }
}
