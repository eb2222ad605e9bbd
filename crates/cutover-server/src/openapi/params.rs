//! Query and header parameters; their bounds come from the constants the extractors
//! use. Path parameters are the typed path extractors themselves (`http::path`).

use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Required, Schema};

use cutover_domain::environment::EnvironmentRef;

use crate::http::extract::LimitBounds;

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
        list_params(LimitBounds::STANDARD)
    }
}

/// `limit` and `cursor` of the app timeline, whose limit has bounds of its own.
pub struct TimelineQuery;

impl IntoParams for TimelineQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        list_params(LimitBounds::TIMELINE)
    }
}

fn list_params(bounds: LimitBounds) -> Vec<Parameter> {
    vec![
        query(
            "limit",
            "How many items to answer at most.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(bounds.max))
                .default(Some(bounds.default.into())),
        ),
        query(
            "cursor",
            "Where to continue: the `next_cursor` of the previous page of this same \
                 list. Opaque and signed; any other value answers 422.",
            ObjectBuilder::new().schema_type(Type::String),
        ),
    ]
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

/// `environment` of `GET …/releases/active`.
pub struct EnvironmentQuery;

impl IntoParams for EnvironmentQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![query(
            "environment",
            "The environment whose release to answer, by slug (`staging`) or id (`env_…`); \
             the workspace's default environment when absent. One that names no environment \
             of the workspace answers 404 (`resource_type: \"environment\"`).",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some(EnvironmentRef::PATTERN))
                .examples(["staging"]),
        )]
    }
}

/// `If-Match` on a write that changes what an environment has.
pub struct IfMatchDeployed;

impl IntoParams for IfMatchDeployed {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![if_match(
            "Go ahead only if the environment's current release read (`GET …/releases/active`, \
             with `?environment=` for another than the default) still answers this `ETag` \
             (or one of a comma-separated list; `*`: only if something is deployed); \
             otherwise 412 `PRECONDITION_FAILED` with `details.current_release_id`, and \
             nothing changes. Compared strongly: a weak tag `W/\"…\"` never matches. The tag \
             changes when the environment gets another release and when its release's \
             lifecycle fields change (it is deployed elsewhere too); to pin only the release, \
             use `expected_release_id`.",
        )]
    }
}

/// `against` of the diff operations.
pub struct AgainstQuery;

impl IntoParams for AgainstQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![query(
            "against",
            "What to compare with: `previous` (the default: the newest release numbered \
             below, or for the draft the newest release), `active` (what the default \
             environment has), `env:<slug or id>` (what that environment has), `draft`, \
             or a release's id (`rel_…`), number or tag (the keywords win over a tag \
             spelled like one). 422 when it names nothing.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(80))
                .examples(["previous", "env:staging", "v3"]),
        )]
    }
}

/// `X-Cutover-Reason` on a release delete (a DELETE has no body).
pub struct ReasonHeader;

impl IntoParams for ReasonHeader {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("X-Cutover-Reason")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Why, kept on the timeline's event: up to 1,000 characters, no NUL. \
                     Visible ASCII as is; anything else percent-encoded as UTF-8 \
                     (`%C3%A9` for é; escapes that do not decode to UTF-8 are kept as \
                     sent). Otherwise 422 at the header.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .max_length(Some(cutover_domain::deployment::MAX_REASON_CHARS))
                        .pattern(Some(r"^[ -~]*$")),
                ))
                .example(Some("superseded by v4".into()))
                .build(),
        ]
    }
}

/// `If-Match` on a write to a draft entity or an app.
pub struct IfMatchEntity;

impl IntoParams for IfMatchEntity {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![if_match(
            "Go ahead only if the entity still answers this `ETag` (that of a read or of the \
             write that made it; a comma-separated list, or `*`); otherwise 412 \
             `PRECONDITION_FAILED` and nothing changes, so two editors never overwrite each \
             other unseen. Compared strongly: a weak tag `W/\"…\"` never matches.",
        )]
    }
}

fn if_match(description: &str) -> Parameter {
    ParameterBuilder::new()
        .name("If-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some("\"3f0a9c1e5b7d2a64-9e107d9d372bb682\"".into()))
        .build()
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
