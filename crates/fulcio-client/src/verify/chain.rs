//! Step 1: a path from the leaf, through the intermediates given with it, to the chain of one
//! of the trusted root's certificate authorities, and the checks on that path.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;

use super::{Parsed, VerifyError, describe, parse_one, show_time, system_time};
use crate::trust::{CertificateAuthority, TrustedRoot};

/// The longest path tried (leaf included); real Fulcio paths have two or three certificates.
const MAX_PATH: usize = 8;

// Signature algorithms (RFC 5758 §3.2, RFC 8017 App. C, RFC 8410 §3) and key types.
const ECDSA_WITH_SHA1: &str = "1.2.840.10045.4.1";
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
const ECDSA_WITH_SHA512: &str = "1.2.840.10045.4.3.4";
const SHA1_WITH_RSA: &str = "1.2.840.113549.1.1.5";
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
const ED25519: &str = "1.3.101.112";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const P521: &str = "1.3.132.0.35";

/// Critical extensions this verifier understands; any other critical extension fails the
/// path, as RFC 5280 §4.2 requires.
const HANDLED_CRITICAL: [&str; 7] = [
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.15", // keyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.19", // basicConstraints
    "2.5.29.32", // certificatePolicies
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.37", // extKeyUsage
];

/// A path that verified: leaf first, the CA's root last.
pub(super) struct Path<'a> {
    /// The certificates, leaf first.
    pub(super) certificates: Vec<Parsed<'a>>,
}

/// Tries every certificate authority of `root` in turn; the first one a valid path reaches
/// wins. When none does, the error lists why for each.
pub(super) fn build_path<'a>(
    leaf: &Parsed<'a>,
    extras: &[Parsed<'a>],
    root: &'a TrustedRoot,
) -> Result<Path<'a>, VerifyError> {
    if root.certificate_authorities.is_empty() {
        return Err(VerifyError::Chain(
            "the trusted root has no certificate authorities".to_owned(),
        ));
    }
    let mut failures = Vec::new();
    for (index, ca) in root.certificate_authorities.iter().enumerate() {
        match path_through(leaf, extras, ca) {
            Ok(certificates) => return Ok(Path { certificates }),
            Err(reason) => failures.push(format!("{}: {reason}", ca_name(index, ca))),
        }
    }
    Err(VerifyError::Chain(failures.join("; ")))
}

/// `certificate authority N of the trusted root (URI)`.
fn ca_name(index: usize, ca: &CertificateAuthority) -> String {
    let label = [&ca.uri, &ca.subject.common_name, &ca.subject.organization]
        .into_iter()
        .find(|s| !s.is_empty());
    match label {
        Some(label) => format!(
            "certificate authority {} of the trusted root ({label})",
            index + 1
        ),
        None => format!("certificate authority {} of the trusted root", index + 1),
    }
}

/// The path from `leaf` to the root of `ca`'s chain, checked; or why there is none.
fn path_through<'a>(
    leaf: &Parsed<'a>,
    extras: &[Parsed<'a>],
    ca: &'a CertificateAuthority,
) -> Result<Vec<Parsed<'a>>, String> {
    let anchors = ca
        .cert_chain
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            parse_one(&c.raw_bytes.0)
                .map_err(|e| format!("certificate {i} of its chain does not parse: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if anchors.is_empty() {
        return Err("its certificate chain is empty".to_owned());
    }

    let mut path = vec![leaf.clone()];
    let mut used = vec![false; extras.len()];
    loop {
        let index = path.len() - 1;
        let current = &path[index];
        // Once the path meets the CA's chain, the rest of it is that chain.
        if let Some(position) = anchors.iter().position(|a| a.der == current.der) {
            for next in &anchors[position + 1..] {
                let child_index = path.len() - 1;
                let child = &path[child_index];
                if child.cert.issuer().as_raw() != next.cert.subject().as_raw() {
                    return Err(format!(
                        "{} is not issued by the next certificate of the CA's chain, {}",
                        describe(&child.cert, child_index),
                        describe(&next.cert, child_index + 1)
                    ));
                }
                check_signature(child, child_index, next)?;
                path.push(next.clone());
            }
            break;
        }
        if path.len() >= MAX_PATH {
            return Err(format!(
                "no path of at most {MAX_PATH} certificates reaches the CA's chain"
            ));
        }
        let issuer_name = current.cert.issuer().as_raw();
        if index > 0 && issuer_name == current.cert.subject().as_raw() {
            return Err(format!(
                "the path ends at {}, a self-issued certificate that is not in the CA's chain",
                describe(&current.cert, index)
            ));
        }
        let mut tried = Vec::new();
        let mut found = None;
        let unused_extras = extras
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, c)| (Some(i), c));
        for (source, candidate) in anchors.iter().map(|a| (None, a)).chain(unused_extras) {
            if candidate.cert.subject().as_raw() != issuer_name {
                continue;
            }
            match check_signature(current, index, candidate) {
                Ok(()) => {
                    found = Some((source, candidate.clone()));
                    break;
                }
                Err(reason) => tried.push(reason),
            }
        }
        match found {
            Some((source, issuer)) => {
                if let Some(i) = source {
                    used[i] = true;
                }
                path.push(issuer);
            }
            None if tried.is_empty() => {
                return Err(format!(
                    "neither its chain nor the given intermediates hold the issuer of {}, {:?}",
                    describe(&current.cert, index),
                    current.cert.issuer().to_string()
                ));
            }
            None => return Err(tried.join("; ")),
        }
    }

    check_path(&path)?;

    let leaf_issued = system_time(leaf.cert.validity().not_before);
    if !ca.valid_for.contains(leaf_issued) {
        let end = ca
            .valid_for
            .end
            .map_or_else(|| "open-ended".to_owned(), |end| show_time(end.0));
        return Err(format!(
            "{} was issued at {} (notBefore), outside the CA's validFor ({} to {end})",
            describe(&leaf.cert, 0),
            show_time(leaf_issued),
            show_time(ca.valid_for.start.0)
        ));
    }
    Ok(path)
}

/// The profile checks along a path: CA certificates are CAs allowed to sign certificates (and
/// code-signing certificates, when they restrict extended key usage) within their path
/// length; the leaf is not a CA and has EKU codeSigning; no certificate has a critical
/// extension this verifier does not understand.
fn check_path(path: &[Parsed<'_>]) -> Result<(), String> {
    for (index, certificate) in path.iter().enumerate() {
        let cert = &certificate.cert;
        let who = describe(cert, index);
        let bad = |e: x509_parser::error::X509Error| format!("{who}: {e}");
        if let Some(extension) = cert
            .extensions()
            .iter()
            .find(|e| e.critical && !HANDLED_CRITICAL.contains(&e.oid.to_id_string().as_str()))
        {
            return Err(format!(
                "{who} has a critical extension this verifier does not handle: {}",
                extension.oid.to_id_string()
            ));
        }
        let basic = cert.basic_constraints().map_err(bad)?;
        let eku = cert.extended_key_usage().map_err(bad)?;
        if index == 0 {
            if basic.is_some_and(|b| b.value.ca) {
                return Err(format!(
                    "{who} is a CA certificate (basicConstraints cA), not a leaf"
                ));
            }
            match eku {
                Some(eku) if eku.value.code_signing => {}
                Some(_) => {
                    return Err(format!("{who} lacks the codeSigning extended key usage"));
                }
                None => {
                    return Err(format!(
                        "{who} has no extended key usage extension (codeSigning is required)"
                    ));
                }
            }
            continue;
        }
        let child = describe(&path[index - 1].cert, index - 1);
        let Some(basic) = basic.filter(|b| b.value.ca) else {
            return Err(format!(
                "{who} is not a CA (basicConstraints cA is not set) but issued {child}"
            ));
        };
        // The intermediates below this certificate on the path: index - 1.
        if let Some(max) = basic.value.path_len_constraint
            && index - 1 > max as usize
        {
            return Err(format!(
                "{who} allows {max} intermediate(s) below it (pathLenConstraint), the path has {}",
                index - 1
            ));
        }
        match cert.key_usage().map_err(bad)? {
            Some(usage) if usage.value.key_cert_sign() => {}
            Some(_) => {
                return Err(format!(
                    "{who} may not sign certificates (its keyUsage lacks keyCertSign)"
                ));
            }
            None => {
                return Err(format!(
                    "{who} has no keyUsage extension (keyCertSign is required of a CA)"
                ));
            }
        }
        if let Some(eku) = eku
            && !(eku.value.code_signing || eku.value.any)
        {
            return Err(format!(
                "{who} restricts extended key usage without allowing codeSigning"
            ));
        }
    }
    Ok(())
}

/// Checks that `issuer`'s key signed `child` (at `index` on the path).
fn check_signature(child: &Parsed<'_>, index: usize, issuer: &Parsed<'_>) -> Result<(), String> {
    let who = describe(&child.cert, index);
    let by = describe(&issuer.cert, index + 1);
    let algorithm = verification_algorithm(&child.cert, &issuer.cert).map_err(|reason| {
        format!("cannot check the signature on {who} with the key of {by}: {reason}")
    })?;
    let key = &issuer.cert.public_key().subject_public_key.data;
    UnparsedPublicKey::new(algorithm, key)
        .verify(
            child.cert.tbs_certificate.as_ref(),
            &child.cert.signature_value.data,
        )
        .map_err(|_| format!("the signature on {who} does not verify with the key of {by}"))
}

/// The aws-lc-rs algorithm for `child`'s signature under `issuer`'s key: ECDSA P-256, P-384,
/// P-521 with SHA-256/384/512, RSA PKCS#1 v1.5 with SHA-256/384/512, Ed25519. SHA-1 is
/// refused.
fn verification_algorithm(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let outer = child.signature_algorithm.algorithm.to_id_string();
    let inner = child.tbs_certificate.signature.algorithm.to_id_string();
    if outer != inner {
        return Err(format!(
            "the certificate's signatureAlgorithm {outer} differs from the one in its TBS, {inner}"
        ));
    }
    let spki = issuer.public_key();
    let key_type = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    let algorithm: &'static dyn VerificationAlgorithm =
        match (outer.as_str(), key_type.as_str(), curve.as_deref()) {
            (ECDSA_WITH_SHA256, EC_PUBLIC_KEY, Some(P256)) => &signature::ECDSA_P256_SHA256_ASN1,
            (ECDSA_WITH_SHA384, EC_PUBLIC_KEY, Some(P256)) => &signature::ECDSA_P256_SHA384_ASN1,
            (ECDSA_WITH_SHA512, EC_PUBLIC_KEY, Some(P256)) => &signature::ECDSA_P256_SHA512_ASN1,
            (ECDSA_WITH_SHA256, EC_PUBLIC_KEY, Some(P384)) => &signature::ECDSA_P384_SHA256_ASN1,
            (ECDSA_WITH_SHA384, EC_PUBLIC_KEY, Some(P384)) => &signature::ECDSA_P384_SHA384_ASN1,
            (ECDSA_WITH_SHA512, EC_PUBLIC_KEY, Some(P384)) => &signature::ECDSA_P384_SHA512_ASN1,
            (ECDSA_WITH_SHA256, EC_PUBLIC_KEY, Some(P521)) => &signature::ECDSA_P521_SHA256_ASN1,
            (ECDSA_WITH_SHA384, EC_PUBLIC_KEY, Some(P521)) => &signature::ECDSA_P521_SHA384_ASN1,
            (ECDSA_WITH_SHA512, EC_PUBLIC_KEY, Some(P521)) => &signature::ECDSA_P521_SHA512_ASN1,
            (SHA256_WITH_RSA, RSA_ENCRYPTION, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
            (SHA384_WITH_RSA, RSA_ENCRYPTION, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
            (SHA512_WITH_RSA, RSA_ENCRYPTION, _) => &signature::RSA_PKCS1_2048_8192_SHA512,
            (ED25519, ED25519, _) => &signature::ED25519,
            (ECDSA_WITH_SHA1 | SHA1_WITH_RSA, _, _) => {
                return Err("SHA-1 signatures are not accepted".to_owned());
            }
            _ => {
                let key = match curve {
                    Some(curve) => format!("{key_type} (curve {curve})"),
                    None => key_type,
                };
                return Err(format!(
                    "signature algorithm {outer} with a key of type {key} is not supported"
                ));
            }
        };
    Ok(algorithm)
}
