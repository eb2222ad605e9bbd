//! The authorization matrix, generated from the operation table
//! (`Operation::ALL` with each operation's required permission), so the server and
//! these tests cannot disagree; then the org and workspace boundaries. The token
//! rules (minting, expiry, revocation) are in `tokens.rs`.

use crate::harness::{AppPath, Backend, TestApp, uuid_like};
use cutover_domain::permission::Operation;
use reqwest::Method;
use serde_json::{Value, json};

/// The org every case acts on: a home workspace with an app whose draft has an
/// augmentation and an endpoint and which has a live release, and a second workspace.
struct World {
    home: AppPath,
    augmentation_id: String,
    endpoint_id: String,
    release_id: String,
    other_workspace_id: String,
}

impl World {
    async fn build(app: &TestApp) -> Self {
        let home = app.create_app().await;
        let augmentation_id = app.add_augmentation(&home, "pipeline").await;
        let endpoint_id = app
            .add_endpoint(&home, "chat", "/chat", &augmentation_id)
            .await;
        let release_id = app.cut(&home, "v1").await;
        app.act(&format!("{}/activate", home.release(&release_id)))
            .await
            .expect(200);
        let other_workspace_id = app.create_workspace(&home.org_id, "other").await;
        Self {
            home,
            augmentation_id,
            endpoint_id,
            release_id,
            other_workspace_id,
        }
    }

    fn org(&self) -> String {
        format!("/v1/orgs/{}", self.home.org_id)
    }

    fn workspace(&self) -> String {
        format!("{}/workspaces/{}", self.org(), self.home.workspace_id)
    }
}

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

struct Request {
    method: Method,
    path: String,
    body: Option<Value>,
    /// The status of a successful call.
    success: u16,
}

fn read(path: String) -> Request {
    Request {
        method: Method::GET,
        path,
        body: None,
        success: 200,
    }
}

fn create(path: String, body: Value) -> Request {
    Request {
        method: Method::POST,
        path,
        body: Some(body),
        success: 201,
    }
}

fn change(method: Method, path: String, body: Option<Value>) -> Request {
    Request {
        method,
        path,
        body,
        success: 200,
    }
}

/// The request that performs `operation` on the world. Destructive and state-moving
/// operations get a fresh target on every call, so one caller's success does not
/// change what the next caller sees.
async fn request_for(app: &TestApp, world: &World, operation: Operation) -> Request {
    use Operation::*;
    let home = &world.home;
    let unique = uuid_like();
    let endpoints = format!("{}/endpoints", home.path());
    let augmentations = format!("{}/augmentations", home.path());
    match operation {
        OrgsList => read("/v1/orgs".into()),
        OrgsCreate => create("/v1/orgs".into(), json!({"name": format!("org {unique}")})),
        OrgsGet => read(world.org()),
        TokensList => read(format!("{}/tokens", world.org())),
        TokensCreate => create(
            format!("{}/tokens", world.org()),
            json!({"name": "minted", "role": "viewer",
                   "workspace_ids": [world.other_workspace_id]}),
        ),
        TokensRevoke => {
            let token_id = app
                .post(
                    &format!("{}/tokens", world.org()),
                    // Limited to the workspace the limited caller may manage, so
                    // every caller that may revoke tokens may revoke this one.
                    json!({"name": "doomed", "role": "viewer",
                           "workspace_ids": [world.other_workspace_id]}),
                )
                .await
                .expect(201)
                .str("token_id");
            change(
                Method::DELETE,
                format!("{}/tokens/{token_id}", world.org()),
                None,
            )
        }
        PlatformTokensList => read("/v1/tokens".into()),
        PlatformTokensRevoke => {
            let token_id =
                crate::harness::insert_platform_token(app, &format!("doomed {unique}")).await;
            change(Method::DELETE, format!("/v1/tokens/{token_id}"), None)
        }
        WorkspacesList => read(format!("{}/workspaces", world.org())),
        WorkspacesCreate => create(
            format!("{}/workspaces", world.org()),
            json!({"name": format!("ws {unique}")}),
        ),
        WorkspacesGet => read(world.workspace()),
        EnvironmentsList => read(format!("{}/environments", world.workspace())),
        EnvironmentsCreate => create(
            format!("{}/environments", world.workspace()),
            json!({"name": format!("env {unique}"), "slug": format!("e-{unique}")}),
        ),
        EnvironmentsGet => read(format!("{}/environments/production", world.workspace())),
        EnvironmentsUpdate => change(
            Method::PATCH,
            format!("{}/environments/staging", world.workspace()),
            Some(json!({"description": unique})),
        ),
        EnvironmentsDelete => {
            let environments = format!("{}/environments", world.workspace());
            let slug = format!("doomed-{unique}");
            app.post(&environments, json!({"name": "doomed", "slug": slug}))
                .await
                .expect(201);
            change(Method::DELETE, format!("{environments}/{slug}"), None)
        }
        AppsList => read(format!("{}/apps", world.workspace())),
        AppsCreate => create(
            format!("{}/apps", world.workspace()),
            json!({"name": format!("app {unique}")}),
        ),
        AppsGet => read(home.path()),
        AppsUpdate => change(
            Method::PATCH,
            home.path(),
            Some(json!({"description": unique})),
        ),
        AppsDelete => {
            let doomed = app
                .create_app_in(
                    &home.org_id,
                    &home.workspace_id,
                    &format!("doomed {unique}"),
                )
                .await;
            change(Method::DELETE, doomed.path(), None)
        }
        EndpointsList => read(endpoints),
        EndpointsCreate => create(
            endpoints,
            json!({"name": format!("ep {unique}"), "path": format!("/ep-{unique}"),
                   "method": "GET", "augmentation_id": world.augmentation_id}),
        ),
        EndpointsGet => read(format!("{endpoints}/{}", world.endpoint_id)),
        EndpointsUpdate => change(
            Method::PATCH,
            format!("{endpoints}/{}", world.endpoint_id),
            Some(json!({"description": unique})),
        ),
        EndpointsDelete => {
            let doomed = app
                .add_endpoint(
                    home,
                    &format!("doomed {unique}"),
                    &format!("/doomed-{unique}"),
                    &world.augmentation_id,
                )
                .await;
            change(Method::DELETE, format!("{endpoints}/{doomed}"), None)
        }
        AugmentationsList => read(augmentations),
        AugmentationsCreate => create(augmentations, json!({"name": format!("aug {unique}")})),
        AugmentationsGet => read(format!("{augmentations}/{}", world.augmentation_id)),
        AugmentationsUpdate => change(
            Method::PATCH,
            format!("{augmentations}/{}", world.augmentation_id),
            Some(json!({"description": unique})),
        ),
        AugmentationsDelete => {
            let doomed = app
                .add_augmentation(home, &format!("doomed {unique}"))
                .await;
            change(Method::DELETE, format!("{augmentations}/{doomed}"), None)
        }
        ReleasesList => read(home.releases()),
        ReleasesCreate => create(
            home.releases(),
            json!({"release_tag": format!("r-{unique}")}),
        ),
        ReleasesGetActive => read(format!("{}/active", home.releases())),
        ReleasesGet => read(home.release(&world.release_id)),
        ReleasesDelete => {
            let doomed = app.cut(home, &format!("doomed-{unique}")).await;
            change(Method::DELETE, home.release(&doomed), None)
        }
        ReleasesActivate => {
            let next = app.cut(home, &format!("next-{unique}")).await;
            change(
                Method::POST,
                format!("{}/activate", home.release(&next)),
                None,
            )
        }
        ReleasesRollback => {
            let older = app.cut(home, &format!("older-{unique}")).await;
            let newer = app.cut(home, &format!("newer-{unique}")).await;
            for id in [&older, &newer] {
                app.act(&format!("{}/activate", home.release(id)))
                    .await
                    .expect(200);
            }
            change(
                Method::POST,
                format!("{}/rollback", home.release(&older)),
                None,
            )
        }
        ReleasesArchive => {
            let doomed = app.cut(home, &format!("shelved-{unique}")).await;
            change(
                Method::POST,
                format!("{}/archive", home.release(&doomed)),
                None,
            )
        }
        ActivationsList => read(format!("{}/activations", home.path())),
    }
}

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
