//! [`SqliteStore`](crate::SqliteStore)'s capabilities: each store method hands its work
//! to the engine (a write job for the writer thread, or a read on a reader) and the
//! query module that does it.

mod accounts;
mod idempotency;
mod releases;
