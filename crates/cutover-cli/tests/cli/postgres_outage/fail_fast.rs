//! `cutover serve` when PostgreSQL is not there: it must exit by itself, fast, non-zero
//! and in one line.

use std::time::Instant;

use crate::common::{self, cutover, run, text};
use crate::postgres_outage::{FAIL_FAST, TOKEN, millis};

/// `cutover serve` against `url` exits by itself within [`FAIL_FAST`], non-zero, with
/// one line on standard error, no panic, and without repeating the password.
pub fn assert_refuses_to_start(what: &str, url: &str, password: &str) {
    let started = Instant::now();
    let output = run(
        cutover()
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", url])
            .env("CUTOVER_BOOTSTRAP_TOKEN", TOKEN)
            .env("RUST_BACKTRACE", "1"),
        FAIL_FAST,
    );
    let took = started.elapsed();
    let stderr = text(&output.stderr);
    eprintln!(
        "{what}: exited {} after {} ms: {}",
        output.status,
        millis(took),
        stderr.trim()
    );
    assert!(took < FAIL_FAST, "{what}: took {took:?}");
    assert!(
        output.status.code().is_some_and(|code| code != 0),
        "{what}: must exit non-zero, not {}; stderr:\n{stderr}",
        output.status
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one line of error; stderr:\n{stderr}"
    );
    assert!(
        lines[0].starts_with("cutover: ") && lines[0].contains("PostgreSQL"),
        "{what}: the line says what failed: {stderr}"
    );
    let lower = stderr.to_ascii_lowercase();
    assert!(
        !lower.contains("panicked") && !lower.contains("backtrace"),
        "{what}: {stderr}"
    );
    assert!(
        !stderr.contains(password),
        "{what}: the password leaked: {stderr}"
    );
    assert!(
        !stderr.contains(READY),
        "{what}: it said it was listening: {stderr}"
    );
}

const READY: &str = common::READY_LINE;
