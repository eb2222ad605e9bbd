//! `cutover openapi`: prints the API's OpenAPI document (the same bytes
//! `GET /openapi.json` serves), e.g. to refresh `docs/openapi.json`.

use std::io::Write;

/// Standard output would not take the document.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the document")]
pub struct WriteError(#[source] std::io::Error);

/// Writes the document to standard output.
pub fn print() -> Result<(), WriteError> {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(cutover_server::openapi::document_json().as_bytes())
        .and_then(|()| out.flush())
    {
        // A reader that stops early (`| head`) is not an error of ours.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(WriteError(e)),
        _ => Ok(()),
    }
}
