//! The summary printed after the storm: what was fired, per operation and answer,
//! per server, and how many switches changed the active release.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::multiprocess::record::{Kind, Record};
use crate::multiprocess::{APPS, CONCURRENCY, SERVERS};

/// What was fired, per operation and answer.
pub fn summarize(records: &[Record], storm: Duration) -> String {
    let fired: Vec<&Record> = records
        .iter()
        .filter(|record| record.index.is_some())
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "multiprocess: {} operations over {SERVERS} servers and {APPS} apps (at most {CONCURRENCY} \
         in flight) in {storm:.2?} ({:.0} ops/s); setup cut {} releases and made {} activations",
        fired.len(),
        fired.len() as f64 / storm.as_secs_f64().max(1e-9),
        records
            .iter()
            .filter(|r| r.index.is_none() && r.kind == Kind::Create)
            .count(),
        records
            .iter()
            .filter(|r| r.index.is_none() && r.kind == Kind::Activate)
            .count(),
    );
    let mut by_kind: BTreeMap<Kind, BTreeMap<String, usize>> = BTreeMap::new();
    for record in &fired {
        let label = match &record.outcome {
            Err(_) => "no answer".to_owned(),
            Ok(answer) => {
                let reason = answer.body["details"]["reason"].as_str();
                match (answer.status, reason) {
                    (200, _) if record.kind.is_switch() && !record.changed_switch() => {
                        "200 already active".to_owned()
                    }
                    (409, Some(reason)) => format!("409 {reason}"),
                    (status, _) => status.to_string(),
                }
            }
        };
        *by_kind
            .entry(record.kind)
            .or_default()
            .entry(label)
            .or_default() += 1;
    }
    for (kind, answers) in &by_kind {
        let total: usize = answers.values().sum();
        let answers: Vec<String> = answers
            .iter()
            .map(|(label, count)| format!("{label} ×{count}"))
            .collect();
        let _ = writeln!(
            out,
            "  {:<26} {total:>4}: {}",
            kind.label(),
            answers.join(", ")
        );
    }
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for record in &fired {
        let label = record
            .status()
            .map_or_else(|| "no answer".to_owned(), |status| status.to_string());
        *statuses.entry(label).or_default() += 1;
    }
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(status, count)| format!("{status} ×{count}"))
        .collect();
    let _ = writeln!(out, "  all answers: {}", statuses.join(", "));
    let per_server: Vec<String> = (0..SERVERS)
        .map(|server| {
            let count = fired
                .iter()
                .filter(|record| record.server == server)
                .count();
            format!("server {server} ×{count}")
        })
        .collect();
    let changed = fired
        .iter()
        .filter(|record| record.changed_switch())
        .count()
        + fired
            .iter()
            .filter(|record| record.kind == Kind::CreateActivate && record.status() == Some(201))
            .count();
    let _ = writeln!(
        out,
        "  per server: {}; switches that changed the active release: {changed}",
        per_server.join(", ")
    );
    out.trim_end().to_owned()
}
