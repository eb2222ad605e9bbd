//! Counts per parent: the one rule that decides whether a parent (an org, a
//! workspace, an app) has room for one more child. Stores count the children inside
//! the creating transaction, ask here, and refuse with the answer.

use crate::limits::Limits;

/// What is counted, under which parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    WorkspacesPerOrg,
    AppsPerWorkspace,
    TokensPerOrg,
    ReleasesPerApp,
    EnvironmentsPerWorkspace,
    /// Stored idempotency keys, per org (a platform token's per token).
    IdempotencyKeysPerOrg,
}

impl Counted {
    /// The stable name of the limit, `details.limit_name` of the 409.
    pub fn name(self) -> &'static str {
        match self {
            Self::WorkspacesPerOrg => "workspaces_per_org",
            Self::AppsPerWorkspace => "apps_per_workspace",
            Self::TokensPerOrg => "tokens_per_org",
            Self::ReleasesPerApp => "releases_per_app",
            Self::EnvironmentsPerWorkspace => "environments_per_workspace",
            Self::IdempotencyKeysPerOrg => "idempotency_keys_per_org",
        }
    }

    /// The configured maximum.
    pub fn limit(self, limits: &Limits) -> u32 {
        match self {
            Self::WorkspacesPerOrg => limits.max_workspaces_per_org,
            Self::AppsPerWorkspace => limits.max_apps_per_workspace,
            Self::TokensPerOrg => limits.max_tokens_per_org,
            Self::ReleasesPerApp => limits.max_releases_per_app,
            Self::EnvironmentsPerWorkspace => limits.max_environments_per_workspace,
            Self::IdempotencyKeysPerOrg => limits.max_idempotency_keys_per_org,
        }
    }

    fn phrase(self) -> (&'static str, &'static str) {
        match self {
            Self::WorkspacesPerOrg => ("An org", "workspaces"),
            Self::AppsPerWorkspace => ("A workspace", "apps"),
            Self::TokensPerOrg => ("An org", "live tokens"),
            Self::ReleasesPerApp => ("An app", "releases"),
            Self::EnvironmentsPerWorkspace => ("A workspace", "environments"),
            Self::IdempotencyKeysPerOrg => ("An org", "stored idempotency keys"),
        }
    }
}

/// The refusal when a parent is full: a 409 `CONFLICT` with `reason: limit_reached`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitReached {
    pub counted: Counted,
    pub limit: u32,
}

impl LimitReached {
    /// The stable `details.reason`.
    pub const CODE: &'static str = "limit_reached";

    pub fn message(self) -> String {
        let (parent, children) = self.counted.phrase();
        let hint = match self.counted {
            Counted::ReleasesPerApp => "; delete old releases to make room",
            Counted::TokensPerOrg => "; revoke unused tokens to make room",
            Counted::IdempotencyKeysPerOrg => {
                "; keys make room as they expire (after a day by default), or send the \
                 write without one"
            }
            _ => "",
        };
        format!("{parent} can have at most {} {children}{hint}", self.limit)
    }
}

/// Whether a parent that already has `existing` children may get one more.
pub fn check_room(counted: Counted, existing: u64, limits: &Limits) -> Result<(), LimitReached> {
    let limit = counted.limit(limits);
    if existing >= u64::from(limit) {
        Err(LimitReached { counted, limit })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_child_fits_and_the_next_is_refused() {
        let limits = Limits {
            max_apps_per_workspace: 3,
            ..Limits::default()
        };
        assert_eq!(check_room(Counted::AppsPerWorkspace, 2, &limits), Ok(()));
        let refusal = check_room(Counted::AppsPerWorkspace, 3, &limits).unwrap_err();
        assert_eq!(refusal.limit, 3);
        assert_eq!(refusal.message(), "A workspace can have at most 3 apps");
        assert!(check_room(Counted::AppsPerWorkspace, 30, &limits).is_err());
    }

    #[test]
    fn defaults_hold_what_the_benchmark_creates() {
        // cutover-bench cuts 10,050 releases of one app and 1,000 apps in one workspace.
        let limits = Limits::default();
        assert_eq!(check_room(Counted::ReleasesPerApp, 10_050, &limits), Ok(()));
        assert_eq!(
            check_room(Counted::AppsPerWorkspace, 1_000, &limits),
            Ok(())
        );
        assert_eq!(
            check_room(Counted::WorkspacesPerOrg, 999, &limits),
            Ok(()),
            "a large org's workspaces fit"
        );
    }
}
