//! The rules of cutover, free of I/O: identifiers, parsed field values, the draft and
//! release models, the release lifecycle, snapshots with their content hash and change
//! log, and the permission table. Every other crate builds on these types.

pub mod conflict;
pub mod deployment;
pub mod diff;
pub mod digest;
pub mod draft;
pub mod dry_run;
pub mod environment;
pub mod idempotency;
pub mod ids;
pub mod lifecycle;
pub mod limits;
pub mod model;
pub mod permission;
pub mod precondition;
pub mod quota;
pub mod snapshot;
pub mod timeline;
pub mod timestamp;
pub mod token;
pub mod values;

pub use ids::{
    AppId, AugmentationId, CommitId, DeploymentId, EndpointId, EnvironmentId, OrgId, ReleaseId,
    TokenId, WorkspaceId,
};
pub use timestamp::Timestamp;
