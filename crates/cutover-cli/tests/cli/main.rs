//! The `cutover` binary as its users run it, one test binary: every module starts
//! real processes (`common`: the command line, `cutover serve` on an ephemeral port,
//! guards that kill and reap every child).
//!
//! - `client`: the API client commands against a live server
//! - `operations`: serve, migrate, shutdown, configuration, logs
//! - `durability`: writes acknowledged before a kill are there after it
//! - `docs_page`: /docs in a headless Chromium
//! - `multiprocess`: several servers on one PostgreSQL database, under a storm
//! - `postgres_outage`: a PostgreSQL cluster of its own, stopped and started under load

mod common;

mod client;
mod docs_page;
mod durability;
mod multiprocess;
mod operations;
mod postgres_outage;
