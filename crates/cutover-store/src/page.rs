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

impl<T> Page<T> {
    /// A page from up to `limit + 1` items a store fetched (it asks for one more than
    /// the page holds): the extra one only says that another page exists, and the
    /// next page starts after the key of the last item kept.
    pub fn from_over_fetch(
        mut items: Vec<T>,
        request: &PageRequest,
        total: u64,
        key: impl Fn(&T) -> String,
    ) -> Self {
        let limit = request.limit as usize;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(&key)
        } else {
            None
        };
        Self {
            items,
            total,
            next_after,
        }
    }

    /// The same page with each item turned into another.
    pub fn map<U>(self, turn: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(turn).collect(),
            total: self.total,
            next_after: self.next_after,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_over_fetched_item_only_says_another_page_exists() {
        let request = PageRequest {
            limit: 2,
            after: None,
        };
        let page = Page::from_over_fetch(vec![1, 2, 3], &request, 9, |n| n.to_string());
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next_after.as_deref(), Some("2"));
        assert_eq!(page.total, 9);
        let last = Page::from_over_fetch(vec![1, 2], &request, 2, |n| n.to_string());
        assert_eq!(last.next_after, None);
    }
}
