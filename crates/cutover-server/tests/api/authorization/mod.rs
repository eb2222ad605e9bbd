//! The authorization matrix, generated from the operation table
//! (`Operation::ALL` with each operation's required permission), so the server and
//! these tests cannot disagree; then the org and workspace boundaries. The token
//! rules (minting, expiry, revocation) are in `tokens.rs`.

mod requests;

use crate::harness::{Backend, TestApp};
use cutover_domain::permission::Operation;
use requests::{Request, World, request_for};
use reqwest::Method;
use serde_json::{Value, json};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    BadToken,
    RevokedToken,
    OtherOrgAdmin,
    Viewer,
    OtherWorkspaceAdmin,
    OrgAdmin,
    PlatformAdmin,
}

const EVERYONE: [Who; 8] = [
    Who::NoToken,
    Who::BadToken,
    Who::RevokedToken,
    Who::OtherOrgAdmin,
    Who::Viewer,
    Who::OtherWorkspaceAdmin,
    Who::OrgAdmin,
    Who::PlatformAdmin,
];

/// What a caller must get.
#[derive(Debug, PartialEq)]
enum Expect {
    Success,
    Unauthenticated,
    NotFound,
    /// 403 naming the operation's permission, and the workspace when one is given.
    Forbidden {
        workspace_id: Option<String>,
    },
}

fn expectation(operation: Operation, who: Who, request: &Request, world: &World) -> Expect {
    let permission = operation.required_permission();
    let platform_only = operation.needs_platform_token();
    let forbidden = Expect::Forbidden { workspace_id: None };
    // Everything inside a workspace carries its id in the path.
    let in_workspace = request
        .path
        .contains(&format!("/workspaces/{}", world.home.workspace_id));
    match who {
        Who::NoToken | Who::BadToken | Who::RevokedToken => Expect::Unauthenticated,
        Who::PlatformAdmin => Expect::Success,
        _ if platform_only => forbidden,
        Who::OtherOrgAdmin if operation == Operation::OrgsList => Expect::Success,
        Who::OtherOrgAdmin => Expect::NotFound,
        Who::Viewer if permission.is_read() => Expect::Success,
        Who::Viewer => forbidden,
        Who::OtherWorkspaceAdmin if in_workspace => Expect::Forbidden {
            workspace_id: Some(world.home.workspace_id.clone()),
        },
        // A token limited to some workspaces cannot create new ones.
        Who::OtherWorkspaceAdmin if operation == Operation::WorkspacesCreate => forbidden,
        Who::OtherWorkspaceAdmin | Who::OrgAdmin => Expect::Success,
    }
}

async fn every_operation_answers_every_caller_as_the_operation_table_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let world = World::build(&app).await;
    let org_tokens = format!("{}/tokens", world.org());

    let revoked = app
        .post(&org_tokens, json!({"name": "revoked", "role": "admin"}))
        .await
        .expect(201);
    app.delete(&format!("{org_tokens}/{}", revoked.str("token_id")))
        .await
        .expect(200);
    let stranger_org = app.create_org("stranger").await;
    let tokens = [
        (Who::NoToken, None),
        (Who::BadToken, Some(format!("cut_{}", "x".repeat(52)))),
        (Who::RevokedToken, Some(revoked.str("token"))),
        (
            Who::OtherOrgAdmin,
            Some(
                app.mint(&stranger_org, json!({"name": "them", "role": "admin"}))
                    .await,
            ),
        ),
        (
            Who::Viewer,
            Some(
                app.mint(&world.home.org_id, json!({"name": "v", "role": "viewer"}))
                    .await,
            ),
        ),
        (
            Who::OtherWorkspaceAdmin,
            Some(
                app.mint(
                    &world.home.org_id,
                    json!({"name": "w", "role": "admin",
                           "workspace_ids": [world.other_workspace_id]}),
                )
                .await,
            ),
        ),
        (
            Who::OrgAdmin,
            Some(
                app.mint(&world.home.org_id, json!({"name": "a", "role": "admin"}))
                    .await,
            ),
        ),
        (Who::PlatformAdmin, Some(app.admin.clone())),
    ];
    assert_eq!(tokens.len(), EVERYONE.len());

    let mut failures = Vec::new();
    let mut cases = 0;
    for operation in Operation::ALL {
        for (who, token) in &tokens {
            let request = request_for(&app, &world, operation).await;
            let expected = expectation(operation, *who, &request, &world);
            let reply = app
                .send(
                    request.method.clone(),
                    &request.path,
                    token.as_deref(),
                    request.body.clone(),
                )
                .await;
            cases += 1;
            let details = &reply.body["details"];
            let ok = match &expected {
                Expect::Success => reply.status == request.success,
                Expect::Unauthenticated => {
                    reply.status == 401
                        && reply.body["error"] == "AUTHENTICATION_FAILED"
                        && *details == json!({})
                        && reply.header("www-authenticate") == Some("Bearer")
                }
                Expect::NotFound => {
                    reply.status == 404 && reply.body["error"] == "RESOURCE_NOT_FOUND"
                }
                Expect::Forbidden { workspace_id } => {
                    reply.status == 403
                        && reply.body["error"] == "FORBIDDEN"
                        && details["required_permission"]
                            == operation.required_permission().as_str()
                        && workspace_id
                            .as_ref()
                            .is_none_or(|id| details["workspace_id"] == id.as_str())
                }
            };
            if !ok {
                failures.push(format!(
                    "{operation:?} as {who:?}: {} {} expected {expected:?}, got {} {}",
                    request.method, request.path, reply.status, reply.body
                ));
            }
        }
    }
    assert_eq!(cases, Operation::ALL.len() * EVERYONE.len());
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn another_orgs_resources_are_not_found_even_without_permission(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let stranger = app.create_org("stranger").await;
    let viewer = app
        .mint(&stranger, json!({"name": "v", "role": "viewer"}))
        .await;
    let reply = app
        .send(Method::DELETE, &home.path(), Some(&viewer), None)
        .await
        .expect(404);
    assert_eq!(reply.body["error"], "RESOURCE_NOT_FOUND");
    let orgs = app
        .send(Method::GET, "/v1/orgs", Some(&viewer), None)
        .await
        .expect(200);
    assert_eq!(orgs.body["total"], 1);
    assert_eq!(orgs.body["orgs"][0]["org_id"], stranger.as_str());
}

async fn creating_an_active_release_also_needs_the_right_to_activate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let developer = app
        .mint(&home.org_id, json!({"name": "dev", "role": "developer"}))
        .await;
    let refused = app
        .send(
            Method::POST,
            &home.releases(),
            Some(&developer),
            Some(json!({"release_tag": "v1", "activate": true})),
        )
        .await
        .expect(403);
    assert_eq!(
        refused.body["details"]["required_permission"],
        "releases:activate"
    );
    let cut = app
        .send(
            Method::POST,
            &home.releases(),
            Some(&developer),
            Some(json!({"release_tag": "v1"})),
        )
        .await
        .expect(201);
    assert_eq!(cut.body["status"], "ready");
    assert_eq!(
        cut.body["release_number"], 1,
        "the refused call left nothing"
    );
}

async fn workspace_limited_tokens_see_only_their_workspaces(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = app.create_app().await;
    let other_ws = app.create_workspace(&home.org_id, "other").await;
    let limited = app
        .mint(
            &home.org_id,
            json!({"name": "l", "role": "viewer", "workspace_ids": [other_ws]}),
        )
        .await;
    let listed = app
        .send(
            Method::GET,
            &format!("/v1/orgs/{}/workspaces", home.org_id),
            Some(&limited),
            None,
        )
        .await
        .expect(200);
    let ids: Vec<&Value> = listed.body["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["workspace_id"])
        .collect();
    assert_eq!(ids, [&json!(other_ws)]);
}

on_every_backend!(
    every_operation_answers_every_caller_as_the_operation_table_says,
    another_orgs_resources_are_not_found_even_without_permission,
    creating_an_active_release_also_needs_the_right_to_activate,
    workspace_limited_tokens_see_only_their_workspaces,
);
