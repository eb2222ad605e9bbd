//! Schemas of the list envelopes (`{total, has_more, next_cursor, <items>}`, built by
//! `http::pagination::list_envelope`) and of the probes' answers.

use cutover_domain::ReleaseId;
use cutover_domain::model::{
    Activation, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::token::Token;
use utoipa::ToSchema;

/// Declares the envelope of one list, with its items under `$field`.
macro_rules! list_schema {
    ($(#[$doc:meta])* $name:ident { $field:ident: $item:ty $(, $extra:ident: $extra_ty:ty)* }) => {
        $(#[$doc])*
        #[derive(ToSchema)]
        pub struct $name {
            /// How many items match, over all pages.
            pub total: u64,
            /// Whether another page follows.
            pub has_more: bool,
            /// The `cursor` of the next page; null on the last page.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
            pub $field: Vec<$item>,
            $(#[schema(required = true)] pub $extra: $extra_ty,)*
        }
    };
}

list_schema!(/// A page of orgs, oldest first.
    OrgList { orgs: Org });
list_schema!(/// A page of the org's tokens (never their secrets), oldest first.
    TokenList { tokens: Token });
list_schema!(/// A page of workspaces, oldest first.
    WorkspaceList { workspaces: Workspace });
list_schema!(/// A page of apps, oldest first.
    AppList { apps: App });
list_schema!(/// A page of the draft's endpoints, oldest first.
    EndpointList { endpoints: Endpoint });
list_schema!(/// A page of the draft's augmentations, oldest first.
    AugmentationList { augmentations: Augmentation });
list_schema!(/// A page of releases, newest (highest number) first; `active_release_id` names
    /// the app's active release (null when none).
    ReleaseList { releases: ReleaseSummary, active_release_id: Option<ReleaseId> });
list_schema!(/// A page of the app's activation history, oldest first.
    ActivationList { activations: Activation });

/// The answer of `/healthz` and `/readyz`.
#[derive(ToSchema)]
pub struct ProbeStatus {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    #[schema(examples("ok"))]
    pub status: String,
}

/// The answer of a delete or revoke: an empty object.
#[derive(ToSchema)]
#[schema(examples(json!({})))]
pub struct Deleted {}
