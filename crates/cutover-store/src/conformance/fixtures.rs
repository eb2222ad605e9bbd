//! Inputs and assertions the conformance cases share, and backends' own tests use:
//! a tenant with one app, entity inputs, and checks that name the refusal expected.

use std::fmt::Debug;

use cutover_domain::AugmentationId;
use cutover_domain::deployment::DeployAuthority;
use cutover_domain::draft::{
    DeployOnCut, NewApp, NewAugmentation, NewEndpoint, NewOrg, NewRelease, NewWorkspace,
};
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::model::{Augmentation, Endpoint};
use cutover_domain::token::NewToken;
use cutover_domain::values::{EndpointType, HttpMethod, ReleaseTag};
use cutover_domain::{OrgId, TokenId};
use serde_json::{Map, Value};

use crate::{
    AppScope, PageRequest, ReleaseQuery, Store, StoreError, StoreResult, TokenToStore,
    WorkspaceScope,
};

/// Who the cases act as.
pub const ACTOR: &str = "tester";

/// A new org (slug `slug`) with one workspace, `prod`.
pub async fn workspace_fixture(store: &dyn Store, slug: &str) -> WorkspaceScope {
    let org = store
        .create_org(
            NewOrg {
                name: format!("Org {slug}"),
                slug: slug.to_owned(),
            },
            ACTOR,
        )
        .await
        .expect("org");
    let workspace = store
        .create_workspace(
            &org.org_id,
            NewWorkspace {
                name: "prod".into(),
                description: None,
            },
            ACTOR,
        )
        .await
        .expect("workspace");
    WorkspaceScope {
        org_id: org.org_id,
        workspace_id: workspace.workspace_id,
    }
}

/// A new org `acme`, its workspace `prod` and an app `shop` in it.
pub async fn app_fixture(store: &dyn Store) -> AppScope {
    let workspace = workspace_fixture(store, "acme").await;
    app_in(store, &workspace, "shop").await
}

/// A new app named `name` in `workspace`.
pub async fn app_in(store: &dyn Store, workspace: &WorkspaceScope, name: &str) -> AppScope {
    let app = store
        .create_app(workspace, new_app(name), ACTOR)
        .await
        .expect("app");
    AppScope {
        org_id: workspace.org_id.clone(),
        workspace_id: workspace.workspace_id.clone(),
        app_id: app.app_id,
    }
}

/// A new augmentation named `name` in the app's draft.
pub async fn augmentation_in(store: &dyn Store, scope: &AppScope, name: &str) -> Augmentation {
    store
        .create_augmentation(scope, new_augmentation(name), ACTOR)
        .await
        .unwrap_or_else(|err| panic!("augmentation {name}: {err:?}"))
}

/// A new `GET path` endpoint named `name` in the app's draft, using `augmentation_id`.
pub async fn endpoint_in(
    store: &dyn Store,
    scope: &AppScope,
    name: &str,
    path: &str,
    augmentation_id: &AugmentationId,
) -> Endpoint {
    store
        .create_endpoint(scope, new_endpoint(name, path, augmentation_id), ACTOR)
        .await
        .unwrap_or_else(|err| panic!("endpoint {name}: {err:?}"))
}

pub fn new_app(name: &str) -> NewApp {
    NewApp {
        name: name.into(),
        description: Some("an app".into()),
        parameters: object(serde_json::json!({"region": "eu", "n": 1.5})),
    }
}

pub fn new_augmentation(name: &str) -> NewAugmentation {
    NewAugmentation {
        name: name.into(),
        description: None,
        stages: Vec::new(),
        tags: vec!["a".into()],
        is_template: false,
    }
}

pub fn new_endpoint(name: &str, path: &str, augmentation_id: &AugmentationId) -> NewEndpoint {
    NewEndpoint {
        name: name.into(),
        path: path.into(),
        method: HttpMethod::Get,
        augmentation_id: augmentation_id.clone(),
        endpoint_type: EndpointType::Sync,
        description: None,
        input_schema: None,
    }
}

/// A release to cut; with `activate`, deployed to the default environment by a
/// caller who may deploy anywhere (as `activate: true` does).
pub fn new_release(tag: &str, activate: bool) -> NewRelease {
    NewRelease {
        release_tag: ReleaseTag::parse(tag).expect("valid tag"),
        description: None,
        deploy: activate.then_some(DeployOnCut {
            environment: None,
            authority: DeployAuthority::AnyEnvironment,
        }),
    }
}

/// A release to cut and deploy straight to `environment` with `authority`.
pub fn new_release_to(tag: &str, environment: &str, authority: DeployAuthority) -> NewRelease {
    NewRelease {
        release_tag: ReleaseTag::parse(tag).expect("valid tag"),
        description: None,
        deploy: Some(DeployOnCut {
            environment: Some(EnvironmentRef::parse(environment).expect("valid environment")),
            authority,
        }),
    }
}

/// A token of `org_id` (a platform token when `None`) whose secret digests to
/// `secret_digest`.
pub fn token(org_id: Option<&OrgId>, name: &str, secret_digest: &str) -> TokenToStore {
    TokenToStore {
        token_id: TokenId::generate(),
        org_id: org_id.cloned(),
        spec: NewToken {
            name: name.into(),
            permissions: vec!["releases:*".into()],
            workspace_ids: None,
            expires_at: None,
        },
        prefix: "cut_abcd".into(),
        secret_digest: secret_digest.into(),
        created_by: ACTOR.into(),
    }
}

/// The first page of `limit` items.
pub fn first(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
}

/// The JSON object `value` (empty when it is not one).
pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Asserts that `result` is the conflict `reason` with exactly `message`, and answers
/// its details.
#[track_caller]
pub fn assert_conflict<T: Debug>(
    result: StoreResult<T>,
    reason: &str,
    message: &str,
) -> Map<String, Value> {
    match result {
        Err(StoreError::Conflict {
            reason: found,
            message: said,
            details,
        }) => {
            assert_eq!((found, said.as_str()), (reason, message));
            details
        }
        other => panic!("expected the conflict {reason}, got {other:?}"),
    }
}

/// Asserts that `result` is `NotFound` for a `resource_type`.
#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>, resource_type: &str) {
    match result {
        Err(StoreError::NotFound {
            resource_type: found,
            ..
        }) => assert_eq!(found, resource_type),
        other => panic!("expected {resource_type} not found, got {other:?}"),
    }
}

/// Asserts that `result` is a 422 for the body field `field`.
#[track_caller]
pub fn assert_invalid_reference<T: Debug>(result: StoreResult<T>, field: &str) {
    match result {
        Err(StoreError::InvalidReference { field: found, .. }) => assert_eq!(found, field),
        other => panic!("expected an invalid {field}, got {other:?}"),
    }
}

/// The `reason` of a conflict, or a description of whatever else `result` was.
pub fn reason<T: Debug>(result: &StoreResult<T>) -> String {
    match result {
        Err(StoreError::Conflict { reason, .. }) => (*reason).to_owned(),
        other => format!("not a conflict: {other:?}"),
    }
}

/// The newest `limit` releases, archived ones too when `include_archived`.
pub fn newest(limit: u32, include_archived: bool) -> ReleaseQuery {
    ReleaseQuery {
        limit,
        before_number: None,
        include_archived,
    }
}
