//! What handlers talk to: the store by capability, with the hot reads — an app's
//! active release, a release's detail, the token behind a bearer secret — answered
//! from memory when that is safe, and releases rendered to JSON once rather than per
//! request.
//!
//! [`CachedStore`] hands out each capability of the store. Tenancy and drafts are the
//! backend's own ([`CachedStore::tenancy`], [`CachedStore::drafts`]): nothing of them
//! is kept. Tokens, apps and environments pass through the cache ([`tokens`],
//! [`apps`], [`environments`]), which answers token lookups from memory and fences
//! the writes that can change a kept answer (a revocation, an app's deletion, any
//! environment write). Releases and deployments are read rendered
//! ([`releases::Releases`]), and their writes are fenced.
//!
//! Answers are kept only when the store is the database's sole writer (SQLite, which
//! claims its file for one process): then every write passes through here, and each
//! one that can change a kept answer fences it off (see [`entries`]). When other
//! processes may write (PostgreSQL shared by several servers), nothing is kept and
//! every read goes to the database, so no server can answer with what another has
//! changed.

mod apps;
mod entries;
mod environments;
mod releases;
mod render;
mod tokens;

use std::future::Future;
use std::sync::Arc;

use cutover_domain::AppId;
use cutover_store::{
    AppStore, DraftStore, EnvironmentStore, IdempotencyStore, Store, StoreError, StoreResult,
    TenancyStore, TokenStore,
};

use entries::{ReadCache, WriteGuard};
pub use releases::Releases;
pub use render::RenderedRelease;
use tracing::Instrument;

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

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    /// API tokens; lookups by secret answered from memory when kept.
    pub fn tokens(&self) -> &dyn TokenStore {
        self
    }

    /// Orgs and workspaces, straight from the store.
    pub fn tenancy(&self) -> &dyn TenancyStore {
        self.inner.as_ref()
    }

    /// Workspaces' environments; every write fences what is kept of every app.
    pub fn environments(&self) -> &dyn EnvironmentStore {
        self
    }

    /// Apps; deleting one drops what is kept of it.
    pub fn apps(&self) -> &dyn AppStore {
        self
    }

    /// Apps' drafts, straight from the store: no release answer depends on them.
    pub fn drafts(&self) -> &dyn DraftStore {
        self.inner.as_ref()
    }

    /// Idempotency keys, straight from the store: a replayed answer is the one
    /// stored, never a fresh read.
    pub fn idempotency(&self) -> &dyn IdempotencyStore {
        self.inner.as_ref()
    }

    /// Releases, read rendered.
    pub fn releases(&self) -> Releases<'_> {
        Releases::new(self)
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

    /// Like [`Self::app_write`], for an environment write (which fences every app).
    async fn environment_write<T: Send + 'static>(
        &self,
        write: impl Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        match &self.cache {
            Some(cache) => fenced(cache.begin_environment_write(), write).await,
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
    // In the request's span, so what the store logs on the way names the request.
    let task = tokio::spawn(
        async move {
            let outcome = write.await;
            drop(fence);
            outcome
        }
        .in_current_span(),
    );
    task.await
        .map_err(|err| StoreError::internal_from("a store write failed to finish", err))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::log_capture::Seen;

    #[tokio::test]
    async fn a_fenced_write_logs_in_the_span_of_its_request() {
        let seen = Seen::default();
        let _default = seen.install();
        let cache = Arc::new(ReadCache::new(1 << 20));
        let app = AppId::generate();
        let write = async {
            tokio::task::yield_now().await;
            tracing::warn!("the store retried a write");
            Ok(())
        };
        fenced(cache.begin_app_write(&app), write)
            .instrument(tracing::info_span!("request", request_id = %"req-7"))
            .await
            .expect("the write succeeds");
        let logged = seen.events();
        let inside = logged
            .iter()
            .find(|(message, _)| message == "the store retried a write")
            .expect("the write's event was logged");
        assert_eq!(inside.1.as_deref(), Some("req-7"));
    }
}
