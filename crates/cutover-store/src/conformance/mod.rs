//! The conformance suite every [`Store`] backend must pass (the `testing` feature):
//! each method's contract, every refusal with its reason code and message, ordering
//! and paging, and the invariants concurrent writers must keep. The rules themselves
//! live in `cutover_domain` and in this crate; these cases check that a backend
//! applies them, the same way on every database.
//!
//! A backend runs the suite from its integration tests with [`conformance_suite!`],
//! naming an `async fn(Case)` that opens fresh stores with the case's limits, runs
//! it, and cleans up:
//!
//! ```ignore
//! async fn run_case(case: cutover_store::conformance::Case) {
//!     let directory = tempfile::tempdir().unwrap();
//!     let store = open_my_store(directory.path(), case.limits.clone());
//!     case.run(Stores::one(Arc::new(store))).await;
//! }
//! cutover_store::conformance_suite!(run_case);
//! ```
//!
//! A backend whose database several servers may share passes every store it opened on
//! one database to [`Stores::new`]; the concurrency cases spread their calls over them.

pub mod fixtures;

pub mod concurrency;
pub mod deployments;
pub mod draft;
pub mod environments;
pub mod idempotency;
pub mod lifecycle;
pub mod preconditions;
pub mod rehearsals;
pub mod releases;
pub mod tenancy;
pub mod timeline;
pub mod tokens;
pub mod upgrade;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cutover_domain::limits::Limits;

use crate::Store;

/// The stores a case runs against: all open on one fresh database.
#[derive(Clone)]
pub struct Stores {
    stores: Vec<Arc<dyn Store>>,
}

impl Stores {
    /// One store alone on its database.
    pub fn one(store: Arc<dyn Store>) -> Self {
        Self {
            stores: vec![store],
        }
    }

    /// Several stores (as several servers would open them) on one database.
    pub fn new(first: Arc<dyn Store>, others: impl IntoIterator<Item = Arc<dyn Store>>) -> Self {
        let mut stores = vec![first];
        stores.extend(others);
        Self { stores }
    }

    /// The first store, for a case's sequential steps.
    pub fn first(&self) -> &dyn Store {
        self.stores[0].as_ref()
    }

    /// The store the `index`th concurrent caller uses (round robin).
    pub fn for_caller(&self, index: usize) -> Arc<dyn Store> {
        Arc::clone(&self.stores[index % self.stores.len()])
    }
}

type CaseBody = Box<dyn FnOnce(Stores) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// One conformance case: the limits to open its stores with, and its body.
pub struct Case {
    pub limits: Limits,
    body: CaseBody,
}

impl Case {
    /// A case run with the default limits.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Stores) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::with_limits(Limits::default(), body)
    }

    /// A case whose stores must be opened with `limits`.
    pub fn with_limits<F, Fut>(limits: Limits, body: F) -> Self
    where
        F: FnOnce(Stores) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            limits,
            body: Box::new(move |stores| Box::pin(body(stores))),
        }
    }

    /// Runs the case; a failed check panics, as a test does.
    pub async fn run(self, stores: Stores) {
        (self.body)(stores).await;
    }
}

/// Defines one `#[tokio::test]` per conformance case in a module `conformance`,
/// each calling `$runner(case)`. Attributes given before the runner (such as
/// `#[needs_postgres]`) go on every test.
#[macro_export]
macro_rules! conformance_suite {
    ($(#[$gate:meta])* $runner:ident) => {
        $crate::conformance_suite!(@cases [$(#[$gate])*] $runner;
            tenancy::orgs_have_unique_slugs_and_are_listed_in_id_order,
            tenancy::workspaces_have_unique_names_within_their_org,
            tenancy::apps_have_unique_names_within_their_workspace,
            tenancy::apps_update_and_delete_as_their_patch_says,
            tenancy::nothing_is_reachable_through_the_wrong_parents,
            tenancy::quotas_bound_the_children_of_a_parent,
            environments::a_workspace_starts_with_production_staging_and_development,
            environments::environment_slugs_are_unique_within_their_workspace,
            environments::the_default_moves_and_is_never_lost,
            environments::environments_update_and_delete_as_asked,
            environments::each_environment_holds_what_was_deployed_there,
            environments::the_app_board_shows_what_is_deployed_where,
            environments::environments_per_workspace_are_capped,
            environments::concurrent_default_moves_leave_exactly_one_default,
            tokens::server_secrets_are_made_once_and_kept,
            tokens::tokens_are_stored_found_listed_and_revoked,
            tokens::the_first_token_is_made_only_on_an_empty_store,
            tokens::a_bootstrap_secret_leaves_exactly_one_bootstrap_token,
            draft::endpoints_need_an_augmentation_of_their_app,
            draft::endpoint_routes_and_names_are_unique_within_the_app,
            draft::augmentations_have_unique_names_and_cannot_go_while_used,
            draft::draft_lists_page_in_id_order,
            draft::draft_entity_limits_refuse_the_next_entity,
            draft::the_draft_byte_limit_refuses_a_write_past_it,
            draft::draft_has_changes_compares_the_draft_with_the_newest_release,
            releases::a_cut_numbers_links_and_describes_the_release,
            releases::a_release_tag_is_used_once_per_app,
            releases::a_release_keeps_its_content_when_the_draft_changes,
            lifecycle::activation_and_rollback_follow_the_lifecycle_rules,
            lifecycle::a_deployed_release_cannot_be_archived_or_deleted,
            releases::release_lists_page_newest_first_and_hide_archived,
            lifecycle::the_activation_history_is_oldest_first_and_pages,
            deployments::a_deploy_puts_a_release_in_one_environment_and_records_it,
            deployments::a_protected_environment_needs_the_right_to_activate,
            deployments::a_promotion_deploys_what_another_environment_has,
            deployments::release_statuses_follow_where_releases_are_deployed,
            deployments::an_environment_rolls_back_on_its_own,
            deployments::records_are_newest_first_filter_by_environment_and_page,
            deployments::what_is_deployed_keeps_its_environment_and_its_app,
            preconditions::a_failed_precondition_refuses_and_changes_nothing,
            preconditions::of_concurrent_deploys_expecting_one_release_exactly_one_goes_through,
            preconditions::a_draft_write_with_a_stale_tag_changes_nothing,
            rehearsals::a_rehearsed_write_reports_what_the_real_one_does_and_keeps_nothing,
            rehearsals::a_rehearsed_cut_leaves_its_number_to_the_real_one,
            rehearsals::a_rehearsed_refusal_is_the_real_calls,
            timeline::every_write_is_an_event_newest_first,
            timeline::timeline_pages_hold_every_event_once,
            timeline::a_refused_write_leaves_no_event_and_deleted_releases_keep_theirs,
            idempotency::a_repeat_gets_the_first_answer_and_nothing_runs_twice,
            idempotency::a_released_expired_or_abandoned_key_runs_again,
            idempotency::expired_keys_are_swept_in_batches_and_live_ones_kept,
            idempotency::an_org_stores_at_most_its_limit_of_keys,
            idempotency::of_concurrent_claims_of_one_key_exactly_one_runs,
            idempotency::of_concurrent_new_keys_at_the_limit_exactly_the_room_goes_in,
            concurrency::concurrent_changes_to_one_environment_form_one_chain,
            concurrency::concurrent_activations_leave_one_active_and_a_chain,
            concurrency::concurrent_cuts_with_one_tag_let_exactly_one_through,
            concurrency::concurrent_cuts_get_consecutive_numbers_and_a_chain,
            concurrency::concurrent_endpoint_creates_never_pass_the_limit,
        );
    };
    (@cases $gates:tt $runner:ident; $($module:ident :: $case:ident),* $(,)?) => {
        /// The store conformance suite (`cutover_store::conformance`).
        mod conformance {
            use super::*;
            $($crate::conformance_suite!(@case $gates $runner $module $case);)*
        }
    };
    (@case [$($gate:tt)*] $runner:ident $module:ident $case:ident) => {
        $($gate)*
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            $runner($crate::conformance::$module::$case()).await;
        }
    };
}

#[cfg(test)]
mod tests {
    /// Every case a module defines is in the suite's list, so no case is written and
    /// then never run.
    #[test]
    fn every_case_is_listed_in_the_suite() {
        let listing = include_str!("mod.rs");
        let modules = [
            ("tenancy", include_str!("tenancy.rs")),
            ("environments", include_str!("environments.rs")),
            ("tokens", include_str!("tokens.rs")),
            ("draft", include_str!("draft.rs")),
            ("releases", include_str!("releases.rs")),
            ("lifecycle", include_str!("lifecycle.rs")),
            ("deployments", include_str!("deployments.rs")),
            ("preconditions", include_str!("preconditions.rs")),
            ("rehearsals", include_str!("rehearsals.rs")),
            ("timeline", include_str!("timeline.rs")),
            ("idempotency", include_str!("idempotency.rs")),
            ("concurrency", include_str!("concurrency.rs")),
        ];
        let mut cases = Vec::new();
        for (module, source) in modules {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub fn ") {
                    let name = rest.split('(').next().unwrap_or_default();
                    cases.push(format!("{module}::{name},"));
                }
            }
        }
        let listed: Vec<&str> = listing
            .lines()
            .map(str::trim)
            .filter(|line| {
                modules
                    .iter()
                    .any(|(module, _)| line.starts_with(&format!("{module}::")))
            })
            .collect();
        for case in &cases {
            assert!(
                listed.contains(&case.as_str()),
                "{case} is not in conformance_suite!"
            );
        }
        assert_eq!(listed.len(), cases.len(), "each case is listed once");
    }
}
