//! Fixtures shared by the black-box tests: client keys, CSRs, CA chains, and the openssl CLI as
//! an independent checker. Each test binary uses a different subset.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod chains;
pub mod csr;
pub mod keys;
pub mod openssl;
pub mod principal;
