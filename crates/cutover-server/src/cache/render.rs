//! A release rendered once for many answers: its JSON body, in three parts so that
//! releases with the same content can share the big middle one, and its entity tag.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::http::HeaderValue;
use cutover_domain::ReleaseId;
use cutover_domain::model::ReleaseSummary;
use cutover_domain::precondition::EntityTag;
use cutover_store::{ReleaseDocument, StoreError, StoreResult};
use http_body::{Frame, SizeHint};

/// The JSON of a release's detail, ready to send, with its strong `ETag`. The body is
/// `head`, `content`, `tail` in that order: `content` is the release's endpoints and
/// augmentations (nearly all of it), which releases cut from the same draft share.
#[derive(Debug)]
pub struct RenderedRelease {
    pub release_id: ReleaseId,
    pub content_hash: String,
    pub head: Bytes,
    pub content: Bytes,
    pub tail: Bytes,
    pub etag: HeaderValue,
}

/// Bookkeeping per kept release, beyond its body.
const OVERHEAD_BYTES: usize = 256;

impl RenderedRelease {
    /// Renders `document`. When `shared` holds the very bytes of this release's
    /// content (another release's, kept already), they are used instead of a copy.
    pub fn render(document: &ReleaseDocument, shared: Option<&Bytes>) -> StoreResult<Self> {
        let (head, content, tail) = encode(document, shared)?;
        Ok(Self {
            release_id: document.summary.release_id.clone(),
            content_hash: document.summary.content_hash.clone(),
            head: Bytes::from(head),
            content,
            tail: Bytes::from(tail),
            etag: entity_tag(&document.summary),
        })
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.head.len() + self.content.len() + self.tail.len()
    }

    /// What keeping it costs, for the cache's budget, leaving out the content (which
    /// the cache counts once per distinct content).
    pub fn weight_without_content(&self) -> usize {
        self.head.len() + self.tail.len() + OVERHEAD_BYTES
    }

    /// The body to send: the three parts, without copying them.
    pub fn body(&self) -> ReleaseBody {
        ReleaseBody {
            parts: [self.head.clone(), self.content.clone(), self.tail.clone()],
            next: 0,
        }
    }
}

/// A release's body as an HTTP body: its parts, sent one frame each, with an exact
/// length (so the answer has a `Content-Length`, and hyper writes the parts with one
/// vectored write rather than joining them).
pub struct ReleaseBody {
    parts: [Bytes; 3],
    /// The first part not sent yet.
    next: usize,
}

impl ReleaseBody {
    fn unsent(&self) -> &[Bytes] {
        &self.parts[self.next..]
    }
}

impl http_body::Body for ReleaseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Empty parts (a release rendered the long way has only a head) are skipped.
        let body = self.get_mut();
        while let Some(part) = body.parts.get_mut(body.next) {
            let part = std::mem::take(part);
            body.next += 1;
            if !part.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(part))));
            }
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.unsent().iter().all(Bytes::is_empty)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.unsent().iter().map(|part| part.len() as u64).sum())
    }
}

fn encoding_failed(err: serde_json::Error) -> StoreError {
    StoreError::internal_from("rendering a release", err)
}

/// The JSON of the release's `ReleaseDetail`, byte for byte what encoding the
/// parsed values gives, but with the stored content copied in (or shared) rather
/// than parsed and encoded again: the summary, then the content's two fields, then
/// `change_log` and `previous_release_id`, the order of `ReleaseDetail`'s fields.
fn encode(
    document: &ReleaseDocument,
    shared: Option<&Bytes>,
) -> StoreResult<(Vec<u8>, Bytes, Vec<u8>)> {
    let fields = document
        .content
        .as_bytes()
        .strip_prefix(b"{")
        .and_then(|inner| inner.strip_suffix(b"}"))
        .filter(|inner| inner.starts_with(b"\"endpoints\":"));
    let Some(fields) = fields else {
        // Not the compact text every store writes: go the long way round.
        let detail = document.clone().into_detail()?;
        let body = serde_json::to_vec(&detail).map_err(encoding_failed)?;
        return Ok((body, Bytes::new(), Vec::new()));
    };
    let mut head = Vec::with_capacity(1024);
    serde_json::to_writer(&mut head, &document.summary).map_err(encoding_failed)?;
    head.pop(); // the summary's closing brace
    head.push(b',');
    let content = match shared {
        // Equal bytes, checked rather than assumed from equal hashes.
        Some(shared) if shared.as_ref() == fields => shared.clone(),
        _ => Bytes::copy_from_slice(fields),
    };
    let mut tail = Vec::with_capacity(document.change_log.len() + 96);
    tail.extend_from_slice(b",\"change_log\":");
    serde_json::to_writer(&mut tail, &document.change_log).map_err(encoding_failed)?;
    tail.extend_from_slice(b",\"previous_release_id\":");
    serde_json::to_writer(&mut tail, &document.previous_release_id).map_err(encoding_failed)?;
    tail.push(b'}');
    Ok((head, content, tail))
}

/// The release's strong tag, as a header value (`EntityTag::of_release`).
fn entity_tag(summary: &ReleaseSummary) -> HeaderValue {
    HeaderValue::from_str(EntityTag::of_release(summary).as_str())
        .expect("letters, digits, a dash and quotes make a header value")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn joined(release: &RenderedRelease) -> String {
        let parts = [&release.head, &release.content, &release.tail];
        String::from_utf8(parts.iter().flat_map(|part| part.to_vec()).collect()).unwrap()
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
            let release = RenderedRelease::render(&document, None).unwrap();
            assert_eq!(joined(&release), String::from_utf8(expected).unwrap());
            assert_eq!(release.body_len(), joined(&release).len());
        }
    }

    #[test]
    fn equal_content_is_shared_and_different_content_is_not() {
        let first = document(r#"{"endpoints":[],"augmentations":[1]}"#);
        let kept = RenderedRelease::render(&first, None).unwrap();
        let same = RenderedRelease::render(&document(&first.content), Some(&kept.content)).unwrap();
        assert_eq!(
            same.content.as_ptr(),
            kept.content.as_ptr(),
            "shared, not copied"
        );

        // Bytes that differ are never shared, whatever the hashes say.
        let other = document(r#"{"endpoints":[],"augmentations":[2]}"#);
        let rendered = RenderedRelease::render(&other, Some(&kept.content)).unwrap();
        assert_ne!(rendered.content.as_ptr(), kept.content.as_ptr());
        assert_eq!(
            &rendered.content[..],
            br#""endpoints":[],"augmentations":[2]"#
        );
    }

    #[tokio::test]
    async fn the_body_sends_every_part_in_order_with_an_exact_length() {
        use http_body_util::BodyExt;
        let document = document(r#"{"endpoints":[],"augmentations":[]}"#);
        let release = RenderedRelease::render(&document, None).unwrap();
        let body = release.body();
        assert_eq!(
            http_body::Body::size_hint(&body).exact(),
            Some(release.body_len() as u64)
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(String::from_utf8(bytes.to_vec()).unwrap(), joined(&release));
    }
}
