//! [`CachedStore`] as a [`Store`]: every use case passes through to the wrapped store;
//! token lookups are answered from memory when kept, and the writes that can change a
//! kept answer (a token's revocation; a release's creation, activation, archiving or
//! deletion; an app's deletion) are fenced.

use async_trait::async_trait;
use cutover_domain::draft::{
    AppPatch, AugmentationPatch, EndpointPatch, NewApp, NewAugmentation, NewEndpoint, NewOrg,
    NewRelease, NewWorkspace,
};
use cutover_domain::model::{
    Activation, ActivationAction, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::token::Token;
use cutover_domain::{AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use cutover_store::{
    ActivationOutcome, AppScope, Bootstrap, Page, PageRequest, ReleaseDocument, ReleasePage,
    ReleaseQuery, Store, StoreResult, TokenToStore, WorkspaceScope,
};

use super::CachedStore;

#[async_trait]
impl Store for CachedStore {
    fn sole_writer(&self) -> bool {
        self.inner.sole_writer()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn server_secret(&self, name: &str) -> StoreResult<Vec<u8>> {
        self.inner.server_secret(name).await
    }

    async fn count_tokens(&self) -> StoreResult<u64> {
        self.inner.count_tokens().await
    }

    async fn create_token(&self, token: TokenToStore) -> StoreResult<Token> {
        self.inner.create_token(token).await
    }

    async fn create_first_token(&self, token: TokenToStore) -> StoreResult<Option<Token>> {
        self.inner.create_first_token(token).await
    }

    /// Fenced like a revocation, since it retires earlier bootstrap tokens.
    async fn register_bootstrap_token(&self, token: TokenToStore) -> StoreResult<Bootstrap> {
        let inner = self.inner.clone();
        self.token_write(async move { inner.register_bootstrap_token(token).await })
            .await
    }

    /// Unknown digests are never kept: a stream of made-up secrets costs database
    /// reads, not memory.
    async fn find_token(&self, secret_digest: &str) -> StoreResult<Option<Token>> {
        let Some(cache) = &self.cache else {
            return self.inner.find_token(secret_digest).await;
        };
        if let Some(token) = cache.token(secret_digest) {
            return Ok(Some(token));
        }
        let ticket = cache.token_ticket();
        let found = self.inner.find_token(secret_digest).await?;
        if let (Some(ticket), Some(token)) = (ticket, &found) {
            cache.keep_token(ticket, secret_digest, token.clone());
        }
        Ok(found)
    }

    async fn get_token(&self, org_id: Option<&OrgId>, token_id: &TokenId) -> StoreResult<Token> {
        self.inner.get_token(org_id, token_id).await
    }

    async fn list_tokens(
        &self,
        org_id: Option<&OrgId>,
        within: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Token>> {
        self.inner.list_tokens(org_id, within, page).await
    }

    /// Platform tokens too: every revocation drops every kept token.
    async fn revoke_token(&self, org_id: Option<&OrgId>, token_id: &TokenId) -> StoreResult<()> {
        let (inner, org_id, token_id) = (self.inner.clone(), org_id.cloned(), token_id.clone());
        self.token_write(async move { inner.revoke_token(org_id.as_ref(), &token_id).await })
            .await
    }

    async fn create_org(&self, org: NewOrg, actor: &str) -> StoreResult<Org> {
        self.inner.create_org(org, actor).await
    }

    async fn get_org(&self, org_id: &OrgId) -> StoreResult<Org> {
        self.inner.get_org(org_id).await
    }

    async fn list_orgs(&self, only: Option<&OrgId>, page: PageRequest) -> StoreResult<Page<Org>> {
        self.inner.list_orgs(only, page).await
    }

    async fn create_workspace(
        &self,
        org_id: &OrgId,
        workspace: NewWorkspace,
        actor: &str,
    ) -> StoreResult<Workspace> {
        self.inner.create_workspace(org_id, workspace, actor).await
    }

    async fn get_workspace(&self, scope: &WorkspaceScope) -> StoreResult<Workspace> {
        self.inner.get_workspace(scope).await
    }

    async fn list_workspaces(
        &self,
        org_id: &OrgId,
        only: Option<&[WorkspaceId]>,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>> {
        self.inner.list_workspaces(org_id, only, page).await
    }

    async fn create_app(
        &self,
        scope: &WorkspaceScope,
        app: NewApp,
        actor: &str,
    ) -> StoreResult<App> {
        self.inner.create_app(scope, app, actor).await
    }

    async fn get_app(&self, scope: &AppScope) -> StoreResult<App> {
        self.inner.get_app(scope).await
    }

    async fn list_apps(&self, scope: &WorkspaceScope, page: PageRequest) -> StoreResult<Page<App>> {
        self.inner.list_apps(scope, page).await
    }

    async fn update_app(&self, scope: &AppScope, patch: AppPatch) -> StoreResult<App> {
        self.inner.update_app(scope, patch).await
    }

    async fn delete_app(&self, scope: &AppScope) -> StoreResult<()> {
        let (inner, scope) = (self.inner.clone(), scope.clone());
        let app = scope.app_id.clone();
        self.app_write(&app, async move { inner.delete_app(&scope).await })
            .await
    }

    async fn create_endpoint(
        &self,
        scope: &AppScope,
        endpoint: NewEndpoint,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        self.inner.create_endpoint(scope, endpoint, actor).await
    }

    async fn get_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<Endpoint> {
        self.inner.get_endpoint(scope, id).await
    }

    async fn list_endpoints(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Endpoint>> {
        self.inner.list_endpoints(scope, page).await
    }

    async fn update_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        patch: EndpointPatch,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        self.inner.update_endpoint(scope, id, patch, actor).await
    }

    async fn delete_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<()> {
        self.inner.delete_endpoint(scope, id).await
    }

    async fn create_augmentation(
        &self,
        scope: &AppScope,
        augmentation: NewAugmentation,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        self.inner
            .create_augmentation(scope, augmentation, actor)
            .await
    }

    async fn get_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
    ) -> StoreResult<Augmentation> {
        self.inner.get_augmentation(scope, id).await
    }

    async fn list_augmentations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Augmentation>> {
        self.inner.list_augmentations(scope, page).await
    }

    async fn update_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        patch: AugmentationPatch,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        self.inner
            .update_augmentation(scope, id, patch, actor)
            .await
    }

    async fn delete_augmentation(&self, scope: &AppScope, id: &AugmentationId) -> StoreResult<()> {
        self.inner.delete_augmentation(scope, id).await
    }

    async fn create_release(
        &self,
        scope: &AppScope,
        release: NewRelease,
        actor: &str,
    ) -> StoreResult<ReleaseDocument> {
        let (inner, scope, actor) = (self.inner.clone(), scope.clone(), actor.to_owned());
        let app = scope.app_id.clone();
        self.app_write(&app, async move {
            inner.create_release(&scope, release, &actor).await
        })
        .await
    }

    async fn list_releases(
        &self,
        scope: &AppScope,
        query: ReleaseQuery,
    ) -> StoreResult<ReleasePage> {
        self.inner.list_releases(scope, query).await
    }

    async fn get_release(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<ReleaseDocument> {
        self.inner.get_release(scope, id).await
    }

    async fn get_active_release(&self, scope: &AppScope) -> StoreResult<Option<ReleaseDocument>> {
        self.inner.get_active_release(scope).await
    }

    async fn activate_release(
        &self,
        scope: &AppScope,
        id: &ReleaseId,
        action: ActivationAction,
        actor: &str,
    ) -> StoreResult<ActivationOutcome> {
        let (inner, scope, id) = (self.inner.clone(), scope.clone(), id.clone());
        let (app, actor) = (scope.app_id.clone(), actor.to_owned());
        self.app_write(&app, async move {
            inner.activate_release(&scope, &id, action, &actor).await
        })
        .await
    }

    async fn archive_release(
        &self,
        scope: &AppScope,
        id: &ReleaseId,
    ) -> StoreResult<ReleaseSummary> {
        let (inner, scope, id) = (self.inner.clone(), scope.clone(), id.clone());
        let app = scope.app_id.clone();
        self.app_write(
            &app,
            async move { inner.archive_release(&scope, &id).await },
        )
        .await
    }

    async fn delete_release(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<()> {
        let (inner, scope, id) = (self.inner.clone(), scope.clone(), id.clone());
        let app = scope.app_id.clone();
        self.app_write(&app, async move { inner.delete_release(&scope, &id).await })
            .await
    }

    async fn list_activations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>> {
        self.inner.list_activations(scope, page).await
    }
}
