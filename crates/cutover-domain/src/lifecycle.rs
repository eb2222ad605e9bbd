//! The release lifecycle: the one place that decides whether activate, rollback,
//! archive or delete may happen, and what it changes. Stores load the facts, ask here,
//! and apply the answer inside their transaction. Activate and rollback act on the
//! workspace's default environment; the facts are the release as that environment
//! sees it ([`ReleaseFacts::in_environment`]). Deploying to any environment is
//! `deployment`'s.

use crate::conflict::Conflict;
use crate::ids::ReleaseId;
use crate::model::{ActivationAction, ReleaseStatus};

/// The facts about one release that lifecycle decisions depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    pub release_id: ReleaseId,
    pub release_number: i64,
    pub status: ReleaseStatus,
    /// Whether the release was ever active (deployed in the environment) before.
    pub was_ever_active: bool,
}

impl ReleaseFacts {
    /// A stored release as one environment sees it: `active` when it is deployed
    /// there (whatever it is elsewhere), a draft stays a draft, and otherwise it is
    /// not live there (`ready`); `was_deployed_here` says whether the environment had
    /// it before.
    pub fn in_environment(
        summary: &crate::model::ReleaseSummary,
        deployed_here: bool,
        was_deployed_here: bool,
    ) -> Self {
        let status = match (deployed_here, summary.status) {
            (true, _) => ReleaseStatus::Active,
            (false, ReleaseStatus::Draft) => ReleaseStatus::Draft,
            (false, _) => ReleaseStatus::Ready,
        };
        Self {
            release_id: summary.release_id.clone(),
            release_number: summary.release_number,
            status,
            was_ever_active: was_deployed_here || deployed_here,
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
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "release_awaiting_approval",
            Self::NoActiveRelease => "no_active_release",
            Self::NeverActive => "release_never_active",
            Self::NotOlderThanActive => "release_not_older_than_active",
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

/// Decides an archive of a release with `status`, deployed in the environments
/// `deployed_in` (slugs; empty when nowhere).
pub fn plan_archive(
    status: ReleaseStatus,
    deployed_in: Vec<String>,
) -> Result<ArchivePlan, Conflict> {
    check_delete(deployed_in)?;
    Ok(match status {
        ReleaseStatus::Archived => ArchivePlan::AlreadyArchived,
        ReleaseStatus::Active | ReleaseStatus::Ready | ReleaseStatus::Draft => ArchivePlan::Archive,
    })
}

/// A release may be deleted unless it is deployed somewhere (`deployed_in`, slugs).
pub fn check_delete(deployed_in: Vec<String>) -> Result<(), Conflict> {
    if deployed_in.is_empty() {
        Ok(())
    } else {
        Err(Conflict::ReleaseIsDeployed {
            environments: deployed_in,
        })
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
    fn archive_and_delete_refuse_a_release_deployed_anywhere() {
        let deployed = || vec!["staging".to_owned()];
        let refused = Err(Conflict::ReleaseIsDeployed {
            environments: deployed(),
        });
        assert_eq!(plan_archive(ReleaseStatus::Active, deployed()), refused);
        assert_eq!(
            check_delete(deployed()).map(|()| ArchivePlan::Archive),
            refused
        );
        assert_eq!(
            plan_archive(ReleaseStatus::Archived, Vec::new()),
            Ok(ArchivePlan::AlreadyArchived)
        );
        assert_eq!(
            plan_archive(ReleaseStatus::Ready, Vec::new()),
            Ok(ArchivePlan::Archive)
        );
        assert_eq!(check_delete(Vec::new()), Ok(()));
    }

    #[test]
    fn an_environment_sees_a_release_as_live_only_when_it_has_it() {
        use crate::model::ReleaseSummary;
        use crate::values::ReleaseTag;
        use crate::{AppId, OrgId, Timestamp, WorkspaceId};
        let summary = |status| ReleaseSummary {
            release_id: ReleaseId::generate(),
            app_id: AppId::generate(),
            workspace_id: WorkspaceId::generate(),
            org_id: OrgId::generate(),
            release_tag: ReleaseTag::from_trusted("v1".into()),
            release_number: 1,
            status,
            description: None,
            endpoint_count: 0,
            augmentation_count: 0,
            content_hash: String::new(),
            activated_at: None,
            activated_by: None,
            created_at: Timestamp::from_micros(1),
            created_by: "alice".into(),
        };
        let in_staging = summary(ReleaseStatus::Active);
        let here = ReleaseFacts::in_environment(&in_staging, false, false);
        assert_eq!(here.status, ReleaseStatus::Ready);
        assert!(!here.was_ever_active);
        let live = ReleaseFacts::in_environment(&in_staging, true, false);
        assert_eq!(live.status, ReleaseStatus::Active);
        assert!(live.was_ever_active);
        let draft = ReleaseFacts::in_environment(&summary(ReleaseStatus::Draft), false, false);
        assert_eq!(draft.status, ReleaseStatus::Draft);
    }
}
