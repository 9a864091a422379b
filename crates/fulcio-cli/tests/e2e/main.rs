//! End-to-end suite: the real `fulcio` binary over real sockets on 127.0.0.1, driven by real
//! clients (HTTP v2 JSON, native gRPC, legacy v1) with tokens from the in-process fake issuer and
//! from a real OpenID provider (npm `oidc-provider`), and every issued certificate checked by
//! parsers independent of the server (x509-parser and `openssl`).
//!
//! Needs openssl, Node.js and the provider's node modules: `scripts/test` installs them.

// A test harness: failing loudly with the reason is its job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod certificate_profile;
mod client_variants;
mod createca;
mod ct_log;
mod ct_log_crash;
mod dev;
mod grpc_tls;
mod issuance;
mod pkcs11;
mod rejections;
mod request;
mod signer_flows;
mod support;
mod trust_root;
mod verify;
