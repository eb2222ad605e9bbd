//! Environments through the cache: creating, changing or deleting one is fenced for
//! every app (it can change which environment is the default, or which one a slug
//! names, for every app of the workspace); reads pass through.

use async_trait::async_trait;
use cutover_domain::environment::{
    BoardEntry, Environment, EnvironmentPatch, EnvironmentRef, NewEnvironment,
};
use cutover_store::{AppScope, EnvironmentStore, Page, PageRequest, StoreResult, WorkspaceScope};

use super::CachedStore;

#[async_trait]
impl EnvironmentStore for CachedStore {
    async fn create_environment(
        &self,
        scope: &WorkspaceScope,
        environment: NewEnvironment,
        actor: &str,
    ) -> StoreResult<Environment> {
        let (inner, scope, actor) = (self.inner.clone(), scope.clone(), actor.to_owned());
        self.environment_write(async move {
            inner.create_environment(&scope, environment, &actor).await
        })
        .await
    }

    async fn get_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Environment> {
        self.inner.get_environment(scope, environment).await
    }

    async fn list_environments(
        &self,
        scope: &WorkspaceScope,
        page: PageRequest,
    ) -> StoreResult<Page<Environment>> {
        self.inner.list_environments(scope, page).await
    }

    async fn update_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
        patch: EnvironmentPatch,
    ) -> StoreResult<Environment> {
        let (inner, scope, environment) = (self.inner.clone(), scope.clone(), environment.clone());
        self.environment_write(async move {
            inner.update_environment(&scope, &environment, patch).await
        })
        .await
    }

    async fn app_board(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<BoardEntry>> {
        self.inner.app_board(scope, page).await
    }

    async fn delete_environment(
        &self,
        scope: &WorkspaceScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<()> {
        let (inner, scope, environment) = (self.inner.clone(), scope.clone(), environment.clone());
        self.environment_write(async move { inner.delete_environment(&scope, &environment).await })
            .await
    }
}
