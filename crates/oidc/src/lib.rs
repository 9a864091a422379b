//! OIDC for Fulcio: the issuer configuration file (Fulcio spec §3.1), issuer matching including
//! meta-issuers (§3.2), OpenID discovery, a JWKS cache, and ID token verification.
//!
//! The entry point is [`TokenVerifier::verify`], which turns a compact JWT into a
//! [`VerifiedToken`]: the token's claims plus the configuration of the issuer that matched.

mod claims;
pub mod config;
mod discovery;
pub mod error;
mod jwk;
pub mod jws;
pub mod meta_issuer;
pub mod verifier;

pub use config::{ConfigSource, Extensions, FulcioConfig, IssuerMetadata, IssuerType, OidcIssuer};
pub use error::{ConfigError, ConfigRule, OidcError};
pub use jws::JwsAlgorithm;
pub use meta_issuer::{IssuerIndex, IssuerMatch, IssuerMatchKind};
pub use verifier::{KUBERNETES_ISSUER_URL, TokenVerifier, VerifiedToken, VerifierOptions};
