//! `cutover-bench`: builds `cutover` in release mode, runs it on SQLite (and on
//! PostgreSQL when a URL is given), loads a realistic data set, drives it over
//! loopback at fixed concurrency from this separate process, and prints a table of
//! throughput and latency percentiles against a bare-axum ceiling.

mod args;
mod bench;
mod ceiling;
mod client;
mod dataset;
mod load;
mod machine;
mod pairs;
mod payloads;
mod report;
mod server;
mod stats;
mod tenants;
mod workloads;

use std::process::ExitCode;

use clap::Parser;
use cutover_test_support::ScratchDatabase;

use crate::args::{BenchArgs, Cli, Command};
use crate::bench::{Backend, Section};
use crate::report::{Measured, table, verdict_lines, verdicts};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Ceiling { bind, body_file }) => ceiling::serve(bind, &body_file),
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))
            .and_then(|runtime| runtime.block_on(run(cli.bench))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cutover-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: BenchArgs) -> Result<(), String> {
    let bin = match &args.server_bin {
        Some(path) => path.clone(),
        None => server::build_server()?,
    };
    let scratch = tempfile::Builder::new()
        .prefix("cutover-bench-")
        .tempdir()
        .map_err(|e| format!("cannot make a scratch directory: {e}"))?;
    eprintln!("scratch directory: {}", scratch.path().display());
    let machine = machine::describe();
    let commit = machine::commit();

    let mut sections = Vec::new();
    let sqlite = Backend::Sqlite {
        file: scratch.path().join("bench.db"),
    };
    sections.push(bench::run_backend(&args, &bin, &sqlite, scratch.path()).await?);
    if let Some(url) = &args.postgres_url {
        // A database of its own, dropped (with the guard) at the end of the run.
        let pg = Backend::Postgres {
            scratch: ScratchDatabase::create(url, "cutover_bench")?,
        };
        let section = bench::run_backend(&args, &bin, &pg, scratch.path()).await;
        drop(pg);
        sections.push(section?);
    }

    println!("{}", render(&args, &machine, &commit, &sections));
    if args.keep_scratch {
        let kept = scratch.keep();
        eprintln!("kept the scratch directory: {}", kept.display());
    }
    Ok(())
}

fn render(args: &BenchArgs, machine: &str, commit: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    out.push_str("# cutover-bench\n\n");
    out.push_str(&format!("- machine: {machine}\n- commit: {commit}\n"));
    if let Some(bin) = &args.server_bin {
        out.push_str(&format!(
            "- server binary: {} (given with --server-bin, not built from this commit)\n",
            bin.display()
        ));
    }
    out.push_str(&format!(
        "- each row: {} s warm-up, then {} s measured; {} keep-alive HTTP/1.1 connections \
         (write rows: one per write app, at most that many); closed loop from a separate process\n",
        args.warmup_seconds, args.duration_seconds, args.connections
    ));
    out.push_str("- server: release build, `--log-format json` to a file, RUST_LOG=");
    out.push_str(&args.server_rust_log);
    out.push_str(
        "; SQLite runs with journal_mode=WAL and synchronous=FULL (set by cutover-store-sqlite)\n",
    );
    for section in sections {
        out.push_str(&format!(
            "\n## {} (GET active answer: {} bytes; the ceiling answers the same bytes)\n\n",
            section.backend, section.active_body_bytes
        ));
        out.push_str(&table(&section.rows));
        out.push('\n');
        for note in &section.notes {
            out.push_str(&format!("- {note}\n"));
        }
    }
    if let Some(sqlite) = sections.first() {
        let deep = sqlite
            .rows
            .iter()
            .find(|r| r.name.starts_with("list releases, page"))
            .and_then(|r| r.summary());
        let not_modified = sqlite
            .row_result(bench::NOT_MODIFIED)
            .map(|row| row.result.as_ref().map_err(String::as_str));
        let measured = Measured {
            active: sqlite.row_with_ratio(bench::GET_ACTIVE),
            staged: sqlite.row_with_ratio(bench::GET_STAGED),
            detail: sqlite.row_with_ratio(bench::GET_DETAIL),
            first_page: sqlite.row(bench::LIST_FIRST),
            deep_page: deep,
            not_modified,
            create: sqlite.row(bench::CREATE),
            activate: sqlite.row(bench::ACTIVATE),
            cross_tenant: sqlite.row(tenants::ROW),
            peak_rss: sqlite.peak_rss,
        };
        out.push_str(&format!(
            "\n## Targets (issues 6, 12 and 14, SQLite, {} connections)\n\n",
            args.connections
        ));
        out.push_str(&verdict_lines(&verdicts(&measured)));
    }
    out
}
