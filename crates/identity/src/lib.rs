//! From a verified OIDC token to a Fulcio principal (Fulcio spec §3.3): the value the client
//! must sign (the challenge, §2.1), the Subject Alternative Name, and the Sigstore extensions
//! (§4.3).
//!
//! [`Principal::from_token`] runs the per-type claim checks (failures are token errors, HTTP 400
//! "There was an error processing the identity token"); [`Principal::embed`] renders the
//! certificate identity (failures, e.g. a ci-provider template naming a missing claim, are
//! HTTP 400 with their own message); [`certificate_extensions`] encodes it as DER extensions in
//! upstream's order.
//!
//! Upstream builds these values with Go's `encoding/json`, `net/url`, `fmt` and
//! `text/template`; where their behaviour shows in a certificate or an error text, the private
//! modules `claims`, `go_url`, `go_fmt` and `template` reproduce it.

#![forbid(unsafe_code)]

mod claim_path;
mod claims;
mod config_check;
mod email_syntax;
pub mod error;
pub mod extensions;
mod go_fmt;
mod go_url;
mod issuers;
pub mod oid;
pub mod principal;
mod template;

pub use claim_path::validate_issuer_claim;
pub use config_check::validate_config;
pub use error::IdentityError;
pub use extensions::{certificate_extensions, san_extension, sigstore_extensions};
pub use principal::{CertificateIdentity, Principal, SubjectAltName};
pub use template::validate_template;
