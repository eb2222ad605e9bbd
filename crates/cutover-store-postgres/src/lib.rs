//! cutover's storage on PostgreSQL.
//!
//! [`PostgresStore`] implements [`cutover_store::Store`] with the same rules, error
//! reasons and orderings as the SQLite store, so any number of `cutover serve`
//! processes can share one database. Each trait method is one transaction (see
//! `engine.rs`): writes run at READ COMMITTED and lock the app row before touching
//! its draft or releases, so writes to one app serialize across processes; reads of
//! more than one statement see one REPEATABLE READ snapshot. Serialization failures
//! and deadlocks are retried inside the store; an unreachable server answers
//! `Unavailable`, and the pool reconnects by itself once the server is back.

mod apps;
mod backfill;
mod draft;
mod engine;
mod error;
mod lifecycle;
pub mod migrations;
mod open_error;
mod quota;
mod releases;
mod rows;
mod tenancy;
mod tokens;

use std::time::Duration;

use async_trait::async_trait;
use cutover_domain::draft::{
    AppPatch, AugmentationPatch, EndpointPatch, NewApp, NewAugmentation, NewEndpoint, NewOrg,
    NewRelease, NewWorkspace,
};
use cutover_domain::limits::Limits;
use cutover_domain::model::{
    Activation, ActivationAction, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::quota::Counted;
use cutover_domain::token::Token;
use cutover_domain::{AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use cutover_store::{
    ActivationOutcome, AppScope, AppStore, Bootstrap, DraftStore, Page, PageRequest,
    ReleaseDocument, ReleasePage, ReleaseQuery, ReleaseStore, Store, StoreResult, TenancyStore,
    TokenStore, TokenToStore, WorkspaceScope,
};
use sqlx::postgres::PgPool;

use crate::engine::{read_tx, write_tx};
use crate::error::{Failure, from_sqlx};

pub use crate::migrations::MIGRATIONS;
pub use crate::open_error::{DriverError, OpenError};

/// How to connect to PostgreSQL.
#[derive(Clone)]
pub struct PostgresOptions {
    /// A `postgres://user[:password]@host[:port]/database[?…]` URL.
    pub url: String,
    /// Connections the pool may open at most.
    pub max_connections: u32,
    /// Connections the pool keeps open even when idle.
    pub min_connections: u32,
    /// How long a request waits for a pooled connection (including opening one)
    /// before it fails with `Unavailable` (503).
    pub acquire_timeout: Duration,
    /// How long the first connection at start may take before start fails.
    pub connect_timeout: Duration,
    /// How long a statement waits for a row lock held by another session (say, a
    /// maintenance transaction) before the request fails with `Unavailable` (503),
    /// like SQLite's busy timeout.
    pub lock_timeout: Duration,
    /// How long one statement may run before PostgreSQL cancels it and the request
    /// fails with `Unavailable` (503): a bound on a request's hold on a pooled
    /// connection, whatever the statement waits for. Zero disables it.
    pub statement_timeout: Duration,
    pub limits: Limits,
}

impl PostgresOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            limits: Limits::default(),
        }
    }
}

impl std::fmt::Debug for PostgresOptions {
    /// Shows where the database is, never the URL itself (it may hold a password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = engine::parse_url(&self.url)
            .map(|options| engine::describe(&options))
            .unwrap_or_else(|_| "<invalid url>".into());
        f.debug_struct("PostgresOptions")
            .field("database", &target)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Connects to the database at `url` and applies pending migrations; returns the
/// versions it applied. Fails with one line when the database cannot be reached
/// within `connect_timeout`.
pub async fn migrate(url: &str, connect_timeout: Duration) -> Result<Vec<i64>, OpenError> {
    engine::migrate(url, connect_timeout).await
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    limits: Limits,
}

impl PostgresStore {
    /// Connects (failing fast, with an error that says where and why, when the
    /// server is unreachable, the database does not exist or authentication fails),
    /// applies pending migrations, and builds the connection pool.
    pub async fn connect(options: PostgresOptions) -> Result<Self, OpenError> {
        let pool = engine::open(&options).await?;
        Ok(Self {
            pool,
            limits: options.limits,
        })
    }

    /// Closes every pooled connection; later calls answer `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    /// False: several cutover servers may share one PostgreSQL database.
    fn sole_writer(&self) -> bool {
        false
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(from_sqlx)
    }

    async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        write_tx!(self, |c| tenancy::server_secret(c, name))
    }
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn count_tokens(&self) -> StoreResult<u64> {
        let mut connection = self.pool.acquire().await.map_err(from_sqlx)?;
        tokens::count_tokens(&mut connection)
            .await
            .map_err(Failure::into_store)
    }

    async fn create_token(&self, token: TokenToStore) -> StoreResult<Token> {
        write_tx!(self, |c| async {
            if let Some(org_id) = &token.org_id {
                let org = org_id.as_str();
                quota::require_room(&mut *c, &self.limits, Counted::TokensPerOrg, org).await?;
            }
            tokens::create_token(c, &token).await
        })
    }

    async fn create_first_token(&self, token: TokenToStore) -> StoreResult<Option<Token>> {
        write_tx!(self, |c| tokens::create_first_token(c, &token))
    }

    async fn register_bootstrap_token(&self, token: TokenToStore) -> StoreResult<Bootstrap> {
        write_tx!(self, |c| tokens::register_bootstrap_token(c, &token))
    }

    /// One statement, so it runs on its own (implicitly one transaction): this is on
    /// every authenticated request's path.
    async fn find_token(&self, secret_digest: &str) -> StoreResult<Option<Token>> {
        let mut connection = self.pool.acquire().await.map_err(from_sqlx)?;
        tokens::find_token(&mut connection, secret_digest)
            .await
            .map_err(Failure::into_store)
    }

    async fn get_token(&self, org_id: Option<&OrgId>, token_id: &TokenId) -> StoreResult<Token> {
        read_tx!(self, |c| tokens::get_token(c, org_id, token_id))
    }

    async fn list_tokens(
        &self,
        org_id: Option<&OrgId>,
        within: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Token>> {
        read_tx!(self, |c| tokens::list_tokens(c, org_id, within, &page))
    }

    async fn revoke_token(&self, org_id: Option<OrgId>, token_id: TokenId) -> StoreResult<()> {
        write_tx!(self, |c| tokens::revoke_token(
            c,
            org_id.as_ref(),
            &token_id
        ))
    }
}

#[async_trait]
impl TenancyStore for PostgresStore {
    async fn create_org(&self, org: NewOrg, actor: &str) -> StoreResult<Org> {
        write_tx!(self, |c| tenancy::create_org(c, &org, actor))
    }

    async fn get_org(&self, org_id: &OrgId) -> StoreResult<Org> {
        read_tx!(self, |c| tenancy::get_org(c, org_id))
    }

    async fn list_orgs(&self, only: Option<&OrgId>, page: PageRequest) -> StoreResult<Page<Org>> {
        read_tx!(self, |c| tenancy::list_orgs(c, only, &page))
    }

    async fn create_workspace(
        &self,
        org_id: &OrgId,
        workspace: NewWorkspace,
        actor: &str,
    ) -> StoreResult<Workspace> {
        write_tx!(self, |c| async {
            let org = org_id.as_str();
            quota::require_room(&mut *c, &self.limits, Counted::WorkspacesPerOrg, org).await?;
            tenancy::create_workspace(c, org_id, &workspace, actor).await
        })
    }

    async fn get_workspace(&self, scope: &WorkspaceScope) -> StoreResult<Workspace> {
        read_tx!(self, |c| tenancy::get_workspace(c, scope))
    }

    async fn list_workspaces(
        &self,
        org_id: &OrgId,
        only: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        read_tx!(self, |c| tenancy::list_workspaces(c, org_id, only, &page))
    }
}

#[async_trait]
impl AppStore for PostgresStore {
    async fn create_app(
        &self,
        scope: &WorkspaceScope,
        app: NewApp,
        actor: &str,
    ) -> StoreResult<App> {
        write_tx!(self, |c| async {
            let workspace = scope.workspace_id.as_str();
            let counted = Counted::AppsPerWorkspace;
            quota::require_room(&mut *c, &self.limits, counted, workspace).await?;
            apps::create_app(c, scope, &app, actor).await
        })
    }

    async fn get_app(&self, scope: &AppScope) -> StoreResult<App> {
        read_tx!(self, |c| apps::get_app(c, scope))
    }

    async fn list_apps(&self, scope: &WorkspaceScope, page: PageRequest) -> StoreResult<Page<App>> {
        read_tx!(self, |c| apps::list_apps(c, scope, &page))
    }

    async fn update_app(&self, scope: &AppScope, patch: AppPatch) -> StoreResult<App> {
        write_tx!(self, |c| apps::update_app(c, scope, &patch))
    }

    async fn delete_app(&self, scope: AppScope) -> StoreResult<()> {
        write_tx!(self, |c| apps::delete_app(c, &scope))
    }
}

#[async_trait]
impl DraftStore for PostgresStore {
    async fn create_endpoint(
        &self,
        scope: &AppScope,
        endpoint: NewEndpoint,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        write_tx!(self, |c| draft::create_endpoint(
            c,
            &self.limits,
            scope,
            &endpoint,
            actor
        ))
    }

    async fn get_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<Endpoint> {
        read_tx!(self, |c| draft::get_endpoint(c, scope, id))
    }

    async fn list_endpoints(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Endpoint>> {
        read_tx!(self, |c| draft::list_endpoints(c, scope, &page))
    }

    async fn update_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        patch: EndpointPatch,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        write_tx!(self, |c| draft::update_endpoint(
            c,
            &self.limits,
            scope,
            id,
            &patch,
            actor
        ))
    }

    async fn delete_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_endpoint(c, scope, id))
    }

    async fn create_augmentation(
        &self,
        scope: &AppScope,
        augmentation: NewAugmentation,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        write_tx!(self, |c| draft::create_augmentation(
            c,
            &self.limits,
            scope,
            &augmentation,
            actor
        ))
    }

    async fn get_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
    ) -> StoreResult<Augmentation> {
        read_tx!(self, |c| draft::get_augmentation(c, scope, id))
    }

    async fn list_augmentations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Augmentation>> {
        read_tx!(self, |c| draft::list_augmentations(c, scope, &page))
    }

    async fn update_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        patch: AugmentationPatch,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        write_tx!(self, |c| draft::update_augmentation(
            c,
            &self.limits,
            scope,
            id,
            &patch,
            actor
        ))
    }

    async fn delete_augmentation(&self, scope: &AppScope, id: &AugmentationId) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_augmentation(c, scope, id))
    }
}

#[async_trait]
impl ReleaseStore for PostgresStore {
    async fn create_release(
        &self,
        scope: AppScope,
        release: NewRelease,
        actor: String,
    ) -> StoreResult<ReleaseDocument> {
        write_tx!(self, |c| async {
            let app = scope.app_id.as_str();
            quota::require_room(&mut *c, &self.limits, Counted::ReleasesPerApp, app).await?;
            releases::create_release(c, &scope, &release, &actor).await
        })
    }

    async fn list_releases(
        &self,
        scope: &AppScope,
        query: ReleaseQuery,
    ) -> StoreResult<ReleasePage> {
        read_tx!(self, |c| releases::list_releases(c, scope, &query))
    }

    async fn get_release(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<ReleaseDocument> {
        read_tx!(self, |c| releases::get_release(c, scope, id))
    }

    async fn get_active_release(&self, scope: &AppScope) -> StoreResult<Option<ReleaseDocument>> {
        read_tx!(self, |c| releases::get_active_release(c, scope))
    }

    async fn activate_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        action: ActivationAction,
        actor: String,
    ) -> StoreResult<ActivationOutcome> {
        write_tx!(self, |c| lifecycle::activate_release(
            c, &scope, &id, action, &actor
        ))
    }

    async fn archive_release(&self, scope: AppScope, id: ReleaseId) -> StoreResult<ReleaseSummary> {
        write_tx!(self, |c| lifecycle::archive_release(c, &scope, &id))
    }

    async fn delete_release(&self, scope: AppScope, id: ReleaseId) -> StoreResult<()> {
        write_tx!(self, |c| lifecycle::delete_release(c, &scope, &id))
    }

    async fn list_activations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>> {
        read_tx!(self, |c| lifecycle::list_activations(c, scope, &page))
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool_size", &self.pool.size())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
