//! What the leaf says about its subject: the SAN values, the OIDC issuer and the Sigstore
//! extensions (Fulcio spec §4.3), by name.

use der::{
    Decode, Tag, TagNumber, Tagged,
    asn1::{AnyRef, Utf8StringRef},
};
use x509_parser::{certificate::X509Certificate, extensions::GeneralName};

use super::{NamedExtension, VerifyError};

/// The Sigstore arc, with its trailing dot.
const SIGSTORE_ARC: &str = "1.3.6.1.4.1.57264.1.";
/// The otherName type-id of username SANs.
const USERNAME_OTHER_NAME: &str = "1.3.6.1.4.1.57264.1.7";
/// Issuer (V2), DER UTF8String.
const ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Issuer (deprecated), raw UTF-8.
const ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

/// The names of 1.3.6.1.4.1.57264.1.N, indexed by N - 1.
const NAMES: [&str; 24] = [
    "Issuer (deprecated)",
    "GitHub Workflow Trigger (deprecated)",
    "GitHub Workflow SHA (deprecated)",
    "GitHub Workflow Name (deprecated)",
    "GitHub Workflow Repository (deprecated)",
    "GitHub Workflow Ref (deprecated)",
    "OtherName SAN",
    "Issuer (V2)",
    "Build Signer URI",
    "Build Signer Digest",
    "Runner Environment",
    "Source Repository URI",
    "Source Repository Digest",
    "Source Repository Ref",
    "Source Repository Identifier",
    "Source Repository Owner URI",
    "Source Repository Owner Identifier",
    "Build Config URI",
    "Build Config Digest",
    "Build Trigger",
    "Run Invocation URI",
    "Source Repository Visibility At Signing",
    "Deployment Environment",
    "Token Subject",
];

/// The SAN values in certificate order: email addresses, URIs, DNS names, and the
/// `[0] EXPLICIT UTF8String` of username otherNames; bare, without a type prefix.
pub(super) fn san_values(cert: &X509Certificate<'_>) -> Result<Vec<String>, VerifyError> {
    let san = cert.subject_alternative_name().map_err(|e| {
        VerifyError::Parse(format!(
            "the leaf certificate's subjectAltName extension: {e}"
        ))
    })?;
    let Some(san) = san else {
        return Ok(Vec::new());
    };
    Ok(san
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::RFC822Name(value)
            | GeneralName::URI(value)
            | GeneralName::DNSName(value) => Some((*value).to_owned()),
            GeneralName::OtherName(type_id, value)
                if type_id.to_id_string() == USERNAME_OTHER_NAME =>
            {
                explicit_utf8_string(value)
            }
            _ => None,
        })
        .collect())
}

/// The value of an otherName: `[0] EXPLICIT UTF8String`.
fn explicit_utf8_string(value: &[u8]) -> Option<String> {
    let outer = AnyRef::from_der(value).ok()?;
    let expected = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    if outer.tag() != expected {
        return None;
    }
    utf8_string(outer.value())
}

/// A whole DER UTF8String.
fn utf8_string(der: &[u8]) -> Option<String> {
    Utf8StringRef::from_der(der)
        .ok()
        .map(|s| s.as_str().to_owned())
}

/// The OIDC issuer: extension 1.8 (DER UTF8String), else the deprecated 1.1 (raw UTF-8).
pub(super) fn oidc_issuer(cert: &X509Certificate<'_>) -> Option<String> {
    let value_of = |oid: &str| {
        cert.extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == oid)
            .map(|e| e.value)
    };
    value_of(ISSUER_V2)
        .and_then(utf8_string)
        .or_else(|| value_of(ISSUER_V1).and_then(|raw| String::from_utf8(raw.to_vec()).ok()))
}

/// Every extension of the Sigstore arc, in certificate order, named, with its value decoded:
/// raw UTF-8 for 1.1–1.6, a DER UTF8String otherwise; hex when that fails.
pub(super) fn named(cert: &X509Certificate<'_>) -> Vec<NamedExtension> {
    cert.extensions()
        .iter()
        .filter_map(|extension| {
            let oid = extension.oid.to_id_string();
            let arc: u32 = oid.strip_prefix(SIGSTORE_ARC)?.parse().ok()?;
            let name = arc
                .checked_sub(1)
                .and_then(|i| NAMES.get(i as usize))
                .map_or_else(|| oid.clone(), |name| (*name).to_owned());
            let raw = extension.value;
            let decoded = if (1..=6).contains(&arc) {
                std::str::from_utf8(raw).ok().map(str::to_owned)
            } else {
                utf8_string(raw)
            };
            Some(NamedExtension {
                oid,
                name,
                value: decoded.unwrap_or_else(|| hex::encode(raw)),
            })
        })
        .collect()
}
