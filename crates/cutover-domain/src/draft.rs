//! Parsed inputs that create or change resources, and how a change applies to a
//! stored object. A `*Patch` field left `None` keeps the stored value; for nullable
//! fields, `Some(None)` clears it.

use serde_json::{Map, Value};

use crate::ids::{AppId, AugmentationId, EndpointId, OrgId, WorkspaceId};
use crate::model::{App, Augmentation, Endpoint, Org, Stage, Workspace};
use crate::timestamp::Timestamp;
use crate::values::{EndpointType, HttpMethod, ReleaseTag};

#[derive(Debug, Clone, PartialEq)]
pub struct NewOrg {
    pub name: String,
    pub slug: String,
}

impl NewOrg {
    /// The org this input creates, with a new id, made by `actor` at `at`.
    pub fn into_org(self, actor: &str, at: Timestamp) -> Org {
        Org {
            org_id: OrgId::generate(),
            name: self.name,
            slug: self.slug,
            created_at: at,
            created_by: actor.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkspace {
    pub name: String,
    pub description: Option<String>,
}

impl NewWorkspace {
    /// The workspace this input creates in `org_id`, with a new id.
    pub fn into_workspace(self, org_id: OrgId, actor: &str, at: Timestamp) -> Workspace {
        Workspace {
            workspace_id: WorkspaceId::generate(),
            org_id,
            name: self.name,
            description: self.description,
            created_at: at,
            created_by: actor.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewApp {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Map<String, Value>,
}

impl NewApp {
    /// The app this input creates in a workspace, with a new id: an empty draft, no
    /// releases, so nothing active and nothing to release.
    pub fn into_app(
        self,
        org_id: OrgId,
        workspace_id: WorkspaceId,
        actor: &str,
        at: Timestamp,
    ) -> App {
        App {
            app_id: AppId::generate(),
            org_id,
            workspace_id,
            name: self.name,
            description: self.description,
            active_release_id: None,
            total_releases: 0,
            draft_has_changes: false,
            last_release_at: None,
            parameters: self.parameters,
            created_by: actor.to_owned(),
            created_at: at,
            updated_at: at,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parameters: Option<Map<String, Value>>,
}

impl AppPatch {
    pub fn apply_to(self, app: &mut App, at: Timestamp) {
        if let Some(name) = self.name {
            app.name = name;
        }
        if let Some(description) = self.description {
            app.description = description;
        }
        if let Some(parameters) = self.parameters {
            app.parameters = parameters;
        }
        app.updated_at = at;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint {
    pub name: String,
    pub path: String,
    pub method: HttpMethod,
    pub augmentation_id: AugmentationId,
    pub endpoint_type: EndpointType,
    pub description: Option<String>,
    pub input_schema: Option<Map<String, Value>>,
}

impl NewEndpoint {
    /// The endpoint this input creates, with a new id, written by `actor` at `at`.
    pub fn into_endpoint(self, actor: &str, at: Timestamp) -> Endpoint {
        Endpoint {
            endpoint_id: EndpointId::generate(),
            name: self.name,
            path: self.path,
            method: self.method,
            description: self.description,
            endpoint_type: self.endpoint_type,
            augmentation_id: self.augmentation_id,
            input_schema: self.input_schema,
            created_at: at,
            created_by: actor.to_owned(),
            updated_at: at,
            updated_by: actor.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointPatch {
    pub name: Option<String>,
    pub path: Option<String>,
    pub method: Option<HttpMethod>,
    pub augmentation_id: Option<AugmentationId>,
    pub endpoint_type: Option<EndpointType>,
    pub description: Option<Option<String>>,
    pub input_schema: Option<Option<Map<String, Value>>>,
}

impl EndpointPatch {
    pub fn apply_to(self, endpoint: &mut Endpoint, actor: &str, at: Timestamp) {
        if let Some(name) = self.name {
            endpoint.name = name;
        }
        if let Some(path) = self.path {
            endpoint.path = path;
        }
        if let Some(method) = self.method {
            endpoint.method = method;
        }
        if let Some(augmentation_id) = self.augmentation_id {
            endpoint.augmentation_id = augmentation_id;
        }
        if let Some(endpoint_type) = self.endpoint_type {
            endpoint.endpoint_type = endpoint_type;
        }
        if let Some(description) = self.description {
            endpoint.description = description;
        }
        if let Some(input_schema) = self.input_schema {
            endpoint.input_schema = input_schema;
        }
        endpoint.updated_at = at;
        endpoint.updated_by = actor.to_owned();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAugmentation {
    pub name: String,
    pub description: Option<String>,
    pub stages: Vec<Stage>,
    pub tags: Vec<String>,
    pub is_template: bool,
}

impl NewAugmentation {
    /// The augmentation this input creates, with a new id, written by `actor` at `at`.
    pub fn into_augmentation(self, actor: &str, at: Timestamp) -> Augmentation {
        Augmentation {
            augmentation_id: AugmentationId::generate(),
            name: self.name,
            description: self.description,
            stages: self.stages,
            tags: self.tags,
            is_template: self.is_template,
            created_at: at,
            created_by: actor.to_owned(),
            updated_at: at,
            updated_by: actor.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AugmentationPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub stages: Option<Vec<Stage>>,
    pub tags: Option<Vec<String>>,
    pub is_template: Option<bool>,
}

impl AugmentationPatch {
    pub fn apply_to(self, augmentation: &mut Augmentation, actor: &str, at: Timestamp) {
        if let Some(name) = self.name {
            augmentation.name = name;
        }
        if let Some(description) = self.description {
            augmentation.description = description;
        }
        if let Some(stages) = self.stages {
            augmentation.stages = stages;
        }
        if let Some(tags) = self.tags {
            augmentation.tags = tags;
        }
        if let Some(is_template) = self.is_template {
            augmentation.is_template = is_template;
        }
        augmentation.updated_at = at;
        augmentation.updated_by = actor.to_owned();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewRelease {
    pub release_tag: ReleaseTag,
    pub description: Option<String>,
    /// Deploy the new release in the same transaction (`activate: true`).
    pub deploy: Option<DeployOnCut>,
}

/// Where a release cut with `activate: true` goes live, and what the caller may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOnCut {
    /// The environment named in the body; the workspace's default when none is.
    pub environment: Option<crate::environment::EnvironmentRef>,
    pub authority: crate::deployment::DeployAuthority,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::{draft_has_changes, empty_draft_digest};

    #[test]
    fn a_new_app_is_what_reading_it_back_would_say() {
        let at = Timestamp::from_micros(1_700_000_000_000_000);
        let app = NewApp {
            name: "shop".into(),
            description: None,
            parameters: Map::new(),
        }
        .into_app(OrgId::generate(), WorkspaceId::generate(), "alice", at);
        // Stored with the empty draft's digest and no releases, an app reads back as
        // having nothing to release.
        assert_eq!(
            app.draft_has_changes,
            draft_has_changes(empty_draft_digest(), false, None)
        );
        assert_eq!((app.total_releases, app.active_release_id), (0, None));
        assert_eq!((app.created_at, app.updated_at), (at, at));
        assert_eq!(app.created_by, "alice");
    }
}
