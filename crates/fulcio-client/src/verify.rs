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

mod chain;
mod extensions;
mod sct;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::{certificate::X509Certificate, prelude::FromDer, time::ASN1Time};

use crate::trust::{TrustedRoot, format_timestamp};

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
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(Matcher::Regex)
            .map_err(|e| {
                VerifyError::Options(format!("invalid regular expression {pattern:?}: {e}"))
            })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(expected) => expected == value,
            Matcher::Regex(regex) => regex.is_match(value),
        }
    }

    /// How the expectation reads in a message: `"value"` or `regex ^(?:…)$`.
    fn describe(&self) -> String {
        match self {
            Matcher::Exact(expected) => format!("{expected:?}"),
            Matcher::Regex(regex) => {
                format!("a match of the regular expression {}", regex.as_str())
            }
        }
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
    let parsed = parse_input(chain)?;
    let Some((leaf, extras)) = parsed.split_first() else {
        return Err(VerifyError::Parse("no certificate given".to_owned()));
    };

    // 1. chain
    let path = chain::build_path(leaf, extras, root)?;

    // 2. validity of every certificate on the path
    for (index, certificate) in path.certificates.iter().enumerate() {
        check_validity(&certificate.cert, index, options.at)?;
    }

    // 3. SCTs, over the precertificate entry whose issuer is the leaf's issuer
    let issuer_der = path
        .certificates
        .get(1)
        .map(|c| c.der)
        .ok_or_else(|| VerifyError::Chain("the path has no issuer".to_owned()))?;
    let scts = sct::verify_embedded(leaf.der, issuer_der, root, options)?;

    // 4. policy
    let identities = extensions::san_values(&leaf.cert)?;
    let issuer = extensions::oidc_issuer(&leaf.cert);
    check_policy(&options.policy, &identities, issuer.as_deref())?;

    let validity = leaf.cert.validity();
    Ok(Verified {
        identities,
        issuer,
        sigstore_extensions: extensions::named(&leaf.cert),
        not_before: system_time(validity.not_before),
        not_after: system_time(validity.not_after),
        path: path.certificates.iter().map(|c| c.der.to_vec()).collect(),
        scts,
    })
}

/// One certificate, DER and parsed.
#[derive(Clone)]
struct Parsed<'a> {
    der: &'a [u8],
    cert: X509Certificate<'a>,
}

fn parse_input(chain: &[Vec<u8>]) -> Result<Vec<Parsed<'_>>, VerifyError> {
    chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            parse_one(der).map_err(|e| {
                let which = if index == 0 {
                    "the leaf certificate".to_owned()
                } else {
                    format!("certificate {index} of the chain")
                };
                VerifyError::Parse(format!("{which}: {e}"))
            })
        })
        .collect()
}

/// Parses one DER certificate that fills `der` exactly.
fn parse_one(der: &[u8]) -> Result<Parsed<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(Parsed { der, cert }),
        Ok((rest, _)) => Err(format!("{} bytes after the certificate", rest.len())),
        Err(e) => Err(format!("not a DER X.509 certificate: {e}")),
    }
}

/// How a certificate on the path is named in messages: the leaf (Fulcio leaves have an empty
/// subject) by position and serial, the others by subject.
fn describe(cert: &X509Certificate<'_>, index: usize) -> String {
    if index == 0 {
        format!(
            "the leaf certificate (serial {})",
            cert.tbs_certificate.raw_serial_as_string()
        )
    } else {
        format!("certificate {:?}", cert.subject().to_string())
    }
}

fn check_validity(
    cert: &X509Certificate<'_>,
    index: usize,
    at: SystemTime,
) -> Result<(), VerifyError> {
    let validity = cert.validity();
    let not_before = system_time(validity.not_before);
    let not_after = system_time(validity.not_after);
    let who = describe(cert, index);
    if at < not_before {
        return Err(VerifyError::Validity(format!(
            "{who} is not yet valid at {}: its validity starts at {} (notBefore)",
            show_time(at),
            show_time(not_before)
        )));
    }
    if at > not_after {
        return Err(VerifyError::Validity(format!(
            "{who} has expired: it was valid until {} (notAfter), the verification time is {}",
            show_time(not_after),
            show_time(at)
        )));
    }
    Ok(())
}

fn check_policy(
    policy: &Policy,
    identities: &[String],
    issuer: Option<&str>,
) -> Result<(), VerifyError> {
    if let Some(expected) = &policy.identity
        && !identities.iter().any(|value| expected.matches(value))
    {
        let found = if identities.is_empty() {
            "has no subject alternative name".to_owned()
        } else {
            format!(
                "has {}",
                identities
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(VerifyError::Policy(format!(
            "certificate identity mismatch: expected {}, but the certificate's subject \
             alternative name {found}",
            expected.describe()
        )));
    }
    if let Some(expected) = &policy.issuer {
        match issuer {
            Some(value) if expected.matches(value) => {}
            Some(value) => {
                return Err(VerifyError::Policy(format!(
                    "certificate OIDC issuer mismatch: expected {}, but the certificate names \
                     {value:?}",
                    expected.describe()
                )));
            }
            None => {
                return Err(VerifyError::Policy(format!(
                    "certificate OIDC issuer mismatch: expected {}, but the certificate has no \
                     issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)",
                    expected.describe()
                )));
            }
        }
    }
    Ok(())
}

/// An X.509 time as a `SystemTime` (times before 1970 included).
fn system_time(time: ASN1Time) -> SystemTime {
    let seconds = time.timestamp();
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// RFC 3339 for messages, falling back to seconds since the epoch for years outside 0–9999.
fn show_time(at: SystemTime) -> String {
    format_timestamp(at).unwrap_or_else(|_| match at.duration_since(UNIX_EPOCH) {
        Ok(d) => format!("{} s after the Unix epoch", d.as_secs()),
        Err(e) => format!("{} s before the Unix epoch", e.duration().as_secs()),
    })
}

/// The leaf's Sigstore extensions by name (see [`NamedExtension`]), without verifying anything.
pub fn sigstore_extensions(leaf_der: &[u8]) -> Result<Vec<NamedExtension>, VerifyError> {
    let parsed = parse_one(leaf_der)
        .map_err(|e| VerifyError::Parse(format!("the leaf certificate: {e}")))?;
    Ok(extensions::named(&parsed.cert))
}
