//! Proof of possession by a PEM certificate signing request (Fulcio spec §2.3).
//!
//! Upstream's order (§1.4): parse the PEM and the request (sigstore `ParseCSR`, Go's
//! `x509.ParseCertificateRequest`), check the key's strength, check the self-signature
//! (`CertificateRequest.CheckSignature`), then map the signature algorithm to a hash for the
//! algorithm registry. So an RSA-PSS request with a good signature is "unrecognized", while one
//! with a bad signature is "could not be verified".

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::{
    ClientPublicKey, HashAlgorithm, KeyRequestError,
    key::{ParsedSpki, SignedObject, SpkiError, parse_pkix},
};

/// PEM labels sigstore's `ParseCSR` accepts.
const PEM_LABELS: [&str; 2] = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/// Parses a PEM CSR, checks its key's strength and its self-signature (in upstream's order) and
/// returns the key and the hash of the CSR's signature algorithm. Subject, SANs, extensions and
/// attributes are ignored.
pub fn verify(pem: &[u8]) -> Result<(ClientPublicKey, HashAlgorithm), KeyRequestError> {
    let block = pem::parse(pem).map_err(|_| KeyRequestError::CsrUnparseable)?;
    if !PEM_LABELS.contains(&block.tag()) || block.contents().is_empty() {
        return Err(KeyRequestError::CsrUnparseable);
    }
    let der = block.contents();

    // The structure Go's parser insists on: a well-formed request, nothing after it.
    let request = match X509CertificationRequest::from_der(der) {
        Ok(([], request)) => request,
        _ => return Err(KeyRequestError::CsrUnparseable),
    };
    let spki_der = request.certification_request_info.subject_pki.raw;
    let signed = SignedObject::parse(der).ok_or(KeyRequestError::CsrUnparseable)?;

    let key = match parse_pkix(spki_der) {
        Ok(ParsedSpki::Supported(key)) => key,
        // Go keeps a request whose key algorithm it does not know, with a nil key that the
        // strength check then calls insecure.
        Ok(ParsedSpki::Unsupported) | Err(SpkiError::UnknownAlgorithm) => {
            return Err(KeyRequestError::InsecureKey);
        }
        Err(SpkiError::Malformed) => return Err(KeyRequestError::CsrUnparseable),
    };
    key.check_strength()?;

    // Go allows SHA-1 in CSR signatures (not in certificates).
    signed
        .algorithm
        .verify(&key, &signed.tbs_der, signed.signature, true)
        .map_err(|_| KeyRequestError::SignatureInvalid)?;

    let hash = signed.algorithm.fulcio_hash().ok_or_else(|| {
        KeyRequestError::UnrecognizedSignatureAlgorithm(signed.algorithm.go_name().to_owned())
    })?;
    Ok((key, hash))
}
