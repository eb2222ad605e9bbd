//! Tokens, orgs and workspaces, environments and apps: who may call, and what they
//! work in.

use crate::engine::{read_tx, write_tx};
use crate::error::{Failure, from_sqlx};
use async_trait::async_trait;
use cutover_domain::draft::{AppPatch, NewApp, NewOrg, NewWorkspace};
use cutover_domain::environment::{
    BoardEntry, Environment, EnvironmentPatch, EnvironmentRef, NewEnvironment,
};
use cutover_domain::model::{App, Org, Workspace};
use cutover_domain::precondition::IfMatch;
use cutover_domain::quota::Counted;
use cutover_domain::token::Token;
use cutover_domain::{OrgId, TokenId, WorkspaceId};
use cutover_store::{
    AppScope, AppStore, Bootstrap, EnvironmentStore, Page, PageRequest, StoreResult, TenancyStore,
    TokenStore, TokenToStore, WorkspaceScope,
};

use crate::{PostgresStore, apps, environments, quota, tenancy, tokens};

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

    async fn update_app(
        &self,
        scope: &AppScope,
        patch: AppPatch,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<App> {
        write_tx!(self, |c| apps::update_app(c, scope, &patch, if_match))
    }

    async fn delete_app(&self, scope: AppScope, if_match: Option<&IfMatch>) -> StoreResult<()> {
        write_tx!(self, |c| apps::delete_app(c, &scope, if_match))
    }
}
