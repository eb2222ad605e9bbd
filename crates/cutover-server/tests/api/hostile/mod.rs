//! Hostile input, replayed against a real server: each module takes one finding of
//! the review in issue 12 (what a caller with or without a valid token could send to
//! break an app, stall other tenants or exhaust the server) and asserts the bounded
//! outcome: the status, the size of the answer, and that nothing stored changed.

mod deep_json;
mod edge;
mod large_bodies;
mod tokens_and_limits;
mod transport;
