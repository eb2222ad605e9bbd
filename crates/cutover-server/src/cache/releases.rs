//! Releases and deployments as handlers see them: reads answered rendered (from
//! memory when kept), every write fenced, since each can change what a kept read
//! answers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::deployment::{
    ActivationRequest, DeployAuthority, DeployOutcome, DeployRequest, Deployment, RollbackRequest,
};
use cutover_domain::draft::NewRelease;
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{Activation, ReleaseSummary};
use cutover_domain::{DeploymentId, ReleaseId};
use cutover_store::rehearsal::{Rehearsal, Rehearsed};
use cutover_store::timeline::TimelinePage;
use cutover_store::{
    ActivationOutcome, AppScope, Page, PageRequest, ReleaseDocument, ReleasePage, ReleaseQuery,
    StoreResult,
};

use super::CachedStore;
use super::render::RenderedRelease;

/// The release capability of a [`CachedStore`].
pub struct Releases<'a> {
    store: &'a CachedStore,
}

impl<'a> Releases<'a> {
    pub(super) fn new(store: &'a CachedStore) -> Self {
        Self { store }
    }

    /// The app's active release, rendered; `None` when no release is active.
    pub async fn active(&self, scope: &AppScope) -> StoreResult<Option<Arc<RenderedRelease>>> {
        let inner = &self.store.inner;
        let Some(cache) = &self.store.cache else {
            return render_active(inner.get_active_release(scope).await?, None);
        };
        if let Some(kept) = cache.active(scope) {
            return Ok(kept);
        }
        let ticket = cache.app_ticket(&scope.app_id);
        let document = inner.get_active_release(scope).await?;
        let shared = document
            .as_ref()
            .and_then(|document| cache.content(scope, &document.summary.content_hash));
        let active = render_active(document, shared.as_ref())?;
        if let Some(ticket) = ticket {
            cache.keep_active(ticket, scope, active.clone());
            if let Some(release) = &active {
                cache.keep_release(ticket, scope, release.clone());
            }
        }
        Ok(active)
    }

    /// The release `environment` has of the app, rendered; `None` when it has none.
    /// What an environment has is kept as a release id, and the release by id.
    pub async fn deployed(
        &self,
        scope: &AppScope,
        environment: &EnvironmentRef,
    ) -> StoreResult<Option<Arc<RenderedRelease>>> {
        let inner = &self.store.inner;
        let Some(cache) = &self.store.cache else {
            return render_active(inner.get_deployed_release(scope, environment).await?, None);
        };
        if let Some(kept) = cache.deployed(scope, environment) {
            return Ok(kept);
        }
        let ticket = cache.app_ticket(&scope.app_id);
        let document = inner.get_deployed_release(scope, environment).await?;
        let shared = document
            .as_ref()
            .and_then(|document| cache.content(scope, &document.summary.content_hash));
        let deployed = render_active(document, shared.as_ref())?;
        if let Some(ticket) = ticket {
            let id = deployed.as_ref().map(|release| release.release_id.clone());
            cache.keep_deployed(ticket, scope, environment, id);
            if let Some(release) = &deployed {
                cache.keep_release(ticket, scope, release.clone());
            }
        }
        Ok(deployed)
    }

    /// The entity tag of the app's active release's answer, when it is kept (even if
    /// its body is not): `Some(None)` when the app is known to have none active,
    /// `None` when nothing is kept (or nothing is ever kept: PostgreSQL).
    pub fn kept_active_tag(&self, scope: &AppScope) -> Option<Option<HeaderValue>> {
        self.store.cache.as_ref()?.active_tag(scope)
    }

    /// A release of the app, rendered.
    pub async fn get(&self, scope: &AppScope, id: &ReleaseId) -> StoreResult<Arc<RenderedRelease>> {
        let inner = &self.store.inner;
        let Some(cache) = &self.store.cache else {
            return render(&inner.get_release(scope, id).await?, None);
        };
        if let Some(kept) = cache.release(scope, id) {
            return Ok(kept);
        }
        let ticket = cache.app_ticket(&scope.app_id);
        let document = inner.get_release(scope, id).await?;
        let shared = cache.content(scope, &document.summary.content_hash);
        let release = render(&document, shared.as_ref())?;
        if let Some(ticket) = ticket {
            cache.keep_release(ticket, scope, release.clone());
        }
        Ok(release)
    }

    /// A page of the app's releases, newest first (never kept).
    pub async fn list(&self, scope: &AppScope, query: ReleaseQuery) -> StoreResult<ReleasePage> {
        self.store.inner.list_releases(scope, query).await
    }

    /// The app's activation history, oldest first (never kept).
    pub async fn history(
        &self,
        scope: &AppScope,
        page: PageRequest,
    ) -> StoreResult<Page<Activation>> {
        self.store.inner.list_activations(scope, page).await
    }

    /// Snapshots the draft into a new release (activating it when asked).
    pub async fn create(
        &self,
        scope: AppScope,
        release: NewRelease,
        actor: String,
    ) -> StoreResult<ReleaseDocument> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner.create_release(scope, release, actor).await
            })
            .await
    }

    /// Activates or rolls back to `id`.
    pub async fn activate(
        &self,
        scope: AppScope,
        id: ReleaseId,
        request: ActivationRequest,
        actor: String,
    ) -> StoreResult<ActivationOutcome> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner.activate_release(scope, id, request, actor).await
            })
            .await
    }

    pub async fn archive(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<ReleaseSummary> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner.archive_release(scope, id, actor, reason).await
            })
            .await
    }

    pub async fn delete(
        &self,
        scope: AppScope,
        id: ReleaseId,
        actor: String,
        reason: Option<String>,
    ) -> StoreResult<()> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner.delete_release(scope, id, actor, reason).await
            })
            .await
    }

    /// Deploys a release to an environment, or promotes another's.
    pub async fn deploy(
        &self,
        scope: AppScope,
        request: DeployRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<DeployOutcome> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner.deploy(scope, request, authority, actor).await
            })
            .await
    }

    /// Takes an environment back to an earlier release.
    pub async fn rollback_environment(
        &self,
        scope: AppScope,
        request: RollbackRequest,
        authority: DeployAuthority,
        actor: String,
    ) -> StoreResult<Deployment> {
        let (inner, app) = (self.store.inner.clone(), scope.app_id.clone());
        self.store
            .app_write(&app, async move {
                inner
                    .rollback_environment(scope, request, authority, actor)
                    .await
            })
            .await
    }

    /// Rehearses a write (`cutover_store::rehearsal`): it keeps nothing, so nothing
    /// kept is fenced.
    pub async fn rehearse(
        &self,
        scope: AppScope,
        write: Rehearsal,
        actor: String,
    ) -> StoreResult<Rehearsed> {
        self.store.inner.rehearse(scope, write, actor).await
    }

    /// The app's timeline, newest first (never kept).
    pub async fn timeline(&self, scope: &AppScope, page: PageRequest) -> StoreResult<TimelinePage> {
        self.store.inner.list_timeline(scope, page).await
    }

    /// The app's deployment records, newest first (never kept).
    pub async fn deployments(
        &self,
        scope: &AppScope,
        environment: Option<&EnvironmentRef>,
        page: PageRequest,
    ) -> StoreResult<Page<Deployment>> {
        self.store
            .inner
            .list_deployments(scope, environment, page)
            .await
    }

    pub async fn deployment(&self, scope: &AppScope, id: &DeploymentId) -> StoreResult<Deployment> {
        self.store.inner.get_deployment(scope, id).await
    }
}

fn render(document: &ReleaseDocument, shared: Option<&Bytes>) -> StoreResult<Arc<RenderedRelease>> {
    RenderedRelease::render(document, shared).map(Arc::new)
}

fn render_active(
    document: Option<ReleaseDocument>,
    shared: Option<&Bytes>,
) -> StoreResult<Option<Arc<RenderedRelease>>> {
    document
        .as_ref()
        .map(|document| render(document, shared))
        .transpose()
}
