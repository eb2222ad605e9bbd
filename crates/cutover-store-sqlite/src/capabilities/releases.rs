//! The draft, its releases, their deployments and the app's timeline.

use async_trait::async_trait;
use cutover_domain::deployment::{
    ActivationRequest, DeployAuthority, DeployOutcome, DeployRequest, Deployment, RollbackRequest,
};
use cutover_domain::draft::{
    AugmentationPatch, EndpointPatch, NewAugmentation, NewEndpoint, NewRelease,
};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{Activation, Augmentation, Endpoint, ReleaseSummary};
use cutover_domain::precondition::IfMatch;
use cutover_domain::{AugmentationId, DeploymentId, EndpointId, ReleaseId};
use cutover_store::rehearsal::{Rehearsal, Rehearsed};
use cutover_store::timeline::TimelinePage;
use cutover_store::{
    ActivationOutcome, AppScope, DeploymentStore, DraftStore, Page, PageRequest, ReleaseDocument,
    ReleasePage, ReleaseQuery, ReleaseStore, StoreError, StoreResult, TimelineStore,
};

use crate::{
    SqliteStore, deployment_records, deployments, draft, lifecycle, rehearsal, releases, timeline,
};

#[async_trait]
impl DraftStore for SqliteStore {
    async fn create_endpoint(
        &self,
        scope: &AppScope,
        endpoint: NewEndpoint,
        actor: &str,
    ) -> StoreResult<Endpoint> {
        self.prepared_create_endpoint(scope, endpoint, actor).await
    }

    async fn get_endpoint(&self, scope: &AppScope, id: &EndpointId) -> StoreResult<Endpoint> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| draft::get_endpoint(c, &scope, &id))
            .await
    }

    async fn list_endpoints(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Endpoint>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| draft::list_endpoints(c, &scope, &page))
            .await
    }

    async fn update_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        patch: EndpointPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Endpoint> {
        self.prepared_update_endpoint(scope, id, patch, actor, if_match)
            .await
    }

    async fn delete_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        self.prepared_delete_endpoint(scope, id, actor, if_match)
            .await
    }

    async fn create_augmentation(
        &self,
        scope: &AppScope,
        augmentation: NewAugmentation,
        actor: &str,
    ) -> StoreResult<Augmentation> {
        self.prepared_create_augmentation(scope, augmentation, actor)
            .await
    }

    async fn get_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
    ) -> StoreResult<Augmentation> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| draft::get_augmentation(c, &scope, &id))
            .await
    }

    async fn list_augmentations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Augmentation>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| draft::list_augmentations(c, &scope, &page))
            .await
    }

    async fn update_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        patch: AugmentationPatch,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Augmentation> {
        self.prepared_update_augmentation(scope, id, patch, actor, if_match)
            .await
    }

    async fn delete_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        self.prepared_delete_augmentation(scope, id, actor, if_match)
            .await
    }
}

#[async_trait]
impl ReleaseStore for SqliteStore {
    async fn create_release(
        &self,
        scope: AppScope,
        release: NewRelease,
        actor: String,
    ) -> StoreResult<ReleaseDocument> {
        self.prepared_create_release(&scope, release, &actor).await
    }

    async fn list_releases(
        &self,
        scope: &AppScope,
        query: ReleaseQuery,
    ) -> StoreResult<ReleasePage> {
        let scope = scope.clone();
        self.engine
            .read(move |c| releases::list_releases(c, &scope, &query))
            .await
    }

    async fn get_release(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<ReleaseDocument> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| releases::get_release(c, &scope, &id))
            .await
    }

    async fn get_active_release(&self, scope: &AppScope) -> StoreResult<Option<ReleaseDocument>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| releases::get_active_release(c, &scope))
            .await
    }

    async fn activate_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        request: ActivationRequest,
        actor: String,
    ) -> StoreResult<ActivationOutcome> {
        self.engine
            .write(move |c| lifecycle::activate_release(c, &scope, &id, request, &actor))
            .await
    }

    async fn archive_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<ReleaseSummary> {
        self.engine
            .write(move |c| lifecycle::archive_release(c, &scope, &id, &actor, reason))
            .await
    }

    async fn delete_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<()> {
        self.engine
            .write(move |c| lifecycle::delete_release(c, &scope, &id, &actor, reason))
            .await
    }

    async fn list_activations(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>> {
        let scope = scope.clone();
        self.engine
            .read(move |c| lifecycle::list_activations(c, &scope, &page))
            .await
    }
}

#[async_trait]
impl DeploymentStore for SqliteStore {
    async fn deploy(
        &self,
        scope: AppScope,
        request: DeployRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<DeployOutcome> {
        self.engine
            .write(move |c| deployments::deploy(c, &scope, request, authority, &actor))
            .await
    }

    async fn rollback_environment(
        &self,
        scope: AppScope,
        request: RollbackRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<Deployment> {
        self.engine
            .write(move |c| {
                deployments::rollback_environment(c, &scope, request, authority, &actor)
            })
            .await
    }

    async fn list_deployments(
        &self,
        scope: &AppScope,
        environment: Option<&EnvironmentRef>,
        page: PageRequest,
    ) -> StoreResult<Page<Deployment>> {
        let (scope, environment) = (scope.clone(), environment.cloned());
        self.engine
            .read(move |c| {
                deployment_records::list_deployments(c, &scope, environment.as_ref(), &page)
            })
            .await
    }

    async fn get_deployment(&self, scope: &AppScope, id: &DeploymentId) -> StoreResult<Deployment> {
        let (scope, id) = (scope.clone(), id.clone());
        self.engine
            .read(move |c| deployment_records::get_deployment(c, &scope, &id))
            .await
    }

    async fn get_deployed_release(
        &self,
        scope: &AppScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Option<ReleaseDocument>> {
        let (scope, environment) = (scope.clone(), environment.clone());
        self.engine
            .read(move |c| releases::get_deployed_release(c, &scope, &environment))
            .await
    }

    async fn rehearse(
        &self,
        scope: AppScope,
        write: Rehearsal,
        actor: String,
    ) -> StoreResult<Rehearsed> {
        if let Rehearsal::CreateRelease(release) = write {
            return self.rehearsed_create_release(&scope, release, &actor).await;
        }
        self.engine
            .write(move |c| {
                rehearsal::rehearse(c, &scope, |c| {
                    rehearsal::run_write(c, &scope, write, &actor).map(Some)
                })
            })
            .await?
            .ok_or_else(|| StoreError::internal("a rehearsed write asked to be planned again"))
    }
}

#[async_trait]
impl TimelineStore for SqliteStore {
    async fn list_timeline(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<TimelinePage> {
        let scope = scope.clone();
        self.engine
            .read(move |c| timeline::list_timeline(c, &scope, &page))
            .await
    }
}
