//! Deployments: which release of an app is deployed in an environment, and the
//! append-only record of every deploy, promote and rollback. The rules that decide
//! what a deploy or a per-environment rollback does live here, beside the release
//! lifecycle (`lifecycle`); backends read the facts, ask here, and write the outcome.
//! The records and requests themselves are in [`record`].

mod record;

pub use record::{
    ActivationRequest, DeployAuthority, DeployOutcome, DeployRequest, DeploySource, DeployTarget,
    DeployTerms, Deployment, MAX_REASON_CHARS, NOT_A_RELEASE, NOT_AN_ENVIRONMENT, NotAllowed,
    RollbackRequest,
};

use serde::{Deserialize, Serialize};

use crate::ids::ReleaseId;
use crate::lifecycle::Refusal;
use crate::model::{ActivationAction, ReleaseStatus, UnknownStoredValue};

/// How a deployment record came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeploymentAction {
    /// A release named by its id was deployed.
    Deploy,
    /// What another environment had was deployed.
    Promote,
    /// The environment went back to a release it had before.
    Rollback,
}

impl DeploymentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Promote => "promote",
            Self::Rollback => "rollback",
        }
    }

    /// The record a seed activate or rollback (of the default environment) writes.
    pub fn of_activation(action: ActivationAction) -> Self {
        match action {
            ActivationAction::Activate => Self::Deploy,
            ActivationAction::Rollback => Self::Rollback,
        }
    }

    /// The action a stored row holds; a value this server never writes is an error.
    pub fn from_stored(text: &str) -> Result<Self, UnknownStoredValue> {
        match text {
            "deploy" => Ok(Self::Deploy),
            "promote" => Ok(Self::Promote),
            "rollback" => Ok(Self::Rollback),
            _ => Err(UnknownStoredValue::new("deployment action", text)),
        }
    }
}

/// What deploying a release to an environment does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployPlan {
    /// The environment has that release already: nothing changes, nothing is recorded.
    AlreadyDeployed,
    /// The release is deployed in place of `previous` (none when the environment had
    /// nothing), and a record is appended.
    Switch { previous: Option<ReleaseId> },
}

/// Decides a deploy (or promote) of `target`, whose status is `status`, to an
/// environment that has `current`. A release awaiting approval cannot go live.
pub fn plan_deploy(
    target: &ReleaseId,
    status: ReleaseStatus,
    current: Option<&ReleaseId>,
) -> Result<DeployPlan, Refusal> {
    if status == ReleaseStatus::Draft {
        return Err(Refusal::AwaitingApproval);
    }
    Ok(match current {
        Some(current) if current == target => DeployPlan::AlreadyDeployed,
        _ => DeployPlan::Switch {
            previous: current.cloned(),
        },
    })
}

/// A release as a rollback of one environment sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedRelease {
    pub release_id: ReleaseId,
    pub release_number: i64,
}

/// Why a rollback of an environment was refused; `code` is the 409's `details.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackRefusal {
    /// Nothing is deployed in the environment.
    NoDeployment,
    /// No release the environment had before, older than its current one, still exists.
    NothingToRollBackTo,
    /// The release asked for was never deployed in this environment (or was deleted).
    NotPreviouslyDeployed,
    /// The release asked for is not older than the environment's current one.
    NotOlderThanCurrent,
}

impl RollbackRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::NoDeployment => "no_deployment",
            Self::NothingToRollBackTo => "nothing_to_roll_back_to",
            Self::NotPreviouslyDeployed => "not_previously_deployed",
            Self::NotOlderThanCurrent => "not_older_than_current",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::NoDeployment => "Nothing is deployed in this environment to roll back from",
            Self::NothingToRollBackTo => {
                "This environment had no earlier release, older than its current one, that still exists"
            }
            Self::NotPreviouslyDeployed => {
                "Only a release that was deployed in this environment before can be rolled back to"
            }
            Self::NotOlderThanCurrent => {
                "Rollback targets a release older than the environment's current one; deploy to \
                 move forward"
            }
        }
    }
}

/// Decides a rollback of one environment. `current` is what it has now; `history`
/// the releases it had before, newest deployment first, that still exist (a deleted
/// release is skipped, as if never there); `wanted` the release asked for, if any.
///
/// Without `wanted`, the environment goes back to the newest release in its history
/// that is older (lower numbered) than its current one. So rolling back twice walks
/// back twice (v3 → v2 → v1) instead of returning to where the first rollback left;
/// that is also the rule for `wanted`, which must be in the history and older.
pub fn plan_rollback(
    current: Option<&DeployedRelease>,
    history: &[DeployedRelease],
    wanted: Option<&ReleaseId>,
) -> Result<ReleaseId, RollbackRefusal> {
    let current = current.ok_or(RollbackRefusal::NoDeployment)?;
    let older = |release: &&DeployedRelease| release.release_number < current.release_number;
    match wanted {
        None => history
            .iter()
            .find(older)
            .map(|release| release.release_id.clone())
            .ok_or(RollbackRefusal::NothingToRollBackTo),
        Some(wanted) => {
            if wanted == &current.release_id {
                return Err(RollbackRefusal::NotOlderThanCurrent);
            }
            let before = history
                .iter()
                .find(|release| &release.release_id == wanted)
                .ok_or(RollbackRefusal::NotPreviouslyDeployed)?;
            if older(&before) {
                Ok(before.release_id.clone())
            } else {
                Err(RollbackRefusal::NotOlderThanCurrent)
            }
        }
    }
}

/// A release's status once its deployments changed: `active` while it is deployed
/// in at least one environment, `archived` once it has left its last one (it was
/// deployed, so it is no longer `ready`), and otherwise what it was.
pub fn status_after(status: ReleaseStatus, deployed_anywhere: bool) -> ReleaseStatus {
    match (status, deployed_anywhere) {
        (_, true) => ReleaseStatus::Active,
        (ReleaseStatus::Active, false) => ReleaseStatus::Archived,
        (other, false) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(number: i64) -> DeployedRelease {
        DeployedRelease {
            release_id: ReleaseId::generate(),
            release_number: number,
        }
    }

    #[test]
    fn deploying_what_is_there_changes_nothing() {
        let (one, two) = (ReleaseId::generate(), ReleaseId::generate());
        let ready = ReleaseStatus::Ready;
        assert_eq!(
            plan_deploy(&one, ReleaseStatus::Active, Some(&one)),
            Ok(DeployPlan::AlreadyDeployed)
        );
        assert_eq!(
            plan_deploy(&two, ready, None),
            Ok(DeployPlan::Switch { previous: None })
        );
        assert_eq!(
            plan_deploy(&two, ReleaseStatus::Archived, Some(&one)),
            Ok(DeployPlan::Switch {
                previous: Some(one)
            })
        );
        assert_eq!(
            plan_deploy(&two, ReleaseStatus::Draft, None),
            Err(Refusal::AwaitingApproval)
        );
    }

    #[test]
    fn a_rollback_without_a_target_walks_back_past_newer_and_deleted_releases() {
        let (v1, v2, v3) = (release(1), release(2), release(3));
        // v1 → v2 → v3 → rollback to v2: history newest first is v3, v2, v1.
        let history = [v3.clone(), v2.clone(), v1.clone()];
        assert_eq!(
            plan_rollback(Some(&v2), &history, None),
            Ok(v1.release_id.clone())
        );
        assert_eq!(
            plan_rollback(Some(&v3), &history, None),
            Ok(v2.release_id.clone())
        );
        // v2 deleted since: it is not in the history the store reads.
        assert_eq!(
            plan_rollback(Some(&v3), std::slice::from_ref(&v1), None),
            Ok(v1.release_id.clone())
        );
        assert_eq!(
            plan_rollback(Some(&v1), &history, None),
            Err(RollbackRefusal::NothingToRollBackTo)
        );
        assert_eq!(
            plan_rollback(None, &history, None),
            Err(RollbackRefusal::NoDeployment)
        );
    }

    #[test]
    fn a_rollback_to_a_named_release_needs_one_the_environment_had_and_older() {
        let (v1, v2, v3, elsewhere) = (release(1), release(2), release(3), release(4));
        let history = [v2.clone(), v1.clone()];
        assert_eq!(
            plan_rollback(Some(&v3), &history, Some(&v1.release_id)),
            Ok(v1.release_id.clone())
        );
        assert_eq!(
            plan_rollback(Some(&v3), &history, Some(&elsewhere.release_id)),
            Err(RollbackRefusal::NotPreviouslyDeployed)
        );
        assert_eq!(
            plan_rollback(Some(&v1), std::slice::from_ref(&v2), Some(&v2.release_id)),
            Err(RollbackRefusal::NotOlderThanCurrent)
        );
        assert_eq!(
            plan_rollback(Some(&v3), &history, Some(&v3.release_id)),
            Err(RollbackRefusal::NotOlderThanCurrent)
        );
    }

    #[test]
    fn status_follows_where_a_release_is_deployed() {
        use ReleaseStatus::*;
        assert_eq!(status_after(Ready, true), Active);
        assert_eq!(status_after(Archived, true), Active);
        assert_eq!(status_after(Active, true), Active);
        assert_eq!(status_after(Active, false), Archived);
        assert_eq!(status_after(Ready, false), Ready);
        assert_eq!(status_after(Archived, false), Archived);
    }

    #[test]
    fn stored_actions_read_back_and_an_unknown_one_is_an_error() {
        for action in [
            DeploymentAction::Deploy,
            DeploymentAction::Promote,
            DeploymentAction::Rollback,
        ] {
            assert_eq!(DeploymentAction::from_stored(action.as_str()), Ok(action));
        }
        assert!(DeploymentAction::from_stored("activate").is_err());
    }

    #[test]
    fn refusals_have_the_documented_codes() {
        let codes: Vec<_> = [
            RollbackRefusal::NoDeployment,
            RollbackRefusal::NothingToRollBackTo,
            RollbackRefusal::NotPreviouslyDeployed,
            RollbackRefusal::NotOlderThanCurrent,
        ]
        .iter()
        .map(|refusal| refusal.code())
        .collect();
        assert_eq!(
            codes,
            [
                "no_deployment",
                "nothing_to_roll_back_to",
                "not_previously_deployed",
                "not_older_than_current"
            ]
        );
    }
}
