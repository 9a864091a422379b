//! Client public keys: parsing (PEM PKIX, PEM PKCS#1, raw DER) and the strength policy
//! (Fulcio spec §2.2).
//!
//! Parsing follows Go's `x509.ParsePKIXPublicKey` / `ParsePKCS1PublicKey`, because what Go
//! refuses to parse is "could not be parsed" for the client while what it parses but Fulcio
//! refuses is "insecure" (§1.4). The strength policy is sigstore's `goodkey.ValidatePubKey`,
//! i.e. Let's Encrypt boulder's policy with 100 Fermat rounds.

mod signature_algorithm;
mod spki;
mod strength;

pub(crate) use signature_algorithm::{SignedObject, X509SignatureAlgorithm};
pub(crate) use spki::{ParsedSpki, SpkiError, parse_pkix, subject_public_key};

use crate::KeyRequestError;

/// The kind and size of a client key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// ECDSA on P-521.
    EcdsaP521,
    /// RSA with this modulus size in bits.
    Rsa(usize),
    /// Ed25519.
    Ed25519,
}

impl KeyAlgorithm {
    /// Go's `%T` of the parsed key, as upstream prints it in "signing algorithm not permitted"
    /// (Fulcio spec §1.4).
    pub fn go_type_name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 => {
                "*ecdsa.PublicKey"
            }
            KeyAlgorithm::Rsa(_) => "*rsa.PublicKey",
            KeyAlgorithm::Ed25519 => "ed25519.PublicKey",
        }
    }

    /// The hash of the key's default proof-of-possession scheme (Fulcio spec §2.2): per curve
    /// for ECDSA (changed upstream in 2025, PR #1959), SHA-256 for RSA, none for Ed25519.
    pub fn default_hash(self) -> HashAlgorithm {
        match self {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa(_) => HashAlgorithm::Sha256,
            KeyAlgorithm::EcdsaP384 => HashAlgorithm::Sha384,
            KeyAlgorithm::EcdsaP521 => HashAlgorithm::Sha512,
            KeyAlgorithm::Ed25519 => HashAlgorithm::None,
        }
    }
}

/// The hash a signature was made with. `None` is pure Ed25519 (Go's hash "0").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// No pre-hash (pure Ed25519).
    None,
}

impl HashAlgorithm {
    /// Go's `crypto.Hash.String()`, as upstream prints it in "signing algorithm not permitted"
    /// (Fulcio spec §1.4). Go has no name for hash 0 and prints "unknown hash value 0".
    pub fn go_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
            HashAlgorithm::None => "unknown hash value 0",
        }
    }
}

/// A parsed client public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPublicKey {
    /// DER SubjectPublicKeyInfo, as it goes into the certificate.
    pub spki_der: Vec<u8>,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
}

/// PEM labels upstream accepts for a public key (sigstore `UnmarshalPEMToPublicKey`).
const PEM_PKIX: &str = "PUBLIC KEY";
const PEM_PKCS1: &str = "RSA PUBLIC KEY";

impl ClientPublicKey {
    /// Parses PEM `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS#1), else the bytes as DER PKIX
    /// (Fulcio spec §2.2). A PKCS#1 key is converted to a PKIX SubjectPublicKeyInfo, as Go
    /// marshals the parsed key into the certificate.
    ///
    /// A key Go parses but Fulcio can never accept (ECDSA P-224, DSA, X25519) is reported as
    /// [`KeyRequestError::InsecureKey`] here: upstream reaches the same answer one step later,
    /// in its strength check, and no check in between can fail.
    pub fn parse(content: &[u8]) -> Result<Self, KeyRequestError> {
        if content.is_empty() {
            return Err(KeyRequestError::KeyUnparseable);
        }
        // Upstream tries PEM first and, on *any* failure there (no PEM block, another label, a
        // bad key inside), retries the whole input as DER.
        let parsed = match parse_pem(content) {
            Ok(parsed) => parsed,
            Err(_) => parse_pkix(content).map_err(|_| KeyRequestError::KeyUnparseable)?,
        };
        match parsed {
            ParsedSpki::Supported(key) => Ok(key),
            ParsedSpki::Unsupported => Err(KeyRequestError::InsecureKey),
        }
    }

    /// The strength policy of Fulcio spec §2.2 (sigstore goodkey): RSA of exactly 2048, 3072 or
    /// 4096 bits with e = 65537 and no small prime factor, ROCA fingerprint or Fermat
    /// factorization; ECDSA on P-256/384/521 with a valid point; Ed25519.
    pub fn check_strength(&self) -> Result<(), KeyRequestError> {
        // Re-read the key from its DER, the one field that goes into the certificate, rather
        // than trusting `algorithm` (the struct's fields are public).
        match parse_pkix(&self.spki_der) {
            Ok(ParsedSpki::Supported(key)) => match key.algorithm {
                KeyAlgorithm::Rsa(_) => {
                    let (modulus, exponent) = spki::rsa_components(&key.spki_der)
                        .map_err(|_| KeyRequestError::KeyUnparseable)?;
                    match strength::rsa_weakness(&modulus, exponent) {
                        None => Ok(()),
                        Some(_) => Err(KeyRequestError::InsecureKey),
                    }
                }
                // Parsing already required an uncompressed point on the curve with coordinates
                // below p, as Go's parser does. On these prime-order curves (cofactor 1) such a
                // point is never the identity and always has order n, which covers the rest of
                // boulder's SP 800-56A checks.
                KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521 => {
                    Ok(())
                }
                // goodkey accepts every Ed25519 key.
                KeyAlgorithm::Ed25519 => Ok(()),
            },
            Ok(ParsedSpki::Unsupported) => Err(KeyRequestError::InsecureKey),
            Err(_) => Err(KeyRequestError::KeyUnparseable),
        }
    }
}

/// The PEM half of [`ClientPublicKey::parse`]; any error sends the caller to the DER fallback.
fn parse_pem(content: &[u8]) -> Result<ParsedSpki, SpkiError> {
    let block = pem::parse(content).map_err(|_| SpkiError::Malformed)?;
    match block.tag() {
        PEM_PKIX => parse_pkix(block.contents()),
        PEM_PKCS1 => spki::parse_pkcs1(block.contents()).map(ParsedSpki::Supported),
        _ => Err(SpkiError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names() {
        assert_eq!(KeyAlgorithm::EcdsaP384.go_type_name(), "*ecdsa.PublicKey");
        assert_eq!(KeyAlgorithm::Rsa(2048).go_type_name(), "*rsa.PublicKey");
        assert_eq!(KeyAlgorithm::Ed25519.go_type_name(), "ed25519.PublicKey");
        assert_eq!(HashAlgorithm::Sha384.go_name(), "SHA-384");
        assert_eq!(HashAlgorithm::None.go_name(), "unknown hash value 0");
    }

    #[test]
    fn default_hashes_follow_the_curve() {
        assert_eq!(
            KeyAlgorithm::EcdsaP256.default_hash(),
            HashAlgorithm::Sha256
        );
        assert_eq!(
            KeyAlgorithm::EcdsaP384.default_hash(),
            HashAlgorithm::Sha384
        );
        assert_eq!(
            KeyAlgorithm::EcdsaP521.default_hash(),
            HashAlgorithm::Sha512
        );
        assert_eq!(
            KeyAlgorithm::Rsa(4096).default_hash(),
            HashAlgorithm::Sha256
        );
        assert_eq!(KeyAlgorithm::Ed25519.default_hash(), HashAlgorithm::None);
    }

    #[test]
    fn empty_and_garbage_are_unparseable() {
        assert_eq!(
            ClientPublicKey::parse(b""),
            Err(KeyRequestError::KeyUnparseable)
        );
        assert_eq!(
            ClientPublicKey::parse(b"hello"),
            Err(KeyRequestError::KeyUnparseable)
        );
        let wrong_label = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            ClientPublicKey::parse(wrong_label),
            Err(KeyRequestError::KeyUnparseable)
        );
    }

    #[test]
    fn check_strength_rejects_garbage_der() {
        let key = ClientPublicKey {
            spki_der: vec![0x30, 0x00],
            algorithm: KeyAlgorithm::Ed25519,
        };
        assert_eq!(key.check_strength(), Err(KeyRequestError::KeyUnparseable));
    }
}
