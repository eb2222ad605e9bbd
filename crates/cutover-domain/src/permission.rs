//! Permissions, role bundles and the operation table: which permission each API
//! operation needs. The server authorizes through this table and the authorization
//! tests are generated from it, so the two cannot disagree.

use std::collections::BTreeSet;
use std::fmt;

use crate::values::Violation;

/// One `resource:action` permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    OrgsRead,
    OrgsWrite,
    WorkspacesRead,
    WorkspacesWrite,
    AppsRead,
    AppsWrite,
    ReleasesRead,
    ReleasesCreate,
    ReleasesDeploy,
    ReleasesActivate,
    ReleasesArchive,
    ReleasesDelete,
    TokensManage,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Self::OrgsRead,
        Self::OrgsWrite,
        Self::WorkspacesRead,
        Self::WorkspacesWrite,
        Self::AppsRead,
        Self::AppsWrite,
        Self::ReleasesRead,
        Self::ReleasesCreate,
        Self::ReleasesDeploy,
        Self::ReleasesActivate,
        Self::ReleasesArchive,
        Self::ReleasesDelete,
        Self::TokensManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgsRead => "orgs:read",
            Self::OrgsWrite => "orgs:write",
            Self::WorkspacesRead => "workspaces:read",
            Self::WorkspacesWrite => "workspaces:write",
            Self::AppsRead => "apps:read",
            Self::AppsWrite => "apps:write",
            Self::ReleasesRead => "releases:read",
            Self::ReleasesCreate => "releases:create",
            Self::ReleasesDeploy => "releases:deploy",
            Self::ReleasesActivate => "releases:activate",
            Self::ReleasesArchive => "releases:archive",
            Self::ReleasesDelete => "releases:delete",
            Self::TokensManage => "tokens:manage",
        }
    }

    pub fn resource(self) -> &'static str {
        self.as_str().split(':').next().unwrap_or_default()
    }

    pub fn is_read(self) -> bool {
        self.as_str().ends_with(":read")
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every word a token's permission list may hold: the permissions, `resource:*`
/// wildcards and `*`.
pub fn grant_words() -> Vec<String> {
    let mut words: Vec<String> = vec!["*".to_owned()];
    let mut resources: Vec<&str> = Permission::ALL.iter().map(|p| p.resource()).collect();
    resources.dedup();
    words.extend(resources.iter().map(|resource| format!("{resource}:*")));
    words.extend(Permission::ALL.iter().map(|p| p.as_str().to_owned()));
    words
}

static GRANT_WORDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    grant_words()
        .into_iter()
        .map(|word| &*Box::leak(word.into_boxed_str()))
        .collect()
});

/// The permissions one grant word stands for, or the violation if it is unknown.
pub fn expand_grant(word: &str) -> Result<Vec<Permission>, Violation> {
    if word == "*" {
        return Ok(Permission::ALL.to_vec());
    }
    if let Some(resource) = word.strip_suffix(":*") {
        let matching: Vec<Permission> = Permission::ALL
            .into_iter()
            .filter(|p| p.resource() == resource)
            .collect();
        if !matching.is_empty() {
            return Ok(matching);
        }
    }
    Permission::ALL
        .into_iter()
        .find(|p| p.as_str() == word)
        .map(|p| vec![p])
        .ok_or(Violation::NotOneOf {
            expected: GRANT_WORDS.as_slice(),
        })
}

/// The set of permissions a token holds, wildcards expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(BTreeSet<Permission>);

impl Grants {
    /// Expands stored grant words; words this version does not know grant nothing.
    /// `releases:activate` implies `releases:deploy`: who may change what is live in
    /// any environment may change it in an unprotected one.
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Self {
        let mut held: BTreeSet<Permission> = words
            .iter()
            .filter_map(|word| expand_grant(word.as_ref()).ok())
            .flatten()
            .collect();
        if held.contains(&Permission::ReleasesActivate) {
            held.insert(Permission::ReleasesDeploy);
        }
        Self(held)
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.0.contains(&permission)
    }

    /// The first permission of `other` that this set lacks.
    pub fn first_missing(&self, other: &Grants) -> Option<Permission> {
        other.0.difference(&self.0).next().copied()
    }
}

/// Named permission bundles accepted at token creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Developer,
    Operator,
    Viewer,
}

impl Role {
    pub const NAMES: &'static [&'static str] = &["admin", "developer", "operator", "viewer"];

    pub fn parse(text: &str) -> Result<Self, Violation> {
        match text {
            "admin" => Ok(Self::Admin),
            "developer" => Ok(Self::Developer),
            "operator" => Ok(Self::Operator),
            "viewer" => Ok(Self::Viewer),
            _ => Err(Violation::NotOneOf {
                expected: Self::NAMES,
            }),
        }
    }

    /// The grant words a token of this role holds.
    pub fn grant_words(self) -> Vec<String> {
        let words: &[&str] = match self {
            Self::Admin => &["*"],
            Self::Developer => &[
                "workspaces:read",
                "apps:*",
                "releases:read",
                "releases:create",
                "releases:deploy",
            ],
            Self::Operator => &["workspaces:read", "apps:read", "releases:*"],
            Self::Viewer => &[],
        };
        if self == Self::Viewer {
            return Permission::ALL
                .iter()
                .filter(|p| p.is_read())
                .map(|p| p.as_str().to_owned())
                .collect();
        }
        words.iter().map(|w| (*w).to_owned()).collect()
    }
}

/// Every operation of the API, named `resource_verb`, with the permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    OrgsList,
    OrgsCreate,
    OrgsGet,
    TokensList,
    TokensCreate,
    TokensRevoke,
    PlatformTokensList,
    PlatformTokensRevoke,
    WorkspacesList,
    WorkspacesCreate,
    WorkspacesGet,
    EnvironmentsList,
    EnvironmentsCreate,
    EnvironmentsGet,
    EnvironmentsUpdate,
    EnvironmentsDelete,
    AppsList,
    AppsCreate,
    AppsGet,
    AppsUpdate,
    AppsDelete,
    AppEnvironmentsList,
    EndpointsList,
    EndpointsCreate,
    EndpointsGet,
    EndpointsUpdate,
    EndpointsDelete,
    AugmentationsList,
    AugmentationsCreate,
    AugmentationsGet,
    AugmentationsUpdate,
    AugmentationsDelete,
    ReleasesList,
    ReleasesCreate,
    ReleasesGetActive,
    ReleasesGet,
    ReleasesDelete,
    ReleasesActivate,
    ReleasesRollback,
    ReleasesArchive,
    ActivationsList,
    DeploymentsList,
    DeploymentsCreate,
    DeploymentsGet,
    EnvironmentRollback,
    TimelineList,
    ReleasesDiff,
    DraftDiff,
}

impl Operation {
    pub const ALL: [Operation; 48] = [
        Self::OrgsList,
        Self::OrgsCreate,
        Self::OrgsGet,
        Self::TokensList,
        Self::TokensCreate,
        Self::TokensRevoke,
        Self::PlatformTokensList,
        Self::PlatformTokensRevoke,
        Self::WorkspacesList,
        Self::WorkspacesCreate,
        Self::WorkspacesGet,
        Self::EnvironmentsList,
        Self::EnvironmentsCreate,
        Self::EnvironmentsGet,
        Self::EnvironmentsUpdate,
        Self::EnvironmentsDelete,
        Self::AppsList,
        Self::AppsCreate,
        Self::AppsGet,
        Self::AppsUpdate,
        Self::AppsDelete,
        Self::AppEnvironmentsList,
        Self::EndpointsList,
        Self::EndpointsCreate,
        Self::EndpointsGet,
        Self::EndpointsUpdate,
        Self::EndpointsDelete,
        Self::AugmentationsList,
        Self::AugmentationsCreate,
        Self::AugmentationsGet,
        Self::AugmentationsUpdate,
        Self::AugmentationsDelete,
        Self::ReleasesList,
        Self::ReleasesCreate,
        Self::ReleasesGetActive,
        Self::ReleasesGet,
        Self::ReleasesDelete,
        Self::ReleasesActivate,
        Self::ReleasesRollback,
        Self::ReleasesArchive,
        Self::ActivationsList,
        Self::DeploymentsList,
        Self::DeploymentsCreate,
        Self::DeploymentsGet,
        Self::EnvironmentRollback,
        Self::TimelineList,
        Self::ReleasesDiff,
        Self::DraftDiff,
    ];

    /// The operation's name, `resource_verb` (`releases_activate`): the
    /// `operationId` of the API document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgsList => "orgs_list",
            Self::OrgsCreate => "orgs_create",
            Self::OrgsGet => "orgs_get",
            Self::TokensList => "tokens_list",
            Self::TokensCreate => "tokens_create",
            Self::TokensRevoke => "tokens_revoke",
            Self::PlatformTokensList => "platform_tokens_list",
            Self::PlatformTokensRevoke => "platform_tokens_revoke",
            Self::WorkspacesList => "workspaces_list",
            Self::WorkspacesCreate => "workspaces_create",
            Self::WorkspacesGet => "workspaces_get",
            Self::EnvironmentsList => "environments_list",
            Self::EnvironmentsCreate => "environments_create",
            Self::EnvironmentsGet => "environments_get",
            Self::EnvironmentsUpdate => "environments_update",
            Self::EnvironmentsDelete => "environments_delete",
            Self::AppsList => "apps_list",
            Self::AppsCreate => "apps_create",
            Self::AppsGet => "apps_get",
            Self::AppsUpdate => "apps_update",
            Self::AppsDelete => "apps_delete",
            Self::AppEnvironmentsList => "app_environments_list",
            Self::EndpointsList => "endpoints_list",
            Self::EndpointsCreate => "endpoints_create",
            Self::EndpointsGet => "endpoints_get",
            Self::EndpointsUpdate => "endpoints_update",
            Self::EndpointsDelete => "endpoints_delete",
            Self::AugmentationsList => "augmentations_list",
            Self::AugmentationsCreate => "augmentations_create",
            Self::AugmentationsGet => "augmentations_get",
            Self::AugmentationsUpdate => "augmentations_update",
            Self::AugmentationsDelete => "augmentations_delete",
            Self::ReleasesList => "releases_list",
            Self::ReleasesCreate => "releases_create",
            Self::ReleasesGetActive => "releases_get_active",
            Self::ReleasesGet => "releases_get",
            Self::ReleasesDelete => "releases_delete",
            Self::ReleasesActivate => "releases_activate",
            Self::ReleasesRollback => "releases_rollback",
            Self::ReleasesArchive => "releases_archive",
            Self::ActivationsList => "activations_list",
            Self::DeploymentsList => "deployments_list",
            Self::DeploymentsCreate => "deployments_create",
            Self::DeploymentsGet => "deployments_get",
            Self::TimelineList => "timeline_list",
            Self::ReleasesDiff => "releases_diff",
            Self::DraftDiff => "draft_diff",
            Self::EnvironmentRollback => "environment_rollback",
        }
    }

    /// The operation named `name` (see [`Operation::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|operation| operation.as_str() == name)
    }

    pub fn required_permission(self) -> Permission {
        use Operation::*;
        match self {
            OrgsList | OrgsGet => Permission::OrgsRead,
            OrgsCreate => Permission::OrgsWrite,
            TokensList | TokensCreate | TokensRevoke | PlatformTokensList
            | PlatformTokensRevoke => Permission::TokensManage,
            WorkspacesList | WorkspacesGet | EnvironmentsList | EnvironmentsGet => {
                Permission::WorkspacesRead
            }
            WorkspacesCreate | EnvironmentsCreate | EnvironmentsUpdate | EnvironmentsDelete => {
                Permission::WorkspacesWrite
            }
            AppsList | AppsGet | EndpointsList | EndpointsGet | AugmentationsList
            | AugmentationsGet => Permission::AppsRead,
            AppsCreate | AppsUpdate | AppsDelete | EndpointsCreate | EndpointsUpdate
            | EndpointsDelete | AugmentationsCreate | AugmentationsUpdate | AugmentationsDelete => {
                Permission::AppsWrite
            }
            ReleasesList | ReleasesGetActive | ReleasesGet | ActivationsList
            | AppEnvironmentsList | DeploymentsList | DeploymentsGet | TimelineList
            | ReleasesDiff | DraftDiff => Permission::ReleasesRead,
            ReleasesCreate => Permission::ReleasesCreate,
            // A protected environment also needs `releases:activate`, which the store
            // checks in the transaction (`deployment::DeployAuthority`).
            DeploymentsCreate | EnvironmentRollback => Permission::ReleasesDeploy,
            ReleasesActivate | ReleasesRollback => Permission::ReleasesActivate,
            ReleasesArchive => Permission::ReleasesArchive,
            ReleasesDelete => Permission::ReleasesDelete,
        }
    }

    /// Only platform tokens (not bound to an org) may perform these.
    pub fn needs_platform_token(self) -> bool {
        matches!(
            self,
            Self::OrgsCreate | Self::PlatformTokensList | Self::PlatformTokensRevoke
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_expand_to_their_resource() {
        let grants = Grants::from_words(&["releases:*"]);
        assert!(grants.allows(Permission::ReleasesDelete));
        assert!(!grants.allows(Permission::AppsRead));
        assert!(Grants::from_words(&["*"]).allows(Permission::TokensManage));
        assert!(expand_grant("releases:fly").is_err());
        assert!(expand_grant("nothing:*").is_err());
    }

    #[test]
    fn roles_hold_what_spec_lists() {
        let viewer = Grants::from_words(&Role::Viewer.grant_words());
        assert!(
            Permission::ALL
                .iter()
                .all(|p| viewer.allows(*p) == p.is_read())
        );
        let operator = Grants::from_words(&Role::Operator.grant_words());
        assert!(operator.allows(Permission::ReleasesActivate));
        assert!(!operator.allows(Permission::AppsWrite));
        let developer = Grants::from_words(&Role::Developer.grant_words());
        assert!(developer.allows(Permission::AppsWrite));
        assert!(!developer.allows(Permission::ReleasesActivate));
        assert!(developer.allows(Permission::ReleasesDeploy));
    }

    #[test]
    fn releases_activate_implies_releases_deploy_and_not_the_reverse() {
        let activator = Grants::from_words(&["releases:activate"]);
        assert!(activator.allows(Permission::ReleasesDeploy));
        let deployer = Grants::from_words(&["releases:deploy"]);
        assert!(!deployer.allows(Permission::ReleasesActivate));
        assert_eq!(
            activator.first_missing(&Grants::from_words(&["releases:deploy"])),
            None,
            "minting a deploy token is no escalation for an activator"
        );
    }

    #[test]
    fn operation_names_are_unique_and_round_trip() {
        let names: BTreeSet<&str> = Operation::ALL.iter().map(|op| op.as_str()).collect();
        assert_eq!(names.len(), Operation::ALL.len());
        for operation in Operation::ALL {
            assert_eq!(Operation::from_name(operation.as_str()), Some(operation));
        }
        assert_eq!(Operation::ReleasesGetActive.as_str(), "releases_get_active");
    }

    #[test]
    fn first_missing_finds_escalations() {
        let developer = Grants::from_words(&Role::Developer.grant_words());
        let admin = Grants::from_words(&Role::Admin.grant_words());
        assert_eq!(admin.first_missing(&developer), None);
        assert_eq!(developer.first_missing(&admin), Some(Permission::OrgsRead));
    }
}
