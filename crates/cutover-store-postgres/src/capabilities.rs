//! [`PostgresStore`]'s capabilities: each store method runs its query module's work
//! in one transaction (`write_tx!` or `read_tx!`, retried on serialization failures).

use crate::engine::{read_tx, write_tx};
use crate::error::{Failure, from_sqlx};
use async_trait::async_trait;
use cutover_domain::deployment::{
    DeployAuthority, DeployOutcome, DeployRequest, Deployment, RollbackRequest,
};
use cutover_domain::draft::{
    AppPatch, AugmentationPatch, EndpointPatch, NewApp, NewAugmentation, NewEndpoint, NewOrg,
    NewRelease, NewWorkspace,
};
use cutover_domain::environment::{
    BoardEntry, Environment, EnvironmentPatch, EnvironmentRef, NewEnvironment,
};
use cutover_domain::model::{
    Activation, ActivationAction, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::quota::Counted;
use cutover_domain::token::Token;
use cutover_domain::{
    AugmentationId, DeploymentId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId,
};
use cutover_store::timeline::TimelinePage;
use cutover_store::{
    ActivationOutcome, AppScope, AppStore, Bootstrap, DeploymentStore, DraftStore,
    EnvironmentStore, Page, PageRequest, ReleaseDocument, ReleasePage, ReleaseQuery, ReleaseStore,
    StoreResult, TenancyStore, TimelineStore, TokenStore, TokenToStore, WorkspaceScope,
};

use crate::{
    PostgresStore, apps, deployment_records, deployments, draft, environments, lifecycle, quota,
    releases, tenancy, timeline, tokens,
};

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
impl EnvironmentStore for PostgresStore {
    async fn create_environment(
        &self,
        scope: &WorkspaceScope,
        environment: NewEnvironment,
        actor: &str,
    ) -> StoreResult<Environment> {
        write_tx!(self, |c| environments::create_environment(
            c,
            &self.limits,
            scope,
            &environment,
            actor
        ))
    }

    async fn get_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Environment> {
        read_tx!(self, |c| environments::get_environment(
            c,
            scope,
            environment
        ))
    }

    async fn list_environments(
        &self,
        scope: &WorkspaceScope,
        page: PageRequest,
    ) -> StoreResult<Page<Environment>> {
        read_tx!(self, |c| environments::list_environments(c, scope, &page))
    }

    async fn update_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
        patch: EnvironmentPatch,
    ) -> StoreResult<Environment> {
        write_tx!(self, |c| environments::update_environment(
            c,
            scope,
            environment,
            &patch
        ))
    }

    async fn app_board(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<BoardEntry>> {
        read_tx!(self, |c| environments::app_board(c, scope, &page))
    }

    async fn delete_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<()> {
        write_tx!(self, |c| environments::delete_environment(
            c,
            scope,
            environment
        ))
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

    async fn delete_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        actor: &str,
    ) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_endpoint(c, scope, id, actor))
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

    async fn delete_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        actor: &str,
    ) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_augmentation(c, scope, id, actor))
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

    async fn archive_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
    ) -> StoreResult<ReleaseSummary> {
        write_tx!(self, |c| lifecycle::archive_release(c, &scope, &id, &actor))
    }

    async fn delete_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
    ) -> StoreResult<()> {
        write_tx!(self, |c| lifecycle::delete_release(c, &scope, &id, &actor))
    }

    async fn list_activations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>> {
        read_tx!(self, |c| lifecycle::list_activations(c, scope, &page))
    }
}

#[async_trait]
impl DeploymentStore for PostgresStore {
    async fn deploy(
        &self,
        scope: AppScope,
        request: DeployRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<DeployOutcome> {
        write_tx!(self, |c| deployments::deploy(
            c, &scope, &request, authority, &actor
        ))
    }

    async fn rollback_environment(
        &self,
        scope: AppScope,
        request: RollbackRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<Deployment> {
        write_tx!(self, |c| deployments::rollback_environment(
            c, &scope, &request, authority, &actor
        ))
    }

    async fn list_deployments(
        &self,
        scope: &AppScope,
        environment: Option<&EnvironmentRef>,
        page: PageRequest,
    ) -> StoreResult<Page<Deployment>> {
        read_tx!(self, |c| deployment_records::list_deployments(
            c,
            scope,
            environment,
            &page
        ))
    }

    async fn get_deployment(&self, scope: &AppScope, id: &DeploymentId) -> StoreResult<Deployment> {
        read_tx!(self, |c| deployment_records::get_deployment(c, scope, id))
    }

    async fn get_deployed_release(
        &self,
        scope: &AppScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Option<ReleaseDocument>> {
        read_tx!(self, |c| releases::get_deployed_release(
            c,
            scope,
            environment
        ))
    }
}

#[async_trait]
impl TimelineStore for PostgresStore {
    async fn list_timeline(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<TimelinePage> {
        read_tx!(self, |c| timeline::list_timeline(c, scope, &page))
    }
}
