//! Rehearsals: a release or deployment write run for real inside its transaction,
//! looked at, and undone, so a dry run says exactly what the real call would do (it
//! is the same code). [`Rehearsal`] names the write; [`Rehearsed`] is what each store
//! reports back: the outcome (or the refusal), the touched releases as they were and
//! as they would be, the deployment records it would add, and the environment's
//! recent history for warnings.

use cutover_domain::ReleaseId;
use cutover_domain::deployment::{
    ActivationRequest, DeployAuthority, DeployOutcome, DeployRequest, Deployment, RollbackRequest,
};
use cutover_domain::draft::NewRelease;
use cutover_domain::dry_run::ReleaseState;
use cutover_domain::model::ReleaseSummary;

use crate::{ActivationOutcome, ReleaseDocument, StoreResult};

/// A write to rehearse, with the arguments its real call takes.
#[derive(Debug, Clone)]
pub enum Rehearsal {
    CreateRelease(NewRelease),
    Activate {
        release_id: ReleaseId,
        request: ActivationRequest,
    },
    Deploy {
        request: DeployRequest,
        authority: DeployAuthority,
    },
    RollbackEnvironment {
        request: RollbackRequest,
        authority: DeployAuthority,
    },
    Archive {
        release_id: ReleaseId,
        reason: Option<String>,
    },
    Delete {
        release_id: ReleaseId,
        reason: Option<String>,
    },
}

/// What the rehearsed write answered, as its real call would have.
#[derive(Debug, Clone)]
pub enum RehearsedChange {
    Created(ReleaseDocument),
    Activated(ActivationOutcome),
    Deployed(DeployOutcome),
    RolledBack(Deployment),
    Archived(ReleaseSummary),
    Deleted(ReleaseId),
}

impl RehearsedChange {
    /// The release the write acts on.
    pub fn release_id(&self) -> &ReleaseId {
        match self {
            Self::Created(document) => &document.summary.release_id,
            Self::Activated(outcome) => &outcome.release.release_id,
            Self::Deployed(outcome) => &outcome.deployment.release_id,
            Self::RolledBack(record) => &record.release_id,
            Self::Archived(summary) => &summary.release_id,
            Self::Deleted(id) => id,
        }
    }

    /// Every release whose status the write may change: the one it acts on, and each
    /// release its records put in or take out of an environment. A status changes
    /// only there (`deployment::status_after` is applied to nothing else).
    pub fn touched(&self, records: &[Deployment]) -> Vec<ReleaseId> {
        let mut ids = vec![self.release_id().clone()];
        for record in records {
            ids.push(record.release_id.clone());
            ids.extend(record.previous_release_id.clone());
        }
        ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        ids
    }
}

/// What a store saw while rehearsing.
#[derive(Debug)]
pub struct Rehearsed {
    /// The real call's answer, or its error (the server makes a 403, 409 or 412 a dry
    /// run's blocker, and answers anything else as the real call would).
    pub outcome: StoreResult<RehearsedChange>,
    /// The touched releases as they are (empty when the write was refused).
    pub before: Vec<ReleaseState>,
    /// The touched releases as the write would leave them (a deleted one is absent).
    pub after: Vec<ReleaseState>,
    /// The deployment records the write would add, in order (their ids are the
    /// rehearsal's; the real call's will differ).
    pub records: Vec<Deployment>,
    /// The latest records of the environment the last of `records` goes to, newest
    /// first, as they are (at most `dry_run::HISTORY_LOOKBACK`).
    pub history: Vec<Deployment>,
}

impl Rehearsed {
    /// A refused write: nothing touched.
    pub fn refused(error: crate::StoreError) -> Self {
        Self {
            outcome: Err(error),
            before: Vec::new(),
            after: Vec::new(),
            records: Vec::new(),
            history: Vec::new(),
        }
    }
}
