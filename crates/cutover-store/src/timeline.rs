//! Timeline events as every backend stores them: one row per event, written in the
//! transaction of the write it records, holding the event as its answers encode it
//! (`cutover_domain::timeline::TimelineEvent`), so reading a page decodes rows and
//! joins nothing. Deleting an app removes its timeline; nothing else does.

use cutover_domain::Timestamp;
use cutover_domain::deployment::Deployment;
use cutover_domain::model::ReleaseSummary;
use cutover_domain::timeline::{Change, Commit, EventType, ReleaseAction, TimelineEvent};

use crate::{StoreError, StoreResult, decode_stored};

/// One event, ready to insert: its type and time (the columns a store filters and
/// orders by) and its encoded body.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub event_type: EventType,
    pub at: Timestamp,
    pub body: String,
}

impl EventRow {
    fn of(event: &TimelineEvent) -> StoreResult<Self> {
        let body = serde_json::to_string(event)
            .map_err(|err| StoreError::internal_from("encoding a timeline event", err))?;
        Ok(Self {
            event_type: event.event_type,
            at: event.timestamp,
            body,
        })
    }

    /// The commit of one draft write by `author` at `at`.
    pub fn commit(author: &str, change: Change, at: Timestamp) -> StoreResult<Self> {
        Self::of(&TimelineEvent::commit(Commit::of(author, change), at))
    }

    /// A release cut, archived or deleted: `summary` as the release is after the
    /// action (for a delete, as it was before).
    pub fn release(
        summary: ReleaseSummary,
        action: ReleaseAction,
        by: &str,
        reason: Option<String>,
        at: Timestamp,
    ) -> StoreResult<Self> {
        Self::of(&TimelineEvent::release(summary, action, by, reason, at))
    }

    pub fn deployment(record: &Deployment) -> StoreResult<Self> {
        Self::of(&TimelineEvent::deployment(record.clone()))
    }
}

/// Decodes an event a store wrote.
pub fn decode_event(body: &str) -> StoreResult<TimelineEvent> {
    decode_stored(body, "timeline event")
}

/// A page of an app's timeline, newest first. Unlike other lists it has no total:
/// counting a long history at every read would cost what the page does not.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePage {
    pub events: Vec<TimelineEvent>,
    /// The key to ask for the next (older) page with, `None` on the last page.
    pub next_after: Option<String>,
}

impl TimelinePage {
    /// A page from up to `limit + 1` `(sequence, body)` rows, newest first.
    pub fn from_over_fetch(mut rows: Vec<(i64, String)>, limit: u32) -> StoreResult<Self> {
        let next_after = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|(sequence, _)| sequence.to_string())
        } else {
            None
        };
        let events = rows
            .iter()
            .map(|(_, body)| decode_event(body))
            .collect::<StoreResult<_>>()?;
        Ok(Self { events, next_after })
    }
}

/// The sequence a page's cursor stands for: events older than it. A cursor the
/// server did not make reads as "from the newest" (the HTTP layer has already
/// refused a tampered one).
pub fn before_sequence(after: Option<&str>) -> i64 {
    after.and_then(|key| key.parse().ok()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_domain::digest::EntityKind;

    #[test]
    fn a_stored_event_reads_back_as_it_was_written() {
        let change = Change::between(EntityKind::Endpoint, "ep_1", None, None);
        let row = EventRow::commit("alice", change, Timestamp::from_micros(5)).unwrap();
        assert_eq!(row.event_type, EventType::Commit);
        let event = decode_event(&row.body).unwrap();
        assert_eq!(event.timestamp, Timestamp::from_micros(5));
        assert_eq!(event.commit.unwrap().author, "alice");
    }

    #[test]
    fn an_over_fetched_row_only_says_an_older_page_exists() {
        let body = EventRow::commit(
            "alice",
            Change::between(EntityKind::Endpoint, "ep_1", None, None),
            Timestamp::from_micros(1),
        )
        .unwrap()
        .body;
        let rows = vec![(9, body.clone()), (7, body.clone()), (3, body)];
        let page = TimelinePage::from_over_fetch(rows.clone(), 2).unwrap();
        assert_eq!(
            (page.events.len(), page.next_after.as_deref()),
            (2, Some("7"))
        );
        let last = TimelinePage::from_over_fetch(rows, 3).unwrap();
        assert_eq!(last.next_after, None);
        assert_eq!(before_sequence(Some("7")), 7);
        assert_eq!(before_sequence(None), i64::MAX);
    }
}
