//! The HTTP API against real servers, one binary: each module starts the application
//! on port 0 with a database of its own (`harness`: a SQLite file, or a PostgreSQL
//! database made for the test) and most run every test on both backends
//! (`on_every_backend!`); `shapes` asserts the two error shapes every answer uses.
//!
//! - `tenancy`, `environments`, `tokens`, `authorization`: orgs, workspaces and their
//!   environments, apps, tokens, who may do what
//! - `draft`, `augmentations`, `validation`: the draft's endpoints and augmentations
//! - `releases`, `conditional_reads`, `concurrency`: releases, ETags, races
//! - `idempotency`: `Idempotency-Key` retries, replays and refusals, across a restart
//! - `errors`, `probes`, `openapi`, `contract_fuzzing`, `body_properties`: the edge
//! - `hostile`: hostile input, each finding of the issue 12 review

#[macro_use]
mod harness;
mod shapes;

mod authorization;
mod body_properties;
mod compare_and_swap;
mod concurrency;
mod conditional_reads;
mod contract_fuzzing;
mod deployments;
mod diffs;
mod draft;
mod dry_runs;
mod environments;
mod errors;
mod hostile;
mod idempotency;
mod openapi;
mod probes;
mod reasons;
mod releases;
mod tenancy;
mod timeline;
mod tokens;
mod validation;
