//! Typed path extractors, one per route shape (`OrgPath` … `ReleasePath`). Each is
//! declared once, by [`path_params!`], as its ids with their types, and is both what
//! a handler takes (`FromRequestParts`: every id parsed into its type) and the
//! operation's path parameters in the OpenAPI document (`IntoParams`: each with its
//! type's schema), so the two cannot describe different paths.
//!
//! An id that is not of its type's form names nothing, so it answers 404 for its
//! resource at once, as an id that names nothing would (the reference types path ids
//! as plain strings): the outermost such id decides (`/orgs/acme/workspaces/...` is
//! 404 for org `acme`), after authentication and before authorization, and the store
//! is not asked. A handler whose extractor names other ids than its route is a bug,
//! answered 500.

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::{
    AppId, AugmentationId, DeploymentId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId,
};
use cutover_store::{AppScope, WorkspaceScope};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Ref, Required};
use utoipa::{IntoParams, ToSchema};

use crate::http::echo::cut;
use crate::http::error::{ApiError, ApiResult};

/// The most bytes of JSON a 404 spends echoing a path id or path that names nothing.
pub const MAX_ECHOED_PATH_BYTES: usize = 256;

/// The OpenAPI parameter of the path id `name`, of type `T`, naming a `what`.
fn path_id<T: ToSchema>(name: &str, what: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(format!(
            "The {what}'s id, of the form its schema gives. An id that names no {what} \
             answers 404, whether or not it has that form."
        )))
        .schema(Some(Ref::from_schema_name(T::name())))
        .build()
}

/// The parameters of the matched route, in path order, each with its percent-decoded
/// value (invalid UTF-8 replaced, since no id contains it), taken one by one.
struct RouteParams {
    params: Vec<(String, String)>,
}

impl RouteParams {
    /// Read from the template and the path rather than through axum's
    /// `RawPathParams`, which refuses a value that is not UTF-8 without saying which.
    fn of(parts: &Parts) -> ApiResult<Self> {
        let template = parts
            .extensions
            .get::<MatchedPath>()
            .ok_or_else(|| ApiError::internal("path ids read outside a matched route"))?;
        Ok(Self {
            params: route_params(template.as_str(), parts.uri.path()),
        })
    }

    /// The id `name`, parsed; a value that is not of its form answers the 404 of the
    /// `what` it cannot name. Called in path order, so the outermost bad id decides.
    fn take<T, E>(
        &mut self,
        name: &str,
        what: &str,
        parse: fn(&str) -> Result<T, E>,
    ) -> ApiResult<T> {
        let at = self
            .params
            .iter()
            .position(|(param, _)| param == name)
            .ok_or_else(|| ApiError::internal(format!("the route has no {name} parameter")))?;
        let (_, value) = self.params.remove(at);
        parse(&value).map_err(|_| ApiError::not_found(what, cut(&value, MAX_ECHOED_PATH_BYTES)))
    }

    /// Fails when the route has parameters the extractor did not take.
    fn finish(self) -> ApiResult<()> {
        match self.params.first() {
            None => Ok(()),
            Some((name, _)) => Err(ApiError::internal(format!(
                "the route's {name} parameter is not read by its extractor"
            ))),
        }
    }
}

/// The parameters of a route template (`/v1/orgs/{org_id}`) with their values in
/// `path`.
fn route_params(template: &str, path: &str) -> Vec<(String, String)> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(pattern, segment)| {
            let name = pattern.strip_prefix('{')?.strip_suffix('}')?;
            let value = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
            Some((name.to_owned(), value.into_owned()))
        })
        .collect()
}

/// Declares a path extractor: a struct of the given ids, in path order, that parses
/// them from the matched route and lists them as OpenAPI path parameters.
macro_rules! path_params {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty = $what:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $(pub $field: $ty),+
        }

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                vec![$(path_id::<$ty>(stringify!($field), $what)),+]
            }
        }

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
                let mut params = RouteParams::of(parts)?;
                // Fields are evaluated in the order written: path order.
                let ids = Self {
                    $($field: params.take(stringify!($field), $what, <$ty>::parse)?),+
                };
                params.finish()?;
                Ok(ids)
            }
        }
    };
}

path_params!(/// `{org_id}`.
    OrgPath { org_id: OrgId = "org" });
path_params!(/// `/v1/tokens/{token_id}`: a platform token.
    PlatformTokenPath { token_id: TokenId = "token" });
path_params!(/// `{org_id}/tokens/{token_id}`.
    TokenPath { org_id: OrgId = "org", token_id: TokenId = "token" });
path_params!(/// `{org_id}/workspaces/{workspace_id}`.
    WorkspacePath { org_id: OrgId = "org", workspace_id: WorkspaceId = "workspace" });
path_params!(/// Down to `{app_id}`.
AppPath {
    org_id: OrgId = "org",
    workspace_id: WorkspaceId = "workspace",
    app_id: AppId = "app",
});
path_params!(/// Down to `{endpoint_id}`.
EndpointPath {
    org_id: OrgId = "org",
    workspace_id: WorkspaceId = "workspace",
    app_id: AppId = "app",
    endpoint_id: EndpointId = "endpoint",
});
path_params!(/// Down to `{augmentation_id}`.
AugmentationPath {
    org_id: OrgId = "org",
    workspace_id: WorkspaceId = "workspace",
    app_id: AppId = "app",
    augmentation_id: AugmentationId = "augmentation",
});
path_params!(/// Down to `{release_id}`.
ReleasePath {
    org_id: OrgId = "org",
    workspace_id: WorkspaceId = "workspace",
    app_id: AppId = "app",
    release_id: ReleaseId = "release",
});
path_params!(/// Down to `{deployment_id}`.
DeploymentPath {
    org_id: OrgId = "org",
    workspace_id: WorkspaceId = "workspace",
    app_id: AppId = "app",
    deployment_id: DeploymentId = "deployment",
});

/// `{org_id}/workspaces/{workspace_id}/environments/{environment}`, the environment
/// named by its id or its slug.
#[derive(Debug, Clone)]
pub struct EnvironmentPath {
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub environment: EnvironmentRef,
}

/// The OpenAPI parameter `{environment}`: an id or a slug.
fn environment_param() -> Parameter {
    ParameterBuilder::new()
        .name("environment")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(
            "The environment's id (`env_…`) or its slug (`production`). One that names \
             no environment of the workspace answers 404.",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some(EnvironmentRef::PATTERN))
                .examples(["production"]),
        ))
        .build()
}

impl IntoParams for EnvironmentPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            path_id::<OrgId>("org_id", "org"),
            path_id::<WorkspaceId>("workspace_id", "workspace"),
            environment_param(),
        ]
    }
}

/// `…/apps/{app_id}/environments/{environment}`: one environment of an app's board.
pub struct AppEnvironmentPath {
    pub org_id: OrgId,
    pub workspace_id: WorkspaceId,
    pub app_id: AppId,
    pub environment: EnvironmentRef,
}

impl IntoParams for AppEnvironmentPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            path_id::<OrgId>("org_id", "org"),
            path_id::<WorkspaceId>("workspace_id", "workspace"),
            path_id::<AppId>("app_id", "app"),
            environment_param(),
        ]
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AppEnvironmentPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut params = RouteParams::of(parts)?;
        let ids = Self {
            org_id: params.take("org_id", "org", OrgId::parse)?,
            workspace_id: params.take("workspace_id", "workspace", WorkspaceId::parse)?,
            app_id: params.take("app_id", "app", AppId::parse)?,
            environment: params.take("environment", "environment", EnvironmentRef::parse)?,
        };
        params.finish()?;
        Ok(ids)
    }
}

impl AppEnvironmentPath {
    /// The app and the environment, for a write that takes them by value.
    pub fn into_parts(self) -> (AppScope, EnvironmentRef) {
        let scope = AppScope {
            org_id: self.org_id,
            workspace_id: self.workspace_id,
            app_id: self.app_id,
        };
        (scope, self.environment)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EnvironmentPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut params = RouteParams::of(parts)?;
        let ids = Self {
            org_id: params.take("org_id", "org", OrgId::parse)?,
            workspace_id: params.take("workspace_id", "workspace", WorkspaceId::parse)?,
            environment: params.take("environment", "environment", EnvironmentRef::parse)?,
        };
        params.finish()?;
        Ok(ids)
    }
}

impl EnvironmentPath {
    pub fn workspace(&self) -> WorkspaceScope {
        WorkspaceScope {
            org_id: self.org_id.clone(),
            workspace_id: self.workspace_id.clone(),
        }
    }
}

impl WorkspacePath {
    pub fn workspace(&self) -> WorkspaceScope {
        WorkspaceScope {
            org_id: self.org_id.clone(),
            workspace_id: self.workspace_id.clone(),
        }
    }
}

/// The app a path addresses, for every path under one.
macro_rules! app_scope {
    ($($name:ident),+) => {
        $(impl $name {
            pub fn app(&self) -> AppScope {
                AppScope {
                    org_id: self.org_id.clone(),
                    workspace_id: self.workspace_id.clone(),
                    app_id: self.app_id.clone(),
                }
            }
        })+
    };
}

app_scope!(
    AppPath,
    EndpointPath,
    AugmentationPath,
    ReleasePath,
    DeploymentPath,
    AppEnvironmentPath
);

impl AppPath {
    /// The app, for a write that takes it by value.
    pub fn into_app(self) -> AppScope {
        AppScope {
            org_id: self.org_id,
            workspace_id: self.workspace_id,
            app_id: self.app_id,
        }
    }
}

impl ReleasePath {
    /// The app and the release, for a write that takes them by value.
    pub fn into_release(self) -> (AppScope, ReleaseId) {
        let scope = AppScope {
            org_id: self.org_id,
            workspace_id: self.workspace_id,
            app_id: self.app_id,
        };
        (scope, self.release_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_params_follow_the_template_and_decode() {
        let params = route_params(
            "/v1/orgs/{org_id}/workspaces/{workspace_id}",
            "/v1/orgs/org%5F1/workspaces/%FF",
        );
        assert_eq!(
            params,
            [
                ("org_id".to_owned(), "org_1".to_owned()),
                ("workspace_id".to_owned(), "\u{FFFD}".to_owned())
            ]
        );
    }

    #[test]
    fn the_outermost_malformed_id_decides_and_unread_params_are_a_bug() {
        let mut params = RouteParams {
            params: route_params(
                "/v1/orgs/{org_id}/workspaces/{workspace_id}",
                "/v1/orgs/acme/workspaces/nope",
            ),
        };
        let refused = params.take("org_id", "org", OrgId::parse).unwrap_err();
        assert!(matches!(refused, ApiError::NotFound { .. }), "{refused:?}");
        assert!(params.take("app_id", "app", AppId::parse).is_err());
        assert!(params.finish().is_err(), "workspace_id was never read");
    }

    #[test]
    fn the_parameters_are_the_extractor_fields_in_path_order() {
        let names: Vec<String> = ReleasePath::into_params(|| None)
            .into_iter()
            .map(|parameter| parameter.name)
            .collect();
        assert_eq!(names, ["org_id", "workspace_id", "app_id", "release_id"]);
    }
}
