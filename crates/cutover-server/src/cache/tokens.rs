//! Tokens through the cache: a lookup by secret digest is answered from memory when
//! kept; the writes that can change a kept token (a revocation, the bootstrap
//! registration, which retires earlier bootstrap tokens) are fenced. The rest pass
//! through.

use async_trait::async_trait;
use cutover_domain::token::Token;
use cutover_domain::{OrgId, TokenId, WorkspaceId};
use cutover_store::{Bootstrap, Page, PageRequest, StoreResult, TokenStore, TokenToStore};

use super::CachedStore;

#[async_trait]
impl TokenStore for CachedStore {
    async fn count_tokens(&self) -> StoreResult<u64> {
        self.inner.count_tokens().await
    }

    async fn create_token(&self, token: TokenToStore) -> StoreResult<Token> {
        self.inner.create_token(token).await
    }

    async fn create_first_token(&self, token: TokenToStore) -> StoreResult<Option<Token>> {
        self.inner.create_first_token(token).await
    }

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
    async fn revoke_token(&self, org_id: Option<OrgId>, token_id: TokenId) -> StoreResult<()> {
        let inner = self.inner.clone();
        self.token_write(async move { inner.revoke_token(org_id, token_id).await })
            .await
    }
}
