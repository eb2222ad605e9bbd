//! The document's links: which answer feeds which next call, and with what. They
//! chain the tenancy tree (org → workspace → environment, and workspace → app →
//! augmentation → endpoint, and app → release) and a release's life (create → get →
//! activate → rollback → archive → delete; deploy → roll an environment back), so
//! clients and stateful testers (schemathesis) can follow ids from one answer into
//! the next request. One table, applied by [`add`] when the document is
//! finished; every operation is named by the permission table's `Operation`, so a link
//! cannot name an operation that does not exist.

use cutover_domain::permission::Operation::{self, *};
use serde_json::{Value, json};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};

use super::operations_mut;

/// Where a parameter's value comes from.
#[derive(Clone, Copy)]
enum From {
    /// The same path parameter of the request that was answered.
    Request,
    /// A JSON pointer into the answer's body.
    Body(&'static str),
}

/// One link: the answer (`source`, `status`) that feeds the `target` operation, and
/// each path parameter of the target with where its value comes from.
struct LinkSpec {
    source: Operation,
    status: &'static str,
    name: &'static str,
    target: Operation,
    parameters: &'static [(&'static str, From)],
    /// Body fields of the target taken from the answer (merged into its body).
    body: &'static [(&'static str, &'static str)],
    description: &'static str,
}

const ORG: (&str, From) = ("org_id", From::Request);
const WS: (&str, From) = ("workspace_id", From::Request);
const APP: (&str, From) = ("app_id", From::Request);

macro_rules! link {
    ($source:ident $status:literal $name:literal -> $target:ident
        [$($param:expr),* $(,)?] $(body [$($field:literal = $pointer:literal),*])?, $description:literal) => {
        LinkSpec {
            source: $source,
            status: $status,
            name: $name,
            target: $target,
            parameters: &[$($param),*],
            body: &[$($(($field, $pointer)),*)?],
            description: $description,
        }
    };
}

const NEW_ORG: (&str, From) = ("org_id", From::Body("/org_id"));
const NEW_WS: (&str, From) = ("workspace_id", From::Body("/workspace_id"));
const NEW_APP: (&str, From) = ("app_id", From::Body("/app_id"));
const NEW_AUG: (&str, From) = ("augmentation_id", From::Body("/augmentation_id"));
const NEW_EP: (&str, From) = ("endpoint_id", From::Body("/endpoint_id"));
const NEW_ENV: (&str, From) = ("environment", From::Body("/environment/environment_id"));
const NEW_DEP: (&str, From) = ("deployment_id", From::Body("/deployment_id"));
const DEPLOYED_ENV: (&str, From) = ("environment", From::Body("/environment_id"));
const THIS_RELEASE: (&str, From) = ("release_id", From::Body("/release_id"));
const ACTIVATED: (&str, From) = ("release_id", From::Body("/release/release_id"));
const REPLACED: (&str, From) = ("release_id", From::Body("/previous_active_release_id"));

/// Every link of the document.
const LINKS: &[LinkSpec] = &[
    // An org, and what lives in it.
    link!(OrgsCreate "201" "GetOrg" -> OrgsGet [NEW_ORG], "Read the new org"),
    link!(OrgsCreate "201" "CreateWorkspace" -> WorkspacesCreate [NEW_ORG],
        "Create a workspace in the new org"),
    link!(OrgsCreate "201" "ListWorkspaces" -> WorkspacesList [NEW_ORG],
        "List the new org's workspaces"),
    link!(OrgsCreate "201" "CreateToken" -> TokensCreate [NEW_ORG],
        "Mint a token of the new org"),
    link!(OrgsCreate "201" "ListTokens" -> TokensList [NEW_ORG], "List the new org's tokens"),
    link!(TokensCreate "201" "RevokeToken" -> TokensRevoke
        [ORG, ("token_id", From::Body("/token_id"))], "Revoke the new token"),
    // A workspace's environments.
    link!(WorkspacesCreate "201" "ListEnvironments" -> EnvironmentsList [ORG, NEW_WS],
        "List the new workspace's environments"),
    link!(EnvironmentsCreate "201" "GetEnvironment" -> EnvironmentsGet [ORG, WS, NEW_ENV],
        "Read the new environment"),
    link!(EnvironmentsCreate "201" "UpdateEnvironment" -> EnvironmentsUpdate [ORG, WS, NEW_ENV],
        "Change the new environment"),
    link!(EnvironmentsCreate "201" "DeleteEnvironment" -> EnvironmentsDelete [ORG, WS, NEW_ENV],
        "Delete the new environment"),
    // A workspace and its apps.
    link!(WorkspacesCreate "201" "GetWorkspace" -> WorkspacesGet [ORG, NEW_WS],
        "Read the new workspace"),
    link!(WorkspacesCreate "201" "CreateApp" -> AppsCreate [ORG, NEW_WS],
        "Create an app in the new workspace"),
    link!(WorkspacesCreate "201" "ListApps" -> AppsList [ORG, NEW_WS],
        "List the new workspace's apps"),
    // An app: its draft and its releases.
    link!(AppsCreate "201" "GetApp" -> AppsGet [ORG, WS, NEW_APP], "Read the new app"),
    link!(AppsCreate "201" "UpdateApp" -> AppsUpdate [ORG, WS, NEW_APP], "Change the new app"),
    link!(AppsCreate "201" "DeleteApp" -> AppsDelete [ORG, WS, NEW_APP], "Delete the new app"),
    link!(AppsCreate "201" "CreateAugmentation" -> AugmentationsCreate [ORG, WS, NEW_APP],
        "Add an augmentation to the new app's draft"),
    link!(AppsCreate "201" "ListAugmentations" -> AugmentationsList [ORG, WS, NEW_APP],
        "List the new app's augmentations"),
    link!(AppsCreate "201" "ListEndpoints" -> EndpointsList [ORG, WS, NEW_APP],
        "List the new app's endpoints"),
    link!(AppsCreate "201" "CreateRelease" -> ReleasesCreate [ORG, WS, NEW_APP],
        "Cut a release of the new app"),
    link!(AppsCreate "201" "ListReleases" -> ReleasesList [ORG, WS, NEW_APP],
        "List the new app's releases"),
    link!(AppsCreate "201" "ListActivations" -> ActivationsList [ORG, WS, NEW_APP],
        "Read the new app's activation history"),
    link!(AppsCreate "201" "ListAppEnvironments" -> AppEnvironmentsList [ORG, WS, NEW_APP],
        "Read the new app's board: what is deployed in each environment"),
    // The draft: an augmentation, then an endpoint that uses it.
    link!(AugmentationsCreate "201" "GetAugmentation" -> AugmentationsGet [ORG, WS, APP, NEW_AUG],
        "Read the new augmentation"),
    link!(AugmentationsCreate "201" "UpdateAugmentation" -> AugmentationsUpdate
        [ORG, WS, APP, NEW_AUG], "Change the new augmentation"),
    link!(AugmentationsCreate "201" "DeleteAugmentation" -> AugmentationsDelete
        [ORG, WS, APP, NEW_AUG], "Delete the new augmentation"),
    link!(AugmentationsCreate "201" "CreateEndpoint" -> EndpointsCreate [ORG, WS, APP]
        body ["augmentation_id" = "/augmentation_id"],
        "Add an endpoint served by the new augmentation"),
    link!(EndpointsCreate "201" "GetEndpoint" -> EndpointsGet [ORG, WS, APP, NEW_EP],
        "Read the new endpoint"),
    link!(EndpointsCreate "201" "UpdateEndpoint" -> EndpointsUpdate [ORG, WS, APP, NEW_EP],
        "Change the new endpoint"),
    link!(EndpointsCreate "201" "DeleteEndpoint" -> EndpointsDelete [ORG, WS, APP, NEW_EP],
        "Delete the new endpoint"),
    link!(EndpointsCreate "201" "CreateRelease" -> ReleasesCreate [ORG, WS, APP],
        "Cut a release that includes the new endpoint"),
    // A release's life: create → get → activate → rollback → archive → delete.
    link!(ReleasesCreate "201" "GetRelease" -> ReleasesGet [ORG, WS, APP, THIS_RELEASE],
        "Read the new release"),
    link!(ReleasesCreate "201" "ActivateRelease" -> ReleasesActivate
        [ORG, WS, APP, THIS_RELEASE], "Make the new release live"),
    link!(ReleasesCreate "201" "RollbackRelease" -> ReleasesRollback
        [ORG, WS, APP, THIS_RELEASE], "Roll back to the new release"),
    link!(ReleasesCreate "201" "ArchiveRelease" -> ReleasesArchive
        [ORG, WS, APP, THIS_RELEASE], "Archive the new release"),
    link!(ReleasesCreate "201" "DeleteRelease" -> ReleasesDelete [ORG, WS, APP, THIS_RELEASE],
        "Delete the new release"),
    link!(ReleasesGet "200" "ActivateRelease" -> ReleasesActivate [ORG, WS, APP, THIS_RELEASE],
        "Make this release live"),
    link!(ReleasesGet "200" "ArchiveRelease" -> ReleasesArchive [ORG, WS, APP, THIS_RELEASE],
        "Archive this release"),
    link!(ReleasesActivate "200" "GetActiveRelease" -> ReleasesGetActive [ORG, WS, APP],
        "Read what is live now"),
    link!(ReleasesActivate "200" "RollbackToReplaced" -> ReleasesRollback
        [ORG, WS, APP, REPLACED], "Undo: roll back to the release this one replaced"),
    link!(ReleasesActivate "200" "ArchiveReplaced" -> ReleasesArchive [ORG, WS, APP, REPLACED],
        "Archive the release this one replaced"),
    link!(ReleasesActivate "200" "ListActivations" -> ActivationsList [ORG, WS, APP],
        "Read the activation history"),
    link!(ReleasesRollback "200" "GetActiveRelease" -> ReleasesGetActive [ORG, WS, APP],
        "Read what is live now"),
    link!(ReleasesRollback "200" "ArchiveReplaced" -> ReleasesArchive [ORG, WS, APP, REPLACED],
        "Archive the release rolled back from"),
    link!(ReleasesRollback "200" "ActivateAgain" -> ReleasesActivate [ORG, WS, APP, REPLACED],
        "Roll forward again to the release rolled back from"),
    link!(ReleasesRollback "200" "GetRelease" -> ReleasesGet [ORG, WS, APP, ACTIVATED],
        "Read the release now live"),
    link!(ReleasesArchive "200" "DeleteRelease" -> ReleasesDelete [ORG, WS, APP, THIS_RELEASE],
        "Delete the archived release"),
    link!(ReleasesArchive "200" "ActivateRelease" -> ReleasesActivate
        [ORG, WS, APP, THIS_RELEASE], "Bring the archived release back"),
    // Deployments: a release goes to an environment, which can be rolled back.
    link!(ReleasesCreate "201" "DeployRelease" -> DeploymentsCreate [ORG, WS, APP]
        body ["release_id" = "/release_id"], "Deploy the new release to an environment"),
    link!(AppsCreate "201" "ListDeployments" -> DeploymentsList [ORG, WS, NEW_APP],
        "Read the new app's deployment records"),
    link!(DeploymentsCreate "201" "GetDeployment" -> DeploymentsGet [ORG, WS, APP, NEW_DEP],
        "Read the new record"),
    link!(DeploymentsCreate "201" "ListDeployments" -> DeploymentsList [ORG, WS, APP],
        "Read the app's deployment records"),
    link!(DeploymentsCreate "201" "RollbackEnvironment" -> EnvironmentRollback
        [ORG, WS, APP, DEPLOYED_ENV], "Undo: roll the environment back"),
    link!(EnvironmentRollback "201" "GetDeployment" -> DeploymentsGet
        [ORG, WS, APP, NEW_DEP], "Read the rollback's record"),
    // The timeline: every write above is an event on it.
    link!(AppsCreate "201" "ListTimeline" -> TimelineList [ORG, WS, NEW_APP],
        "Read the new app's timeline"),
    link!(DeploymentsCreate "201" "ListTimeline" -> TimelineList [ORG, WS, APP],
        "Read the timeline the deployment is on"),
];

fn expression(name: &str, from: From) -> String {
    match from {
        From::Request => format!("$request.path.{name}"),
        From::Body(pointer) => format!("$response.body#{pointer}"),
    }
}

/// Adds the table's links to the answers they belong to.
///
/// Panics if a link's source answer is not in the document: the table and the route
/// registrations must agree (the document is built at start and in tests).
pub fn add(api: &mut OpenApi) {
    for spec in LINKS {
        let mut link = LinkBuilder::new()
            .operation_id(spec.target.as_str())
            .description(spec.description);
        for (name, from) in spec.parameters {
            link = link.parameter(*name, expression(name, *from));
        }
        if !spec.body.is_empty() {
            let body: serde_json::Map<String, Value> = spec
                .body
                .iter()
                .map(|(field, pointer)| {
                    (
                        field.to_string(),
                        json!(format!("$response.body#{pointer}")),
                    )
                })
                .collect();
            link = link.request_body(Some(Value::Object(body)));
        }
        let response = api
            .paths
            .paths
            .values_mut()
            .flat_map(operations_mut)
            .map(|(_, operation)| operation)
            .find(|operation| operation.operation_id.as_deref() == Some(spec.source.as_str()))
            .and_then(|operation| operation.responses.responses.get_mut(spec.status));
        match response {
            Some(RefOr::T(response)) => {
                response
                    .links
                    .insert(spec.name.to_owned(), RefOr::T(link.build()));
            }
            _ => panic!(
                "link {}: {} has no inline {} answer",
                spec.name,
                spec.source.as_str(),
                spec.status
            ),
        }
    }
}
