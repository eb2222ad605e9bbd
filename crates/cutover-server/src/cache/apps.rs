//! Apps through the cache: deleting one is fenced (it takes the app's releases with
//! it, so what is kept of them must go); the rest pass through.

use async_trait::async_trait;
use cutover_domain::draft::{AppPatch, NewApp};
use cutover_domain::model::App;
use cutover_domain::precondition::IfMatch;
use cutover_store::{AppScope, AppStore, Page, PageRequest, StoreResult, WorkspaceScope};

use super::CachedStore;

#[async_trait]
impl AppStore for CachedStore {
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

    async fn update_app(
        &self,
        scope: &AppScope,
        patch: AppPatch,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<App> {
        self.inner.update_app(scope, patch, if_match).await
    }

    async fn delete_app(&self, scope: AppScope, if_match: Option<&IfMatch>) -> StoreResult<()> {
        let (inner, app) = (self.inner.clone(), scope.app_id.clone());
        let if_match = if_match.cloned();
        self.app_write(&app, async move {
            inner.delete_app(scope, if_match.as_ref()).await
        })
        .await
    }
}
