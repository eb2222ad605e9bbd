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
            .map_err(|err| StoreError::Internal(format!("encoding a release's content: {err}")))
    }

    pub fn from_text(text: &str) -> StoreResult<Self> {
        serde_json::from_str(text).map_err(|err| {
            StoreError::Internal(format!("a stored release content is unreadable: {err}"))
        })
    }
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
