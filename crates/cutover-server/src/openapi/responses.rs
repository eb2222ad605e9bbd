//! The error answers every operation shares, as reusable response components, and
//! the sets of them that operations list (`responses(..., Errors)`). Each example is
//! rendered by the real [`ApiError`] renderer, so examples cannot drift from what the
//! server sends.

use std::collections::BTreeMap;

use cutover_domain::Timestamp;
use cutover_domain::permission::Permission;
use serde_json::{Value, json};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, ToSchema};

use crate::config::ConnectionLimits;
use crate::http::error::{ApiError, ErrorEnvelope, ValidationBody};
use crate::http::middleware::REQUEST_ID_HEADER;
use crate::http::validation::Issue;

/// The name of the header component every response carries.
pub const REQUEST_ID: &str = "X-Request-Id";

/// A fixed instant for examples, so the committed document is stable.
fn example_time() -> Timestamp {
    Timestamp::parse_rfc3339("2026-11-28T01:49:09.123456Z").expect("a valid example instant")
}

/// One shared error answer: its component name, when it happens, a sample error to
/// render as the example, and the headers it adds.
struct SharedError {
    name: &'static str,
    description: &'static str,
    sample: fn() -> ApiError,
    headers: &'static [(&'static str, &'static str)],
}

const SHARED_ERRORS: &[SharedError] = &[
    SharedError {
        name: "Unauthorized",
        description: "The bearer token is missing, malformed, unknown, expired or revoked.",
        sample: || ApiError::Unauthenticated,
        headers: &[("WWW-Authenticate", "Always `Bearer`.")],
    },
    SharedError {
        name: "Forbidden",
        description: "The token lacks the permission the operation needs (named in \
            `details.required_permission`), is limited to other workspaces \
            (`details.workspace_id`), or the operation needs a platform token \
            (`details.token_scope`).",
        sample: || ApiError::Forbidden {
            required_permission: Permission::ReleasesActivate.to_string(),
            message: "You don't have permission to perform this action".into(),
            extra: Default::default(),
        },
        headers: &[],
    },
    SharedError {
        name: "NotFound",
        description: "A resource in the path does not exist, or belongs to an org the \
            token cannot see (existence never leaks). A path id that is not of its type's \
            form names nothing and answers this too (`details.resource_id` echoes it, cut \
            to 256 bytes).",
        sample: || ApiError::not_found("release", cutover_domain::ReleaseId::EXAMPLE),
        headers: &[],
    },
    SharedError {
        name: "MethodNotAllowed",
        description: "The path does not serve this method; `Allow` lists the methods it \
            does. Every `GET` also answers `HEAD` (the same status and headers, no body).",
        sample: || ApiError::MethodNotAllowed {
            allowed: vec!["GET".into(), "HEAD".into()],
        },
        headers: &[("Allow", "The methods the path serves, comma-separated.")],
    },
    SharedError {
        name: "PreconditionFailed",
        description: "A compare-and-swap condition did not hold, and nothing was changed: \
            the environment no longer has the release `If-Match` or `expected_release_id` \
            named (`details.current_release_id` says what it has now; null when nothing), \
            or the draft entity changed since the `ETag` in `If-Match` was read. Read \
            again and decide anew.",
        sample: || {
            ApiError::PreconditionFailed(
                cutover_domain::precondition::PreconditionFailed::Deployment {
                    current_release_id: Some(cutover_domain::ReleaseId::from_trusted(
                        cutover_domain::ReleaseId::EXAMPLE.to_owned(),
                    )),
                },
            )
        },
        headers: &[],
    },
    SharedError {
        name: "PayloadTooLarge",
        description: "The body is larger than the server's limit (1 MiB by default); \
            answered before reading it when `Content-Length` says so.",
        sample: || ApiError::PayloadTooLarge {
            limit_bytes: cutover_domain::limits::Limits::default().max_body_bytes,
        },
        headers: &[],
    },
    SharedError {
        name: "UriTooLong",
        description: "The request target (path and query) is longer than 8 KiB. Past \
            64 KiB the HTTP layer answers a bare 414 without this body.",
        sample: || ApiError::UriTooLong {
            limit_bytes: crate::http::middleware::MAX_URI_BYTES,
        },
        headers: &[],
    },
    SharedError {
        name: "HeadersTooLarge",
        description: "The header fields take more than 32 KiB. Past about 408 KiB or \
            100 fields the HTTP layer answers a bare 431 without this body.",
        sample: || ApiError::HeadersTooLarge {
            limit_bytes: crate::http::middleware::MAX_HEADER_BYTES,
        },
        headers: &[],
    },
    SharedError {
        name: "UnsupportedMediaType",
        description: "The body is not JSON: send `Content-Type: application/json` (or \
            `application/*+json`).",
        sample: || ApiError::UnsupportedMediaType,
        headers: &[],
    },
    SharedError {
        name: "RequestTimeout",
        description: "The body did not fully arrive within the server's body read \
            timeout (30 s by default) of the request head; nothing was stored, and the \
            connection closes.",
        sample: || ApiError::BodyReadTimeout {
            after: ConnectionLimits::default().body_read_timeout,
        },
        headers: &[("Connection", "Always `close`.")],
    },
    SharedError {
        name: "RateLimited",
        description: "The token sent more requests than the server's per-token rate \
            allows, or the client's address made too many failed authentications \
            (see docs/LIMITS.md).",
        sample: || ApiError::RateLimited {
            retry_after_seconds: 1,
        },
        headers: &[("Retry-After", "Seconds to wait before retrying.")],
    },
    SharedError {
        name: "InternalError",
        description: "An unexpected failure; the cause is logged with the request id, \
            never sent.",
        sample: || ApiError::internal("example"),
        headers: &[],
    },
    SharedError {
        name: "ServiceUnavailable",
        description: "The database cannot be reached or is busy (a lock held too long, a \
            statement past its timeout), the request took longer than the server's \
            request deadline (60 s by default; a write may still have taken effect), or \
            the server is shutting down. Retry shortly.",
        sample: || ApiError::Unavailable {
            cause: "example".into(),
        },
        headers: &[("Retry-After", "Seconds to wait before retrying.")],
    },
];

/// A reference to the `X-Request-Id` header component.
pub fn request_id_ref() -> Ref {
    Ref::new(format!("#/components/headers/{REQUEST_ID}"))
}

/// The `X-Request-Id` header component.
pub fn request_id_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(format!(
            "The id of this request in the server's logs (`{REQUEST_ID_HEADER}`): a short \
             plain id the client sent, or one the server made. Every response carries it."
        )))
        .build()
}

fn json_content(schema: &str, example: Value) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(schema)))
        .example(Some(example))
        .build()
}

/// The response components, by name: the shared errors and the 422.
pub fn components() -> BTreeMap<String, RefOr<Response>> {
    let mut responses = BTreeMap::new();
    for shared in SHARED_ERRORS {
        let sample = (shared.sample)();
        let example =
            serde_json::to_value(sample.envelope(example_time())).expect("an envelope serializes");
        let mut response = ResponseBuilder::new()
            .description(shared.description)
            .content(
                "application/json",
                json_content(&ErrorEnvelope::name(), example),
            )
            .header_ref(REQUEST_ID, request_id_ref());
        for (name, description) in shared.headers {
            response = response.header(
                *name,
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some(*description))
                    .build(),
            );
        }
        responses.insert(shared.name.to_owned(), RefOr::T(response.build()));
    }
    let example = serde_json::to_value(ValidationBody {
        detail: vec![Issue::from_violation(
            vec!["body".into(), "release_tag".into()],
            cutover_domain::values::Violation::TooLong { max: 64 },
            &json!("x".repeat(65)),
        )],
    })
    .expect("a validation body serializes");
    let validation = ResponseBuilder::new()
        .description(
            "The request is invalid: one entry per problem in the body or the query \
             (a cursor the server did not issue, …), at most 50 entries and 64 KiB. When \
             there are more problems, the last entry has `type: too_many_errors` and \
             `ctx: {listed, total}`. A list longer than its maximum is one `too_long` \
             entry. Each `input` echoes at most 256 bytes of JSON: a longer string is \
             cut and ends in `…`, a bigger array or object is replaced by \
             `{\"truncated\": \"array\" | \"object\", \"length\": N}`.",
        )
        .content(
            "application/json",
            json_content(&ValidationBody::name(), example),
        )
        .header_ref(REQUEST_ID, request_id_ref())
        .build();
    responses.insert("ValidationFailed".to_owned(), RefOr::T(validation));
    responses
}

fn refs(entries: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, name)| {
            (
                (*status).to_owned(),
                RefOr::Ref(Ref::from_response_name(*name)),
            )
        })
        .collect()
}

/// What every authenticated operation can answer besides its own results: 401, 403,
/// 414, 422 (query or body), 429, 431, 500 and 503.
pub struct Errors;

impl IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("414", "UriTooLong"),
            ("422", "ValidationFailed"),
            ("429", "RateLimited"),
            ("431", "HeadersTooLarge"),
            ("500", "InternalError"),
            ("503", "ServiceUnavailable"),
        ])
    }
}

/// 404, for operations on a path with ids.
pub struct NotFound;

impl IntoResponses for NotFound {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[("404", "NotFound")])
    }
}

/// 408, 413 and 415, for operations that read a body.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[
            ("408", "RequestTimeout"),
            ("413", "PayloadTooLarge"),
            ("415", "UnsupportedMediaType"),
        ])
    }
}

/// 412, for the writes that take a compare-and-swap condition.
pub struct PreconditionErrors;

impl IntoResponses for PreconditionErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[("412", "PreconditionFailed")])
    }
}

/// 503 alone, for the readiness probe.
pub struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refs(&[("503", "ServiceUnavailable")])
    }
}

/// What the `ETag` of a release read says.
const ETAG: &str = "Names this answer: the first 16 hex digits of the release's \
    `content_hash`, a dash, and 16 of a digest of the release's id and lifecycle fields \
    (`status`, `activated_at`, `activated_by`), the only ones that ever change. Equal tags \
    mean equal bodies.";

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// The 200 (the release with its `ETag`) and the 304 of a conditional release read.
fn release_read(found: &str) -> BTreeMap<String, RefOr<Response>> {
    let ok = ResponseBuilder::new()
        .description(found)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ReleaseDetail")))
                .build(),
        )
        .header("ETag", string_header(ETAG))
        .header(
            "Cache-Control",
            string_header(
                "`no-cache`: the answer may be kept, but revalidated (with \
                 `If-None-Match`) before each use.",
            ),
        )
        .build();
    let not_modified = ResponseBuilder::new()
        .description(
            "`If-None-Match` names the current answer: no body; the one you have is current.",
        )
        .header("ETag", string_header(ETAG))
        .build();
    BTreeMap::from([
        ("200".to_owned(), RefOr::T(ok)),
        ("304".to_owned(), RefOr::T(not_modified)),
    ])
}

/// `GET …/releases/{release_id}`: the release, or 304.
pub struct ReleaseRead;

impl IntoResponses for ReleaseRead {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        release_read("The release")
    }
}

/// `GET …/releases/active`: the active release, or 304.
pub struct ActiveReleaseRead;

impl IntoResponses for ActiveReleaseRead {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        release_read("The active release")
    }
}
