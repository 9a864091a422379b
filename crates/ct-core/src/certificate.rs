//! CT's view of X.509 certificates (RFC 6962 §3.1, §3.3): the precertificate entry a log signs,
//! built either from a precertificate (remove the poison) or from a final certificate with
//! embedded SCTs (remove the SCT list), and the SCT list extension itself.
//!
//! Both paths decode the TBSCertificate with x509-cert types, drop exactly one extension, keep
//! every other extension in its order, and re-encode as DER. For canonical DER input (what any
//! CA emits, and what x509-cert accepts) the result is the input minus that one extension, so a
//! log working from the precertificate and a verifier working from the final certificate reach
//! the same bytes.

use aws_lc_rs::digest;
use der::{
    Decode, Encode, Sequence,
    asn1::{BitString, ObjectIdentifier, OctetString},
};
use x509_cert::{
    certificate::Version,
    ext::{Extensions, pkix::ExtendedKeyUsage},
    name::Name,
    serial_number::SerialNumber,
    spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned},
    time::Validity,
};

use crate::{
    CtError,
    entry::PreCert,
    sct::{SignedCertificateTimestamp, decode_sct_list, encode_sct_list},
};

/// The precertificate poison extension (RFC 6962 §3.1): critical, value ASN.1 NULL.
pub const POISON_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.3");
/// The embedded SCT list extension (RFC 6962 §3.3), non-critical.
pub const SCT_LIST_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// The Precertificate Signing Certificate EKU (RFC 6962 §3.1).
pub const PRECERT_SIGNING_EKU_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.4");

/// The DER of the poison extension's value: ASN.1 NULL.
pub const POISON_VALUE: [u8; 2] = [0x05, 0x00];

/// RFC 5280 §4.1 TBSCertificate with settable fields (x509-cert's own keeps them private).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TbsFields {
    #[asn1(context_specific = "0", default = "Default::default")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<BitString>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<BitString>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// RFC 5280 §4.1 Certificate around [`TbsFields`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CertificateFields {
    tbs_certificate: TbsFields,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

impl TbsFields {
    fn extensions(&self) -> &[x509_cert::ext::Extension] {
        self.extensions.as_deref().unwrap_or_default()
    }

    /// The one extension with `oid`, or an error if it is absent or repeated.
    fn single_extension(
        &self,
        oid: ObjectIdentifier,
        name: &'static str,
    ) -> Result<&x509_cert::ext::Extension, CtError> {
        let mut found = self.extensions().iter().filter(|e| e.extn_id == oid);
        let first = found.next().ok_or(CtError::MissingExtension(name))?;
        if found.next().is_some() {
            return Err(CtError::DuplicateExtension(name));
        }
        Ok(first)
    }

    fn has_extension(&self, oid: ObjectIdentifier) -> bool {
        self.extensions().iter().any(|e| e.extn_id == oid)
    }

    /// The DER TBS without the extension `oid`, every other field and extension untouched.
    fn into_der_without(mut self, oid: ObjectIdentifier) -> Result<Vec<u8>, CtError> {
        if let Some(exts) = self.extensions.as_mut() {
            exts.retain(|e| e.extn_id != oid);
            // Extensions is SIZE (1..MAX): drop the field rather than emit an empty list.
            if exts.is_empty() {
                self.extensions = None;
            }
        }
        Ok(self.to_der()?)
    }
}

/// SHA-256 of a DER SubjectPublicKeyInfo: the `issuer_key_hash` of a `PreCert`.
pub fn issuer_key_hash_of_spki(spki_der: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, spki_der).as_ref());
    out
}

/// `issuer_key_hash` (RFC 6962 §3.2) for certificates issued by `issuer_certificate_der`: the
/// SHA-256 of its SubjectPublicKeyInfo.
///
/// Refuses a Precertificate Signing Certificate, whose precertificates are logged under the
/// next issuer up with a rewritten TBS that this crate does not build.
pub fn issuer_key_hash(issuer_certificate_der: &[u8]) -> Result<[u8; 32], CtError> {
    let issuer = x509_cert::Certificate::from_der(issuer_certificate_der)?;
    let tbs = issuer.tbs_certificate();
    if let Some((_, eku)) = tbs.get_extension::<ExtendedKeyUsage>()?
        && eku.0.contains(&PRECERT_SIGNING_EKU_OID)
    {
        return Err(CtError::PrecertSigningCertificate);
    }
    Ok(issuer_key_hash_of_spki(
        &tbs.subject_public_key_info().to_der()?,
    ))
}

/// The `PreCert` entry a log signs for a precertificate (RFC 6962 §3.1, §3.2): its TBS without
/// the poison extension, which must be present exactly once, critical and ASN.1 NULL, and the
/// issuer's key hash.
pub fn precert_entry_from_precertificate(
    precertificate_der: &[u8],
    issuer_certificate_der: &[u8],
) -> Result<PreCert, CtError> {
    precert_entry_with_issuer_key_hash(precertificate_der, issuer_key_hash(issuer_certificate_der)?)
}

/// [`precert_entry_from_precertificate`] for a caller that already has the issuer's key hash
/// ([`issuer_key_hash_of_spki`] of the issuer's SubjectPublicKeyInfo) and has refused
/// Precertificate Signing Certificates as issuers itself: a log that parsed the whole chain to
/// validate it.
pub fn precert_entry_with_issuer_key_hash(
    precertificate_der: &[u8],
    issuer_key_hash: [u8; 32],
) -> Result<PreCert, CtError> {
    let cert = CertificateFields::from_der(precertificate_der)?;
    let poison = cert
        .tbs_certificate
        .single_extension(POISON_OID, "precertificate poison")?;
    if !poison.critical {
        return Err(CtError::PoisonNotCritical);
    }
    if poison.extn_value.as_bytes() != POISON_VALUE {
        return Err(CtError::PoisonNotNull);
    }
    Ok(PreCert {
        issuer_key_hash,
        tbs_certificate: cert.tbs_certificate.into_der_without(POISON_OID)?,
    })
}

/// The `PreCert` entry an embedded SCT of a final certificate was signed over (RFC 6962 §3.3,
/// §5.2): its TBS without the SCT list extension, which must be present exactly once, and the
/// issuer's key hash. A certificate still carrying the poison is refused.
pub fn precert_entry_from_certificate(
    certificate_der: &[u8],
    issuer_certificate_der: &[u8],
) -> Result<PreCert, CtError> {
    let cert = CertificateFields::from_der(certificate_der)?;
    if cert.tbs_certificate.has_extension(POISON_OID) {
        return Err(CtError::UnexpectedExtension("precertificate poison"));
    }
    cert.tbs_certificate
        .single_extension(SCT_LIST_OID, "SCT list")?;
    Ok(PreCert {
        issuer_key_hash: issuer_key_hash(issuer_certificate_der)?,
        tbs_certificate: cert.tbs_certificate.into_der_without(SCT_LIST_OID)?,
    })
}

/// The SCTs embedded in a certificate (RFC 6962 §3.3): the extension value is a DER OCTET
/// STRING whose contents are the TLS `SignedCertificateTimestampList`.
pub fn embedded_scts(certificate_der: &[u8]) -> Result<Vec<SignedCertificateTimestamp>, CtError> {
    let cert = CertificateFields::from_der(certificate_der)?;
    let ext = cert
        .tbs_certificate
        .single_extension(SCT_LIST_OID, "SCT list")?;
    let inner = OctetString::from_der(ext.extn_value.as_bytes())?;
    decode_sct_list(inner.as_bytes())
}

/// The `extnValue` contents of the SCT list extension for `scts` (RFC 6962 §3.3): the TLS list
/// wrapped in a DER OCTET STRING. The certificate encoder wraps this once more as `extnValue`.
pub fn encode_sct_list_extension_value(
    scts: &[SignedCertificateTimestamp],
) -> Result<Vec<u8>, CtError> {
    Ok(OctetString::new(encode_sct_list(scts)?)?.to_der()?)
}
