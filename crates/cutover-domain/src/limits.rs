//! Size limits that protect the service, configurable at start with safe defaults.

/// Every limit the server enforces on input. `Default` gives the documented defaults
/// (docs/LIMITS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_endpoints_per_app: u32,
    pub max_augmentations_per_app: u32,
    pub max_string_chars: usize,
    pub max_description_chars: usize,
    /// How deeply a free-form JSON value a client sends (a step's `config`, an
    /// endpoint's `input_schema`, an app's `parameters`) may nest. Kept well below
    /// what the JSON parser accepts (128) so that every release that embeds the value
    /// a few levels deeper can always be read back.
    pub max_json_depth: usize,
    /// The most bytes of stored entities (endpoints and augmentations, as JSON) one
    /// app's draft may hold.
    pub max_draft_bytes: u64,
    // How many children one parent may have (see `quota`): they bound what one
    // caller can pile up, far above what a real platform holds.
    pub max_workspaces_per_org: u32,
    pub max_apps_per_workspace: u32,
    /// Live tokens (neither revoked nor expired) per org.
    pub max_tokens_per_org: u32,
    pub max_releases_per_app: u32,
    /// Environments per workspace, the three it starts with included.
    pub max_environments_per_workspace: u32,
    /// Idempotency keys an org (or a platform token) has stored, answers included,
    /// until they expire and are swept.
    pub max_idempotency_keys_per_org: u32,
    /// Stages in one augmentation.
    pub max_stages_per_augmentation: usize,
    /// Steps in one stage of an augmentation.
    pub max_steps_per_stage: usize,
    /// Tags on one augmentation.
    pub max_tags_per_augmentation: usize,
}

/// The deepest `max_json_depth` an operator may configure: a release embeds a step's
/// `config` seven levels down, and the JSON parser stops at 128.
pub const MAX_JSON_DEPTH_CEILING: usize = 100;

/// A draft write that would take the app's draft past `max_draft_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftTooLarge {
    pub limit_bytes: u64,
    pub would_be_bytes: u64,
}

/// Whether a draft of `current` bytes may replace `removed` bytes with `added`.
pub fn check_draft_bytes(
    current: u64,
    removed: u64,
    added: u64,
    limit: u64,
) -> Result<u64, DraftTooLarge> {
    let would_be = current.saturating_sub(removed).saturating_add(added);
    // Shrinking an oversized draft (after the limit was lowered) is always allowed.
    if would_be > limit && added > removed {
        return Err(DraftTooLarge {
            limit_bytes: limit,
            would_be_bytes: would_be,
        });
    }
    Ok(would_be)
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_endpoints_per_app: 1_000,
            max_augmentations_per_app: 1_000,
            max_string_chars: 256,
            max_description_chars: 4_000,
            max_json_depth: 32,
            max_draft_bytes: 16 * 1024 * 1024,
            max_workspaces_per_org: 1_000,
            max_apps_per_workspace: 10_000,
            max_tokens_per_org: 10_000,
            max_releases_per_app: 100_000,
            max_environments_per_workspace: 50,
            max_idempotency_keys_per_org: 100_000,
            max_stages_per_augmentation: 50,
            max_steps_per_stage: 50,
            max_tags_per_augmentation: 50,
        }
    }
}

/// How deeply `value` nests: 0 for a scalar, 1 for `{}` or `[1]`, 2 for `{"a": []}`.
/// Walks with a stack of its own, so a deep value cannot exhaust the thread's.
pub fn json_depth(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    let mut deepest = 0;
    let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(map) => Box::new(map.values()),
            Value::Array(items) => Box::new(items.iter()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// [`json_depth`] of `{…}` with these entries, without building the object.
pub fn json_object_depth(map: &serde_json::Map<String, serde_json::Value>) -> usize {
    1 + map.values().map(json_depth).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!({})), 1);
        assert_eq!(json_depth(&json!([1, 2])), 1);
        assert_eq!(json_depth(&json!({"a": [], "b": {"c": [{"d": 1}]}})), 4);
        let map = json!({"a": [], "b": {"c": [{"d": 1}]}});
        assert_eq!(json_object_depth(map.as_object().unwrap()), 4);
        assert_eq!(json_object_depth(&serde_json::Map::new()), 1);
    }

    #[test]
    fn a_draft_may_grow_to_its_limit_and_always_shrink() {
        assert_eq!(check_draft_bytes(90, 0, 10, 100), Ok(100));
        assert_eq!(
            check_draft_bytes(90, 0, 11, 100),
            Err(DraftTooLarge {
                limit_bytes: 100,
                would_be_bytes: 101
            })
        );
        assert_eq!(check_draft_bytes(90, 20, 25, 100), Ok(95));
        // Over the limit already (it was lowered): a write that shrinks passes.
        assert_eq!(check_draft_bytes(150, 30, 10, 100), Ok(130));
        assert!(check_draft_bytes(150, 10, 30, 100).is_err());
    }
}
