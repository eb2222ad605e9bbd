//! Logging: one structured line per event, as JSON or human-readable text. Secrets
//! are never logged: the access log records method, path, status and timing only.
//!
//! Lines are handed to a logging thread that writes them to standard error, so a
//! request never waits on a `write` to the terminal or pipe, and lines queued together
//! go out in one `write`; when that thread falls behind by more than its queue,
//! requests wait rather than lines being dropped.
//!
//! The human-readable format colours its lines only when standard error is a
//! terminal, so a log redirected to a file or a pipe holds plain text.

use std::io::IsTerminal;

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
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    guard
}

/// `seconds` in milliseconds, rounded to the microsecond, for the access log's
/// `duration_ms`: `4.957`, not the float noise of `4.957000000000001`.
pub fn rounded_milliseconds(seconds: f64) -> f64 {
    // Whole microseconds divided by 1000 is the double nearest to a number with at
    // most three decimals, which serde and `Display` print with at most three.
    (seconds * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn durations_print_with_at_most_three_decimals() {
        // (elapsed, as the JSON log prints it)
        let cases = [
            (Duration::from_nanos(4_957), "0.005"),
            (Duration::from_nanos(4_957_000), "4.957"),
            (Duration::from_nanos(4_957_499), "4.957"),
            (Duration::from_nanos(4_957_600), "4.958"),
            (Duration::from_nanos(1_234_567_890), "1234.568"),
            (Duration::from_micros(100), "0.1"),
            (Duration::ZERO, "0.0"),
        ];
        for (elapsed, printed) in cases {
            let ms = rounded_milliseconds(elapsed.as_secs_f64());
            assert_eq!(serde_json::json!(ms).to_string(), printed, "{elapsed:?}");
        }
    }
}
