//! Size limits that protect the service, configurable at start with safe defaults.

/// Every limit the server enforces on input. `Default` gives SPEC's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_endpoints_per_app: u32,
    pub max_augmentations_per_app: u32,
    pub max_string_chars: usize,
    pub max_description_chars: usize,

    // How many children one parent may have (see `quota`): they bound what one
    // caller can pile up, far above what a real platform holds.
    pub max_workspaces_per_org: u32,
    pub max_apps_per_workspace: u32,
    /// Live tokens (neither revoked nor expired) per org.
    pub max_tokens_per_org: u32,
    pub max_releases_per_app: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_endpoints_per_app: 1_000,
            max_augmentations_per_app: 1_000,
            max_string_chars: 256,
            max_description_chars: 4_000,

            max_workspaces_per_org: 1_000,
            max_apps_per_workspace: 10_000,
            max_tokens_per_org: 10_000,
            max_releases_per_app: 100_000,
        }
    }
}
