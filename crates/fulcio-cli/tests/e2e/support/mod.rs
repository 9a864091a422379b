//! The suite's harness: the server process, client keys, API calls, and the independent
//! certificate profile checks.

pub mod api;
pub mod keys;
pub mod profile;
pub mod server;
pub mod tokens;
