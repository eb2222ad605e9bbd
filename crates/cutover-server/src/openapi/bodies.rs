//! Schemas of the request bodies. Bodies are not deserialized into structs: the
//! parsers in `api::inputs` read them field by field so every problem is reported at
//! once. These schemas describe what those parsers accept, built from the same
//! constants (patterns, limits, enum words) the parsers use.
//!
//! They are written for the clients generators make from them, not only for people:
//! no `default` keyword (generators send it on every request, which on a PATCH resets
//! what is stored, or make the field required); a default is said in the field's
//! description and applied by the server to an absent field. No `allOf`/`oneOf` around
//! a body's fields (generators make such bodies unwritable): a rule across fields,
//! such as "exactly one of `role` and `permissions`", is in the description and the
//! server answers 422 when it is broken; validators also get it as JSON Schema
//! `not` / `if` / `then` beside the fields ([`cross_field_rules`]), which generators
//! ignore. Free-form objects say `additionalProperties: true`, so generators type them
//! as maps.

use std::borrow::Cow;

use cutover_domain::deployment::MAX_REASON_CHARS;
use cutover_domain::environment::EnvironmentRef;
use cutover_domain::limits::Limits;
use cutover_domain::permission::{Role, grant_words};
use cutover_domain::values::{
    DESCRIPTION_PATTERN, ENDPOINT_PATH_PATTERN, EndpointType, ExecutionMode, HttpMethod,
    NAME_PATTERN, NO_CONTROLS_PATTERN, ReleaseTag, SLUG_PATTERN, StepType,
};
use cutover_domain::{AugmentationId, ReleaseId, WorkspaceId};
use serde_json::json;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use cutover_domain::model::Step;

use crate::api::inputs::{MAX_PERMISSION_WORDS, MAX_TOKEN_WORKSPACES};

fn limits() -> Limits {
    Limits::default()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn name() -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(limits().max_string_chars))
        .pattern(Some(NAME_PATTERN))
        .description(Some(
            "1–256 characters, not only whitespace, no control characters",
        ))
}

fn nullable(kind: Type) -> SchemaType {
    SchemaType::from_iter([kind, Type::Null])
}

fn description() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .max_length(Some(limits().max_description_chars))
        .pattern(Some(DESCRIPTION_PATTERN))
        .description(Some("Up to 4,000 characters, no NUL; null clears it"))
}

fn any_object(can_be_null: bool) -> ObjectBuilder {
    let kind = if can_be_null {
        nullable(Type::Object)
    } else {
        Type::Object.into()
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
}

fn boolean(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .description(Some(description))
}

fn integer(minimum: u32, maximum: u32, default: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(minimum))
        .maximum(Some(maximum))
        .description(Some(format!("{minimum}–{maximum}; {default} when absent")))
}

/// Whether a body creates a resource or patches one: a field a create defaults when
/// absent is, in a patch, left unchanged when absent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Create,
    Patch,
}

fn words(words: impl IntoIterator<Item = String>) -> ObjectBuilder {
    string().enum_values(Some(words))
}

fn array(items: impl Into<RefOr<Schema>>) -> ArrayBuilder {
    let items: RefOr<Schema> = items.into();
    ArrayBuilder::new().items(items)
}

/// Declares a request body schema: a marker type whose schema is `$build`, listed in
/// the document's components under `$title`.
macro_rules! body_schema {
    ($(#[$doc:meta])* $marker:ident = $title:literal, $build:expr) => {
        $(#[$doc])*
        pub struct $marker;

        impl PartialSchema for $marker {
            fn schema() -> RefOr<Schema> {
                let schema: Schema = $build;
                RefOr::T(schema)
            }
        }

        impl ToSchema for $marker {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($title)
            }
        }
    };
}

body_schema!(/// `POST /v1/orgs`.
    NewOrgBody = "NewOrg",
    ObjectBuilder::new()
        .property("name", name())
        .required("name")
        .property(
            "slug",
            string()
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some(SLUG_PATTERN))
                .description(Some(
                    "Unique across the server. When absent it is derived from the name, \
                     which must then hold an ASCII letter or digit (422 otherwise)",
                )),
        )
        .examples([json!({"name": "Acme Corp", "slug": "acme"})])
        .into());

body_schema!(/// `POST …/workspaces`.
    NewWorkspaceBody = "NewWorkspace",
    ObjectBuilder::new()
        .property("name", name())
        .required("name")
        .property("description", description())
        .examples([json!({"name": "production", "description": "Live traffic"})])
        .into());

fn environment_fields(body: Body) -> ObjectBuilder {
    let absent = |when_created: &str| match body {
        Body::Create => format!("{when_created} when absent"),
        Body::Patch => "unchanged when absent".to_owned(),
    };
    ObjectBuilder::new()
        .property("name", name())
        .property(
            "slug",
            string()
                .min_length(Some(1))
                .max_length(Some(64))
                .pattern(Some(SLUG_PATTERN))
                .description(Some(
                    "Lowercase letters, digits and `-`; unique in the workspace",
                )),
        )
        .property("description", description())
        .property(
            "is_default",
            boolean(&format!(
                "Make it the workspace's default (the previous default loses the flag); {}",
                absent("false")
            )),
        )
        .property(
            "protected",
            boolean(&format!(
                "Deploying here then needs `releases:activate`; {}",
                absent("false")
            )),
        )
}

body_schema!(/// `POST …/environments`.
    NewEnvironmentBody = "NewEnvironment",
    environment_fields(Body::Create)
        .required("name")
        .required("slug")
        .examples([json!({"name": "QA", "slug": "qa", "protected": false})])
        .into());

body_schema!(/// `PATCH …/environments/{environment}`.
    EnvironmentPatchBody = "EnvironmentPatch",
    environment_fields(Body::Patch)
        .examples([json!({"protected": true})])
        .into());

fn app_fields() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("name", name())
        .property("description", description())
        .property(
            "parameters",
            any_object(true).description(Some(
                "Any JSON object; null means {}. A PATCH replaces it whole",
            )),
        )
}

body_schema!(/// `POST …/apps`.
    NewAppBody = "NewApp",
    app_fields()
        .required("name")
        .examples([json!({"name": "support-bot", "parameters": {"region": "eu"}})])
        .into());

body_schema!(/// `PATCH …/apps/{app_id}`: any subset of the create fields.
    AppPatchBody = "AppPatch",
    app_fields()
        .examples([json!({"description": "Answers support questions"})])
        .into());

fn endpoint_fields() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("name", name())
        .property(
            "path",
            string()
                .min_length(Some(1))
                .max_length(Some(256))
                .pattern(Some(ENDPOINT_PATH_PATTERN))
                .description(Some("Starts with `/`, no whitespace; unique with `method`")),
        )
        .property("method", HttpMethod::schema())
        .property(
            "augmentation_id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(AugmentationId::PATTERN))
                .description(Some(
                    "An augmentation of the same app (422 when it is not one)",
                )),
        )
        .property("endpoint_type", EndpointType::schema())
        .property("description", description())
        .property(
            "input_schema",
            any_object(true).description(Some("A JSON Schema for the endpoint's input, or null")),
        )
}

body_schema!(/// `POST …/endpoints`.
    NewEndpointBody = "NewEndpoint",
    endpoint_fields()
        .required("name")
        .required("path")
        .required("method")
        .required("augmentation_id")
        .examples([json!({
            "name": "chat",
            "path": "/chat",
            "method": "POST",
            "augmentation_id": AugmentationId::EXAMPLE,
            "endpoint_type": "sync"
        })])
        .into());

body_schema!(/// `PATCH …/endpoints/{endpoint_id}`: any subset of the create fields.
    EndpointPatchBody = "EndpointPatch",
    endpoint_fields()
        .examples([json!({"path": "/v2/chat"})])
        .into());

fn step() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("name", name())
        .property("type", StepType::schema())
        .property(
            "config",
            any_object(false).description(Some("Any JSON object; {} when absent")),
        )
        .property(
            "timeout_seconds",
            integer(1, 3600, Step::DEFAULT_TIMEOUT_SECONDS),
        )
        .property("max_retries", integer(0, 10, Step::DEFAULT_MAX_RETRIES))
        .required("name")
        .required("type")
}

fn stage() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("name", name())
        .property(
            "execution_mode",
            words(ExecutionMode::ALL.iter().map(|word| (*word).to_owned()))
                .description(Some("How its steps run; `sequential` when absent")),
        )
        .property(
            "steps",
            array(step()).max_items(Some(limits().max_steps_per_stage)),
        )
        .required("name")
}

fn augmentation_fields(body: Body) -> ObjectBuilder {
    let stages = match body {
        Body::Create => "The pipeline, in order; none when absent",
        Body::Patch => "The pipeline, in order; replaces the stored stages whole",
    };
    let is_template = match body {
        Body::Create => "Whether other augmentations are made from it; false when absent",
        Body::Patch => "Whether other augmentations are made from it",
    };
    ObjectBuilder::new()
        .property("name", name())
        .property("description", description())
        .property(
            "stages",
            array(stage())
                .max_items(Some(limits().max_stages_per_augmentation))
                .description(Some(stages)),
        )
        .property(
            "tags",
            array(
                string()
                    .min_length(Some(1))
                    .max_length(Some(limits().max_string_chars))
                    .pattern(Some(NO_CONTROLS_PATTERN)),
            )
            .max_items(Some(limits().max_tags_per_augmentation)),
        )
        .property("is_template", boolean(is_template))
}

fn augmentation_example() -> serde_json::Value {
    json!({
        "name": "answer",
        "stages": [{
            "name": "respond",
            "execution_mode": "sequential",
            "steps": [{"name": "llm", "type": "inference", "config": {"model": "small"},
                       "timeout_seconds": 30, "max_retries": 1}]
        }],
        "tags": ["support"]
    })
}

body_schema!(/// `POST …/augmentations`.
    NewAugmentationBody = "NewAugmentation",
    augmentation_fields(Body::Create)
        .required("name")
        .examples([augmentation_example()])
        .into());

body_schema!(/// `PATCH …/augmentations/{augmentation_id}`: any subset of the create fields.
    AugmentationPatchBody = "AugmentationPatch",
    augmentation_fields(Body::Patch)
        .examples([json!({"tags": ["support", "beta"]})])
        .into());

body_schema!(/// `POST …/releases`.
    NewReleaseBody = "NewRelease",
    ObjectBuilder::new()
        .property("release_tag", ReleaseTag::schema())
        .required("release_tag")
        .property("description", description())
        .property(
            "activate",
            boolean(
                "Also deploy it, in the same transaction: to the workspace's default \
                 environment (needs `releases:activate` too), or to `environment`; false \
                 when absent",
            ),
        )
        .property(
            "environment",
            environment_ref().description(Some(
                "Where `activate: true` deploys the release (needs `releases:deploy`, and \
                 `releases:activate` if it is protected); only with `activate: true`",
            )),
        )
        .examples([json!({"release_tag": "v1.2.0", "description": "New prompt"})])
        .into());

/// An environment named by its id or its slug.
fn environment_ref() -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(EnvironmentRef::PATTERN))
        .examples(["staging"])
}

fn reason() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .max_length(Some(MAX_REASON_CHARS))
        .pattern(Some(DESCRIPTION_PATTERN))
        .description(Some(
            "Why, kept on the record: up to 1,000 characters, no NUL",
        ))
}

fn release_id() -> ObjectBuilder {
    string().pattern(Some(ReleaseId::PATTERN))
}

/// `expected_release_id`: the compare-and-swap condition a body may carry.
fn expected_release_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .pattern(Some(ReleaseId::PATTERN))
        .description(Some(
            "Go ahead only if the environment has this release now (null: only if it has \
             nothing); otherwise 412 `PRECONDITION_FAILED` with `details.current_release_id`, \
             and nothing changes. Absent: no condition",
        ))
}

body_schema!(/// `POST …/releases/{release_id}/archive`.
    ReasonBody = "ArchiveRequest",
    ObjectBuilder::new()
        .description(Some("Optional; no body at all is `{}`"))
        .property("reason", reason())
        .examples([json!({"reason": "superseded by v4"})])
        .into());

body_schema!(/// `POST …/releases/{release_id}/activate` and `…/rollback`.
    ActivationBody = "ActivationRequest",
    ObjectBuilder::new()
        .description(Some("Every field is optional; no body at all is `{}`"))
        .property("expected_release_id", expected_release_id())
        .property("reason", reason())
        .examples([json!({"reason": "v3 passed the canary"})])
        .into());

body_schema!(/// `POST …/apps/{app_id}/deployments`.
    NewDeploymentBody = "NewDeployment",
    ObjectBuilder::new()
        .description(Some(
            "Give exactly one of `release_id` (deploy that release) and `from_environment` \
             (promote what that environment has); 422 when both or neither are there",
        ))
        .property("environment", environment_ref().description(Some("Where to deploy")))
        .required("environment")
        .property("release_id", release_id().description(Some("The release to deploy")))
        .property(
            "from_environment",
            environment_ref().description(Some("The environment whose release to promote")),
        )
        .property("reason", reason())
        .property("expected_release_id", expected_release_id())
        .examples([json!({"environment": "staging", "release_id": ReleaseId::EXAMPLE,
            "reason": "Try the new prompt"})])
        .into());

body_schema!(/// `POST …/apps/{app_id}/environments/{environment}/rollback`.
    EnvironmentRollbackBody = "EnvironmentRollback",
    ObjectBuilder::new()
        .description(Some("Every field is optional; no body at all is `{}`"))
        .property(
            "release_id",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .pattern(Some(ReleaseId::PATTERN))
                .description(Some(
                    "The release to go back to: one the environment had, older than its \
                     current one. Null or absent: the one before the current",
                )),
        )
        .property("reason", reason())
        .property("expected_release_id", expected_release_id())
        .examples([json!({"reason": "errors after v3"})])
        .into());

body_schema!(/// `POST /v1/orgs/{org_id}/tokens`.
    NewTokenBody = "NewToken",
    ObjectBuilder::new()
        .description(Some(
            "Give exactly one of `role` and `permissions` (422 when both or neither are there)",
        ))
        .property("name", name())
        .required("name")
        .property(
            "role",
            words(Role::NAMES.iter().map(|r| (*r).to_owned()))
                .description(Some("A named bundle of permissions")),
        )
        .property(
            "permissions",
            array(words(grant_words()))
                .max_items(Some(MAX_PERMISSION_WORDS))
                .description(Some(
                    "Permission words (`resource:action`, `resource:*`, `*`); \
                     repeated words count once",
                )),
        )
        .property(
            "workspace_ids",
            ArrayBuilder::new()
                .schema_type(nullable(Type::Array))
                .items(string().pattern(Some(WorkspaceId::PATTERN)))
                .max_items(Some(MAX_TOKEN_WORKSPACES))
                .description(Some(
                    "Limit the token to these workspaces of the org (repeated ids \
                     count once); null or absent: all",
                )),
        )
        .property(
            "expires_at",
            // A union rather than `type: [string, null]`, so that `format`
            // plainly applies to the string (generators honour it there).
            OneOfBuilder::new()
                .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .description(Some(
                    "An RFC 3339 instant, or null: never. One in the past makes a \
                     token that is expired from the start",
                )),
        )
        .examples([json!({"name": "ci", "role": "operator", "workspace_ids": [WorkspaceId::EXAMPLE]})])
        .into());

/// The rules across a body's fields, as JSON Schema keywords added beside its
/// `properties` (utoipa's builders have no `not` or `if`): validators such as the
/// contract fuzzer apply them, and generators, which do not read these keywords, see
/// a plain object they can write. Each rule is also in the body's description.
pub fn cross_field_rules() -> Vec<(&'static str, serde_json::Map<String, serde_json::Value>)> {
    let object = |value: serde_json::Value| value.as_object().cloned().unwrap_or_default();
    vec![
        (
            "NewToken",
            object(json!({
                "not": {"required": ["role", "permissions"]},
                "if": {"not": {"required": ["role"]}},
                "then": {"required": ["permissions"]},
            })),
        ),
        (
            "NewDeployment",
            object(json!({
                "not": {"required": ["release_id", "from_environment"]},
                "if": {"not": {"required": ["release_id"]}},
                "then": {"required": ["from_environment"]},
            })),
        ),
        (
            "NewRelease",
            object(json!({
                "if": {"required": ["environment"]},
                "then": {"required": ["activate"], "properties": {"activate": {"const": true}}},
            })),
        ),
        (
            "NewOrg",
            object(json!({
                "if": {"not": {"required": ["slug"]}},
                "then": {"properties": {"name": {"pattern": "[A-Za-z0-9]"}}},
            })),
        ),
    ]
}
