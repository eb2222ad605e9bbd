//! The draft, its releases, their deployments and the app's timeline.

use crate::engine::{read_tx, write_tx};
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
use cutover_domain::quota::Counted;
use cutover_domain::{AugmentationId, DeploymentId, EndpointId, ReleaseId};
use cutover_store::rehearsal::{Rehearsal, Rehearsed};
use cutover_store::timeline::TimelinePage;
use cutover_store::{
    ActivationOutcome, AppScope, DeploymentStore, DraftStore, Page, PageRequest, ReleaseDocument,
    ReleasePage, ReleaseQuery, ReleaseStore, StoreResult, TimelineStore,
};

use crate::{
    PostgresStore, deployment_records, deployments, draft, lifecycle, quota, rehearsal, releases,
    timeline,
};

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
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Endpoint> {
        write_tx!(self, |c| draft::update_endpoint(
            c,
            &self.limits,
            scope,
            id,
            &patch,
            actor,
            if_match
        ))
    }

    async fn delete_endpoint(
        &self,
        scope: &AppScope,
        id: &EndpointId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_endpoint(
            c, scope, id, actor, if_match
        ))
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
        if_match: Option<&IfMatch>,
    ) -> StoreResult<Augmentation> {
        write_tx!(self, |c| draft::update_augmentation(
            c,
            &self.limits,
            scope,
            id,
            &patch,
            actor,
            if_match
        ))
    }

    async fn delete_augmentation(
        &self,
        scope: &AppScope,
        id: &AugmentationId,
        actor: &str,
        if_match: Option<&IfMatch>,
    ) -> StoreResult<()> {
        write_tx!(self, |c| draft::delete_augmentation(
            c, scope, id, actor, if_match
        ))
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
        request: ActivationRequest,
        actor: String,
    ) -> StoreResult<ActivationOutcome> {
        write_tx!(self, |c| lifecycle::activate_release(
            c,
            &scope,
            &id,
            request.clone(),
            &actor
        ))
    }

    async fn archive_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<ReleaseSummary> {
        write_tx!(self, |c| lifecycle::archive_release(
            c,
            &scope,
            &id,
            &actor,
            reason.clone()
        ))
    }

    async fn delete_release(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<()> {
        write_tx!(self, |c| lifecycle::delete_release(
            c,
            &scope,
            &id,
            &actor,
            reason.clone()
        ))
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

    async fn rehearse(
        &self,
        scope: AppScope,
        write: Rehearsal,
        actor: String,
    ) -> StoreResult<Rehearsed> {
        write_tx!(self, |c| rehearsal::rehearse(
            c,
            &scope,
            &write,
            &actor,
            &self.limits
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
