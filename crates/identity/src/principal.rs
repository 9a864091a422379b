//! Principals: one per issuer type.

use oidc::{Extensions, FulcioConfig, VerifiedToken};

use crate::IdentityError;

/// The single Subject Alternative Name of a Fulcio certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectAltName {
    /// rfc822Name (email issuers).
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// otherName with type-id 1.3.6.1.4.1.57264.1.7 and a UTF8String value `sub!domain`
    /// (username issuers).
    Username(String),
}

/// What a principal puts into a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// The SAN (always one entry, always critical: the subject is empty).
    pub san: SubjectAltName,
    /// The Sigstore extension values; empty fields are omitted.
    pub extensions: Extensions,
}

/// A verified identity of one of the issuer types of Fulcio spec §3.3.
#[derive(Debug, Clone)]
pub struct Principal {
    challenge: String,
    token: VerifiedToken,
}

impl Principal {
    /// Runs the claim checks of the token's issuer type.
    pub fn from_token(token: &VerifiedToken, config: &FulcioConfig) -> Result<Self, IdentityError> {
        let _ = config;
        Ok(Self { challenge: String::new(), token: token.clone() })
    }

    /// The value the client must have signed (`email` or `sub`, Fulcio spec §2.1).
    pub fn name(&self) -> &str {
        &self.challenge
    }

    /// Renders the SAN and the extensions.
    pub fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let _ = &self.token;
        unimplemented!("identity helper")
    }
}
