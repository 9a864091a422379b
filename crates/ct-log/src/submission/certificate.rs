//! One certificate of a submitted chain, parsed once: strict DER (x509-cert), the byte ranges a
//! signature check needs, and the extensions chain validation reads.

use aws_lc_rs::digest;
use der::{Decode, Encode, Header, Reader, SliceReader, asn1::ObjectIdentifier};
use x509_cert::{
    Certificate,
    ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage},
};

use super::error::{CertPosition, SubmissionError};

/// The precertificate poison extension (RFC 6962 §3.1).
pub(crate) const POISON_OID: ObjectIdentifier = ct_core::certificate::POISON_OID;
/// The Precertificate Signing Certificate extended key usage (RFC 6962 §3.1).
pub(crate) const PRECERT_SIGNING_EKU: ObjectIdentifier =
    ct_core::certificate::PRECERT_SIGNING_EKU_OID;

/// A parsed certificate with its DER kept beside it.
#[derive(Debug)]
pub(crate) struct ParsedCertificate<'a> {
    /// The whole certificate, as submitted.
    pub(crate) der: &'a [u8],
    /// The TBSCertificate exactly as it appears in `der`: what the issuer signed.
    pub(crate) tbs_der: &'a [u8],
    /// The decoded certificate.
    pub(crate) cert: Certificate,
    /// The subject Name, DER.
    pub(crate) subject_der: Vec<u8>,
    /// The issuer Name, DER.
    pub(crate) issuer_der: Vec<u8>,
    /// SHA-256 of the DER SubjectPublicKeyInfo.
    pub(crate) spki_sha256: [u8; 32],
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

impl<'a> ParsedCertificate<'a> {
    /// Parses `der` as a DER X.509 certificate (RFC 5280 §4.1). x509-cert decodes strict DER
    /// and refuses trailing bytes, so two different byte strings never parse as one
    /// certificate, and re-encoded names compare equal exactly when the submitted ones do.
    pub(crate) fn parse(der: &'a [u8], position: CertPosition) -> Result<Self, SubmissionError> {
        let malformed = |e: der::Error| SubmissionError::MalformedCertificate {
            position,
            reason: e.to_string(),
        };
        let cert = Certificate::from_der(der).map_err(malformed)?;
        // The TBS bytes as submitted, not re-encoded: the signature covers these. The full
        // decode above already checked the structure, so this only finds the first element.
        let mut reader = SliceReader::new(der).map_err(malformed)?;
        Header::decode(&mut reader).map_err(malformed)?;
        let tbs_der = reader.tlv_bytes().map_err(malformed)?;
        let tbs = cert.tbs_certificate();
        // RFC 5280 §4.2: an extension appears at most once. Go's parser refuses certificates
        // that repeat one, so Go-based logs never accept them either.
        let extensions = tbs.extensions().map(|e| e.as_slice()).unwrap_or_default();
        for (index, extension) in extensions.iter().enumerate() {
            if extensions[..index]
                .iter()
                .any(|earlier| earlier.extn_id == extension.extn_id)
            {
                return Err(SubmissionError::MalformedCertificate {
                    position,
                    reason: format!("extension {} appears more than once", extension.extn_id),
                });
            }
        }
        let subject_der = tbs.subject().to_der().map_err(malformed)?;
        let issuer_der = tbs.issuer().to_der().map_err(malformed)?;
        let spki_sha256 = sha256(&tbs.subject_public_key_info().to_der().map_err(malformed)?);
        Ok(Self {
            der,
            tbs_der,
            cert,
            subject_der,
            issuer_der,
            spki_sha256,
        })
    }

    /// The basicConstraints `cA` flag and pathLenConstraint; `(false, None)` without the
    /// extension.
    pub(crate) fn basic_constraints(
        &self,
        position: CertPosition,
    ) -> Result<(bool, Option<u8>), SubmissionError> {
        let found = self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map_err(|e| extension_error(position, "basicConstraints", e))?;
        Ok(found.map_or((false, None), |(_, bc)| (bc.ca, bc.path_len_constraint)))
    }

    /// Whether a keyUsage extension is present and lacks keyCertSign.
    pub(crate) fn key_usage_forbids_cert_sign(
        &self,
        position: CertPosition,
    ) -> Result<bool, SubmissionError> {
        let found = self
            .cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map_err(|e| extension_error(position, "keyUsage", e))?;
        Ok(found.is_some_and(|(_, usage)| !usage.key_cert_sign()))
    }

    /// The extended key usages, or `None` without the extension.
    pub(crate) fn extended_key_usages(
        &self,
        position: CertPosition,
    ) -> Result<Option<Vec<ObjectIdentifier>>, SubmissionError> {
        let found = self
            .cert
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|e| extension_error(position, "extendedKeyUsage", e))?;
        Ok(found.map(|(_, eku)| eku.0))
    }

    /// Whether the extended key usages name the Precertificate Signing Certificate purpose.
    pub(crate) fn is_precert_signing_certificate(
        &self,
        position: CertPosition,
    ) -> Result<bool, SubmissionError> {
        Ok(self
            .extended_key_usages(position)?
            .is_some_and(|ekus| ekus.contains(&PRECERT_SIGNING_EKU)))
    }

    /// Whether this is a precertificate (RFC 6962 §3.1): the poison extension is present exactly
    /// once, critical, with the value ASN.1 NULL. A poison in any other shape is an error, not a
    /// certificate: ct-go's `IsPrecertificate` refuses those too.
    pub(crate) fn is_precertificate(&self) -> Result<bool, SubmissionError> {
        let mut poisons = self
            .cert
            .tbs_certificate()
            .extensions()
            .map(|exts| exts.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|e| e.extn_id == POISON_OID);
        let Some(poison) = poisons.next() else {
            return Ok(false);
        };
        if poisons.next().is_some() {
            return Err(SubmissionError::MalformedPoison(
                "it appears more than once",
            ));
        }
        if !poison.critical {
            return Err(SubmissionError::MalformedPoison("it is not critical"));
        }
        if poison.extn_value.as_bytes() != ct_core::certificate::POISON_VALUE {
            return Err(SubmissionError::MalformedPoison(
                "its value is not ASN.1 NULL",
            ));
        }
        Ok(true)
    }

    /// The issuer name as RFC 4514 text, for messages.
    pub(crate) fn issuer_text(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }
}

fn extension_error(position: CertPosition, name: &str, e: der::Error) -> SubmissionError {
    // x509-cert reports a repeated extension as a generic failure; say which one.
    SubmissionError::MalformedCertificate {
        position,
        reason: format!("{name} extension is malformed or repeated: {e}"),
    }
}
