//! Request bodies: `parse_object`, then every body parser of `api::inputs` on the
//! same object. A refusal is a 422 of at most 64 KiB; an accepted body, built into
//! the object the store keeps, round-trips through serde_json; an accepted endpoint
//! or augmentation can be snapshotted, hashed, diffed and served in a release that
//! reads back.
#![no_main]

use cutover_domain::draft::{NewAugmentation, NewEndpoint};
use cutover_domain::limits::Limits;
use cutover_domain::model::{
    App, Augmentation, Endpoint, Org, ReleaseDetail, ReleaseStatus, ReleaseSummary, Workspace,
};
use cutover_domain::snapshot::{Snapshot, change_log, no_changes_since};
use cutover_domain::token::Token;
use cutover_domain::{
    AppId, AugmentationId, EndpointId, OrgId, ReleaseId, Timestamp, TokenId, WorkspaceId,
};
use cutover_fuzz::{check_body_refusal, round_trips};
use cutover_server::api::inputs;
use cutover_server::http::error::ApiResult;
use cutover_server::http::validation::parse_object;
use libfuzzer_sys::fuzz_target;
use serde_json::Map;

const AT: i64 = 1_795_830_549_123_456;

fn at() -> Timestamp {
    Timestamp::from_micros(AT)
}

fn check<T>(result: ApiResult<T>, accepted: impl FnOnce(T)) {
    match result {
        Ok(value) => accepted(value),
        Err(error) => check_body_refusal(error),
    }
}

fn app() -> App {
    App {
        app_id: AppId::parse(AppId::EXAMPLE).unwrap(),
        org_id: OrgId::parse(OrgId::EXAMPLE).unwrap(),
        workspace_id: WorkspaceId::parse(WorkspaceId::EXAMPLE).unwrap(),
        name: "app".into(),
        description: None,
        active_release_id: None,
        total_releases: 0,
        draft_has_changes: false,
        last_release_at: None,
        parameters: Map::new(),
        created_by: "tok".into(),
        created_at: at(),
        updated_at: at(),
    }
}

fn endpoint(new: NewEndpoint) -> Endpoint {
    Endpoint {
        endpoint_id: EndpointId::parse(EndpointId::EXAMPLE).unwrap(),
        name: new.name,
        path: new.path,
        method: new.method,
        description: new.description,
        endpoint_type: new.endpoint_type,
        augmentation_id: new.augmentation_id,
        input_schema: new.input_schema,
        created_at: at(),
        created_by: "tok".into(),
        updated_at: at(),
        updated_by: "tok".into(),
    }
}

fn augmentation(new: NewAugmentation) -> Augmentation {
    Augmentation {
        augmentation_id: AugmentationId::parse(AugmentationId::EXAMPLE).unwrap(),
        name: new.name,
        description: new.description,
        stages: new.stages,
        tags: new.tags,
        is_template: new.is_template,
        created_at: at(),
        created_by: "tok".into(),
        updated_at: at(),
        updated_by: "tok".into(),
    }
}

fn summary(tag: &str, description: Option<String>) -> ReleaseSummary {
    ReleaseSummary {
        release_id: ReleaseId::parse(ReleaseId::EXAMPLE).unwrap(),
        app_id: AppId::parse(AppId::EXAMPLE).unwrap(),
        workspace_id: WorkspaceId::parse(WorkspaceId::EXAMPLE).unwrap(),
        org_id: OrgId::parse(OrgId::EXAMPLE).unwrap(),
        release_tag: cutover_domain::values::ReleaseTag::parse(tag).unwrap(),
        release_number: 1,
        status: ReleaseStatus::Ready,
        description,
        endpoint_count: 0,
        augmentation_count: 0,
        content_hash: String::new(),
        activated_at: None,
        activated_by: None,
        created_at: at(),
        created_by: "tok".into(),
    }
}

/// What the server does with accepted draft content: snapshot it, hash it, diff it
/// against nothing and against itself, and serve it in a release that reads back.
fn serve_in_release(endpoints: Vec<Endpoint>, augmentations: Vec<Augmentation>) {
    let snapshot = Snapshot::new(endpoints, augmentations);
    let hash = snapshot.content_hash();
    assert_eq!(hash.len(), 64);
    let first = change_log(None, &snapshot);
    assert!(first.starts_with("Initial release"));
    assert_eq!(
        change_log(Some((&snapshot, "v1 (#1)")), &snapshot),
        no_changes_since("v1 (#1)")
    );
    let mut release_summary = summary("v1", None);
    release_summary.content_hash = hash;
    release_summary.endpoint_count = snapshot.endpoints.len() as u32;
    release_summary.augmentation_count = snapshot.augmentations.len() as u32;
    round_trips(&ReleaseDetail {
        summary: release_summary,
        endpoints: snapshot.endpoints,
        augmentations: snapshot.augmentations,
        change_log: first,
        previous_release_id: None,
    });
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let object = match parse_object(data) {
        Ok(object) => object,
        Err(error) => return check_body_refusal(error),
    };
    check(inputs::new_org(&object, &limits), |new| {
        round_trips(&Org {
            org_id: OrgId::parse(OrgId::EXAMPLE).unwrap(),
            name: new.name,
            slug: new.slug,
            created_at: at(),
            created_by: "tok".into(),
        })
    });
    check(inputs::new_workspace(&object, &limits), |new| {
        round_trips(&Workspace {
            workspace_id: WorkspaceId::parse(WorkspaceId::EXAMPLE).unwrap(),
            org_id: OrgId::parse(OrgId::EXAMPLE).unwrap(),
            name: new.name,
            description: new.description,
            created_at: at(),
            created_by: "tok".into(),
        })
    });
    check(inputs::new_app(&object, &limits), |new| {
        round_trips(&App {
            name: new.name,
            description: new.description,
            parameters: new.parameters,
            ..app()
        })
    });
    check(inputs::app_patch(&object, &limits), |patch| {
        let mut patched = app();
        patch.apply_to(&mut patched, at());
        round_trips(&patched);
    });
    check(inputs::new_endpoint(&object, &limits), |new| {
        let created = endpoint(new);
        round_trips(&created);
        serve_in_release(vec![created], Vec::new());
    });
    check(inputs::endpoint_patch(&object, &limits), |patch| {
        let base = NewEndpoint {
            name: "e".into(),
            path: "/e".into(),
            method: cutover_domain::values::HttpMethod::Get,
            augmentation_id: AugmentationId::parse(AugmentationId::EXAMPLE).unwrap(),
            endpoint_type: cutover_domain::values::EndpointType::Sync,
            description: None,
            input_schema: None,
        };
        let mut patched = endpoint(base);
        patch.apply_to(&mut patched, "tok", at());
        round_trips(&patched);
        serve_in_release(vec![patched], Vec::new());
    });
    check(inputs::new_augmentation(&object, &limits), |new| {
        let created = augmentation(new);
        round_trips(&created);
        serve_in_release(Vec::new(), vec![created]);
    });
    check(inputs::augmentation_patch(&object, &limits), |patch| {
        let base = NewAugmentation {
            name: "a".into(),
            description: None,
            stages: Vec::new(),
            tags: Vec::new(),
            is_template: false,
        };
        let mut patched = augmentation(base);
        patch.apply_to(&mut patched, "tok", at());
        round_trips(&patched);
        serve_in_release(Vec::new(), vec![patched]);
    });
    check(inputs::new_release(&object, &limits), |new| {
        round_trips(&summary(new.release_tag.as_str(), new.description));
    });
    check(inputs::new_token(&object, &limits), |new| {
        round_trips(&Token {
            token_id: TokenId::parse(TokenId::EXAMPLE).unwrap(),
            org_id: None,
            name: new.name,
            prefix: "cut_0123".into(),
            permissions: new.permissions,
            workspace_ids: new.workspace_ids,
            expires_at: new.expires_at,
            created_at: at(),
            created_by: "tok".into(),
            revoked_at: None,
        })
    });
});
