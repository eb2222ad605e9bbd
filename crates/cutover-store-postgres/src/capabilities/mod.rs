//! [`PostgresStore`](crate::PostgresStore)'s capabilities: each store method runs its
//! query module's work in one transaction (`write_tx!` or `read_tx!`, retried on
//! serialization failures).

mod accounts;
mod idempotency;
mod releases;
