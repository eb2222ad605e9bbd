//! Judging the journal against the outages: every answer a success or a clean 503
//! envelope, everything fine before the first outage, `/healthz` always 200, and per
//! outage nothing succeeding while PostgreSQL was down, 503s that come fast, `/readyz`
//! answering, and steadiness again after recovery.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::postgres_outage::client::{Acknowledged, Answer};
use crate::postgres_outage::load::is_probe;
use crate::postgres_outage::scenario::Outage;
use crate::postgres_outage::{ACQUIRE_TIMEOUT_MS, SLOWEST_503, millis};

/// The failures found in `answers` (the journal when the load ended); says per outage
/// what answered, on standard error.
pub fn judge(
    answers: &[Answer],
    outages: &[Outage],
    log: &str,
    load_started: Instant,
    load_ended: Instant,
    acknowledged: &Mutex<Vec<Acknowledged>>,
) -> Vec<String> {
    let context = |answer: &Answer| {
        let logged: Vec<&str> = answer
            .request_id
            .as_deref()
            .map(|id| log.lines().filter(|line| line.contains(id)).collect())
            .unwrap_or_default();
        format!(
            "{} (sent {} ms into the load; server log for it: {logged:?})",
            answer.describe(),
            millis(answer.sent.saturating_duration_since(load_started))
        )
    };

    // 1. Every answer, at any time, is a success or a clean 503 envelope.
    let bad: Vec<String> = answers
        .iter()
        .filter_map(|answer| {
            answer
                .problem()
                .map(|why| format!("{why}: {}", context(answer)))
        })
        .collect();

    // 2. Before the first outage everything succeeded; /healthz says 200 throughout.
    let first_stop = outages[0].stop_begin;
    let early_failures: Vec<String> = answers
        .iter()
        .filter(|answer| answer.done < first_stop && !answer.is_success())
        .map(&context)
        .collect();
    let unhealthy: Vec<String> = answers
        .iter()
        .filter(|answer| answer.what == "GET /healthz" && answer.status != Some(200))
        .map(&context)
        .collect();

    // Per outage: what answered, /readyz while down, recovery, and steadiness after.
    let mut outage_failures = Vec::new();
    for (index, outage) in outages.iter().enumerate() {
        let next_stop = outages
            .get(index + 1)
            .map_or(load_ended, |next| next.stop_begin);
        let during: Vec<&Answer> = answers
            .iter()
            .filter(|answer| {
                !is_probe(answer)
                    && answer.sent >= outage.stop_begin
                    && answer.sent < outage.recovered()
            })
            .collect();
        let ok = during.iter().filter(|answer| answer.is_success()).count();
        let unavailable = during
            .iter()
            .filter(|answer| answer.status == Some(503))
            .count();
        // Sent and answered while PostgreSQL was certainly down: nothing can succeed.
        let down: Vec<&Answer> = answers
            .iter()
            .filter(|answer| answer.sent >= outage.stop_done && answer.done <= outage.start_begin)
            .filter(|answer| answer.what != "GET /healthz")
            .collect();
        let down_ok: Vec<String> = down
            .iter()
            .filter(|answer| answer.is_success())
            .map(|answer| context(answer))
            .collect();
        let ready_down = down
            .iter()
            .filter(|answer| answer.what == "GET /readyz")
            .count();
        let slowest_ready = down
            .iter()
            .filter(|answer| answer.what == "GET /readyz")
            .map(|answer| answer.done - answer.sent)
            .max()
            .unwrap_or_default();
        let max_503_latency = during
            .iter()
            .filter(|answer| answer.status == Some(503))
            .map(|answer| answer.done - answer.sent)
            .max()
            .unwrap_or_default();
        let after_recovery: Vec<String> = answers
            .iter()
            .filter(|answer| {
                // Still in flight when the next outage began is that outage's business.
                answer.sent >= outage.recovered() + Duration::from_secs(1)
                    && answer.done < next_stop
                    && !answer.is_success()
            })
            .map(&context)
            .collect();
        eprintln!(
            "outage {} (-m {}): stop took {} ms, down {} ms, start took {} ms; \
             {} requests sent from stop to recovery: {ok} 2xx, {unavailable} 503 \
             (slowest 503 {} ms); {} requests answered while down, {} of them /readyz \
             (all 503, slowest {} ms); back after start: release create {} ms, read {} ms, /readyz {} ms",
            index + 1,
            outage.mode,
            millis(outage.stop_done - outage.stop_begin),
            millis(outage.start_done - outage.stop_begin),
            millis(outage.start_done - outage.start_begin),
            during.len(),
            millis(max_503_latency),
            down.len(),
            ready_down,
            millis(slowest_ready),
            millis(
                outage
                    .write_back
                    .saturating_duration_since(outage.start_done)
            ),
            millis(
                outage
                    .read_back
                    .saturating_duration_since(outage.start_done)
            ),
            millis(
                outage
                    .ready_back
                    .saturating_duration_since(outage.start_done)
            ),
        );
        if max_503_latency > SLOWEST_503 {
            outage_failures.push(format!(
                "outage {}: a 503 took {} ms (the acquire timeout is {ACQUIRE_TIMEOUT_MS} ms)",
                index + 1,
                millis(max_503_latency)
            ));
        }
        if unavailable == 0 {
            outage_failures.push(format!("outage {}: no 503 at all", index + 1));
        }
        if ready_down == 0 {
            outage_failures.push(format!(
                "outage {}: /readyz never answered while PostgreSQL was down",
                index + 1
            ));
        }
        for answer in down_ok {
            outage_failures.push(format!(
                "outage {}: succeeded while PostgreSQL was down: {answer}",
                index + 1
            ));
        }
        for answer in after_recovery.iter().take(5) {
            outage_failures.push(format!(
                "outage {}: failed more than 1 s after recovery ({} in all): {answer}",
                index + 1,
                after_recovery.len()
            ));
        }
    }
    let total_ok = answers.iter().filter(|answer| answer.is_success()).count();
    let total_503 = answers
        .iter()
        .filter(|answer| answer.status == Some(503))
        .count();
    eprintln!(
        "{} requests in all: {total_ok} 2xx, {total_503} 503, {} other; {} releases acknowledged",
        answers.len(),
        bad.len(),
        acknowledged.lock().unwrap().len()
    );

    let mut failures = Vec::new();
    if !bad.is_empty() {
        failures.push(format!(
            "{} answers were neither a success nor a clean 503; the first ones:\n  {}",
            bad.len(),
            bad.iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        ));
    }
    for (what, list) in [
        ("failed before the first outage", &early_failures),
        ("/healthz did not answer 200", &unhealthy),
    ] {
        if !list.is_empty() {
            failures.push(format!(
                "{} requests {what}; the first ones:\n  {}",
                list.len(),
                list.iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    failures.extend(outage_failures);
    failures
}
