//! The HTTP edge: error rendering, extractors, authentication and rate limits,
//! pagination, validation, the lane large bodies take, the request deadline and per-request middleware. Handlers
//! live in [`crate::api`].

pub mod auth;
pub mod conditional;
pub mod deadline;
pub mod echo;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod json_cost;
pub mod large_bodies;
pub mod limiter;
#[cfg(test)]
pub(crate) mod log_capture;
pub mod metrics;
pub mod middleware;
pub mod pagination;
pub mod path;
pub mod precondition;
pub mod problems;
pub mod validation;
