//! What a store operation can fail with, in terms the HTTP edge can render without
//! knowing which database ran it.

use cutover_domain::conflict::Conflict;
use cutover_domain::deployment::{NotAllowed, RollbackRefusal};
use cutover_domain::lifecycle::Refusal;
use cutover_domain::limits::DraftTooLarge;
use cutover_domain::permission::Permission;
use cutover_domain::precondition::PreconditionFailed;
use cutover_domain::quota::LimitReached;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store operation could not be done: what it was doing, and the error beneath
/// it (the driver's, a decoder's, a task's) as its `source`, so that the log sees the
/// whole chain ([`Cause::chain`]) while the client sees neither. Cheap to clone: a
/// failed batch commit reports one cause to every write in it.
#[derive(Debug, Clone)]
pub struct Cause {
    context: Cow<'static, str>,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl Cause {
    pub fn new(context: impl Into<Cow<'static, str>>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }

    /// `context`, caused by `source`.
    pub fn from(
        context: impl Into<Cow<'static, str>>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            context: context.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The context and every source beneath it: `reading a release: error returned
    /// from database: …`.
    pub fn chain(&self) -> String {
        one_line_chain(self)
    }
}

/// `error` and every source beneath it on one line, joined by `: `: how a start-up
/// failure reaches an operator and a store failure reaches the log. A source whose
/// text its parent already ends with (drivers often print their source inside their
/// own message) is said once; runs of whitespace, newlines included, become one space.
pub fn one_line_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let said = cause.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        next = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Cause {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.context)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|error| error as &(dyn Error + 'static))
    }
}

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
    /// The caller's token lacks `permission` for what it asked, which only the stored
    /// state could tell (deploying to a protected environment); answered as 403.
    #[error("forbidden, needs {permission}: {message}")]
    Forbidden {
        permission: Permission,
        message: String,
    },
    /// A compare-and-swap condition did not hold; nothing was changed (answered as 412).
    #[error("precondition failed: {0:?}")]
    PreconditionFailed(PreconditionFailed),
    /// A body field names something that does not exist (answered as 422).
    #[error("invalid reference in {field}: {message}")]
    InvalidReference {
        field: &'static str,
        message: String,
        input: Value,
    },
    /// The database cannot be reached or is too busy right now; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a broken database. The cause goes only to the log.
    #[error("storage failure: {0}")]
    Internal(#[source] Cause),
}

impl StoreError {
    pub fn internal(context: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal(Cause::new(context))
    }

    /// An internal failure while doing `context`, caused by `source`.
    pub fn internal_from(
        context: impl Into<Cow<'static, str>>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal(Cause::from(context, source))
    }

    pub fn unavailable(context: impl Into<Cow<'static, str>>) -> Self {
        Self::Unavailable(Cause::new(context))
    }

    pub fn unavailable_from(
        context: impl Into<Cow<'static, str>>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable(Cause::from(context, source))
    }

    /// A body field named something that is not there: the `NotFound` for a
    /// `resource_type` becomes a 422 at `field` ("must name …", `message`), since the
    /// path's resources were found; any other error stays as it is.
    pub fn in_body_field(
        self,
        resource_type: &str,
        field: &'static str,
        message: &str,
        input: &str,
    ) -> Self {
        match self {
            Self::NotFound {
                resource_type: found,
                ..
            } if found == resource_type => Self::InvalidReference {
                field,
                message: message.to_owned(),
                input: Value::String(input.to_owned()),
            },
            other => other,
        }
    }

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

impl From<PreconditionFailed> for StoreError {
    fn from(failed: PreconditionFailed) -> Self {
        Self::PreconditionFailed(failed)
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

impl From<RollbackRefusal> for StoreError {
    fn from(refusal: RollbackRefusal) -> Self {
        Self::conflict(refusal.code(), refusal.message())
    }
}

impl From<NotAllowed> for StoreError {
    fn from(refused: NotAllowed) -> Self {
        Self::Forbidden {
            permission: refused.needed,
            message: refused.message(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_cause_and_the_message_only_the_context() {
        let io = std::io::Error::other("disk on fire");
        let error = StoreError::internal_from("writing a release", io);
        assert_eq!(error.to_string(), "storage failure: writing a release");
        let StoreError::Internal(cause) = &error else {
            unreachable!()
        };
        assert_eq!(cause.chain(), "writing a release: disk on fire");
        assert_eq!(
            std::error::Error::source(&error).map(ToString::to_string),
            Some("writing a release".to_owned())
        );
        assert_eq!(
            StoreError::unavailable("busy").to_string(),
            "database unavailable: busy"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("error communicating with database: {0}")]
    struct SaysItsSource(#[source] std::io::Error);

    #[test]
    fn a_source_its_parent_already_printed_is_said_once_and_the_chain_is_one_line() {
        let driver = SaysItsSource(std::io::Error::other("connection\nrefused"));
        let error = StoreError::unavailable_from("connecting", driver);
        assert_eq!(
            one_line_chain(&error),
            "database unavailable: connecting: error communicating with database: connection refused"
        );
    }
}
