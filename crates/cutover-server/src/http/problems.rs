//! The problems of one invalid request, kept and rendered within fixed bounds: at
//! most [`MAX_DETAIL_ENTRIES`] entries in `detail` and at most [`MAX_ANSWER_BYTES`]
//! of answer, however many problems the request has. When some are left out, the
//! last entry says so (`type: "too_many_errors"`, `ctx: {listed, total}`).
//!
//! Only the entries that can be listed are ever kept; the rest are counted. So a
//! body with a million bad items costs a counter, not a million entries.

use serde_json::{Map, Value};

use crate::http::validation::Issue;

/// The most entries `detail` holds, the `too_many_errors` entry included.
pub const MAX_DETAIL_ENTRIES: usize = 50;

/// The most bytes a 422 answer takes.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Room kept for the closing `too_many_errors` entry and the brackets around
/// `detail` (the entry is about 200 bytes).
const SUMMARY_ROOM: usize = 512;

/// The Pydantic-style type of the entry that says some problems are not listed.
pub const TOO_MANY_ERRORS: &str = "too_many_errors";

/// Every problem of a request: the first ones kept, the rest counted.
#[derive(Debug, Default)]
pub struct Problems {
    kept: Vec<Issue>,
    beyond_kept: usize,
}

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, issue: Issue) {
        if self.kept.len() < MAX_DETAIL_ENTRIES {
            self.kept.push(issue);
        } else {
            self.beyond_kept += 1;
        }
    }

    pub fn append(&mut self, other: Problems) {
        for issue in other.kept {
            self.push(issue);
        }
        self.beyond_kept += other.beyond_kept;
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// How many problems the request has, listed or not.
    pub fn total(&self) -> usize {
        self.kept.len() + self.beyond_kept
    }

    /// The problems kept (the first [`MAX_DETAIL_ENTRIES`]).
    pub fn kept(&self) -> &[Issue] {
        &self.kept
    }

    /// The 422 body, `{"detail": [...]}`: every problem when they are few enough and
    /// fit in [`MAX_ANSWER_BYTES`]; otherwise as many as fit (one fewer than
    /// [`MAX_DETAIL_ENTRIES`] at most), then the `too_many_errors` entry.
    pub fn render(&self) -> Vec<u8> {
        let encoded: Vec<Vec<u8>> = self
            .kept
            .iter()
            .filter_map(|issue| serde_json::to_vec(issue).ok())
            .collect();
        let wrapper = br#"{"detail":[]}"#.len();
        let all_bytes = wrapper + encoded.iter().map(|e| e.len() + 1).sum::<usize>();
        let listed = if self.beyond_kept == 0 && all_bytes <= MAX_ANSWER_BYTES {
            encoded.len()
        } else {
            let mut used = wrapper + SUMMARY_ROOM;
            encoded
                .iter()
                .take(MAX_DETAIL_ENTRIES - 1)
                .take_while(|entry| {
                    used += entry.len() + 1;
                    used <= MAX_ANSWER_BYTES
                })
                .count()
        };
        let mut body = Vec::with_capacity(all_bytes.min(MAX_ANSWER_BYTES));
        body.extend_from_slice(br#"{"detail":["#);
        for (index, entry) in encoded.iter().take(listed).enumerate() {
            if index > 0 {
                body.push(b',');
            }
            body.extend_from_slice(entry);
        }
        if listed < self.total() {
            if listed > 0 {
                body.push(b',');
            }
            if let Ok(summary) = serde_json::to_vec(&self.summary(listed)) {
                body.extend(summary);
            }
        }
        body.extend_from_slice(b"]}");
        body
    }

    fn summary(&self, listed: usize) -> Issue {
        let root = self
            .kept
            .first()
            .and_then(|issue| issue.loc.first().cloned())
            .unwrap_or_else(|| Value::String("body".into()));
        let total = self.total();
        let mut ctx = Map::new();
        ctx.insert("listed".into(), listed.into());
        ctx.insert("total".into(), total.into());
        Issue {
            loc: vec![root],
            msg: format!("The request has {total} problems; only the first {listed} are listed"),
            kind: TOO_MANY_ERRORS,
            input: Value::Null,
            ctx,
        }
    }
}

impl From<Vec<Issue>> for Problems {
    fn from(issues: Vec<Issue>) -> Self {
        let mut problems = Self::new();
        for issue in issues {
            problems.push(issue);
        }
        problems
    }
}

impl From<Issue> for Problems {
    fn from(issue: Issue) -> Self {
        vec![issue].into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::validation::Issue;
    use serde_json::json;

    fn issue(index: usize, input: &Value) -> Issue {
        Issue::new(
            vec!["body".into(), "stages".into(), index.into()],
            "model_type",
            "Input should be a valid dictionary or object to extract fields from",
            input,
        )
    }

    fn detail(problems: &Problems) -> Vec<Value> {
        let body: Value = serde_json::from_slice(&problems.render()).unwrap();
        body["detail"].as_array().unwrap().clone()
    }

    #[test]
    fn few_problems_are_all_listed() {
        let problems: Problems = (0..MAX_DETAIL_ENTRIES)
            .map(|i| issue(i, &json!(1)))
            .collect::<Vec<_>>()
            .into();
        let detail = detail(&problems);
        assert_eq!(detail.len(), MAX_DETAIL_ENTRIES);
        assert!(detail.iter().all(|entry| entry["type"] == "model_type"));
    }

    #[test]
    fn many_problems_end_with_a_count() {
        let mut problems = Problems::new();
        for i in 0..100_000 {
            problems.push(issue(i, &json!(1)));
        }
        assert_eq!(problems.kept().len(), MAX_DETAIL_ENTRIES);
        assert_eq!(problems.total(), 100_000);
        let detail = detail(&problems);
        assert_eq!(detail.len(), MAX_DETAIL_ENTRIES);
        let last = detail.last().unwrap();
        assert_eq!(last["type"], TOO_MANY_ERRORS);
        assert_eq!(last["loc"], json!(["body"]));
        assert_eq!(last["ctx"], json!({"listed": 49, "total": 100_000}));
        assert_eq!(last["input"], Value::Null);
    }

    #[test]
    fn large_entries_are_listed_only_while_the_answer_stays_small() {
        // An entry far larger than any the parsers make: the byte bound still holds.
        let mut problems = Problems::new();
        for i in 0..MAX_DETAIL_ENTRIES {
            let mut big = issue(i, &json!(1));
            big.msg = "m".repeat(5_000);
            problems.push(big);
        }
        let body = problems.render();
        assert!(body.len() <= MAX_ANSWER_BYTES, "{}", body.len());
        let detail = detail(&problems);
        assert!(detail.len() < MAX_DETAIL_ENTRIES);
        assert_eq!(detail.last().unwrap()["ctx"]["total"], MAX_DETAIL_ENTRIES);
    }

    #[test]
    fn appending_keeps_the_bound_and_the_count() {
        let mut first: Problems = (0..30)
            .map(|i| issue(i, &json!(1)))
            .collect::<Vec<_>>()
            .into();
        let second: Problems = (0..70)
            .map(|i| issue(i, &json!(1)))
            .collect::<Vec<_>>()
            .into();
        first.append(second);
        assert_eq!(first.kept().len(), MAX_DETAIL_ENTRIES);
        assert_eq!(first.total(), 100);
    }
}
