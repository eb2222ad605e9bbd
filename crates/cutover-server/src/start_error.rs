//! Why the service could not start: the store would not open, the first token could
//! not be made, the listener or the signal handlers could not be set up. Each variant
//! keeps the error beneath it as its `source`; [`cutover_store::one_line_chain`] turns
//! one into the single line an operator reads.

use std::net::SocketAddr;

use cutover_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    DatabaseUrl(#[from] crate::config::UnsupportedDatabaseUrl),
    #[error(transparent)]
    Sqlite(#[from] cutover_store_sqlite::OpenError),
    #[error(transparent)]
    Postgres(#[from] cutover_store_postgres::OpenError),
    #[error("CUTOVER_BOOTSTRAP_TOKEN must be at least 32 characters")]
    BootstrapTokenTooShort,
    #[error("making sure a first token exists")]
    FirstToken(#[source] Box<StoreError>),
    #[error("reading the cursor key")]
    CursorKey(#[source] Box<StoreError>),
    #[error("cannot listen on {address}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen for {signal}")]
    Signal {
        signal: &'static str,
        #[source]
        source: std::io::Error,
    },
}
