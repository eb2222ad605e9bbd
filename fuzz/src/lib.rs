//! What the fuzz targets share: an error rendered exactly as a client receives it,
//! and the checks every refusal and every accepted value must pass.

use std::sync::OnceLock;

use axum::response::IntoResponse;
use cutover_server::http::error::ApiError;
use serde_json::Value;

/// No error answer may be larger than this (issue 12, finding 4).
pub const MAX_ERROR_ANSWER_BYTES: usize = 64 * 1024;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// The bytes of a response body that is already in memory.
pub fn collect(body: axum::body::Body) -> Vec<u8> {
    let collected = runtime()
        .block_on(http_body_util::BodyExt::collect(body))
        .expect("an answer's body is in memory");
    collected.to_bytes().to_vec()
}

/// The status and the body bytes a client receives for `error`.
pub fn answer(error: ApiError) -> (u16, Vec<u8>) {
    let response = error.into_response();
    let status = response.status().as_u16();
    (status, collect(response.into_body()))
}

/// A refused body must be a 422 in FastAPI's shape, every entry located under
/// `body`, and the whole answer at most [`MAX_ERROR_ANSWER_BYTES`].
pub fn check_body_refusal(error: ApiError) {
    let (status, bytes) = answer(error);
    assert_eq!(status, 422, "a bad body is a 422");
    assert!(
        bytes.len() <= MAX_ERROR_ANSWER_BYTES,
        "a 422 answer of {} bytes (over {MAX_ERROR_ANSWER_BYTES})",
        bytes.len()
    );
    let body: Value = serde_json::from_slice(&bytes).expect("a 422 answer is JSON");
    let detail = body["detail"]
        .as_array()
        .expect("a 422 answer has `detail`");
    assert!(!detail.is_empty(), "a 422 names at least one problem");
    for entry in detail {
        assert_eq!(entry["loc"][0], "body", "loc starts at body: {entry}");
        assert!(
            entry["type"].is_string() && entry["msg"].is_string(),
            "{entry}"
        );
    }
}

/// `value` serializes, reads back, and is equal to what it was.
pub fn round_trips<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).expect("a parsed value serializes");
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("the stored form does not read back: {error}"));
    assert_eq!(&back, value, "the stored form reads back as something else");
}
