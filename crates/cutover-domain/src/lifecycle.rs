//! The release lifecycle: the one place that decides whether activate, rollback,
//! archive or delete may happen, and what it changes. Stores load the facts, ask here,
//! and apply the answer inside their transaction.

use crate::ids::ReleaseId;
use crate::model::{ActivationAction, ReleaseStatus};

/// The facts about one release that lifecycle decisions depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    pub release_id: ReleaseId,
    pub release_number: i64,
    pub status: ReleaseStatus,
    /// Whether the release was ever active (it has an `activated_at`).
    pub was_ever_active: bool,
}

impl ReleaseFacts {
    /// The facts of a stored release: it was active once if it has an `activated_at`.
    pub fn of(summary: &crate::model::ReleaseSummary) -> Self {
        Self {
            release_id: summary.release_id.clone(),
            release_number: summary.release_number,
            status: summary.status,
            was_ever_active: summary.activated_at.is_some(),
        }
    }
}

/// Why a transition was refused; `code` is the stable `details.reason` of the 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The release awaits approval (`draft`) and cannot go live yet.
    AwaitingApproval,
    /// Rollback needs a release that is active now.
    NoActiveRelease,
    /// Rollback targets must have been active before.
    NeverActive,
    /// Rollback goes back in time: the target must be older than the active release.
    NotOlderThanActive,
    /// The active release cannot be archived or deleted.
    ReleaseIsActive,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "release_awaiting_approval",
            Self::NoActiveRelease => "no_active_release",
            Self::NeverActive => "release_never_active",
            Self::NotOlderThanActive => "release_not_older_than_active",
            Self::ReleaseIsActive => "release_is_active",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "The release is awaiting approval and cannot be activated",
            Self::NoActiveRelease => "The app has no active release to roll back from",
            Self::NeverActive => "Only a release that was active before can be rolled back to",
            Self::NotOlderThanActive => {
                "Rollback targets a release older than the active one; use activate to move forward"
            }
            Self::ReleaseIsActive => "The active release cannot be archived or deleted",
        }
    }
}

/// What an allowed activate or rollback does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivationPlan {
    /// The target is already active: nothing changes and no history is written.
    AlreadyActive,
    /// The target becomes active; `replaced` (if any) becomes archived.
    Switch { replaced: Option<ReleaseId> },
}

/// Decides an activate or rollback of `target` while `active` is the live release.
pub fn plan_activation(
    action: ActivationAction,
    target: &ReleaseFacts,
    active: Option<&ReleaseFacts>,
) -> Result<ActivationPlan, Refusal> {
    if target.status == ReleaseStatus::Draft {
        return Err(Refusal::AwaitingApproval);
    }
    match action {
        ActivationAction::Activate => {
            if target.status == ReleaseStatus::Active {
                return Ok(ActivationPlan::AlreadyActive);
            }
        }
        ActivationAction::Rollback => {
            let Some(active) = active else {
                return Err(Refusal::NoActiveRelease);
            };
            if target.release_number >= active.release_number {
                return Err(Refusal::NotOlderThanActive);
            }
            if !target.was_ever_active {
                return Err(Refusal::NeverActive);
            }
        }
    }
    Ok(ActivationPlan::Switch {
        replaced: active.map(|release| release.release_id.clone()),
    })
}

/// What an allowed archive does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchivePlan {
    AlreadyArchived,
    Archive,
}

pub fn plan_archive(target: &ReleaseFacts) -> Result<ArchivePlan, Refusal> {
    match target.status {
        ReleaseStatus::Active => Err(Refusal::ReleaseIsActive),
        ReleaseStatus::Archived => Ok(ArchivePlan::AlreadyArchived),
        ReleaseStatus::Ready | ReleaseStatus::Draft => Ok(ArchivePlan::Archive),
    }
}

pub fn check_delete(target: &ReleaseFacts) -> Result<(), Refusal> {
    if target.status == ReleaseStatus::Active {
        Err(Refusal::ReleaseIsActive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(number: i64, status: ReleaseStatus, was_ever_active: bool) -> ReleaseFacts {
        ReleaseFacts {
            release_id: ReleaseId::generate(),
            release_number: number,
            status,
            was_ever_active,
        }
    }

    #[test]
    fn activate_switches_from_ready_or_archived_and_replaces_the_active() {
        let active = facts(2, ReleaseStatus::Active, true);
        for status in [ReleaseStatus::Ready, ReleaseStatus::Archived] {
            let target = facts(3, status, false);
            assert_eq!(
                plan_activation(ActivationAction::Activate, &target, Some(&active)),
                Ok(ActivationPlan::Switch {
                    replaced: Some(active.release_id.clone())
                })
            );
        }
        let first = facts(1, ReleaseStatus::Ready, false);
        assert_eq!(
            plan_activation(ActivationAction::Activate, &first, None),
            Ok(ActivationPlan::Switch { replaced: None })
        );
    }

    #[test]
    fn activating_the_active_release_changes_nothing() {
        let active = facts(2, ReleaseStatus::Active, true);
        assert_eq!(
            plan_activation(ActivationAction::Activate, &active, Some(&active)),
            Ok(ActivationPlan::AlreadyActive)
        );
    }

    #[test]
    fn rollback_needs_an_older_previously_active_target() {
        let active = facts(5, ReleaseStatus::Active, true);
        let old_active = facts(3, ReleaseStatus::Archived, true);
        let never = facts(4, ReleaseStatus::Ready, false);
        let newer = facts(6, ReleaseStatus::Archived, true);
        let rollback = ActivationAction::Rollback;
        assert!(matches!(
            plan_activation(rollback, &old_active, Some(&active)),
            Ok(ActivationPlan::Switch { .. })
        ));
        assert_eq!(
            plan_activation(rollback, &never, Some(&active)),
            Err(Refusal::NeverActive)
        );
        assert_eq!(
            plan_activation(rollback, &newer, Some(&active)),
            Err(Refusal::NotOlderThanActive)
        );
        assert_eq!(
            plan_activation(rollback, &active, Some(&active)),
            Err(Refusal::NotOlderThanActive)
        );
        assert_eq!(
            plan_activation(rollback, &old_active, None),
            Err(Refusal::NoActiveRelease)
        );
    }

    #[test]
    fn drafts_cannot_go_live() {
        let draft = facts(1, ReleaseStatus::Draft, false);
        assert_eq!(
            plan_activation(ActivationAction::Activate, &draft, None),
            Err(Refusal::AwaitingApproval)
        );
    }

    #[test]
    fn archive_and_delete_refuse_the_active_release() {
        let active = facts(1, ReleaseStatus::Active, true);
        assert_eq!(plan_archive(&active), Err(Refusal::ReleaseIsActive));
        assert_eq!(check_delete(&active), Err(Refusal::ReleaseIsActive));
        let archived = facts(1, ReleaseStatus::Archived, true);
        assert_eq!(plan_archive(&archived), Ok(ArchivePlan::AlreadyArchived));
        assert_eq!(
            plan_archive(&facts(1, ReleaseStatus::Ready, false)),
            Ok(ArchivePlan::Archive)
        );
        assert_eq!(check_delete(&archived), Ok(()));
    }
}
