//! The list answers (`{total, has_more, next_cursor, <items>}`), one struct per list:
//! handlers answer them and the document's schemas are derived from them, so the two
//! cannot differ; and the schemas of the probes' answers.

use cutover_domain::ReleaseId;
use cutover_domain::deployment::Deployment;
use cutover_domain::environment::{BoardEntry, Environment};
use cutover_domain::model::{
    Activation, App, Augmentation, Endpoint, Org, ReleaseSummary, Workspace,
};
use cutover_domain::timeline::TimelineEvent;
use cutover_domain::token::Token;
use serde::Serialize;
use utoipa::ToSchema;

/// A list answer made from one page of items.
pub trait ListAnswer: Serialize {
    type Item;
    /// The list's name: the key its items are under, and the name its cursors carry.
    const LIST: &'static str;
    fn from_page(items: Vec<Self::Item>, total: u64, next_cursor: Option<String>) -> Self;
}

/// Declares the answer of one list, with its items under `$field`.
macro_rules! list_schema {
    ($(#[$doc:meta])* $name:ident { $field:ident: $item:ty }) => {
        list_schema!(@struct $(#[$doc])* $name { $field: $item });

        impl ListAnswer for $name {
            type Item = $item;
            const LIST: &'static str = stringify!($field);

            fn from_page(items: Vec<$item>, total: u64, next_cursor: Option<String>) -> Self {
                Self {
                    total,
                    has_more: next_cursor.is_some(),
                    next_cursor,
                    $field: items,
                }
            }
        }
    };
    (@struct $(#[$doc:meta])* $name:ident { $field:ident: $item:ty $(, $extra:ident: $extra_ty:ty)* }) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
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
list_schema!(/// A page of a workspace's environments, oldest first.
    EnvironmentList { environments: Environment });
list_schema!(/// A page of an app's board: the workspace's environments, oldest first, each
    /// with what of the app is deployed there.
    AppBoard { environments: BoardEntry });
list_schema!(/// A page of apps, oldest first.
    AppList { apps: App });
list_schema!(/// A page of the draft's endpoints, oldest first.
    EndpointList { endpoints: Endpoint });
list_schema!(/// A page of the draft's augmentations, oldest first.
    AugmentationList { augmentations: Augmentation });
list_schema!(@struct
    /// A page of releases, newest (highest number) first; `active_release_id` names
    /// the app's active release (null when none).
    ReleaseList { releases: ReleaseSummary, active_release_id: Option<ReleaseId> });
list_schema!(/// A page of the app's activation history, oldest first.
    ActivationList { activations: Activation });
list_schema!(/// A page of the app's deployment records, newest first.
    DeploymentList { deployments: Deployment });

/// A page of the app's timeline, newest first. It has no `total`: counting a long
/// history at every read would cost more than the page.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineList {
    pub events: Vec<TimelineEvent>,
    /// Whether an older page follows.
    pub has_more: bool,
    /// The `cursor` of the next (older) page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl TimelineList {
    /// The list's name, as its cursors carry it.
    pub const LIST: &'static str = "events";
}

/// The answer of `/healthz` and `/readyz`.
#[derive(ToSchema)]
pub struct ProbeStatus {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    #[schema(examples("ok"))]
    pub status: String,
}

/// The answer of a delete or revoke: an empty object (nothing else, so a delete's
/// dry-run answer is told from it).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({})))]
pub struct Deleted {}
