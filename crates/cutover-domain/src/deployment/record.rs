//! What a deployment is and what asks for one: the append-only record, the deploy and
//! rollback requests, the environment as a deployment sees it, and who may deploy
//! where. The decisions about them are in the parent module.

use serde::{Deserialize, Serialize};

use crate::environment::{Environment, EnvironmentRef};
use crate::ids::{AppId, DeploymentId, EnvironmentId, ReleaseId};
use crate::model::{Activation, ActivationAction, ReleaseSummary};
use crate::permission::{Grants, Permission};
use crate::precondition::Precondition;
use crate::timestamp::Timestamp;
use crate::values::ReleaseTag;

use super::DeploymentAction;

/// The most characters a deployment's `reason` may hold.
pub const MAX_REASON_CHARS: usize = 1000;

/// What a body field that names no environment of the workspace is told (422).
pub const NOT_AN_ENVIRONMENT: &str = "must name an environment of this workspace";
/// What a body field that names no release of the app is told (422).
pub const NOT_A_RELEASE: &str = "must name a release of this app";

/// One deploy, promote or rollback of one environment of an app. Records are
/// append-only: written once, never changed, kept when the release is deleted (so
/// the release's tag and number are copied in) and when the environment is (so are
/// its slug and name, as they were at the time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub deployment_id: DeploymentId,
    pub app_id: AppId,
    pub environment_id: EnvironmentId,
    pub environment_slug: String,
    pub environment_name: String,
    pub release_id: ReleaseId,
    /// Null only on a record carried over from the activation history of an earlier
    /// version whose release had been deleted before the upgrade.
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<String>))]
    pub release_tag: Option<ReleaseTag>,
    /// Null only where `release_tag` is.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub release_number: Option<i64>,
    pub action: DeploymentAction,
    /// What the environment had before (null when it had nothing).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub previous_release_id: Option<ReleaseId>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<String>,
    pub deployed_by: String,
    pub deployed_at: Timestamp,
}

impl Deployment {
    /// The record of `release` going into `environment` in place of `previous`.
    pub fn new(
        environment: &DeployTarget,
        release: &ReleaseSummary,
        action: DeploymentAction,
        previous: Option<ReleaseId>,
        reason: Option<String>,
        actor: &str,
        at: Timestamp,
    ) -> Self {
        Self {
            deployment_id: DeploymentId::generate(),
            app_id: release.app_id.clone(),
            environment_id: environment.environment_id.clone(),
            environment_slug: environment.slug.clone(),
            environment_name: environment.name.clone(),
            release_id: release.release_id.clone(),
            release_tag: Some(release.release_tag.clone()),
            release_number: Some(release.release_number),
            action,
            previous_release_id: previous,
            reason,
            deployed_by: actor.to_owned(),
            deployed_at: at,
        }
    }

    /// The record an activation of an earlier version's history becomes: a record of
    /// the default environment, `environment`, with the same actor, time and release
    /// (`release`: its tag and number, `None` when it had been deleted since).
    pub fn carried_over(
        app_id: &AppId,
        environment: &DeployTarget,
        activation: &Activation,
        release: Option<(ReleaseTag, i64)>,
    ) -> Self {
        let (release_tag, release_number) = release.unzip();
        Self {
            deployment_id: DeploymentId::generate(),
            app_id: app_id.clone(),
            environment_id: environment.environment_id.clone(),
            environment_slug: environment.slug.clone(),
            environment_name: environment.name.clone(),
            release_id: activation.release_id.clone(),
            release_tag,
            release_number,
            action: DeploymentAction::of_activation(activation.action),
            previous_release_id: activation.replaced_release_id.clone(),
            reason: activation.reason.clone(),
            deployed_by: activation.actor.clone(),
            deployed_at: activation.at,
        }
    }

    /// The record of a release an earlier version left active without an activation
    /// in its history: deployed to `environment` when and by whom it was last
    /// activated (when and by whom it was cut, if it never was).
    pub fn carried_over_live(environment: &DeployTarget, release: &ReleaseSummary) -> Self {
        let activation = Activation {
            sequence: 0,
            release_id: release.release_id.clone(),
            replaced_release_id: None,
            action: ActivationAction::Activate,
            actor: release
                .activated_by
                .clone()
                .unwrap_or_else(|| release.created_by.clone()),
            at: release.activated_at.unwrap_or(release.created_at),
            reason: None,
        };
        Self::carried_over(
            &release.app_id,
            environment,
            &activation,
            Some((release.release_tag.clone(), release.release_number)),
        )
    }

    /// The record as the default environment's activation history shows it: a
    /// deploy or promote is an `activate`, a rollback a `rollback`.
    pub fn activation_action(action: DeploymentAction) -> ActivationAction {
        match action {
            DeploymentAction::Deploy | DeploymentAction::Promote => ActivationAction::Activate,
            DeploymentAction::Rollback => ActivationAction::Rollback,
        }
    }
}

/// An environment as a deployment needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTarget {
    pub environment_id: EnvironmentId,
    pub slug: String,
    pub name: String,
    pub protected: bool,
}

impl DeployTarget {
    pub fn of(environment: &Environment) -> Self {
        Self {
            environment_id: environment.environment_id.clone(),
            slug: environment.slug.clone(),
            name: environment.name.clone(),
            protected: environment.protected,
        }
    }
}

/// Where the release of a deploy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploySource {
    /// This release (`action: deploy`).
    Release(ReleaseId),
    /// Whatever that environment has (`action: promote`).
    Environment(EnvironmentRef),
}

/// `POST …/deployments`: put a release in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRequest {
    pub environment: EnvironmentRef,
    pub source: DeploySource,
    pub reason: Option<String>,
    /// What `environment` must have for the deploy to go ahead.
    pub precondition: Precondition,
}

/// `POST …/environments/{environment}/rollback`: take an environment back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackRequest {
    pub environment: EnvironmentRef,
    /// The release to go back to; without it, the one before the current.
    pub release_id: Option<ReleaseId>,
    pub reason: Option<String>,
    /// What the environment must have for the rollback to go ahead.
    pub precondition: Precondition,
}

/// `POST …/releases/{release_id}/activate` or `…/rollback`: a deploy to the
/// workspace's default environment, as the seed API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRequest {
    pub action: ActivationAction,
    pub reason: Option<String>,
    /// What the default environment must have for the switch to go ahead.
    pub precondition: Precondition,
}

impl ActivationRequest {
    /// `action` with no reason and no condition.
    pub fn of(action: ActivationAction) -> Self {
        Self {
            action,
            reason: None,
            precondition: Precondition::none(),
        }
    }
}

/// How a release goes into an environment, once the release is known: the record's
/// action and reason, and what the environment must have for it to go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTerms {
    pub action: DeploymentAction,
    pub reason: Option<String>,
    pub precondition: Precondition,
}

impl DeployTerms {
    /// A deploy with no reason and no condition (a release cut with `activate`).
    pub fn unconditional(action: DeploymentAction) -> Self {
        Self {
            action,
            reason: None,
            precondition: Precondition::none(),
        }
    }
}

/// What a deploy did: the record it wrote, or (when the environment already had the
/// release) the record that put it there.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployOutcome {
    pub deployment: Deployment,
    pub changed: bool,
}

/// Which environments a caller may change: every one, or only the unprotected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployAuthority {
    /// The caller holds `releases:activate`.
    AnyEnvironment,
    /// The caller holds `releases:deploy` only.
    UnprotectedOnly,
}

/// A deployment the caller may not make; the 403 names `needed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAllowed {
    pub needed: Permission,
    pub slug: String,
}

impl NotAllowed {
    pub fn message(&self) -> String {
        format!(
            "'{}' is a protected environment: changing what is deployed there needs {}",
            self.slug, self.needed
        )
    }
}

impl DeployAuthority {
    /// What `grants` allow (the operation itself already needed `releases:deploy`).
    pub fn of(grants: &Grants) -> Self {
        if grants.allows(Permission::ReleasesActivate) {
            Self::AnyEnvironment
        } else {
            Self::UnprotectedOnly
        }
    }

    /// Whether this caller may change what `environment` has.
    pub fn check(self, environment: &DeployTarget) -> Result<(), NotAllowed> {
        match (self, environment.protected) {
            (Self::UnprotectedOnly, true) => Err(NotAllowed {
                needed: Permission::ReleasesActivate,
                slug: environment.slug.clone(),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(protected: bool) -> DeployTarget {
        DeployTarget {
            environment_id: EnvironmentId::generate(),
            slug: "production".into(),
            name: "Production".into(),
            protected,
        }
    }

    #[test]
    fn a_protected_environment_needs_releases_activate() {
        let deployer = DeployAuthority::of(&Grants::from_words(&["releases:deploy"]));
        let activator = DeployAuthority::of(&Grants::from_words(&["releases:activate"]));
        assert_eq!(deployer.check(&target(false)), Ok(()));
        let refused = deployer.check(&target(true)).expect_err("protected");
        assert_eq!(refused.needed, Permission::ReleasesActivate);
        assert!(refused.message().contains("releases:activate"));
        assert_eq!(activator.check(&target(true)), Ok(()));
    }

    #[test]
    fn only_a_rollback_reads_as_a_rollback_in_the_activation_history() {
        assert_eq!(
            Deployment::activation_action(DeploymentAction::Promote),
            ActivationAction::Activate
        );
        assert_eq!(
            Deployment::activation_action(DeploymentAction::Deploy),
            ActivationAction::Activate
        );
        assert_eq!(
            Deployment::activation_action(DeploymentAction::Rollback),
            ActivationAction::Rollback
        );
    }
}
