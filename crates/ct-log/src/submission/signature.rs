//! Certificate signature verification with aws-lc-rs: the algorithms CAs use for code-signing
//! and WebPKI chains (ECDSA P-256/384/521 with SHA-256/384/512, RSA PKCS#1 v1.5 with
//! SHA-256/384/512, Ed25519). SHA-1 is refused, as Go's x509 refuses it for certificates.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::ObjectIdentifier;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

// Signature algorithms: RFC 5758 §3.2 (ECDSA), RFC 8017 App. C (RSA), RFC 8410 §3 (Ed25519).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

// Key algorithms and curves: RFC 5480 §2.1.1, RFC 8017 App. C.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Why a signature was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    /// The algorithm or the issuer's key type is not one the log verifies.
    Unsupported(String),
    /// The signature is wrong (or malformed) for this key and message.
    Invalid,
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// Verifies `signature` (the certificate's `signatureValue`) over `message` (its TBS DER) with
/// `algorithm` (its `signatureAlgorithm`) under `issuer_key`.
pub(crate) fn verify(
    algorithm: &AlgorithmIdentifierOwned,
    signature: &[u8],
    message: &[u8],
    issuer_key: &SubjectPublicKeyInfoOwned,
) -> Result<(), SignatureFailure> {
    let key_bits = issuer_key.subject_public_key.as_bytes().ok_or_else(|| {
        SignatureFailure::Unsupported(
            "the issuer's public key is not a whole number of bytes".into(),
        )
    })?;
    let verifier: &'static dyn VerificationAlgorithm = match algorithm.oid {
        ECDSA_WITH_SHA256 => ecdsa(issuer_key, Hash::Sha256)?,
        ECDSA_WITH_SHA384 => ecdsa(issuer_key, Hash::Sha384)?,
        ECDSA_WITH_SHA512 => ecdsa(issuer_key, Hash::Sha512)?,
        SHA256_WITH_RSA => rsa(issuer_key, Hash::Sha256)?,
        SHA384_WITH_RSA => rsa(issuer_key, Hash::Sha384)?,
        SHA512_WITH_RSA => rsa(issuer_key, Hash::Sha512)?,
        ED25519 => {
            expect_key(issuer_key, ED25519, "Ed25519")?;
            &signature::ED25519
        }
        other => {
            return Err(SignatureFailure::Unsupported(format!(
                "signature algorithm {other} is not supported"
            )));
        }
    };
    // aws-lc-rs takes the subjectPublicKey contents: an uncompressed EC point, a PKCS#1
    // RSAPublicKey, or the raw Ed25519 key.
    UnparsedPublicKey::new(verifier, key_bits)
        .verify(message, signature)
        .map_err(|_| SignatureFailure::Invalid)
}

fn expect_key(
    key: &SubjectPublicKeyInfoOwned,
    oid: ObjectIdentifier,
    name: &str,
) -> Result<(), SignatureFailure> {
    if key.algorithm.oid == oid {
        Ok(())
    } else {
        Err(SignatureFailure::Unsupported(format!(
            "a {name} signature, but the issuer's key is of type {}",
            key.algorithm.oid
        )))
    }
}

fn ecdsa(
    key: &SubjectPublicKeyInfoOwned,
    hash: Hash,
) -> Result<&'static dyn VerificationAlgorithm, SignatureFailure> {
    expect_key(key, EC_PUBLIC_KEY, "ECDSA")?;
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| {
            SignatureFailure::Unsupported("the issuer's EC key has no named curve".into())
        })?;
    // Go accepts any hash with any of these curves; so does the log.
    Ok(match (curve, hash) {
        (P256, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (P256, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
        (P256, Hash::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
        (P384, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
        (P384, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (P384, Hash::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
        (P521, Hash::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
        (P521, Hash::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
        (P521, Hash::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (other, _) => {
            return Err(SignatureFailure::Unsupported(format!(
                "the issuer's EC curve {other} is not supported"
            )));
        }
    })
}

fn rsa(
    key: &SubjectPublicKeyInfoOwned,
    hash: Hash,
) -> Result<&'static dyn VerificationAlgorithm, SignatureFailure> {
    expect_key(key, RSA_ENCRYPTION, "RSA")?;
    // 2048 to 8192 bits, the range Go and the WebPKI accept.
    Ok(match hash {
        Hash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Hash::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Hash::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
    })
}
