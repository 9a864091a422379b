//! Validation of a CA key and its chain at load time (Fulcio spec §6, upstream
//! `ca.VerifyCertChain`): the first certificate must chain to the last (treated as the root)
//! under Go's `x509.Verify` rules with the codeSigning extended key usage, be a CA, carry
//! codeSigning itself when there are intermediates, hold the signer's public key, and that key
//! must pass the strength policy.

use x509_parser::{
    certificate::X509Certificate, extensions::ParsedExtension, prelude::FromDer, time::ASN1Time,
};

use crate::{
    CaError, Signer,
    key::{ParsedSpki, SignedObject, parse_pkix},
};

/// What issuance needs from a validated chain's issuing certificate.
#[derive(Debug)]
pub(super) struct IssuingCertificate {
    /// Its subject Name, DER, exactly as in the certificate.
    pub(super) subject_der: Vec<u8>,
    /// Its SubjectKeyIdentifier, if it has one.
    pub(super) key_identifier: Option<Vec<u8>>,
    /// Its SubjectPublicKeyInfo, DER, exactly as in the certificate.
    pub(super) spki_der: Vec<u8>,
}

/// Critical extensions Go's verifier understands; any other critical extension makes Go's
/// `Verify` fail with "unhandled critical extension".
const HANDLED_CRITICAL: [&str; 12] = [
    "2.5.29.14",         // subjectKeyIdentifier
    "2.5.29.15",         // keyUsage
    "2.5.29.17",         // subjectAltName
    "2.5.29.19",         // basicConstraints
    "2.5.29.30",         // nameConstraints
    "2.5.29.31",         // cRLDistributionPoints
    "2.5.29.32",         // certificatePolicies
    "2.5.29.33",         // policyMappings
    "2.5.29.35",         // authorityKeyIdentifier
    "2.5.29.36",         // policyConstraints
    "2.5.29.37",         // extKeyUsage
    "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
];

fn invalid(message: impl Into<String>) -> CaError {
    CaError::InvalidCa(message.into())
}

/// Runs the checks of Fulcio spec §6 in upstream's order and returns the issuing certificate's
/// data. `chain` is DER, issuing certificate first, root last.
pub(super) fn validate(
    chain: &[Vec<u8>],
    signer: &dyn Signer,
) -> Result<IssuingCertificate, CaError> {
    if chain.is_empty() {
        return Err(invalid(
            "certificate chain must contain at least one certificate",
        ));
    }
    let certificates = chain
        .iter()
        .enumerate()
        .map(|(index, der)| match X509Certificate::from_der(der) {
            Ok(([], certificate)) => Ok(certificate),
            Ok(_) => Err(invalid(format!(
                "certificate {index}: trailing data after the certificate"
            ))),
            Err(e) => Err(invalid(format!("certificate {index} does not parse: {e}"))),
        })
        .collect::<Result<Vec<_>, _>>()?;

    verify_path(chain, &certificates)?;

    let issuing = &certificates[0];
    if !is_ca(issuing)? {
        return Err(invalid(format!(
            "certificate is not a CA: {}",
            issuing.subject()
        )));
    }
    if certificates.len() > 1 && !has_explicit_code_signing(issuing)? {
        return Err(invalid(format!(
            "EKU chaining violation: the issuing certificate {} must have extended key usage \
             code signing set to sign code signing certificates",
            issuing.subject()
        )));
    }

    let certificate_key = match parse_pkix(issuing.public_key().raw) {
        Ok(ParsedSpki::Supported(key)) => key,
        _ => {
            return Err(invalid(
                "the issuing certificate's key type is not supported",
            ));
        }
    };
    let signer_key = match parse_pkix(signer.public_key_der()) {
        Ok(ParsedSpki::Supported(key)) => key,
        _ => return Err(invalid("the signer's key type is not supported")),
    };
    if certificate_key.spki_der != signer_key.spki_der {
        return Err(invalid(format!(
            "key does not match certificate: the signer's public key is not the one in {}",
            issuing.subject()
        )));
    }
    signer_key
        .check_strength()
        .map_err(|e| invalid(format!("the CA key fails the key policy: {e}")))?;

    Ok(IssuingCertificate {
        subject_der: issuing.subject().as_raw().to_vec(),
        key_identifier: subject_key_identifier(issuing),
        spki_der: issuing.public_key().raw.to_vec(),
    })
}

/// Go's `Verify` along the given order: every certificate currently valid and without unknown
/// critical extensions; each one issued by the next (names, CA-ness, path length, keyCertSign,
/// signature without SHA-1); every extended key usage compatible with codeSigning.
fn verify_path(chain: &[Vec<u8>], certificates: &[X509Certificate<'_>]) -> Result<(), CaError> {
    let now = ASN1Time::now();
    for (index, certificate) in certificates.iter().enumerate() {
        if !certificate.validity().is_valid_at(now) {
            return Err(invalid(format!(
                "certificate {index} ({}) has expired or is not yet valid",
                certificate.subject()
            )));
        }
        if let Some(extension) = certificate
            .extensions()
            .iter()
            .find(|e| e.critical && !HANDLED_CRITICAL.contains(&e.oid.to_id_string().as_str()))
        {
            return Err(invalid(format!(
                "certificate {index} ({}) has an unhandled critical extension {}",
                certificate.subject(),
                extension.oid.to_id_string()
            )));
        }
        if !eku_allows_code_signing(certificate)? {
            return Err(invalid(format!(
                "EKU chaining violation: certificate {index} ({}) has an extended key usage \
                 without code signing",
                certificate.subject()
            )));
        }
    }

    for (index, pair) in certificates.windows(2).enumerate() {
        let (child, parent) = (&pair[0], &pair[1]);
        let parent_index = index + 1;
        if child.issuer().as_raw() != parent.subject().as_raw() {
            return Err(invalid(format!(
                "certificate {index} ({}) is not issued by certificate {parent_index} ({}): \
                 issuer and subject differ",
                child.subject(),
                parent.subject()
            )));
        }
        // Go requires a valid basicConstraints with cA on every issuer, roots included.
        if !is_ca(parent)? {
            return Err(invalid(format!(
                "certificate {parent_index} ({}) is not a CA but issues certificate {index}",
                parent.subject()
            )));
        }
        // Go counts the intermediates below an issuer: `index` of them for this one.
        if let Some(max) = basic_constraints_path_len(parent)?
            && index > max as usize
        {
            return Err(invalid(format!(
                "certificate {parent_index} ({}) allows {max} intermediates below it, the chain \
                 has {index}",
                parent.subject()
            )));
        }
        if let Some(usage) = parent.key_usage().map_err(|e| invalid(e.to_string()))?
            && !usage.value.key_cert_sign()
        {
            return Err(invalid(format!(
                "certificate {parent_index} ({}) may not sign certificates (no keyCertSign)",
                parent.subject()
            )));
        }
        verify_signature(&chain[index], parent, index, parent_index)?;
    }
    Ok(())
}

fn verify_signature(
    child_der: &[u8],
    parent: &X509Certificate<'_>,
    index: usize,
    parent_index: usize,
) -> Result<(), CaError> {
    let broken = || {
        invalid(format!(
            "the signature on certificate {index} does not verify with the key of certificate \
             {parent_index} ({})",
            parent.subject()
        ))
    };
    let signed = SignedObject::parse(child_der).ok_or_else(broken)?;
    let parent_key = match parse_pkix(parent.public_key().raw) {
        Ok(ParsedSpki::Supported(key)) => key,
        _ => return Err(broken()),
    };
    // Go refuses SHA-1 signatures on certificates.
    signed
        .algorithm
        .verify(&parent_key, &signed.tbs_der, signed.signature, false)
        .map_err(|_| broken())
}

fn is_ca(certificate: &X509Certificate<'_>) -> Result<bool, CaError> {
    Ok(certificate
        .basic_constraints()
        .map_err(|e| invalid(e.to_string()))?
        .is_some_and(|bc| bc.value.ca))
}

fn basic_constraints_path_len(certificate: &X509Certificate<'_>) -> Result<Option<u32>, CaError> {
    Ok(certificate
        .basic_constraints()
        .map_err(|e| invalid(e.to_string()))?
        .and_then(|bc| bc.value.path_len_constraint))
}

/// Go's `checkChainForKeyUsage` for one requested usage: a certificate without extended key
/// usages allows everything; otherwise it must list codeSigning or anyExtendedKeyUsage.
fn eku_allows_code_signing(certificate: &X509Certificate<'_>) -> Result<bool, CaError> {
    let Some(eku) = certificate
        .extended_key_usage()
        .map_err(|e| invalid(e.to_string()))?
    else {
        return Ok(true);
    };
    let eku = eku.value;
    let empty = !(eku.any
        || eku.server_auth
        || eku.client_auth
        || eku.code_signing
        || eku.email_protection
        || eku.time_stamping
        || eku.ocsp_signing)
        && eku.other.is_empty();
    Ok(empty || eku.any || eku.code_signing)
}

/// Upstream's own extra rule for intermediates: codeSigning listed explicitly.
fn has_explicit_code_signing(certificate: &X509Certificate<'_>) -> Result<bool, CaError> {
    Ok(certificate
        .extended_key_usage()
        .map_err(|e| invalid(e.to_string()))?
        .is_some_and(|eku| eku.value.code_signing))
}

/// The certificate's subjectKeyIdentifier, if it has one.
pub(crate) fn subject_key_identifier(certificate: &X509Certificate<'_>) -> Option<Vec<u8>> {
    certificate
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
}
