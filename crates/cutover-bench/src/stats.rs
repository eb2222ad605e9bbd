//! Latency histograms and what a row reports from them: throughput and percentiles.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency a histogram records exactly (larger values are clamped to it).
const MAX_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds, three significant digits.
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static bounds are valid"))
    }
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        self.0.record(micros).expect("value is within bounds");
    }

    pub fn merge(&mut self, other: &Latencies) {
        self.0.add(&other.0).expect("same bounds");
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// Throughput and percentiles of what was recorded during `window`, with
    /// `errors` of the answers not as expected.
    pub fn summary(&self, window: Duration, errors: u64) -> Summary {
        let micros = |q: f64| Duration::from_micros(self.0.value_at_quantile(q));
        let seconds = window.as_secs_f64();
        Summary {
            requests: self.count(),
            errors,
            per_second: if seconds > 0.0 {
                self.count() as f64 / seconds
            } else {
                0.0
            },
            p50: micros(0.50),
            p99: micros(0.99),
            p999: micros(0.999),
            max: Duration::from_micros(self.0.max()),
        }
    }
}

/// What one row measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Answers received in the measuring window (errors included).
    pub requests: u64,
    /// Answers whose status was not the one the row expects (or transport failures).
    pub errors: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

/// A latency as milliseconds, with precision that suits its size.
pub fn format_latency(latency: Duration) -> String {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A count with thousands separators: `12,345`.
pub fn format_count(value: f64) -> String {
    let rounded = value.round().max(0.0) as u64;
    let digits = rounded.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as MiB with one decimal.
pub fn format_mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[middle]),
        _ => Some((values[middle - 1] + values[middle]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reports_percentiles_and_throughput() {
        let mut latencies = Latencies::default();
        // 1,000 answers: 1 ms … 1,000 ms, one each.
        for ms in 1..=1000 {
            latencies.record(Duration::from_millis(ms));
        }
        let summary = latencies.summary(Duration::from_secs(4), 3);
        assert_eq!(summary.requests, 1000);
        assert_eq!(summary.errors, 3);
        assert!((summary.per_second - 250.0).abs() < 1e-9);
        let near = |d: Duration, ms: u64| {
            let got = d.as_secs_f64() * 1000.0;
            (got - ms as f64).abs() <= ms as f64 * 0.002
        };
        assert!(near(summary.p50, 500), "{:?}", summary.p50);
        assert!(near(summary.p99, 990), "{:?}", summary.p99);
        assert!(near(summary.p999, 999), "{:?}", summary.p999);
        assert!(near(summary.max, 1000), "{:?}", summary.max);
    }

    #[test]
    fn merging_adds_counts_and_tails() {
        let mut a = Latencies::default();
        let mut b = Latencies::default();
        for _ in 0..99 {
            a.record(Duration::from_micros(200));
        }
        b.record(Duration::from_millis(50));
        a.merge(&b);
        let summary = a.summary(Duration::from_secs(1), 0);
        assert_eq!(summary.requests, 100);
        assert!(summary.p50 < Duration::from_micros(210));
        assert!(summary.max >= Duration::from_millis(49));
    }

    #[test]
    fn extreme_latencies_are_clamped_not_lost() {
        let mut latencies = Latencies::default();
        latencies.record(Duration::ZERO);
        latencies.record(Duration::from_secs(3600));
        assert_eq!(latencies.count(), 2);
    }

    #[test]
    fn empty_window_has_no_throughput() {
        let summary = Latencies::default().summary(Duration::ZERO, 0);
        assert_eq!(summary.per_second, 0.0);
        assert_eq!(summary.requests, 0);
    }

    #[test]
    fn formats() {
        assert_eq!(format_latency(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(format_latency(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(format_latency(Duration::from_millis(250)), "250 ms");
        assert_eq!(format_count(0.0), "0");
        assert_eq!(format_count(999.4), "999");
        assert_eq!(format_count(1234.0), "1,234");
        assert_eq!(format_count(109_000.0), "109,000");
        assert_eq!(format_count(1_234_567.0), "1,234,567");
        assert_eq!(format_mib(3 * 1024 * 1024 + 512 * 1024), "3.5 MiB");
    }

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [0.7, 0.5, 0.9]), Some(0.7));
        assert_eq!(median(&mut [0.4, 0.8, 0.6, 0.5]), Some(0.55));
    }
}
