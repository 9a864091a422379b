//! The signer's side of Fulcio: everything a client needs to get a code-signing certificate and
//! to prove it is good, without writing it itself.
//!
//! - [`token`]: where the OIDC identity token comes from — an explicit value or file,
//!   `SIGSTORE_ID_TOKEN`, ambient CI credentials (GitHub Actions, GitLab), an interactive
//!   browser flow (authorization code + PKCE on a loopback redirect) or the device flow.
//! - [`key`]: the signing key — generated (P-256, P-384, Ed25519, RSA-3072) or read from a file —
//!   its proof of possession, its CSR, and writing it out (optionally encrypted).
//! - [`request`]: asking a Fulcio for a certificate over HTTP (v2 JSON) or gRPC.
//! - [`verify`]: checking a certificate against a trusted root: chain, validity, embedded SCTs
//!   and an identity policy like cosign's; and describing its Sigstore extensions.
//! - [`trust`]: the trust files clients read (`trusted_root.json`, `signing_config.json`, the
//!   client trust config), read and built.
//!
//! The library never prints or exits; the `fulcio` binary is a thin layer on top.

pub mod key;
pub mod request;
pub mod token;
pub mod trust;
pub mod verify;
