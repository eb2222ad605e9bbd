//! The printed report: the results table (Markdown, so it pastes into
//! BENCHMARKS.md) and the verdict on each target the issue sets.

use std::fmt::Write as _;
use std::time::Duration;

use crate::stats::{Summary, format_count, format_latency, format_mib};

/// One line of the table.
pub struct Row {
    pub name: String,
    pub connections: usize,
    /// What was measured, or why the row could not run.
    pub result: Result<Summary, String>,
    /// Throughput as a fraction of the ceiling's (read rows only).
    pub ratio: Option<f64>,
    /// Highest server RSS sampled while the row ran.
    pub rss: Option<u64>,
}

impl Row {
    pub fn summary(&self) -> Option<&Summary> {
        self.result.as_ref().ok()
    }
}

/// The table, one Markdown line per row. A row with errors is flagged with `!`.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| row | conns | req/s | p50 | p99 | p99.9 | errors | vs ceiling | server RSS |\n",
    );
    out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for row in rows {
        let ratio = row
            .ratio
            .map_or("".to_owned(), |r| format!("{:.0}%", r * 100.0));
        let rss = row.rss.map_or("".to_owned(), format_mib);
        match &row.result {
            Ok(s) => {
                let (flag, errors) = if s.errors > 0 {
                    ("! ", format!("{} !", s.errors))
                } else {
                    ("", "0".to_owned())
                };
                let _ = writeln!(
                    out,
                    "| {flag}{} | {} | {} | {} | {} | {} | {errors} | {ratio} | {rss} |",
                    row.name,
                    row.connections,
                    format_count(s.per_second),
                    format_latency(s.p50),
                    format_latency(s.p99),
                    format_latency(s.p999),
                );
            }
            Err(reason) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {reason} | | | | | | {rss} |",
                    row.name, row.connections
                );
            }
        }
    }
    out
}

/// A target of the issue and whether the run met it.
#[derive(Debug, PartialEq)]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// The numbers the verdicts are computed from (SQLite run).
pub struct Measured<'a> {
    /// A read row and its throughput as a fraction of the ceiling's.
    pub active: Option<(&'a Summary, f64)>,
    /// `GET active` of another environment than the default (issue 14).
    pub staged: Option<(&'a Summary, f64)>,
    pub detail: Option<(&'a Summary, f64)>,
    pub first_page: Option<&'a Summary>,
    pub deep_page: Option<&'a Summary>,
    /// The 304 row, or why it could not run; `None` when it was left out.
    pub not_modified: Option<Result<&'a Summary, &'a str>>,
    pub create: Option<&'a Summary>,
    pub activate: Option<&'a Summary>,
    /// Small draft writes beside another app's 1 MB writes.
    pub cross_tenant: Option<&'a Summary>,
    pub peak_rss: u64,
}

const MIB: u64 = 1024 * 1024;

pub fn verdicts(m: &Measured) -> Vec<Verdict> {
    let mut out = Vec::new();
    for (name, row) in [
        ("GET active", m.active),
        ("GET active ?environment=staging", m.staged),
        ("GET release detail", m.detail),
    ] {
        let (measured, met) = match row {
            Some((r, ratio)) => (
                format!(
                    "{:.0}% of ceiling, p99 {}",
                    ratio * 100.0,
                    format_latency(r.p99)
                ),
                Some(ratio >= 0.6 && r.p99 < Duration::from_millis(10) && r.errors == 0),
            ),
            _ => ("not measured".to_owned(), None),
        };
        out.push(Verdict {
            target: format!("{name} ≥ 60% of ceiling, p99 < 10 ms"),
            measured,
            met,
        });
    }
    let (measured, met) = match (m.first_page, m.deep_page) {
        (Some(first), Some(deep)) if deep.per_second > 0.0 => {
            let cost = first.per_second / deep.per_second;
            (
                format!(
                    "{cost:.2}× (p50 {} vs {})",
                    format_latency(deep.p50),
                    format_latency(first.p50)
                ),
                Some(cost <= 1.5 && deep.errors == 0),
            )
        }
        _ => ("not measured".to_owned(), None),
    };
    out.push(Verdict {
        target: "deep list page (10,000 deep by default) ≤ 1.5× first page".to_owned(),
        measured,
        met,
    });
    out.push(match m.not_modified {
        None => Verdict {
            target: "conditional GET active answers 304".to_owned(),
            measured: "not measured".to_owned(),
            met: None,
        },
        Some(Ok(s)) => Verdict {
            target: "conditional GET active answers 304".to_owned(),
            measured: format!(
                "{}/s, p99 {}",
                format_count(s.per_second),
                format_latency(s.p99)
            ),
            met: Some(s.errors == 0),
        },
        Some(Err(reason)) => Verdict {
            target: "conditional GET active answers 304".to_owned(),
            measured: reason.to_owned(),
            met: Some(false),
        },
    });
    for (name, row, floor) in [
        ("create release (70-entity draft)", m.create, 1000.0),
        ("activate", m.activate, 2000.0),
    ] {
        out.push(Verdict {
            target: format!("{name} ≥ {}/s", format_count(floor)),
            measured: row.map_or("not measured".to_owned(), |r| {
                format!("{}/s", format_count(r.per_second))
            }),
            met: row.map(|r| r.per_second >= floor && r.errors == 0),
        });
    }
    out.push(Verdict {
        target: "small draft writes beside another app's 1 MB writes: p99 < 20 ms (issue 12)"
            .to_owned(),
        measured: m.cross_tenant.map_or("not measured".to_owned(), |r| {
            format!("p99 {}", format_latency(r.p99))
        }),
        met: m
            .cross_tenant
            .map(|r| r.p99 < Duration::from_millis(20) && r.errors == 0),
    });
    out.push(Verdict {
        target: "server RSS < 100 MiB through the run".to_owned(),
        measured: format!("peak {}", format_mib(m.peak_rss)),
        met: Some(m.peak_rss < 100 * MIB),
    });
    out
}

pub fn verdict_lines(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for v in verdicts {
        let mark = match v.met {
            Some(true) => "met    ",
            Some(false) => "MISSED ",
            None => "n/a    ",
        };
        let _ = writeln!(out, "- {mark} {}: {}", v.target, v.measured);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(per_second: f64, p99_ms: u64, errors: u64) -> Summary {
        Summary {
            requests: per_second as u64 * 10,
            errors,
            per_second,
            p50: Duration::from_micros(500),
            p99: Duration::from_millis(p99_ms),
            p999: Duration::from_millis(p99_ms * 2),
            max: Duration::from_millis(p99_ms * 3),
        }
    }

    #[test]
    fn table_has_a_line_per_row_and_flags_errors() {
        let rows = vec![
            Row {
                name: "ceiling".into(),
                connections: 64,
                result: Ok(summary(100_000.0, 4, 0)),
                ratio: Some(1.0),
                rss: None,
            },
            Row {
                name: "create release".into(),
                connections: 64,
                result: Ok(summary(1234.4, 30, 7)),
                ratio: None,
                rss: Some(50 * MIB),
            },
            Row {
                name: "GET active 304".into(),
                connections: 64,
                result: Err("n/a: server sends no ETag".into()),
                ratio: None,
                rss: None,
            },
        ];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[2],
            "| ceiling | 64 | 100,000 | 0.50 ms | 4.00 ms | 8.00 ms | 0 | 100% |  |"
        );
        assert_eq!(
            lines[3],
            "| ! create release | 64 | 1,234 | 0.50 ms | 30.0 ms | 60.0 ms | 7 ! |  | 50.0 MiB |"
        );
        assert!(lines[4].contains("n/a: server sends no ETag"));
        // Every line has the same number of columns.
        let columns = |l: &str| l.matches('|').count();
        assert!(lines.iter().all(|l| columns(l) == columns(lines[0])));
    }

    #[test]
    fn verdicts_apply_the_issue_targets() {
        let active = summary(61_000.0, 9, 0);
        let staged = summary(60_000.0, 11, 0);
        let detail = summary(59_000.0, 9, 0);
        let first = summary(10_000.0, 9, 0);
        let deep = summary(6_000.0, 9, 0);
        let create = summary(1_000.0, 90, 0);
        let activate = summary(2_500.0, 50, 1);
        let cross_tenant = summary(2_000.0, 20, 0);
        let m = Measured {
            active: Some((&active, 0.61)),
            staged: Some((&staged, 0.60)),
            detail: Some((&detail, 0.59)),
            first_page: Some(&first),
            deep_page: Some(&deep),
            not_modified: Some(Err("n/a: server sends no ETag")),
            create: Some(&create),
            activate: Some(&activate),
            cross_tenant: Some(&cross_tenant),
            peak_rss: 99 * MIB,
        };
        let met: Vec<Option<bool>> = verdicts(&m).iter().map(|v| v.met).collect();
        assert_eq!(
            met,
            vec![
                Some(true),  // active 61%
                Some(false), // staging 60% but p99 11 ms
                Some(false), // detail 59%
                Some(false), // deep page 1.67× the first
                Some(false), // no ETag
                Some(true),  // create exactly 1,000/s
                Some(false), // activate had an error
                Some(false), // cross-tenant p99 exactly 20 ms
                Some(true),  // 99 MiB
            ]
        );
        assert!(verdict_lines(&verdicts(&m)).contains("MISSED  deep list page"));
        let left_out = Measured {
            not_modified: None,
            cross_tenant: None,
            ..m
        };
        let lines = verdict_lines(&verdicts(&left_out));
        assert!(lines.contains("n/a     conditional GET active answers 304: not measured"));
        assert!(lines.contains("n/a     small draft writes beside"));
    }
}
