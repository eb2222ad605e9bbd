//! The resources as they appear on the wire: organisations, workspaces, apps, the
//! draft (endpoints and augmentations) and releases. Field names match the published
//! Releases API reference exactly; these types are what the store returns and the API renders.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{AppId, AugmentationId, EndpointId, OrgId, ReleaseId, WorkspaceId};
use crate::timestamp::Timestamp;
use crate::values::{EndpointType, ExecutionMode, HttpMethod, ReleaseTag, StepType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Org {
    pub org_id: OrgId,
    pub name: String,
    pub slug: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspace {
    pub workspace_id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct App {
    pub app_id: AppId,
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub active_release_id: Option<ReleaseId>,
    pub total_releases: u64,
    pub draft_has_changes: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_release_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, Value>))]
    pub parameters: Map<String, Value>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub endpoint_id: EndpointId,
    pub name: String,
    pub path: String,
    pub method: HttpMethod,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    pub endpoint_type: EndpointType,
    pub augmentation_id: AugmentationId,
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<HashMap<String, Value>>))]
    pub input_schema: Option<Map<String, Value>>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Augmentation {
    pub augmentation_id: AugmentationId,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    pub stages: Vec<Stage>,
    pub tags: Vec<String>,
    pub is_template: bool,
    pub created_at: Timestamp,
    pub created_by: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// One stage of a pipeline: its steps run one after another or all at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stage {
    pub name: String,
    pub execution_mode: ExecutionMode,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Step {
    pub name: String,
    #[serde(rename = "type")]
    pub step_type: StepType,
    #[cfg_attr(feature = "openapi", schema(value_type = HashMap<String, Value>))]
    pub config: Map<String, Value>,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3600))]
    pub timeout_seconds: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10))]
    pub max_retries: u32,
}

impl Step {
    pub const DEFAULT_TIMEOUT_SECONDS: u32 = 30;
    pub const DEFAULT_MAX_RETRIES: u32 = 0;
}

/// Where a release is in its life. See [`crate::lifecycle`] for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "Where a release is in its life: `ready` when cut, `active` while \
        deployed in at least one environment, `archived` once it left the last one (or \
        was archived); `draft` is reserved for releases awaiting approval"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseStatus {
    /// Reserved for releases awaiting approval; nothing produces it yet.
    Draft,
    Ready,
    Active,
    Archived,
}

impl ReleaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Ready => "ready",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    /// The status a stored row holds; a value this server never writes is an error
    /// (an unreadable row), never a guess.
    pub fn from_stored(text: &str) -> Result<Self, UnknownStoredValue> {
        Self::parse(text).ok_or_else(|| UnknownStoredValue::new("release status", text))
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "draft" => Some(Self::Draft),
            "ready" => Some(Self::Ready),
            "active" => Some(Self::Active),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// A stored value of a closed set that is none of its members: the row was written
/// by something other than this server (or a newer version of it), so reading it is
/// an internal error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored {kind} is {value:?}, which this server does not know")]
pub struct UnknownStoredValue {
    pub kind: &'static str,
    pub value: String,
}

impl UnknownStoredValue {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.chars().take(64).collect(),
        }
    }
}

/// A release without its snapshot: what lists and lifecycle answers carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseSummary {
    pub release_id: ReleaseId,
    pub app_id: AppId,
    pub workspace_id: WorkspaceId,
    pub org_id: OrgId,
    pub release_tag: ReleaseTag,
    pub release_number: i64,
    pub status: ReleaseStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<String>,
    pub endpoint_count: u32,
    pub augmentation_count: u32,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub content_hash: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_by: Option<String>,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A release with its immutable snapshot and how it differs from its predecessor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseDetail {
    #[serde(flatten)]
    pub summary: ReleaseSummary,
    pub endpoints: Vec<Endpoint>,
    pub augmentations: Vec<Augmentation>,
    pub change_log: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub previous_release_id: Option<ReleaseId>,
}

/// Why the active release of an app changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActivationAction {
    Activate,
    Rollback,
}

impl ActivationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Rollback => "rollback",
        }
    }

    /// The action a stored row holds; a value this server never writes is an error.
    pub fn from_stored(text: &str) -> Result<Self, UnknownStoredValue> {
        Self::parse(text).ok_or_else(|| UnknownStoredValue::new("activation action", text))
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "activate" => Some(Self::Activate),
            "rollback" => Some(Self::Rollback),
            _ => None,
        }
    }
}

/// One entry of an app's activation history, which only ever grows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activation {
    pub sequence: i64,
    pub release_id: ReleaseId,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub replaced_release_id: Option<ReleaseId>,
    pub action: ActivationAction,
    pub actor: String,
    pub at: Timestamp,
    /// Why, as the activate, rollback or deploy said (null when it said nothing).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<String>,
}
