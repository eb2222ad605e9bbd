//! One backend's run, start to end: start the server on an empty database, load the
//! data set, measure the ceiling and every row, restart on the loaded database, and
//! collect what the report prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cutover_test_support::ScratchDatabase;
use hyper::header::ETAG;

use crate::args::BenchArgs;
use crate::ceiling;
use crate::client::{Conn, Req};
use crate::dataset;
use crate::load::{Rounds, Workload, run_row};
use crate::pairs::{pair_ratios, write_order};
use crate::report::Row;
use crate::server::{Process, free_addr, sqlite_bytes};
use crate::stats::{Summary, format_count, format_mib, median};
use crate::tenants::{self, CrossTenant, LightOnly};
use crate::workloads::{Reads, WriteApps, Writes};

/// The platform admin token the harness gives the server (via
/// `CUTOVER_BOOTSTRAP_TOKEN`) and uses for every request.
pub const TOKEN: &str = "cut_bench_bootstrap_token_0123456789abcdefghij";

/// Rounds each read row (and the ceiling between them) is measured in.
const READ_ROUNDS: u32 = 5;
/// Warm-up of every round but a row's first.
const ROUND_WARMUP: Duration = Duration::from_millis(500);

/// How many `GET …/releases/{id}` paths the detail row picks from.
const DETAIL_SAMPLES: usize = 20_000;
const STOP_GRACE: Duration = Duration::from_secs(30);

pub enum Backend {
    Sqlite { file: PathBuf },
    Postgres { scratch: ScratchDatabase },
}

impl Backend {
    fn url(&self) -> String {
        match self {
            Backend::Sqlite { file } => format!("sqlite://{}", file.display()),
            Backend::Postgres { scratch } => scratch.url().to_owned(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "SQLite",
            Backend::Postgres { .. } => "PostgreSQL",
        }
    }

    fn disk_bytes(&self) -> Result<u64, String> {
        match self {
            Backend::Sqlite { file } => Ok(sqlite_bytes(file)),
            Backend::Postgres { scratch } => scratch.size_bytes(),
        }
    }
}

/// What one backend's run produced.
pub struct Section {
    pub backend: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    pub peak_rss: u64,
    pub active_body_bytes: usize,
}

impl Section {
    pub fn row(&self, name: &str) -> Option<&Summary> {
        self.rows
            .iter()
            .find(|r| r.name == name)
            .and_then(Row::summary)
    }

    /// A read row's summary with its throughput as a fraction of the ceiling's.
    pub fn row_with_ratio(&self, name: &str) -> Option<(&Summary, f64)> {
        let row = self.row_result(name)?;
        Some((row.summary()?, row.ratio?))
    }

    pub fn row_result(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }
}

pub const CEILING: &str = "ceiling (bare axum, same body size)";
pub const GET_ACTIVE: &str = "GET active release";
pub const GET_STAGED: &str = "GET active release ?environment=staging";
pub const GET_DETAIL: &str = "GET release detail";
pub const LIST_FIRST: &str = "list releases, first page";
pub const NOT_MODIFIED: &str = "GET active, If-None-Match → 304";
pub const CREATE: &str = "create release (70-entity draft)";
pub const CREATE_KEYED: &str = "create release, with Idempotency-Key";
pub const ACTIVATE: &str = "activate";
pub const ACTIVATE_IF_MATCH: &str = "activate, with If-Match";
pub const ROLLBACK: &str = "rollback";

pub fn list_deep_name(offset: u64) -> String {
    format!("list releases, page {} deep", format_count(offset as f64))
}

fn serve_command(
    bin: &Path,
    backend: &Backend,
    addr: std::net::SocketAddr,
    rust_log: &str,
) -> Command {
    let mut command = Command::new(bin);
    command
        .args([
            "serve",
            "--bind",
            &addr.to_string(),
            "--database-url",
            &backend.url(),
        ])
        .args(["--log-format", "json"])
        // The benchmark measures capacity through one token, far past the per-token
        // rate limit a real tenant gets by default.
        .args(["--rate-limit-per-second", "0"])
        .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
        .env("RUST_LOG", rust_log);
    command
}

pub async fn run_backend(
    args: &BenchArgs,
    bin: &Path,
    backend: &Backend,
    scratch: &Path,
) -> Result<Section, String> {
    let name = backend.name();
    let token: Arc<str> = TOKEN.into();
    let tag = name.to_lowercase();
    let addr = free_addr()?;
    let log = scratch.join(format!("server-{tag}.log"));
    eprintln!("[{name}] starting the server on an empty database");
    let server = Process::spawn(
        serve_command(bin, backend, addr, &args.server_rust_log),
        addr,
        &log,
        "/readyz",
    )
    .await?;
    let mut notes = vec![format!(
        "start-up (spawn → /readyz 200): {:.0} ms on an empty database (migrations included)",
        server.started_in.as_secs_f64() * 1000.0
    )];

    eprintln!(
        "[{name}] loading the data set over HTTP with {} connections",
        args.connections
    );
    let data = dataset::load(addr, &token, args).await?;
    let disk = backend.disk_bytes()?;
    notes.push(format!(
        "data set: {} apps ({} endpoints + {} augmentations each), {} releases ({} apps with {}), \
         loaded in {:.1} s with {} requests ({}/s)",
        data.apps.len(),
        args.endpoints,
        args.augmentations,
        format_count(data.releases as f64),
        data.deep.len(),
        format_count(f64::from(args.releases_per_deep_app())),
        data.took.as_secs_f64(),
        format_count(data.requests as f64),
        format_count(data.requests as f64 / data.took.as_secs_f64()),
    ));
    notes.push(format!("loading phases: {}", data.phases.join("; ")));
    let what = match backend {
        Backend::Sqlite { .. } => "database file + WAL",
        Backend::Postgres { .. } => "pg_database_size",
    };
    notes.push(format!(
        "bytes on disk per release after loading: {} ({what}: {} for {} releases and {} draft entities)",
        format_count(disk as f64 / data.releases as f64), format_mib(disk),
        format_count(data.releases as f64), format_count(data.entities as f64),
    ));

    // A real GET-active answer: its size sets the ceiling's body; its headers say
    // whether conditional reads are possible.
    let sample = {
        let mut conn = Conn::open(addr, Some(&token)).await?;
        conn.send(&Req::get(format!(
            "{}/releases/active",
            data.apps[data.write.end].base
        )))
        .await?
    };
    if !sample.status.is_success() {
        return Err(format!("GET active answered {}", sample.status));
    }
    let has_etag = sample.headers.contains_key(ETAG);
    let body_file = scratch.join("active-body.json");
    std::fs::write(&body_file, &sample.body).map_err(|e| e.to_string())?;

    let run = |workload: Arc<dyn Workload>, connections: usize, to: std::net::SocketAddr| {
        let token = token.clone();
        async move {
            run_row(
                to,
                Some(token),
                connections,
                args.warmup(),
                args.duration(),
                workload,
            )
            .await
        }
    };
    let conns = args.connections as usize;

    // The shared machine's speed drifts, in bursts, by tens of percent within a
    // minute. So a read row is not compared with one ceiling measurement: it runs in
    // rounds, each after a round of the ceiling, and its ratio is the median over
    // rounds of (row ÷ mean of the ceiling rounds just before and just after).
    let ceiling_addr = free_addr()?;
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command
        .args([
            "ceiling",
            "--bind",
            &ceiling_addr.to_string(),
            "--body-file",
        ])
        .arg(&body_file);
    let ceiling_process = Process::spawn(
        command,
        ceiling_addr,
        &scratch.join("ceiling.log"),
        "/healthz",
    )
    .await?;
    let rounds = READ_ROUNDS.min(args.duration_seconds.max(1) as u32);
    let round_window = args.duration() / rounds;
    let round_warmup = args.warmup().min(ROUND_WARMUP);
    let ceiling_round = async || {
        run_row(
            ceiling_addr,
            Some(token.clone()),
            conns,
            round_warmup,
            round_window,
            Arc::new(Reads::single(Req::get(ceiling::PATH))),
        )
        .await
    };
    let read_labels = [
        GET_ACTIVE.to_owned(),
        GET_STAGED.to_owned(),
        GET_DETAIL.to_owned(),
        LIST_FIRST.to_owned(),
        list_deep_name(data.deep_offset),
        NOT_MODIFIED.to_owned(),
    ];
    let any_read = read_labels.iter().any(|label| args.wants(label));
    let mut ceiling = Rounds::default();
    if any_read {
        eprintln!("[{name}] row: {CEILING}");
        ceiling.push(ceiling_round().await?);
    }

    let mut notes_after = Vec::new();
    let mut read_rows = Vec::new();
    let mut read_row = async |label: String, reads: Reads| -> Result<(), String> {
        if !args.wants(&label) {
            return Ok(());
        }
        eprintln!("[{name}] row: {label} ({rounds} rounds, each after one of the ceiling)");
        server.memory().take_window_peak();
        let reads = Arc::new(reads);
        let mut row = Rounds::default();
        let mut ratios = Vec::new();
        for round in 0..rounds {
            // The first round warms the server up for the whole row.
            let warmup = if round == 0 {
                args.warmup()
            } else {
                round_warmup
            };
            let outcome = run_row(
                addr,
                Some(token.clone()),
                conns,
                warmup,
                round_window,
                reads.clone(),
            )
            .await?;
            let before = ceiling.last_per_second();
            let after = ceiling_round().await?;
            let baseline = (before + after.summary.per_second) / 2.0;
            if baseline > 0.0 {
                ratios.push(outcome.summary.per_second / baseline);
            }
            ceiling.push(after);
            row.push(outcome);
        }
        let rss = Some(server.memory().take_window_peak());
        if let Some(e) = row.first_error.take() {
            notes_after.push(format!("first error in \"{label}\": {e}"));
        }
        read_rows.push(Row {
            name: label,
            connections: conns,
            ratio: median(&mut ratios),
            result: Ok(row.summary(round_window * rounds)),
            rss,
        });
        Ok(())
    };
    read_row(GET_ACTIVE.into(), Reads::active(&data)).await?;
    read_row(GET_STAGED.into(), Reads::staged(&data)).await?;
    read_row(GET_DETAIL.into(), Reads::detail(&data, DETAIL_SAMPLES)).await?;
    read_row(LIST_FIRST.into(), Reads::first_page(&data)).await?;
    read_row(list_deep_name(data.deep_offset), Reads::deep_page(&data)).await?;
    let mut not_modified_na = None;
    if !args.wants(NOT_MODIFIED) {
    } else if has_etag {
        let etags = dataset::fetch_etags(addr, &token, conns, &data).await?;
        let reads = Reads::not_modified(&data, &etags);
        if reads.is_empty() {
            not_modified_na = Some("n/a: not every app sends an ETag");
        } else {
            read_row(NOT_MODIFIED.into(), reads).await?;
        }
    } else {
        not_modified_na = Some("n/a: server sends no ETag");
    }
    ceiling_process.stop(STOP_GRACE).await?;
    if any_read {
        notes.push(format!(
            "read rows ran in {rounds} rounds of {:.1} s, each followed by a round of the \
         ceiling ({} ceiling rounds, {} to {} req/s); a read row's ratio is the median of \
         its rounds' ratios to the mean of the ceiling rounds around each, and the \
         ceiling line merges all its rounds",
            round_window.as_secs_f64(),
            ceiling.per_second.len(),
            format_count(
                ceiling
                    .per_second
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min)
            ),
            format_count(ceiling.per_second.iter().copied().fold(0.0, f64::max)),
        ));
    }
    let window = round_window * ceiling.per_second.len() as u32;
    let mut rows = Vec::new();
    if any_read {
        rows.push(Row {
            name: CEILING.into(),
            connections: conns,
            result: Ok(ceiling.summary(window)),
            ratio: Some(1.0),
            rss: None,
        });
    }
    rows.append(&mut read_rows);
    if let Some(reason) = not_modified_na {
        rows.push(na_row(NOT_MODIFIED, conns, reason));
    }

    let write_apps = Arc::new(WriteApps::new(&data));
    let write_conns = conns.min(write_apps.len());
    let mut paired = Vec::new();
    for round in 0..args.rounds {
        for (label, kind) in write_order(round) {
            if !args.wants(label) {
                continue;
            }
            let shown = match args.rounds {
                1 => label.to_owned(),
                _ => format!("{label} (round {})", round + 1),
            };
            eprintln!("[{name}] row: {shown} ({} apps)", write_apps.len());
            server.memory().take_window_peak();
            let workload = Writes {
                apps: write_apps.clone(),
                kind,
                connections: write_conns,
                round,
            };
            let outcome = run(Arc::new(workload), write_conns, addr).await?;
            if let Some(e) = &outcome.first_error {
                notes_after.push(format!("first error in \"{shown}\": {e}"));
            }
            if outcome.unmeasured > 0 {
                notes_after.push(format!(
                    "{shown}: {} unmeasured activations re-armed rollback chains during the window",
                    outcome.unmeasured
                ));
            }
            paired.push((round, kind, outcome.summary.per_second));
            let rss = Some(server.memory().take_window_peak());
            rows.push(Row {
                name: shown,
                connections: write_conns,
                result: Ok(outcome.summary),
                ratio: None,
                rss,
            });
        }
    }
    notes_after.extend(pair_ratios(&paired, args.rounds));
    let mut setup = Conn::open(addr, Some(&token)).await?;
    let cross = Arc::new(CrossTenant::prepare(&mut setup, &data).await?);
    let baseline: Arc<dyn Workload> = Arc::new(LightOnly(cross.clone()));
    let contended: Arc<dyn Workload> = cross.clone();
    for (label, workload, connections) in [
        (tenants::BASELINE_ROW, baseline, tenants::LIGHT_CONNECTIONS),
        (tenants::ROW, contended, cross.connections()),
    ] {
        if !args.wants(label) {
            continue;
        }
        eprintln!("[{name}] row: {label}");
        server.memory().take_window_peak();
        let outcome = run(workload, connections, addr).await?;
        if let Some(e) = &outcome.first_error {
            notes_after.push(format!("first error in \"{label}\": {e}"));
        }
        rows.push(Row {
            name: label.into(),
            connections: tenants::LIGHT_CONNECTIONS,
            result: Ok(outcome.summary),
            ratio: None,
            rss: Some(server.memory().take_window_peak()),
        });
    }
    notes_after.push(format!(
        "cross-tenant rows: {} connections each PATCH one ~1 MB augmentation of one app \
         (unmeasured) while {} connections PATCH a small augmentation of apps of their own; \
         the rows show the small writes, alone and then beside the large ones",
        tenants::HEAVY_CONNECTIONS,
        tenants::LIGHT_CONNECTIONS
    ));
    notes_after.push(format!(
        "write rows: {} apps, each owned by one connection; create made {} releases",
        write_apps.len(),
        format_count(write_apps.created() as f64)
    ));

    let peak_rss = server.memory().peak();
    notes.push(format!(
        "server peak RSS through the run (VmHWM and 100 ms VmRSS samples): {}",
        format_mib(peak_rss)
    ));
    server.stop(STOP_GRACE).await?;

    eprintln!("[{name}] restarting on the loaded database");
    let addr = free_addr()?;
    let restarted = Process::spawn(
        serve_command(bin, backend, addr, &args.server_rust_log),
        addr,
        &log.with_extension("restart.log"),
        "/readyz",
    )
    .await?;
    notes.push(format!(
        "start-up (spawn → /readyz 200) on the loaded database: {:.0} ms",
        restarted.started_in.as_secs_f64() * 1000.0
    ));
    restarted.stop(STOP_GRACE).await?;
    notes.extend(notes_after);
    Ok(Section {
        backend: name,
        rows,
        notes,
        peak_rss,
        active_body_bytes: sample.body.len(),
    })
}

fn na_row(name: &str, connections: usize, reason: &str) -> Row {
    Row {
        name: name.into(),
        connections,
        result: Err(reason.into()),
        ratio: None,
        rss: None,
    }
}
