//! The storage contract: every use case the service needs, by capability
//! ([`TokenStore`], [`TenancyStore`], [`EnvironmentStore`], [`AppStore`], [`DraftStore`],
//! [`ReleaseStore`], [`DeploymentStore`], [`TimelineStore`], [`IdempotencyStore`]),
//! and [`Store`], which is all of them; an implementation performs each method as one
//! transaction. Implementations live in their own crates (`cutover-store-sqlite`,
//! `cutover-store-postgres`) and are chosen at start by the database URL; nothing above
//! these traits knows which one runs.
//!
//! Reads borrow their arguments. The writes a cache above the store must fence (those
//! that change a token lookup or what a release read answers: a revocation, deleting an
//! app, and every release and deployment write) take theirs by value: the fence runs the write as a
//! task of its own, and the arguments move there, and on to a writer thread, without a
//! copy.

#[cfg(feature = "testing")]
pub mod conformance;
pub mod cut;
pub mod digests;
mod document;
mod error;
pub mod idempotency;
mod page;
mod prepared;
pub mod rehearsal;
mod stored_app;
mod stored_token;
pub mod timeline;

use async_trait::async_trait;
use cutover_domain::deployment::{
    ActivationRequest, DeployAuthority, DeployOutcome, DeployRequest, Deployment, RollbackRequest,
};
use cutover_domain::draft::{
    AppPatch, AugmentationPatch, EndpointPatch, NewApp, NewAugmentation, NewEndpoint, NewOrg,
    NewRelease, NewWorkspace,
};
use cutover_domain::environment::{
    BoardEntry, Environment, EnvironmentPatch, EnvironmentRef, NewEnvironment,
};
use cutover_domain::model::{
    Activation, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::precondition::IfMatch;
use cutover_domain::token::{NewToken, Token};
use cutover_domain::{
    AugmentationId, DeploymentId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId,
};

pub use document::{ReleaseDocument, StoredContent, content_text};
pub use error::{Cause, StoreError, StoreResult, one_line_chain};
pub use idempotency::IdempotencyStore;
pub use page::{Page, PageRequest, ReleasePage, ReleaseQuery};
pub use prepared::{Prepared, decode_stored};
pub use stored_app::StoredApp;
pub use stored_token::StoredToken;

/// Every capability trait, for code that calls store methods: `use cutover_store::prelude::*`.
pub mod prelude {
    pub use crate::{
        AppStore, DeploymentStore, DraftStore, EnvironmentStore, IdempotencyStore, ReleaseStore,
        Store, TenancyStore, TimelineStore, TokenStore,
    };
}

/// A workspace addressed through its org, as in `/orgs/{org}/workspaces/{ws}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceScope {
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
}

/// An app addressed through its parents. A store answers `NotFound` when the app is
/// not under exactly these parents, so nothing is reachable through a wrong path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppScope {
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub app_id: cutover_domain::AppId,
}

impl AppScope {
    /// The workspace the app is in, addressed through its org.
    pub fn workspace(&self) -> WorkspaceScope {
        WorkspaceScope {
            org_id: self.org_id.clone(),
            workspace_id: self.workspace_id.clone(),
        }
    }
}

/// A token to be stored: what it may do, and the digest of its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenToStore {
    pub token_id: TokenId,
    pub org_id: Option<OrgId>,
    pub spec: NewToken,
    pub prefix: String,
    pub secret_digest: String,
    pub created_by: String,
}

/// What registering the configured bootstrap secret found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    pub state: BootstrapState,
    /// Earlier bootstrap tokens revoked by this registration.
    pub retired: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootstrapState {
    /// The secret was new and is now a platform admin token.
    Registered,
    /// A live token with this secret already existed.
    AlreadyKnown,
    /// The token with this secret was revoked; it stays revoked.
    Revoked,
}

impl BootstrapState {
    /// What registering the configured secret does, given the token that already
    /// has it (revoked or not): a revoked one stays revoked and nothing changes
    /// ([`Bootstrap::stays_revoked`]); a live one is kept; none: the secret is
    /// registered. In the last two cases earlier bootstrap tokens are then retired.
    pub fn given(known: Option<&Token>) -> Self {
        match known {
            Some(token) if token.revoked_at.is_some() => Self::Revoked,
            Some(_) => Self::AlreadyKnown,
            None => Self::Registered,
        }
    }
}

impl Bootstrap {
    /// The outcome when the configured secret's token was revoked: nothing changed.
    pub fn stays_revoked() -> Self {
        Self {
            state: BootstrapState::Revoked,
            retired: 0,
        }
    }
}

/// What an activate or rollback did.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationOutcome {
    pub release: ReleaseSummary,
    /// The release that was active before the call (the target itself when it was
    /// already active).
    pub previous_active_release_id: Option<ReleaseId>,
    /// False when the target was already active and nothing changed.
    pub changed: bool,
}

impl ActivationOutcome {
    /// The target was already active: nothing changed, and the release it "replaced"
    /// is itself.
    pub fn unchanged(target: ReleaseSummary) -> Self {
        Self {
            previous_active_release_id: Some(target.release_id.clone()),
            release: target,
            changed: false,
        }
    }

    /// `release` is active now, in place of `replaced` (none when no release was).
    pub fn switched(release: ReleaseSummary, replaced: Option<ReleaseId>) -> Self {
        Self {
            release,
            previous_active_release_id: replaced,
            changed: true,
        }
    }
}

/// The app's timeline: every draft write (a commit), release cut, archive and
/// delete, and deployment, in the order they were written. Events are append-only.
#[async_trait]
pub trait TimelineStore: Send + Sync {
    /// Events newest first, `page.limit` of them, older than `page.after`'s.
    async fn list_timeline(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<timeline::TimelinePage>;
}

/// Everything a backend provides: each capability, and what the service needs of the
/// database itself. Every method is one transaction.
#[async_trait]
pub trait Store:
    TokenStore
    + TenancyStore
    + EnvironmentStore
    + AppStore
    + DraftStore
    + ReleaseStore
    + DeploymentStore
    + TimelineStore
    + IdempotencyStore
    + Send
    + Sync
    + 'static
{
    /// Whether every write to the database goes through this store: true when the
    /// store holds the database exclusively (it refused to open one another process
    /// uses), false when other processes may write to it at the same time. A cache
    /// above the store may keep what it read until it sees a write only when true.
    fn sole_writer(&self) -> bool;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;

    /// A server-wide secret, created on first use and the same for every server
    /// process sharing the database (used to sign pagination cursors).
    async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>>;
}

/// API tokens: minting, the first and the bootstrap token, lookup by secret, revocation.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn count_tokens(&self) -> StoreResult<u64>;

    async fn create_token(&self, token: TokenToStore) -> StoreResult<Token>;

    /// Stores `token` only if no token exists at all, atomically (several servers
    /// starting together on an empty database make one first token, not several).
    /// Answers `None` when tokens already existed.
    async fn create_first_token(&self, token: TokenToStore) -> StoreResult<Option<Token>>;

    /// Registers the configured bootstrap secret as a platform admin token (unless a
    /// token with that secret exists) and revokes every other live bootstrap token
    /// (`BOOTSTRAP_TOKEN_NAME` by `BOOTSTRAP_ACTOR`, no org), atomically: servers
    /// starting together end with exactly one valid bootstrap token. A configured
    /// secret whose token was revoked stays revoked and changes nothing.
    async fn register_bootstrap_token(&self, token: TokenToStore) -> StoreResult<Bootstrap>;

    /// The token whose secret has this digest, revoked or not, expired or not.
    async fn find_token(&self, secret_digest: &str) -> StoreResult<Option<Token>>;

    /// A live (not revoked) token of the org, or a platform token when `org_id` is
    /// `None`.
    async fn get_token(&self, org_id: Option<&OrgId>, token_id: &TokenId) -> StoreResult<Token>;

    /// Live tokens of the org (platform tokens when `org_id` is `None`); with `within`,
    /// only tokens limited to a non-empty subset of those workspaces.
    async fn list_tokens(
        &self,
        org_id: Option<&OrgId>,
        within: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Token>>;

    /// Revokes a live token of the org (a platform token when `org_id` is `None`).
    async fn revoke_token(&self, org_id: Option<OrgId>, token_id: TokenId) -> StoreResult<()>;
}

/// Orgs and the workspaces in them.
#[async_trait]
pub trait TenancyStore: Send + Sync {
    async fn create_org(&self, org: NewOrg, actor: &str) -> StoreResult<Org>;

    async fn get_org(&self, org_id: &OrgId) -> StoreResult<Org>;

    /// Every org, or only `only` when the caller is bound to one org.
    async fn list_orgs(&self, only: Option<&OrgId>, page: PageRequest) -> StoreResult<Page<Org>>;

    async fn create_workspace(
        &self,
        org_id: &OrgId,
        workspace: NewWorkspace,
        actor: &str,
    ) -> StoreResult<Workspace>;

    async fn get_workspace(&self, scope: &WorkspaceScope) -> StoreResult<Workspace>;

    /// The org's workspaces, or only those in `only` for workspace-limited callers.
    async fn list_workspaces(
        &self,
        org_id: &OrgId,
        only: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>>;
}

/// The environments of a workspace. Every workspace has the three starting ones
/// (`environment::starting_environments`) from the transaction that creates it.
#[async_trait]
pub trait EnvironmentStore: Send + Sync {
    /// Adds an environment; when it is to be the default, it takes the flag from the
    /// previous default in the same transaction.
    async fn create_environment(
        &self,
        scope: &WorkspaceScope,
        environment: NewEnvironment,
        actor: &str,
    ) -> StoreResult<Environment>;

    async fn get_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Environment>;

    /// The workspace's environments in the order they were created (the starting
    /// three first).
    async fn list_environments(
        &self,
        scope: &WorkspaceScope,
        page: PageRequest,
    ) -> StoreResult<Page<Environment>>;

    /// Applies `patch` as `EnvironmentPatch::apply` allows; making the environment the
    /// default takes the flag from the previous default in the same transaction.
    async fn update_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
        patch: EnvironmentPatch,
    ) -> StoreResult<Environment>;

    /// The app's board: one entry per environment of its workspace, in the order the
    /// environments were created, with what of the app is deployed there
    /// (`BoardEntry::of`).
    async fn app_board(&self, scope: &AppScope, page: PageRequest)
    -> StoreResult<Page<BoardEntry>>;

    /// Removes the environment, as `environment::check_delete` allows.
    async fn delete_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<()>;
}

/// Apps: their settings, and deleting one with everything in it.
#[async_trait]
pub trait AppStore: Send + Sync {
    async fn create_app(
        &self,
        scope: &WorkspaceScope,
        app: NewApp,
        actor: &str,
    ) -> StoreResult<App>;

    async fn get_app(&self, scope: &AppScope) -> StoreResult<App>;

    async fn list_apps(&self, scope: &WorkspaceScope, page: PageRequest) -> StoreResult<Page<App>>;

    /// `if_match`, when given, must admit the app's current answer
    /// (`precondition::check_entity`), or nothing changes.
    async fn update_app(
        &self,
        scope: &AppScope,
        patch: AppPatch,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<App>;

    /// Removes the app with its draft, releases and history; refused while a release
    /// is deployed anywhere.
    async fn delete_app(&self, scope: AppScope, if_match: Option<&IfMatch>) -> StoreResult<()>;
}

/// An app's draft: the endpoints and augmentations a release will snapshot. An
/// update or delete given `if_match` goes ahead only if it admits the entity's
/// current answer (`precondition::check_entity`), checked in the write's transaction.
#[async_trait]
pub trait DraftStore: Send + Sync {
    async fn create_endpoint(
        &self,
        scope: &AppScope,
        endpoint: NewEndpoint,
        actor: &str,
    ) -> StoreResult<Endpoint>;

    async fn get_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<Endpoint>;

    async fn list_endpoints(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Endpoint>>;

    async fn update_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        patch: EndpointPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Endpoint>;

    /// Each write (create, update, delete) is a commit on the app's timeline, by
    /// `actor`, in the same transaction.
    async fn delete_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()>;

    async fn create_augmentation(
        &self,
        scope: &AppScope,
        augmentation: NewAugmentation,
        actor: &str,
    ) -> StoreResult<Augmentation>;

    async fn get_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
    ) -> StoreResult<Augmentation>;

    async fn list_augmentations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Augmentation>>;

    async fn update_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        patch: AugmentationPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Augmentation>;

    /// Refused while an endpoint uses the augmentation.
    async fn delete_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()>;
}

/// Releases and their lifecycle: cut, read, activate or roll back, archive, delete, and
/// the activation history. "Active" here is the workspace's default environment's: an
/// activate or rollback is a deployment there, and the history is its records.
#[async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Snapshots the draft into a new release (and deploys it where `release.deploy`
    /// says), atomically.
    async fn create_release(
        &self,
        scope: AppScope,
        release: NewRelease,
        actor: String,
    ) -> StoreResult<ReleaseDocument>;

    async fn list_releases(
        &self,
        scope: &AppScope,
        query: ReleaseQuery,
    ) -> StoreResult<ReleasePage>;

    async fn get_release(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<ReleaseDocument>;

    async fn get_active_release(&self, scope: &AppScope) -> StoreResult<Option<ReleaseDocument>>;

    /// Activates or rolls back to `id` in the default environment, as the lifecycle
    /// rules allow and when `request.precondition` holds there: a deployment record there,
    /// and the statuses of the release and of the one it replaced follow
    /// (`deployment::status_after`).
    async fn activate_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        request: ActivationRequest,
        actor: String,
    ) -> StoreResult<ActivationOutcome>;

    /// A cut, an archive and a delete are each an event on the app's timeline; an
    /// archive's or a delete's `reason` is kept on it.
    async fn archive_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<ReleaseSummary>;

    async fn delete_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<()>;

    /// The activation history (the default environment's deployment records), oldest
    /// first.
    async fn list_activations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>>;
}

/// Deployments: which release of an app each environment has, and the append-only
/// record of every change. Every write locks the app, so an environment's records
/// form one chain (each record's `previous_release_id` is the release of the one
/// before it) under any concurrency.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Deploys a release, or promotes what another environment has, as
    /// `deployment::plan_deploy` decides; `authority` says whether the caller may
    /// change a protected environment (`deployment::DeployAuthority::check`).
    async fn deploy(
        &self,
        scope: AppScope,
        request: DeployRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<DeployOutcome>;

    /// Takes an environment back to an earlier release, as `deployment::plan_rollback`
    /// decides.
    async fn rollback_environment(
        &self,
        scope: AppScope,
        request: RollbackRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<Deployment>;

    /// The app's records, newest first; only `environment`'s when named.
    async fn list_deployments(
        &self,
        scope: &AppScope,
        environment: Option<&EnvironmentRef>,
        page: PageRequest,
    ) -> StoreResult<Page<Deployment>>;

    async fn get_deployment(&self, scope: &AppScope, id: &DeploymentId) -> StoreResult<Deployment>;

    /// The release deployed in `environment` (`None` when nothing is), with its
    /// content; `NotFound` when the environment is not the workspace's.
    async fn get_deployed_release(
        &self,
        scope: &AppScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Option<ReleaseDocument>>;

    /// Runs `write` exactly as its own method would, in one transaction, reads what it
    /// changed, and rolls it all back: nothing is kept. Whatever the write itself
    /// answered, refusal or not, is `outcome`; this call fails only when the rehearsal
    /// could not run.
    async fn rehearse(
        &self,
        scope: AppScope,
        write: rehearsal::Rehearsal,
        actor: String,
    ) -> StoreResult<rehearsal::Rehearsed>;
}
