//! Test fixtures shared by the crates' tests: an in-process fake OIDC issuer and a harness for
//! a real OpenID provider (npm `oidc-provider`) started on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

pub mod fake_issuer;
pub mod oidc_provider;
pub mod softhsm;
