//! Every conflict with stored state that a store answers (409) outside the lifecycle
//! and quota rules: its stable reason code, its message and its details, written once
//! so that every backend answers the same. A backend finds the fact (a unique index
//! refused a row, a query found the other endpoint) and returns the variant.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Conflict {
    OrgSlugTaken {
        slug: String,
    },
    WorkspaceNameTaken {
        name: String,
    },
    AppNameTaken {
        name: String,
    },
    /// Another endpoint of the app answers the same method and path (its id when the
    /// backend could read it).
    EndpointRouteTaken {
        method: String,
        path: String,
        other_endpoint_id: Option<String>,
    },
    EndpointNameTaken {
        name: String,
    },
    AugmentationNameTaken {
        name: String,
    },
    /// Endpoints of the draft still point at the augmentation (at most 20 listed).
    AugmentationInUse {
        endpoint_ids: Vec<String>,
    },
    /// The app already has as many entities of a kind (`what`) as it may.
    DraftEntitiesLimit {
        what: &'static str,
        limit: u32,
    },
    /// The tag names a release of the app (which one, when the backend read it first;
    /// `None` when a unique index refused the row of a concurrent cut).
    ReleaseTagExists {
        tag: String,
        existing: Option<(String, i64)>,
    },
    TokenExists,
    EnvironmentSlugTaken {
        slug: String,
    },
    /// The default environment keeps its flag and cannot be deleted: a workspace
    /// always has one.
    EnvironmentIsDefault {
        slug: String,
    },
    /// Releases are deployed in the environment (at most 20 apps listed).
    EnvironmentHasDeployments {
        slug: String,
        app_ids: Vec<String>,
    },
    /// An app cannot be deleted while one of its releases is live.
    AppHasActiveRelease {
        active_release_id: String,
    },
    /// The release is deployed in these environments (slugs), so it cannot be
    /// archived or deleted.
    ReleaseIsDeployed {
        environments: Vec<String>,
    },
    /// A promotion from an environment in which nothing of the app is deployed.
    NothingToPromote {
        slug: String,
    },
}

impl Conflict {
    /// The stable snake_case code answered as `details.reason`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::OrgSlugTaken { .. } => "org_slug_taken",
            Self::WorkspaceNameTaken { .. } => "workspace_name_taken",
            Self::AppNameTaken { .. } => "app_name_taken",
            Self::EndpointRouteTaken { .. } => "endpoint_route_taken",
            Self::EndpointNameTaken { .. } => "endpoint_name_taken",
            Self::AugmentationNameTaken { .. } => "augmentation_name_taken",
            Self::AugmentationInUse { .. } => "augmentation_in_use",
            Self::DraftEntitiesLimit { .. } => "draft_limit_reached",
            Self::ReleaseTagExists { .. } => "release_tag_exists",
            Self::TokenExists => "token_exists",
            Self::EnvironmentSlugTaken { .. } => "environment_slug_taken",
            Self::EnvironmentIsDefault { .. } => "environment_is_default",
            Self::EnvironmentHasDeployments { .. } => "environment_has_deployments",
            Self::AppHasActiveRelease { .. } => "app_has_active_release",
            Self::ReleaseIsDeployed { .. } => "release_is_deployed",
            Self::NothingToPromote { .. } => "nothing_to_promote",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::OrgSlugTaken { slug } => {
                format!("An organisation with slug '{slug}' already exists")
            }
            Self::WorkspaceNameTaken { name } => {
                format!("A workspace named '{name}' already exists in this org")
            }
            Self::AppNameTaken { name } => {
                format!("An app named '{name}' already exists in this workspace")
            }
            Self::EndpointRouteTaken { method, path, .. } => {
                format!("Another endpoint of this app already answers {method} {path}")
            }
            Self::EndpointNameTaken { name } => {
                format!("Another endpoint of this app is already named '{name}'")
            }
            Self::AugmentationNameTaken { name } => {
                format!("Another augmentation of this app is already named '{name}'")
            }
            Self::AugmentationInUse { .. } => "Endpoints still use this augmentation; point \
                 them elsewhere or delete them first"
                .to_owned(),
            Self::DraftEntitiesLimit { what, limit } => {
                format!("An app can have at most {limit} {what}")
            }
            Self::ReleaseTagExists {
                tag,
                existing: Some((_, number)),
            } => format!("Release tag '{tag}' is already used by release #{number} of this app"),
            Self::ReleaseTagExists {
                tag,
                existing: None,
            } => format!("Release tag '{tag}' is already used"),
            Self::TokenExists => "A token with this secret already exists".to_owned(),
            Self::EnvironmentSlugTaken { slug } => {
                format!("An environment with slug '{slug}' already exists in this workspace")
            }
            Self::EnvironmentIsDefault { slug } => format!(
                "'{slug}' is the workspace's default environment: make another environment \
                 the default first"
            ),
            Self::EnvironmentHasDeployments { slug, .. } => {
                format!("Releases are deployed in '{slug}': roll them out of it first")
            }
            Self::AppHasActiveRelease { .. } => {
                "An app with an active release cannot be deleted".to_owned()
            }
            Self::ReleaseIsDeployed { environments } => format!(
                "The release is deployed in {}: deploy another release there, or roll \
                 back, first",
                environments.join(", ")
            ),
            Self::NothingToPromote { slug } => {
                format!("Nothing of this app is deployed in '{slug}' to promote")
            }
        }
    }

    /// The entries of `details` besides `reason`.
    pub fn details(&self) -> Vec<(&'static str, Value)> {
        match self {
            Self::OrgSlugTaken { slug }
            | Self::EnvironmentSlugTaken { slug }
            | Self::EnvironmentIsDefault { slug }
            | Self::NothingToPromote { slug } => vec![("slug", slug.as_str().into())],
            Self::ReleaseIsDeployed { environments } => {
                vec![("environments", environments.clone().into())]
            }
            Self::EnvironmentHasDeployments { slug, app_ids } => vec![
                ("slug", slug.as_str().into()),
                ("app_ids", app_ids.clone().into()),
            ],
            Self::WorkspaceNameTaken { name }
            | Self::AppNameTaken { name }
            | Self::EndpointNameTaken { name }
            | Self::AugmentationNameTaken { name } => vec![("name", name.as_str().into())],
            Self::EndpointRouteTaken {
                other_endpoint_id, ..
            } => other_endpoint_id
                .iter()
                .map(|id| ("endpoint_id", id.as_str().into()))
                .collect(),
            Self::AugmentationInUse { endpoint_ids } => {
                vec![("endpoint_ids", endpoint_ids.clone().into())]
            }
            Self::DraftEntitiesLimit { limit, .. } => vec![("limit", (*limit).into())],
            Self::ReleaseTagExists {
                tag,
                existing: Some((release_id, number)),
            } => vec![
                ("release_tag", tag.as_str().into()),
                ("existing_release_id", release_id.as_str().into()),
                ("existing_release_number", (*number).into()),
            ],
            Self::AppHasActiveRelease { active_release_id } => {
                vec![("active_release_id", active_release_id.as_str().into())]
            }
            Self::ReleaseTagExists { existing: None, .. } | Self::TokenExists => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_conflict_has_its_code_message_and_details() {
        let tag = Conflict::ReleaseTagExists {
            tag: "v1".into(),
            existing: Some(("rel_1".into(), 3)),
        };
        assert_eq!(tag.code(), "release_tag_exists");
        assert_eq!(
            tag.message(),
            "Release tag 'v1' is already used by release #3 of this app"
        );
        assert_eq!(
            tag.details(),
            [
                ("release_tag", json!("v1")),
                ("existing_release_id", json!("rel_1")),
                ("existing_release_number", json!(3)),
            ]
        );
        let route = Conflict::EndpointRouteTaken {
            method: "POST".into(),
            path: "/chat".into(),
            other_endpoint_id: None,
        };
        assert_eq!(
            route.message(),
            "Another endpoint of this app already answers POST /chat"
        );
        assert!(route.details().is_empty());
        let limit = Conflict::DraftEntitiesLimit {
            what: "endpoints",
            limit: 1000,
        };
        assert_eq!(limit.code(), "draft_limit_reached");
        assert_eq!(limit.details(), [("limit", json!(1000))]);
    }
}
