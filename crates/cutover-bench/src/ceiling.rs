//! The ceiling: a bare axum handler on the server's own HTTP stack (same axum,
//! hyper and tokio, the same multi-threaded runtime with its default worker count,
//! `axum::serve`), no middleware, answering a pre-built body byte for byte the size
//! of a real `GET …/releases/active` answer. Run in its own process by the harness
//! (`cutover-bench ceiling`), so client and server are split as for `cutover`.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use bytes::Bytes;

/// The path that answers the pre-built body.
pub const PATH: &str = "/ceiling";

pub fn serve(bind: SocketAddr, body_file: &Path) -> Result<(), String> {
    let body =
        Bytes::from(std::fs::read(body_file).map_err(|e| format!("{}: {e}", body_file.display()))?);
    // The same runtime `cutover serve` builds (crates/cutover-cli/src/serve.rs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let app = Router::new()
            .route(
                PATH,
                get(move || {
                    let body = body.clone();
                    async move { ([(CONTENT_TYPE, "application/json")], body) }
                }),
            )
            .route("/healthz", get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        axum::serve(listener, app)
            .await
            .map_err(|e| format!("ceiling server error: {e}"))
    })
}
