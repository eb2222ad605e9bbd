//! Tokens, orgs and workspaces, environments and apps: who may call, and what they
//! work in.

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

use crate::{SqliteStore, apps, environments, quota, tenancy, tokens};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn count_tokens(&self) -> StoreResult<u64> {
        self.engine.read(tokens::count_tokens).await
    }

    async fn create_token(&self, token: TokenToStore) -> StoreResult<Token> {
        let limits = self.limits;
        self.engine
            .write(move |c| {
                if let Some(org_id) = &token.org_id {
                    quota::require_room(c, &limits, Counted::TokensPerOrg, org_id.as_str())?;
                }
                tokens::create_token(c, token)
            })
            .await
    }

    async fn create_first_token(&self, token: TokenToStore) -> StoreResult<Option<Token>> {
        // The single writer makes the check and the insert one atomic step.
        self.engine
            .write(move |c| {
                if tokens::count_tokens(c)? > 0 {
                    return Ok(None);
                }
                tokens::create_token(c, token).map(Some)
            })
            .await
    }

    async fn register_bootstrap_token(&self, token: TokenToStore) -> StoreResult<Bootstrap> {
        self.engine
            .write(move |c| tokens::register_bootstrap_token(c, token))
            .await
    }

    async fn find_token(&self, secret_digest: &str) -> StoreResult<Option<Token>> {
        let digest = secret_digest.to_owned();
        self.engine
            .read(move |c| tokens::find_token(c, &digest))
            .await
    }

    async fn get_token(&self, org_id: Option<&OrgId>, token_id: &TokenId) -> StoreResult<Token> {
        let (org_id, token_id) = (org_id.cloned(), token_id.clone());
        self.engine
            .read(move |c| tokens::get_token(c, org_id.as_ref(), &token_id))
            .await
    }

    async fn list_tokens(
        &self,
        org_id: Option<&OrgId>,
        within: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Token>> {
        let (org_id, within) = (org_id.cloned(), within.map(<[WorkspaceId]>::to_vec));
        self.engine
            .read(move |c| tokens::list_tokens(c, org_id.as_ref(), within.as_deref(), &page))
            .await
    }

    async fn revoke_token(&self, org_id: Option<OrgId>, token_id: TokenId) -> StoreResult<()> {
        self.engine
            .write(move |c| tokens::revoke_token(c, org_id.as_ref(), &token_id))
            .await
    }
}

#[async_trait]
impl TenancyStore for SqliteStore {
    async fn create_org(&self, org: NewOrg, actor: &str) -> StoreResult<Org> {
        let actor = actor.to_owned();
        self.engine
            .write(move |c| tenancy::create_org(c, org, &actor))
            .await
    }

    async fn get_org(&self, org_id: &OrgId) -> StoreResult<Org> {
        let org_id = org_id.clone();
        self.engine
            .read(move |c| tenancy::get_org(c, &org_id))
            .await
    }

    async fn list_orgs(&self, only: Option<&OrgId>, page: PageRequest) -> StoreResult<Page<Org>> {
        let only = only.cloned();
        self.engine
            .read(move |c| tenancy::list_orgs(c, only.as_ref(), &page))
            .await
    }

    async fn create_workspace(
        &self,
        org_id: &OrgId,
        workspace: NewWorkspace,
        actor: &str,
    ) -> StoreResult<Workspace> {
        let (org_id, actor, limits) = (org_id.clone(), actor.to_owned(), self.limits);
        self.engine
            .write(move |c| {
                quota::require_room(c, &limits, Counted::WorkspacesPerOrg, org_id.as_str())?;
                tenancy::create_workspace(c, &org_id, workspace, &actor)
            })
            .await
    }

    async fn get_workspace(&self, scope: &WorkspaceScope) -> StoreResult<Workspace> {
        let scope = scope.clone();
        self.engine
            .read(move |c| tenancy::get_workspace(c, &scope))
            .await
    }

    async fn list_workspaces(
        &self,
        org_id: &OrgId,
        only: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        let (org_id, only) = (org_id.clone(), only.map(<[WorkspaceId]>::to_vec));
        self.engine
            .read(move |c| tenancy::list_workspaces(c, &org_id, only.as_deref(), &page))
            .await
    }
}

#[async_trait]
impl EnvironmentStore for SqliteStore {
    async fn create_environment(
        &self,
        scope: &WorkspaceScope,
        environment: NewEnvironment,
        actor: &str,
    ) -> StoreResult<Environment> {
        let (scope, actor, limits) = (scope.clone(), actor.to_owned(), self.limits);
        self.engine
            .write(move |c| {
                environments::create_environment(c, &limits, &scope, environment, &actor)
            })
            .await
    }

    async fn get_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Environment> {
        let (scope, environment) = (scope.clone(), environment.clone());
        self.engine
            .read(move |c| environments::get_environment(c, &scope, &environment))
            .await
    }

    async fn list_environments(
        &self,
        scope: &WorkspaceScope,
        page: PageRequest,
    ) -> StoreResult<Page<Environment>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| environments::list_environments(c, &scope, &page))
            .await
    }

    async fn update_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
        patch: EnvironmentPatch,
    ) -> StoreResult<Environment> {
        let (scope, environment) = (scope.clone(), environment.clone());
        self.engine
            .write(move |c| environments::update_environment(c, &scope, &environment, patch))
            .await
    }

    async fn app_board(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<BoardEntry>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| environments::app_board(c, &scope, &page))
            .await
    }

    async fn delete_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<()> {
        let (scope, environment) = (scope.clone(), environment.clone());
        self.engine
            .write(move |c| environments::delete_environment(c, &scope, &environment))
            .await
    }
}

#[async_trait]
impl AppStore for SqliteStore {
    async fn create_app(
        &self,
        scope: &WorkspaceScope,
        app: NewApp,
        actor: &str,
    ) -> StoreResult<App> {
        let (scope, actor, limits) = (scope.clone(), actor.to_owned(), self.limits);
        self.engine
            .write(move |c| {
                let workspace = scope.workspace_id.as_str();
                quota::require_room(c, &limits, Counted::AppsPerWorkspace, workspace)?;
                apps::create_app(c, &scope, app, &actor)
            })
            .await
    }

    async fn get_app(&self, scope: &AppScope) -> StoreResult<App> {
        let scope = scope.clone();
        self.engine.read(move |c| apps::get_app(c, &scope)).await
    }

    async fn list_apps(&self, scope: &WorkspaceScope, page: PageRequest) -> StoreResult<Page<App>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| apps::list_apps(c, &scope, &page))
            .await
    }

    async fn update_app(
        &self,
        scope: &AppScope,
        patch: AppPatch,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<App> {
        let (scope, if_match) = (scope.clone(), if_match.cloned());
        self.engine
            .write(move |c| apps::update_app(c, &scope, patch, if_match.as_ref()))
            .await
    }

    async fn delete_app(&self, scope: AppScope, if_match: Option<&IfMatch>) -> StoreResult<()> {
        let if_match = if_match.cloned();
        self.engine
            .write(move |c| apps::delete_app(c, &scope, if_match.as_ref()))
            .await
    }
}
