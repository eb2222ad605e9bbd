//! A release rendered once for many answers: its JSON body and its entity tag.

use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::ReleaseId;
use cutover_domain::model::ReleaseDetail;
use cutover_store::{StoreError, StoreResult};
use sha2::{Digest, Sha256};

/// The JSON of a release's detail, ready to send, with its strong `ETag`.
#[derive(Debug)]
pub struct RenderedRelease {
    pub release_id: ReleaseId,
    pub body: Bytes,
    pub etag: HeaderValue,
}

/// Bookkeeping per kept release, beyond its body.
const OVERHEAD_BYTES: usize = 256;

impl RenderedRelease {
    pub fn render(detail: &ReleaseDetail) -> StoreResult<Self> {
        let body = serde_json::to_vec(detail)
            .map_err(|err| StoreError::Internal(format!("rendering a release: {err}")))?;
        let etag = entity_tag(&detail.summary.content_hash, &body);
        Ok(Self {
            release_id: detail.summary.release_id.clone(),
            body: Bytes::from(body),
            etag,
        })
    }

    /// What keeping it costs, for the cache's budget.
    pub fn weight(&self) -> usize {
        self.body.len() + OVERHEAD_BYTES
    }
}

/// `"<snapshot>-<representation>"`: the first 16 hex digits of the release's content
/// hash (which snapshot it is) and of the SHA-256 of the body (everything else the
/// answer says, such as status and activation). Equal tags mean equal bodies.
fn entity_tag(content_hash: &str, body: &[u8]) -> HeaderValue {
    let snapshot: String = content_hash
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let representation = Sha256::digest(body);
    let mut tag = format!("\"{snapshot}-");
    for byte in &representation[..8] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    HeaderValue::from_str(&tag).expect("letters, digits, a dash and quotes make a header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_names_the_snapshot_and_changes_with_the_body() {
        let hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let one = entity_tag(hash, br#"{"status":"ready"}"#);
        let two = entity_tag(hash, br#"{"status":"active"}"#);
        assert!(one.to_str().unwrap().starts_with("\"0123456789abcdef-"));
        assert_eq!(one.len(), 1 + 16 + 1 + 16 + 1);
        assert_ne!(one, two);
        assert_eq!(one, entity_tag(hash, br#"{"status":"ready"}"#));
    }
}
