//! From a verified OIDC token to a Fulcio principal (Fulcio spec §3.3): the value the client
//! must sign (the challenge), the Subject Alternative Name, and the Sigstore extensions.
//!
//! [`Principal::from_token`] runs the per-type claim checks (failures are token errors, HTTP 400
//! "There was an error processing the identity token"); [`Principal::embed`] renders the
//! certificate identity (failures, e.g. a ci-provider template naming a missing claim, are
//! HTTP 400 with their own message).

pub mod error;
pub mod extensions;
pub mod principal;

pub use error::IdentityError;
pub use extensions::{san_extension, sigstore_extensions};
pub use principal::{CertificateIdentity, Principal, SubjectAltName};
