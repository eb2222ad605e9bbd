//! Logging: one structured line per event, as JSON or human-readable text. Secrets
//! are never logged: the access log records method, path, status and timing only.
//!
//! Lines are handed to a logging thread that writes them to standard error, so a
//! request never waits on a `write` to the terminal or pipe, and lines queued together
//! go out in one `write`; when that thread falls behind by more than its queue,
//! requests wait rather than lines being dropped.

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
/// Keep the guard until the process ends: dropping it writes out the lines still
/// queued.
#[must_use = "dropping the guard stops the logging thread"]
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("cutover-log")
        // Buffered: the logging thread flushes whenever it has written every queued
        // line, so under load many lines share one `write`, and none waits for long.
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    guard
}
