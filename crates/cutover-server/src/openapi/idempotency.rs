//! What the document says of `Idempotency-Key` (`http::idempotency`): every POST,
//! PATCH and DELETE takes the header; its answers may be replays
//! (`Idempotency-Replayed`); it may answer 409 `idempotency_key_in_use`, and its 422
//! covers a malformed key or one used for another request.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr, Required, Response};

use cutover_domain::idempotency::{IdempotencyKey, MAX_KEY_CHARS};

/// The request header, as the document spells it (`http::idempotency::KEY_HEADER`).
const KEY: &str = "Idempotency-Key";

/// The answer header and its component, as the document spells it
/// (`http::idempotency::REPLAYED_HEADER`).
pub const REPLAYED: &str = "Idempotency-Replayed";

/// The name of the 409 answer a key in progress gets.
pub const IN_USE: &str = "IdempotencyKeyInUse";

const KEY_DESCRIPTION: &str = "Makes this write safe to retry (the IETF `Idempotency-Key` \
    draft): the first request with a key runs and its answer (status, body, `Location`, \
    `ETag`) is kept for 24 hours by default; the same request again — same token, method, \
    path, query and body — is answered that answer again, byte for byte, with \
    `Idempotency-Replayed: true`, and changes nothing. The key with another request answers \
    422; while the first request is still running, 409 `idempotency_key_in_use`. A 5xx is \
    not kept: a retry after one runs again. Keys are scoped to the token's org (a platform \
    token's own).";

/// The header component a replayed answer carries.
pub fn replayed_header() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["true"])),
        ))
        .description(Some(
            "`true` when this answer is the one kept for the request's `Idempotency-Key`, \
             answered again; absent on an answer the request itself produced.",
        ))
        .build()
}

/// The 409 answer of a key whose first request has not answered yet.
pub fn in_use_response() -> Response {
    utoipa::openapi::ResponseBuilder::new()
        .description(
            "`idempotency_key_in_use`: a request with this `Idempotency-Key` is still being \
             processed (or died less than a minute past the request deadline ago); retry \
             once it has answered.",
        )
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .header_ref(
            super::responses::REQUEST_ID,
            super::responses::request_id_ref(),
        )
        .build()
}

/// Adds the header, the replay marker and the 409 to one write operation.
pub fn document_write(operation: &mut Operation) {
    let key = ParameterBuilder::new()
        .name(KEY)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(KEY_DESCRIPTION))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_KEY_CHARS))
                .pattern(Some(IdempotencyKey::PATTERN)),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(key));
    let responses: &mut BTreeMap<String, RefOr<Response>> = &mut operation.responses.responses;
    match responses.get_mut("409") {
        Some(RefOr::T(conflict)) => {
            let description = &mut conflict.description;
            if !description.trim_end().ends_with('.') {
                description.push('.');
            }
            description.push_str(
                " Or `idempotency_key_in_use`: a request with this `Idempotency-Key` is \
                 still being processed.",
            );
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(
                "409".to_owned(),
                RefOr::Ref(Ref::from_response_name(IN_USE)),
            );
        }
    }
    for (status, response) in responses.iter_mut() {
        let kept = status.starts_with('2') || status.starts_with('4');
        if let (true, RefOr::T(response)) = (kept, response) {
            response
                .headers
                .entry(REPLAYED.to_owned())
                .or_insert_with(|| {
                    RefOr::Ref(Ref::new(format!("#/components/headers/{REPLAYED}")))
                });
        }
    }
}
