//! The hot reads — an app's active release, a release's detail, the token behind a
//! bearer secret — answered from memory when that is safe, and releases rendered to
//! JSON once rather than per request.
//!
//! [`CachedStore`] wraps the store and is what handlers talk to. It keeps what it
//! read only when the store is the database's sole writer (SQLite, which claims its
//! file for one process): then every write passes through here, and each one that can
//! change a kept answer fences it off (see [`entries`]). When other processes may
//! write (PostgreSQL shared by several servers), nothing is kept and every read goes
//! to the database, so no server can answer with what another has changed.

mod entries;
mod render;
mod store;

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::{AppId, ReleaseId};
use cutover_store::{AppScope, ReleaseDocument, Store, StoreError, StoreResult};

use entries::{ReadCache, WriteGuard};
pub use render::RenderedRelease;

pub struct CachedStore {
    inner: Arc<dyn Store>,
    /// `None` when the store is not the sole writer, or caching is off.
    cache: Option<Arc<ReadCache>>,
}

impl CachedStore {
    /// Wraps `inner`, keeping at most `budget_bytes` of answers (0: keep nothing).
    pub fn new(inner: Arc<dyn Store>, budget_bytes: usize) -> Self {
        let cache = (inner.sole_writer() && budget_bytes > 0)
            .then(|| Arc::new(ReadCache::new(budget_bytes)));
        Self { inner, cache }
    }

    /// Whether answers are kept in memory.
    pub fn is_caching(&self) -> bool {
        self.cache.is_some()
    }

    /// Bytes of answers kept now.
    pub fn cached_bytes(&self) -> usize {
        self.cache.as_ref().map_or(0, |cache| cache.bytes())
    }

    /// The app's active release, rendered; `None` when no release is active.
    pub async fn active_release(
        &self,
        scope: &AppScope,
    ) -> StoreResult<Option<Arc<RenderedRelease>>> {
        let Some(cache) = &self.cache else {
            return render_active(self.inner.get_active_release(scope).await?, None);
        };
        if let Some(kept) = cache.active(scope) {
            return Ok(kept);
        }
        let ticket = cache.app_ticket(&scope.app_id);
        let document = self.inner.get_active_release(scope).await?;
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

    /// The entity tag of the app's active release's answer, when it is kept (even if
    /// its body is not): `Some(None)` when the app is known to have none active,
    /// `None` when nothing is kept (or nothing is ever kept: PostgreSQL).
    pub fn kept_active_tag(&self, scope: &AppScope) -> Option<Option<HeaderValue>> {
        self.cache.as_ref()?.active_tag(scope)
    }

    /// A release of the app, rendered.
    pub async fn release(
        &self,
        scope: &AppScope,
        id: &ReleaseId,
    ) -> StoreResult<Arc<RenderedRelease>> {
        let Some(cache) = &self.cache else {
            return render(&self.inner.get_release(scope, id).await?, None);
        };
        if let Some(kept) = cache.release(scope, id) {
            return Ok(kept);
        }
        let ticket = cache.app_ticket(&scope.app_id);
        let document = self.inner.get_release(scope, id).await?;
        let shared = cache.content(scope, &document.summary.content_hash);
        let release = render(&document, shared.as_ref())?;
        if let Some(ticket) = ticket {
            cache.keep_release(ticket, scope, release.clone());
        }
        Ok(release)
    }

    /// Runs a write that may change what is kept for `app`, fenced as [`entries`]
    /// describes. The write runs as its own task, so it finishes (and lifts its fence)
    /// even when the request that started it is dropped halfway.
    async fn app_write<T: Send + 'static>(
        &self,
        app: &AppId,
        write: impl Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        match &self.cache {
            Some(cache) => fenced(cache.begin_app_write(app), write).await,
            None => write.await,
        }
    }

    /// Like [`Self::app_write`], for a write that may change a kept token.
    async fn token_write<T: Send + 'static>(
        &self,
        write: impl Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        match &self.cache {
            Some(cache) => fenced(cache.begin_token_write(), write).await,
            None => write.await,
        }
    }
}

async fn fenced<T: Send + 'static>(
    fence: WriteGuard,
    write: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    let task = tokio::spawn(async move {
        let outcome = write.await;
        drop(fence);
        outcome
    });
    task.await
        .map_err(|err| StoreError::internal_from("a store write failed to finish", err))?
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
