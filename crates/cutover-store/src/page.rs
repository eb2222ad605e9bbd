//! Keyset pagination: a page is asked for by "items after this key", never by offset,
//! so the cost of a page does not depend on how deep it is.

use cutover_domain::ReleaseId;
use cutover_domain::model::ReleaseSummary;

/// A page of an id-ordered list: up to `limit` items whose key sorts after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Every item of the list, across all pages.
    pub total: u64,
    /// The key to ask for the next page with, `None` on the last page.
    pub next_after: Option<String>,
}

/// A page of an app's releases, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseQuery {
    pub limit: u32,
    /// Only releases with a lower number than this.
    pub before_number: Option<i64>,
    pub include_archived: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReleasePage {
    pub releases: Vec<ReleaseSummary>,
    pub total: u64,
    /// The `before_number` of the next page, `None` on the last page.
    pub next_before_number: Option<i64>,
    pub active_release_id: Option<ReleaseId>,
}
