//! The `cutover` command line as a client of the API, run as a real process against
//! a real `cutover serve` (temp SQLite file, bootstrap token): every subcommand, its
//! output for people and for scripts, its exit codes, the config file and the order
//! in which settings are taken, paging, diffs, and the ways a request can fail.

mod harness;

mod deployments;
mod diff;
mod draft;
mod failures;
mod probes;
mod releases;
mod retries;
mod session;
mod tenancy;
mod timeline;
