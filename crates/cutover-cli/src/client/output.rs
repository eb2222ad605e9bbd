//! Printing: aligned tables, relative times ("3 minutes ago"), one-line cells, and
//! writing to standard output without panicking when the reader goes away.

use std::io::{self, Write};

use cutover_domain::timestamp::Timestamp;

use super::error::{CliError, CliResult};
use super::http::Answer;

/// Writes `text` to standard output. A reader that stops early (`| head`) is not an
/// error of ours.
pub fn print(text: &str) -> CliResult {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(CliError::local(format!(
            "cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}

/// Prints an answer's body exactly as the server sent it (plus a final newline).
pub fn print_raw(answer: &Answer) -> CliResult {
    let mut text = answer.text();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print(&text)
}

/// A note for people, on standard error, so standard output stays parseable.
pub fn note(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Columns padded to their widest cell, two spaces apart, like `helm history`.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(headers: [&str; N]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.into_iter().map(|c| cell(&c)).collect());
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width(cell));
            }
        }
        let mut text = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                line.push_str(cell);
                if i + 1 < columns {
                    line.push_str(&" ".repeat(widths[i] - width(cell) + 2));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }
}

fn width(text: &str) -> usize {
    text.chars().count()
}

/// A value fit for one table cell: its first line, control characters removed,
/// at most 60 characters.
pub fn cell(text: &str) -> String {
    const MAX: usize = 60;
    let first = text.lines().next().unwrap_or("");
    let clean: String = first
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let more_lines = text.lines().nth(1).is_some();
    if width(&clean) > MAX {
        let cut: String = clean.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else if more_lines {
        format!("{clean} …")
    } else {
        clean
    }
}

/// "3 minutes ago" for `then`, seen at `now`; older than 30 days shows the date.
pub fn ago(then: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_micros() - then.as_micros()) / 1_000_000;
    if seconds < 0 {
        // Clocks disagree; say when, not a negative age.
        return then.to_string();
    }
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        0..=4 => "just now".to_owned(),
        5..=59 => plural(seconds, "second"),
        60..=3599 => plural(seconds / 60, "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        86_400..=2_591_999 => plural(seconds / 86_400, "day"),
        _ => then.to_string().chars().take(10).collect(),
    }
}

/// [`ago`] from now.
pub fn since(then: Timestamp) -> String {
    ago(then, Timestamp::now())
}

/// `-` for an absent value.
pub fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_micros(1_795_830_549_000_000 + seconds * 1_000_000)
    }

    #[test]
    fn relative_times_read_like_people_say_them() {
        let now = at(10_000_000);
        let cases = [
            (0, "just now"),
            (4, "just now"),
            (5, "5 seconds ago"),
            (60, "1 minute ago"),
            (179, "2 minutes ago"),
            (3600, "1 hour ago"),
            (7200 + 59, "2 hours ago"),
            (86_400, "1 day ago"),
            (29 * 86_400, "29 days ago"),
        ];
        for (age, expected) in cases {
            assert_eq!(ago(at(10_000_000 - age), now), expected, "age {age}s");
        }
        assert_eq!(ago(at(10_000_000 - 31 * 86_400), now).len(), 10);
        assert!(ago(at(10_000_100), now).ends_with('Z'));
    }

    #[test]
    fn tables_align_and_trim() {
        let mut table = Table::new(["A", "LONGER"]);
        table.row(vec!["wide cell".into(), "x".into()]);
        table.row(vec!["y".into(), "".into()]);
        assert_eq!(table.render(), "A          LONGER\nwide cell  x\ny\n");
    }

    #[test]
    fn cells_are_one_short_line() {
        assert_eq!(cell("one\ntwo"), "one …");
        assert_eq!(cell("tab\there"), "tab here");
        let long = "x".repeat(80);
        assert_eq!(cell(&long).chars().count(), 60);
    }
}
