//! A release rendered once for many answers: its JSON body and its entity tag.

use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::ReleaseId;
use cutover_domain::model::ReleaseSummary;
use cutover_store::{ReleaseDocument, StoreError, StoreResult};
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
    pub fn render(document: &ReleaseDocument) -> StoreResult<Self> {
        let body = encode(document)?;
        let etag = entity_tag(&document.summary);
        Ok(Self {
            release_id: document.summary.release_id.clone(),
            body: Bytes::from(body),
            etag,
        })
    }

    /// What keeping it costs, for the cache's budget.
    pub fn weight(&self) -> usize {
        self.body.len() + OVERHEAD_BYTES
    }
}

fn encoding_failed(err: serde_json::Error) -> StoreError {
    StoreError::Internal(format!("rendering a release: {err}"))
}

/// The JSON of the release's `ReleaseDetail`, byte for byte what encoding the
/// parsed values gives, but with the stored content copied in rather than parsed and
/// encoded again: the summary, then the content's two fields, then `change_log` and
/// `previous_release_id`, the order of `ReleaseDetail`'s fields.
fn encode(document: &ReleaseDocument) -> StoreResult<Vec<u8>> {
    let fields = document
        .content
        .as_bytes()
        .strip_prefix(b"{")
        .and_then(|inner| inner.strip_suffix(b"}"))
        .filter(|inner| inner.starts_with(b"\"endpoints\":"));
    let Some(fields) = fields else {
        // Not the compact text every store writes: go the long way round.
        let detail = document.clone().into_detail()?;
        return serde_json::to_vec(&detail).map_err(encoding_failed);
    };
    let mut body = Vec::with_capacity(fields.len() + document.change_log.len() + 1024);
    serde_json::to_writer(&mut body, &document.summary).map_err(encoding_failed)?;
    body.pop(); // the summary's closing brace
    body.push(b',');
    body.extend_from_slice(fields);
    body.extend_from_slice(b",\"change_log\":");
    serde_json::to_writer(&mut body, &document.change_log).map_err(encoding_failed)?;
    body.extend_from_slice(b",\"previous_release_id\":");
    serde_json::to_writer(&mut body, &document.previous_release_id).map_err(encoding_failed)?;
    body.push(b'}');
    Ok(body)
}

/// Changes whenever the way a release is written out changes, so tags from an older
/// server never match answers of a newer one.
const REPRESENTATION: &str = "release-detail/1";

/// `"<snapshot>-<representation>"`: the first 16 hex digits of the release's content
/// hash (which snapshot it is), then 16 of the SHA-256 of the release's id and of the
/// only fields of its answer that ever change (`status`, `activated_at`,
/// `activated_by`): everything else in the answer is immutable for a release (the
/// database refuses changes to it), so equal tags mean equal bodies, and the tag costs
/// a hash of a few dozen bytes rather than of the whole body.
fn entity_tag(summary: &ReleaseSummary) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut lifecycle = Sha256::new();
    for part in [
        REPRESENTATION,
        summary.release_id.as_str(),
        summary.status.as_str(),
        &summary
            .activated_at
            .map_or(String::new(), |at| at.as_micros().to_string()),
        summary.activated_by.as_deref().unwrap_or(""),
    ] {
        lifecycle.update(part.as_bytes());
        lifecycle.update([0]);
    }
    let mut tag = Vec::with_capacity(35);
    tag.push(b'"');
    tag.extend(
        summary
            .content_hash
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .take(16),
    );
    tag.push(b'-');
    for byte in &lifecycle.finalize()[..8] {
        tag.push(HEX[usize::from(byte >> 4)]);
        tag.push(HEX[usize::from(byte & 0x0f)]);
    }
    tag.push(b'"');
    HeaderValue::from_bytes(&tag).expect("letters, digits, a dash and quotes make a header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_names_the_snapshot_and_changes_with_every_mutable_field() {
        let ready = document("{}").summary;
        let tag = entity_tag(&ready);
        let text = tag.to_str().unwrap();
        assert!(text.starts_with(&format!("\"{}-", &ready.content_hash[..16])));
        assert_eq!(tag.len(), 1 + 16 + 1 + 16 + 1);
        assert_eq!(tag, entity_tag(&ready.clone()));

        let mut active = ready.clone();
        active.status = cutover_domain::model::ReleaseStatus::Active;
        let mut activated = active.clone();
        activated.activated_at = Some(cutover_domain::Timestamp::now());
        let mut by_someone = activated.clone();
        by_someone.activated_by = Some("someone".into());
        let mut other_release = ready.clone();
        other_release.release_id = ReleaseId::generate();
        let tags = [&ready, &active, &activated, &by_someone, &other_release].map(entity_tag);
        for (index, one) in tags.iter().enumerate() {
            for other in &tags[index + 1..] {
                assert_ne!(one, other);
            }
        }
    }

    fn document(content: &str) -> ReleaseDocument {
        use cutover_domain::model::ReleaseStatus;
        use cutover_domain::values::ReleaseTag;
        use cutover_domain::{AppId, OrgId, Timestamp, WorkspaceId};
        ReleaseDocument {
            summary: ReleaseSummary {
                release_id: ReleaseId::generate(),
                app_id: AppId::generate(),
                workspace_id: WorkspaceId::generate(),
                org_id: OrgId::generate(),
                release_tag: ReleaseTag::from_trusted("v1".into()),
                release_number: 1,
                status: ReleaseStatus::Ready,
                description: Some("with \"quotes\" and \u{e9}".into()),
                endpoint_count: 0,
                augmentation_count: 0,
                content_hash: "ab".repeat(32),
                activated_at: None,
                activated_by: None,
                created_at: Timestamp::now(),
                created_by: "me".into(),
            },
            change_log: "Initial release (empty draft)\n\"x\"".into(),
            previous_release_id: Some(ReleaseId::generate()),
            content: content.into(),
        }
    }

    #[test]
    fn the_copied_content_encodes_exactly_like_the_parsed_release() {
        for content in [
            r#"{"endpoints":[],"augmentations":[]}"#,
            // Not compact: encoded from the parsed values instead, to the same bytes.
            r#"{ "endpoints": [], "augmentations": [] }"#,
        ] {
            let document = document(content);
            let expected = serde_json::to_vec(&document.clone().into_detail().unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(encode(&document).unwrap()).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
