//! Is this certificate good? A Fulcio certificate is checked against a [`TrustedRoot`]:
//!
//! 1. **chain** — the leaf and any intermediates given with it chain, signature by signature,
//!    to the certificate chain of one of the root's certificate authorities; every CA
//!    certificate is a CA (basicConstraints, keyUsage certSign) and the leaf is not; the leaf
//!    has EKU codeSigning; the leaf was issued (notBefore) inside that CA's `validFor`;
//! 2. **validity** — every certificate is valid at [`VerifyOptions::at`];
//! 3. **SCTs** — each embedded SCT names, by log ID, a CT log of the root whose log ID is the
//!    SHA-256 of its key; its signature verifies over the precertificate entry rebuilt from the
//!    leaf (RFC 6962 §3.2: the TBS without the SCT list, the issuer's key hash); its timestamp
//!    lies in the log key's `validFor`. At least one must verify unless SCTs are not required;
//! 4. **policy** — the identity (a SAN value) and the OIDC issuer (extension 1.3.6.1.4.1.57264
//!    .1.8, else .1.1) match the expected values or regular expressions, like cosign's
//!    `--certificate-identity[-regexp]` and `--certificate-oidc-issuer[-regexp]` (a regular
//!    expression must match the whole value).
//!
//! Every failure is a [`VerifyError`] whose message names what failed and on what.

use std::time::SystemTime;

use crate::trust::TrustedRoot;

/// Matches a value exactly or with a regular expression anchored at both ends.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The value must equal this.
    Exact(String),
    /// The whole value must match this (compiled from the user's pattern as `^(?:…)$`).
    Regex(regex::Regex),
}

impl Matcher {
    /// A matcher from a regular expression, anchored at both ends like Go's `regexp.MatchString`
    /// is not: cosign anchors nothing, we anchor so `.*@example.com` cannot match
    /// `x@example.com.evil`. Errors describe the bad pattern.
    pub fn regex(pattern: &str) -> Result<Self, VerifyError> {
        let _ = pattern;
        unimplemented!("verify: Matcher::regex")
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        let _ = value;
        unimplemented!("verify: Matcher::matches")
    }
}

/// What the certificate must show about who it was issued to.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The identity: one of the SAN values (email, URI, or the username otherName) must match.
    pub identity: Option<Matcher>,
    /// The OIDC issuer (1.3.6.1.4.1.57264.1.8, falling back to the deprecated .1.1) must match.
    pub issuer: Option<Matcher>,
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The instant at which every certificate must be valid (and the SCT timestamps not later).
    pub at: SystemTime,
    /// The identity policy.
    pub policy: Policy,
    /// Whether a certificate without a verifying embedded SCT is rejected (the default).
    pub require_sct: bool,
}

impl VerifyOptions {
    /// Now, no policy, SCT required.
    pub fn now() -> Self {
        Self {
            at: SystemTime::now(),
            policy: Policy::default(),
            require_sct: true,
        }
    }
}

/// One extension of the leaf, by name, with its value in readable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedExtension {
    /// Dotted OID.
    pub oid: String,
    /// Its name, e.g. `Issuer (V2)`, `Build Signer URI`, or the OID again when unknown.
    pub name: String,
    /// The value: decoded text for Sigstore string extensions, hex otherwise.
    pub value: String,
}

/// An SCT that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSct {
    /// The log ID (SHA-256 of the log key).
    pub log_id: [u8; 32],
    /// The log's base URL from the trusted root.
    pub log_url: String,
    /// The SCT's timestamp.
    pub timestamp: SystemTime,
}

/// What a verified certificate says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The SAN values, in certificate order (`email:…`, `URI:…` are not prefixed: bare values).
    pub identities: Vec<String>,
    /// The OIDC issuer, when the certificate names one.
    pub issuer: Option<String>,
    /// Every Sigstore extension (1.3.6.1.4.1.57264.1.*), by name, in certificate order.
    pub sigstore_extensions: Vec<NamedExtension>,
    /// notBefore and notAfter of the leaf.
    pub not_before: SystemTime,
    /// notAfter of the leaf.
    pub not_after: SystemTime,
    /// The path that verified, leaf first, root last (DER).
    pub path: Vec<Vec<u8>>,
    /// The SCTs that verified.
    pub scts: Vec<VerifiedSct>,
}

/// Why a certificate was rejected. Messages name the failure and the certificate or log at
/// fault; the CLI prints them as they are.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The input is not a certificate (or chain) at all.
    #[error("cannot parse certificate: {0}")]
    Parse(String),
    /// No path to a trusted CA.
    #[error("certificate chain does not verify against the trusted root: {0}")]
    Chain(String),
    /// A certificate on the path is outside its validity at the verification time.
    #[error("{0}")]
    Validity(String),
    /// No SCT, or none that verifies, or an SCT that is wrong in a named way.
    #[error("SCT verification failed: {0}")]
    Sct(String),
    /// The identity policy did not match.
    #[error("{0}")]
    Policy(String),
    /// A bad regular expression or other bad option.
    #[error("{0}")]
    Options(String),
}

/// Verifies `chain` (DER, leaf first, intermediates optional) against `root`, as described in
/// the module documentation.
pub fn verify_certificate(
    chain: &[Vec<u8>],
    root: &TrustedRoot,
    options: &VerifyOptions,
) -> Result<Verified, VerifyError> {
    let _ = (chain, root, options);
    unimplemented!("verify: verify_certificate")
}

/// The leaf's Sigstore extensions by name (see [`NamedExtension`]), without verifying anything.
pub fn sigstore_extensions(leaf_der: &[u8]) -> Result<Vec<NamedExtension>, VerifyError> {
    let _ = leaf_der;
    unimplemented!("verify: sigstore_extensions")
}
