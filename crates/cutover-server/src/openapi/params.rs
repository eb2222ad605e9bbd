//! Path and query parameters. Path ids take their schema (pattern, example) from the
//! id types that parse them (a path id that does not match answers 404, not 422, as
//! any id naming nothing); query bounds come from the constants the extractors use.

use cutover_domain::{AppId, AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Ref, Required, Schema};
use utoipa::{IntoParams, ToSchema};

use crate::http::extract::{DEFAULT_LIMIT, MAX_LIMIT};

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

/// Declares a parameter set: a type whose `IntoParams` lists the given path ids.
macro_rules! path_params {
    ($(#[$doc:meta])* $name:ident { $($param:literal: $ty:ty = $what:literal),+ $(,)? }) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                vec![$(path_id::<$ty>($param, $what)),+]
            }
        }
    };
}

path_params!(/// `{org_id}`.
    OrgPath { "org_id": OrgId = "org" });
path_params!(/// `/v1/tokens/{token_id}`: a platform token.
    PlatformTokenPath { "token_id": TokenId = "token" });
path_params!(/// `{org_id}/tokens/{token_id}`.
    TokenPath { "org_id": OrgId = "org", "token_id": TokenId = "token" });
path_params!(/// `{org_id}/workspaces/{workspace_id}`.
    WorkspacePath { "org_id": OrgId = "org", "workspace_id": WorkspaceId = "workspace" });
path_params!(/// Down to `{app_id}`.
AppPath {
    "org_id": OrgId = "org",
    "workspace_id": WorkspaceId = "workspace",
    "app_id": AppId = "app",
});
path_params!(/// Down to `{endpoint_id}`.
EndpointPath {
    "org_id": OrgId = "org",
    "workspace_id": WorkspaceId = "workspace",
    "app_id": AppId = "app",
    "endpoint_id": EndpointId = "endpoint",
});
path_params!(/// Down to `{augmentation_id}`.
AugmentationPath {
    "org_id": OrgId = "org",
    "workspace_id": WorkspaceId = "workspace",
    "app_id": AppId = "app",
    "augmentation_id": AugmentationId = "augmentation",
});
path_params!(/// Down to `{release_id}`.
ReleasePath {
    "org_id": OrgId = "org",
    "workspace_id": WorkspaceId = "workspace",
    "app_id": AppId = "app",
    "release_id": ReleaseId = "release",
});

fn query(name: &str, description: &str, schema: impl Into<Schema>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema.into()))
        .build()
}

/// `limit` and `cursor`, which every list takes.
pub struct ListQuery;

impl IntoParams for ListQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query(
                "limit",
                "How many items to answer at most.",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(MAX_LIMIT))
                    .default(Some(DEFAULT_LIMIT.into())),
            ),
            query(
                "cursor",
                "Where to continue: the `next_cursor` of the previous page of this same \
                 list. Opaque and signed; any other value answers 422.",
                ObjectBuilder::new().schema_type(Type::String),
            ),
        ]
    }
}

/// `include_archived`, which the release list adds.
pub struct ArchivedQuery;

impl IntoParams for ArchivedQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![query(
            "include_archived",
            "Also list archived releases.",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .default(Some(false.into())),
        )]
    }
}

/// `If-None-Match`, which the release reads honour.
pub struct IfNoneMatch;

impl IntoParams for IfNoneMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The `ETag` of an answer you already have (or a comma-separated list of \
                     them, or `*`): when it names the current answer, the reply is `304` with \
                     no body. Compared weakly, so `W/\"…\"` matches too; anything else is \
                     ignored and the release is answered in full.",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .example(Some("\"3f0a9c1e5b7d2a64-9e107d9d372bb682\"".into()))
                .build(),
        ]
    }
}
