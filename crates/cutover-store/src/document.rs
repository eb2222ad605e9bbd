//! [`ReleaseDocument`]: a release as a store keeps it, with its immutable content
//! still in the JSON text it was stored as, so it can be answered without being
//! parsed and encoded again.

use cutover_domain::ReleaseId;
use cutover_domain::model::{Augmentation, Endpoint, ReleaseDetail, ReleaseSummary};
use serde::{Deserialize, Serialize};

use crate::{StoreError, StoreResult};

/// A release read for answering. `content` is the snapshot exactly as stored:
/// `{"endpoints":[…],"augmentations":[…]}`, compact, written by `serde_json` from the
/// wire models ([`StoredContent`]), so it is already the JSON those two fields of a
/// [`ReleaseDetail`] would encode to.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseDocument {
    pub summary: ReleaseSummary,
    pub change_log: String,
    pub previous_release_id: Option<ReleaseId>,
    pub content: String,
}

/// How every store writes a release's content: the text of [`ReleaseDocument::content`].
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredContent {
    pub endpoints: Vec<Endpoint>,
    pub augmentations: Vec<Augmentation>,
}

impl StoredContent {
    /// The stored text of this content.
    pub fn to_text(&self) -> StoreResult<String> {
        serde_json::to_string(self)
            .map_err(|err| StoreError::internal_from("encoding a release's content", err))
    }

    pub fn from_text(text: &str) -> StoreResult<Self> {
        crate::decode_stored(text, "release content")
    }
}

/// The text of a content from its entities' own compact encodings (each what
/// `serde_json` writes for that [`Endpoint`] or [`Augmentation`]), ordered by id: the
/// same text [`StoredContent::to_text`] gives for those entities, built without
/// decoding them.
pub fn content_text<E: AsRef<str>, A: AsRef<str>>(endpoints: &[E], augmentations: &[A]) -> String {
    fn join<T: AsRef<str>>(out: &mut String, items: &[T]) {
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(item.as_ref());
        }
    }
    let size = endpoints
        .iter()
        .map(|e| e.as_ref().len() + 1)
        .sum::<usize>()
        + augmentations
            .iter()
            .map(|a| a.as_ref().len() + 1)
            .sum::<usize>();
    let mut out = String::with_capacity(size + 40);
    out.push_str("{\"endpoints\":[");
    join(&mut out, endpoints);
    out.push_str("],\"augmentations\":[");
    join(&mut out, augmentations);
    out.push_str("]}");
    out
}

impl ReleaseDocument {
    /// The release as values, its content parsed.
    pub fn into_detail(self) -> StoreResult<ReleaseDetail> {
        let content = StoredContent::from_text(&self.content)?;
        Ok(ReleaseDetail {
            summary: self.summary,
            endpoints: content.endpoints,
            augmentations: content.augmentations,
            change_log: self.change_log,
            previous_release_id: self.previous_release_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_texts_are_the_encoded_content() {
        let empty: [&str; 0] = [];
        assert_eq!(
            content_text(&empty, &empty),
            StoredContent {
                endpoints: vec![],
                augmentations: vec![]
            }
            .to_text()
            .unwrap()
        );
        assert_eq!(
            content_text(&["{\"a\":1}", "{\"b\":2}"], &["{}"]),
            r#"{"endpoints":[{"a":1},{"b":2}],"augmentations":[{}]}"#
        );
    }
}
