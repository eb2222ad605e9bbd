//! The world every authorization case acts on, and the request that performs each
//! operation of the table on it.

use crate::harness::{AppPath, TestApp, uuid_like};
use cutover_domain::permission::Operation;
use reqwest::Method;
use serde_json::{Value, json};

/// The org every case acts on: a home workspace with an app whose draft has an
/// augmentation and an endpoint and which has a live release, and a second workspace.
pub struct World {
    pub home: AppPath,
    pub augmentation_id: String,
    pub endpoint_id: String,
    pub release_id: String,
    pub other_workspace_id: String,
}

impl World {
    pub async fn build(app: &TestApp) -> Self {
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

    pub fn org(&self) -> String {
        format!("/v1/orgs/{}", self.home.org_id)
    }

    pub fn workspace(&self) -> String {
        format!("{}/workspaces/{}", self.org(), self.home.workspace_id)
    }
}

pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// The status of a successful call.
    pub success: u16,
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
pub async fn request_for(app: &TestApp, world: &World, operation: Operation) -> Request {
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
        AppEnvironmentsList => read(format!("{}/environments", home.path())),
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
        DeploymentsList => read(format!("{}/deployments", home.path())),
        DeploymentsCreate => {
            let next = app.cut(home, &format!("ship-{unique}")).await;
            create(
                format!("{}/deployments", home.path()),
                json!({"environment": "staging", "release_id": next}),
            )
        }
        DeploymentsGet => {
            let next = app.cut(home, &format!("seen-{unique}")).await;
            let deployment_id = app
                .post(
                    &format!("{}/deployments", home.path()),
                    json!({"environment": "development", "release_id": next}),
                )
                .await
                .expect(201)
                .str("deployment_id");
            read(format!("{}/deployments/{deployment_id}", home.path()))
        }
        EnvironmentRollback => {
            let deployments = format!("{}/deployments", home.path());
            for tag in ["older", "newer"] {
                let id = app.cut(home, &format!("{tag}-{unique}")).await;
                app.post(
                    &deployments,
                    json!({"environment": "staging", "release_id": id}),
                )
                .await
                .expect(201);
            }
            create(
                format!("{}/environments/staging/rollback", home.path()),
                json!({}),
            )
        }
        TimelineList => read(format!("{}/timeline", home.path())),
        ReleasesDiff => read(format!("{}/diff", home.release(&world.release_id))),
        DraftDiff => read(format!("{}/draft/diff", home.path())),
    }
}
