//! Size limits that protect the service, configurable at start with safe defaults.

/// Every limit the server enforces on input. `Default` gives SPEC's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_endpoints_per_app: u32,
    pub max_augmentations_per_app: u32,
    pub max_string_chars: usize,
    pub max_description_chars: usize,
    /// Stages in one augmentation.
    pub max_stages_per_augmentation: usize,
    /// Steps in one stage of an augmentation.
    pub max_steps_per_stage: usize,
    /// Tags on one augmentation.
    pub max_tags_per_augmentation: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_endpoints_per_app: 1_000,
            max_augmentations_per_app: 1_000,
            max_string_chars: 256,
            max_description_chars: 4_000,
            max_stages_per_augmentation: 50,
            max_steps_per_stage: 50,
            max_tags_per_augmentation: 50,
        }
    }
}
