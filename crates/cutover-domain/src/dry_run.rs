//! Dry runs: what a write would change, told from what its rehearsal saw. A store runs
//! the real write inside its transaction, reads the releases it touched, and undoes
//! it; this module turns those facts into the answer's status changes and warnings,
//! so every backend's dry run says the same things the same way.

use serde::Serialize;

use crate::Timestamp;
use crate::deployment::{Deployment, DeploymentAction};
use crate::ids::ReleaseId;
use crate::model::ReleaseStatus;
use crate::values::ReleaseTag;

/// How many of an environment's latest records a dry run looks back through for
/// warnings (each is one small row).
pub const HISTORY_LOOKBACK: u32 = 50;

/// One release as a rehearsal read it, before or after the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseState {
    pub release_id: ReleaseId,
    pub release_tag: ReleaseTag,
    pub release_number: i64,
    pub status: ReleaseStatus,
}

/// A release named in a dry run's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseBrief {
    /// Null for a release a cut would create: the real cut picks its id.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<String>))]
    pub release_id: Option<ReleaseId>,
    pub release_tag: ReleaseTag,
    pub release_number: i64,
}

impl ReleaseBrief {
    fn of(state: &ReleaseState, exists: bool) -> Self {
        Self {
            release_id: exists.then(|| state.release_id.clone()),
            release_tag: state.release_tag.clone(),
            release_number: state.release_number,
        }
    }

    fn label(&self) -> String {
        format!("{} (#{})", self.release_tag.as_str(), self.release_number)
    }
}

/// A release whose status the write would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    #[serde(flatten)]
    pub release: ReleaseBrief,
    /// Null: the write would create the release.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub from: Option<ReleaseStatus>,
    /// Null: the write would delete the release.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub to: Option<ReleaseStatus>,
}

/// The releases whose status differs between `before` and `after` (absent from one
/// side: created or deleted), in the order `after` then `before` name them.
pub fn status_changes(before: &[ReleaseState], after: &[ReleaseState]) -> Vec<StatusChange> {
    let find = |states: &[ReleaseState], id: &ReleaseId| {
        states.iter().find(|state| state.release_id == *id).cloned()
    };
    let mut changes = Vec::new();
    for state in after {
        let was = find(before, &state.release_id);
        if was.as_ref().map(|was| was.status) != Some(state.status) {
            changes.push(StatusChange {
                release: ReleaseBrief::of(state, was.is_some()),
                from: was.map(|was| was.status),
                to: Some(state.status),
            });
        }
    }
    for state in before {
        if find(after, &state.release_id).is_none() {
            changes.push(StatusChange {
                release: ReleaseBrief::of(state, true),
                from: Some(state.status),
                to: None,
            });
        }
    }
    changes
}

/// A release as the answer names it: from `after` when the write creates it (no id),
/// else from `before`.
pub fn brief(
    before: &[ReleaseState],
    after: &[ReleaseState],
    id: &ReleaseId,
) -> Option<ReleaseBrief> {
    let find =
        |states: &[ReleaseState]| states.iter().find(|state| state.release_id == *id).cloned();
    match (find(before), find(after)) {
        (Some(state), _) => Some(ReleaseBrief::of(&state, true)),
        (None, Some(state)) => Some(ReleaseBrief::of(&state, false)),
        (None, None) => None,
    }
}

/// Something the caller may want to know before making the real call, which would
/// still succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// A stable snake_case code: `no_change`, `rolled_back_before`,
    /// `older_than_current` or `same_content`.
    pub code: &'static str,
    pub message: String,
}

/// What the warnings of an allowed write are told from.
pub struct WarningFacts<'a> {
    /// The release the write acts on (deploys, cuts, archives or deletes).
    pub release: Option<&'a ReleaseBrief>,
    /// The release the environment has now, which the write would replace.
    pub replaces: Option<&'a ReleaseBrief>,
    /// The deployment records the write would add, in order.
    pub records: &'a [Deployment],
    /// The latest records of the environment the write deploys to, newest first,
    /// as they are before it.
    pub history: &'a [Deployment],
    /// Whether the write would change anything at all.
    pub changes: bool,
    /// What the content that would be live (or cut) is the same as, for people
    /// ("v4 (#4)"); `None` when it differs or nothing was compared.
    pub same_content_as: Option<&'a str>,
    pub now: Timestamp,
}

/// The warnings for an allowed write, most important first.
pub fn warnings(facts: &WarningFacts<'_>) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if !facts.changes {
        warnings.push(Warning {
            code: "no_change",
            message: "Nothing would change: the real call would answer with what is there now"
                .into(),
        });
        return warnings;
    }
    if let Some(record) = facts.records.last() {
        if let Some(warning) = rolled_back_before(record, facts.history, facts.now) {
            warnings.push(warning);
        }
        if let (Some(release), Some(replaces)) = (facts.release, facts.replaces) {
            let forward = record.action != DeploymentAction::Rollback;
            if forward && release.release_number < replaces.release_number {
                warnings.push(Warning {
                    code: "older_than_current",
                    message: format!(
                        "{} is older than {}, which {} has now; a rollback is the usual way back",
                        release.label(),
                        replaces.label(),
                        record.environment_slug
                    ),
                });
            }
        }
    }
    if let Some(same_as) = facts.same_content_as {
        warnings.push(Warning {
            code: "same_content",
            message: format!(
                "The content would be the same as {same_as}'s: no endpoint or augmentation would change"
            ),
        });
    }
    warnings
}

/// "The target was deployed here before, and the next change here rolled it back."
fn rolled_back_before(
    record: &Deployment,
    history: &[Deployment],
    now: Timestamp,
) -> Option<Warning> {
    let position = history
        .iter()
        .position(|earlier| earlier.release_id == record.release_id)?;
    let went_live = &history[position];
    let left = history[..position].last()?;
    if left.action != DeploymentAction::Rollback {
        return None;
    }
    let lasted = left.deployed_at.as_micros() - went_live.deployed_at.as_micros();
    let ago = now.as_micros() - left.deployed_at.as_micros();
    let label = match (&went_live.release_tag, went_live.release_number) {
        (Some(tag), Some(number)) => format!("{} (#{number})", tag.as_str()),
        _ => went_live.release_id.to_string(),
    };
    Some(Warning {
        code: "rolled_back_before",
        message: format!(
            "{label} was deployed to {} for {} and rolled back {} ago{}",
            record.environment_slug,
            span(lasted),
            span(ago),
            left.reason
                .as_deref()
                .map(|reason| format!(" (\"{reason}\")"))
                .unwrap_or_default()
        ),
    })
}

/// A span of microseconds in the largest whole unit, for people: "3 minutes".
pub fn span(micros: i64) -> String {
    let seconds = micros.max(0) / 1_000_000;
    let (count, unit) = match seconds {
        0..60 => (seconds, "second"),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

#[cfg(test)]
#[path = "dry_run_tests.rs"]
mod tests;
