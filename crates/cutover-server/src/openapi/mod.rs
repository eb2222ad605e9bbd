//! The OpenAPI 3.1 document and the interactive docs page.
//!
//! The document is not written by hand: `api::routes()` registers every handler
//! through utoipa-axum's `routes!`, which takes each handler's `#[utoipa::path]`
//! annotation for both the router and the document, so the two cannot disagree.
//! [`finish`] then adds what follows from the operation table of
//! `cutover_domain::permission` (bearer security, `x-required-permission`) and the
//! shared components. `GET /openapi.json` serves it, `cutover openapi` prints it, and
//! `GET /docs` is Swagger UI (embedded in the binary) pointed at it.

pub mod bodies;
pub mod dry_runs;
pub mod idempotency;
pub mod links;
pub mod lists;
pub mod params;
pub mod responses;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cutover_domain::permission::Operation;
use cutover_domain::{AppId, AugmentationId, EndpointId, OrgId, ReleaseId, TokenId, WorkspaceId};
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{Operation as OpenApiOperation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::echo::cut;
use crate::http::error::{ApiError, ErrorEnvelope, ValidationBody};
use crate::http::middleware::MAX_ECHOED_ROUTE_BYTES;
use crate::http::validation::Issue;

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// The extension naming the permission an operation needs.
pub const REQUIRED_PERMISSION: &str = "x-required-permission";

/// Where the document and the docs page are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

const INTRO: &str = "\
A release registry: each app keeps a working configuration (its **draft**: endpoints \
and augmentations), cuts immutable, numbered, tagged **releases** from it, and has at \
most one **active** release. Gateways ask what is live; people and CI cut, activate, \
roll back, archive and delete releases.

**Authentication.** Send `Authorization: Bearer <token>` (use *Authorize* above). Each \
operation names the permission it needs in its description and in \
`x-required-permission`. A resource in another org answers 404, never 403.

**Errors.** Every error but validation answers the envelope \
`{error, message, details, timestamp, status_code}`; validation failures answer 422 \
`{detail: [{loc, msg, type, input, ctx}]}` (at most 50 entries; see the 422 answer). A \
method a path does not serve answers 405 with an `Allow` header (every `GET` also \
answers `HEAD`: the same status and headers, no body); an unknown path, and a path id \
that names nothing (malformed or not), answers 404. Every response carries \
`X-Request-Id`.

**Limits.** Bodies up to 1 MiB, names up to 256 characters and descriptions up to 4,000 \
(the defaults; servers can be configured otherwise). Lists are paged with `limit` \
(1–200, default 50) and the opaque `next_cursor`.";

const TAGS: &[(&str, &str)] = &[
    ("orgs", "Organisations: the top of the tenancy tree"),
    (
        "tokens",
        "API tokens of an org: minted with a subset of the caller's rights",
    ),
    ("workspaces", "Workspaces inside an org"),
    (
        "environments",
        "A workspace's environments (production, staging, development, …) and an app's \
         board: what of it each environment has",
    ),
    ("apps", "Apps inside a workspace"),
    ("endpoints", "The draft's endpoints"),
    (
        "augmentations",
        "The draft's augmentations (pipelines of stages and steps)",
    ),
    (
        "releases",
        "Immutable snapshots of the draft, and which one is live",
    ),
    (
        "deployments",
        "Deploying a release to an environment, promoting one environment's to another, \
         rolling one environment back, and the records of each",
    ),
    (
        "timeline",
        "The app's history: every draft write, release cut, archive and delete, and \
         deployment",
    ),
    (
        "operations",
        "Probes, metrics and this document (no authentication)",
    ),
];

/// The document's frame: info, tags, the security scheme and the shared components.
/// The paths are added by `api::routes()`.
pub fn base() -> OpenApi {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("cut_…")
        .description(Some(
            "An API token (`cut_` and 52 characters), shown once when it is created.",
        ))
        .build();
    let mut components = ComponentsBuilder::new()
        .security_scheme(BEARER, SecurityScheme::Http(bearer))
        .schema_from::<ErrorEnvelope>()
        .schema_from::<ValidationBody>()
        .schema_from::<Issue>()
        .schema_from::<OrgId>()
        .schema_from::<TokenId>()
        .schema_from::<WorkspaceId>()
        .schema_from::<AppId>()
        .schema_from::<EndpointId>()
        .schema_from::<AugmentationId>()
        .schema_from::<ReleaseId>()
        .build();
    components.schemas.extend(dry_runs::schemas());
    components.responses.extend(responses::components());
    components.headers.insert(
        responses::REQUEST_ID.to_owned(),
        RefOr::T(responses::request_id_header()),
    );
    components.headers.insert(
        idempotency::REPLAYED.to_owned(),
        RefOr::T(idempotency::replayed_header()),
    );
    components.responses.insert(
        idempotency::IN_USE.to_owned(),
        RefOr::T(idempotency::in_use_response()),
    );
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("cutover")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(INTRO))
                .license(Some(
                    LicenseBuilder::new()
                        .name("Apache-2.0")
                        .identifier(Some("Apache-2.0"))
                        .build(),
                )),
        )
        .tags(Some(TAGS.iter().map(|(name, description)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*description))
                .build()
        })))
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some(
                "The server that serves this document (its address is the base URL)",
            ))
            .build()]))
        .components(Some(components))
        .build()
}

/// Every operation of a path item, with its method.
pub fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut OpenApiOperation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("OPTIONS", &mut item.options),
        ("HEAD", &mut item.head),
        ("PATCH", &mut item.patch),
        ("TRACE", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|op| (method, op)))
    .collect()
}

/// The operations whose every body field is optional, so that no body at all is `{}`.
const OPTIONAL_BODIES: &[Operation] = &[
    Operation::ReleasesActivate,
    Operation::ReleasesRollback,
    Operation::EnvironmentRollback,
    Operation::ReleasesArchive,
];

/// Completes the registered document: each operation of the permission table gets
/// the bearer requirement, its permission (description and `x-required-permission`);
/// the public probes say they need none (`security: []`); every operation lists the
/// 405 its path answers to other methods; every write takes `Idempotency-Key`
/// ([`idempotency`]); every response documents `X-Request-Id`, and answers get their
/// links ([`links`]).
pub fn finish(mut api: OpenApi) -> OpenApi {
    links::add(&mut api);
    for item in api.paths.paths.values_mut() {
        for (method, operation) in operations_mut(item) {
            if matches!(method, "POST" | "PATCH" | "DELETE") {
                idempotency::document_write(operation);
            }
            dry_runs::document(operation);
            let optional_body = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| OPTIONAL_BODIES.iter().any(|op| op.as_str() == id));
            if let (true, Some(RefOr::T(body))) = (optional_body, operation.request_body.as_mut()) {
                body.required = Some(utoipa::openapi::Required::False);
            }
            let table_entry = operation
                .operation_id
                .as_deref()
                .and_then(Operation::from_name);
            if let Some(table_entry) = table_entry {
                let permission = table_entry.required_permission().as_str();
                operation.security = Some(vec![SecurityRequirement::new::<_, _, &str>(BEARER, [])]);
                let extensions = ExtensionsBuilder::new()
                    .add(REQUIRED_PERMISSION, permission)
                    .build();
                match &mut operation.extensions {
                    Some(existing) => existing.merge(extensions),
                    None => operation.extensions = Some(extensions),
                }
                let mut text = format!("**Required permission:** `{permission}`.");
                if table_entry.needs_platform_token() {
                    text.push_str(" Only platform tokens (not bound to an org) may do this.");
                }
                operation.description = Some(match operation.description.take() {
                    Some(description) if !description.is_empty() => {
                        format!("{description}\n\n{text}")
                    }
                    _ => text,
                });
            } else {
                operation.security = Some(Vec::new());
            }
            operation
                .responses
                .responses
                .entry("405".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("MethodNotAllowed")));
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .entry(responses::REQUEST_ID.to_owned())
                        .or_insert_with(|| RefOr::Ref(responses::request_id_ref()));
                }
            }
        }
    }
    api
}

/// The complete document, as the server serves it.
pub fn document() -> OpenApi {
    let (_, api) = crate::api::routes().split_for_parts();
    finish(api)
}

/// The document as pretty JSON with a final newline: what `/openapi.json` answers,
/// `cutover openapi` prints and `docs/openapi.json` holds.
pub fn document_json() -> String {
    let mut document = serde_json::to_value(document()).expect("the document serializes");
    for (name, rules) in bodies::cross_field_rules() {
        let schema = document["components"]["schemas"][name]
            .as_object_mut()
            .unwrap_or_else(|| panic!("the body schema {name} is a component"));
        schema.extend(rules);
    }
    let mut text = serde_json::to_string_pretty(&document).expect("the document serializes");
    text.push('\n');
    text
}

static DOCUMENT: LazyLock<String> = LazyLock::new(document_json);

/// The OpenAPI document
///
/// This document: every operation of the API, its parameters, bodies, answers and
/// the permission it needs.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_get",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", body = HashMap<String, serde_json::Value>,
            content_type = "application/json"),
    ),
)]
pub async fn serve_document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The interactive docs page (Swagger UI, assets embedded) at `/docs/`, reading
/// `/openapi.json`; `/docs` redirects there.
pub fn docs_ui<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let config = Config::from(DOCUMENT_PATH)
        .try_it_out_enabled(true)
        .display_operation_id(true)
        .display_request_duration(true)
        .show_extensions(true)
        .filter(true);
    Router::from(SwaggerUi::new(DOCS_PATH).config(config))
        .layer(axum::middleware::from_fn(in_our_envelope))
}

/// Gives the docs routes' bare 404 and 405 answers our error envelope, and axum's
/// plain-text 400 for a path that is not UTF-8 once decoded (`/docs/%FF`): such a
/// path names no page, so it is the same 404 as any unknown one.
async fn in_our_envelope(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let bare = !response.headers().contains_key(header::CONTENT_TYPE);
    let unknown =
        || ApiError::not_found("route", cut(&path, MAX_ECHOED_ROUTE_BYTES)).into_response();
    let plain_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/plain"));
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED if bare => {
            let allowed = response
                .headers()
                .get(header::ALLOW)
                .and_then(|value| value.to_str().ok())
                .map(|text| text.split(',').map(|m| m.trim().to_owned()).collect())
                .unwrap_or_default();
            ApiError::MethodNotAllowed { allowed }.into_response()
        }
        StatusCode::NOT_FOUND if bare => unknown(),
        StatusCode::BAD_REQUEST if plain_text => unknown(),
        _ => response,
    }
}
