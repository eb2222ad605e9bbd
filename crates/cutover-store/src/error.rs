//! What a store operation can fail with, in terms the HTTP edge can render without
//! knowing which database ran it.

use cutover_domain::conflict::Conflict;
use cutover_domain::lifecycle::Refusal;
use cutover_domain::limits::DraftTooLarge;
use cutover_domain::quota::LimitReached;
use serde_json::{Map, Value};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The addressed resource does not exist under the given parents.
    #[error("{resource_type} {resource_id} not found")]
    NotFound {
        resource_type: &'static str,
        resource_id: String,
    },
    /// The request conflicts with stored state; `reason` is a stable snake_case code.
    #[error("conflict ({reason}): {message}")]
    Conflict {
        reason: &'static str,
        message: String,
        details: Map<String, Value>,
    },
    /// A body field names something that does not exist (answered as 422).
    #[error("invalid reference in {field}: {message}")]
    InvalidReference {
        field: &'static str,
        message: String,
        input: Value,
    },
    /// The database cannot be reached or is too busy right now; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken database. The text goes only to the log.
    #[error("storage failure: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn not_found(resource_type: &'static str, resource_id: impl ToString) -> Self {
        Self::NotFound {
            resource_type,
            resource_id: resource_id.to_string(),
        }
    }

    pub fn conflict(reason: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            reason,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// A conflict with extra `details` entries besides `reason`.
    pub fn conflict_with(
        reason: &'static str,
        message: impl Into<String>,
        details: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> Self {
        Self::Conflict {
            reason,
            message: message.into(),
            details: details
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect(),
        }
    }
}

impl From<Conflict> for StoreError {
    fn from(conflict: Conflict) -> Self {
        Self::conflict_with(conflict.code(), conflict.message(), conflict.details())
    }
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        Self::conflict(refusal.code(), refusal.message())
    }
}

impl From<DraftTooLarge> for StoreError {
    fn from(refusal: DraftTooLarge) -> Self {
        Self::conflict_with(
            "draft_limit_reached",
            format!(
                "An app's draft can hold at most {} bytes of endpoints and augmentations; \
                 this change would make it {} bytes",
                refusal.limit_bytes, refusal.would_be_bytes
            ),
            [
                ("limit_bytes", refusal.limit_bytes.into()),
                ("draft_bytes", refusal.would_be_bytes.into()),
            ],
        )
    }
}

impl From<LimitReached> for StoreError {
    fn from(full: LimitReached) -> Self {
        Self::conflict_with(
            LimitReached::CODE,
            full.message(),
            [
                ("limit", full.limit.into()),
                ("limit_name", full.counted.name().into()),
            ],
        )
    }
}
