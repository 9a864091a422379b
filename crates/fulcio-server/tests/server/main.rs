//! Black-box tests of the server's own plumbing: a real server in-process on 127.0.0.1, an
//! ephemeral CA, CT disabled, the in-process fake OIDC issuer. The full issuance matrix lives
//! in the fulcio-cli end-to-end suite; these check transport, framing, errors and middleware.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod certificate_transparency;
mod grpc_api;
mod grpc_tls;
mod http_api;
mod listeners;
mod observability;
mod overload;
mod support;
