//! The CA key abstraction: anything that can sign a TBSCertificate. The in-memory signer lives
//! here; PKCS#11 and KMS backends implement the same trait.

use std::{fmt, future::Future, pin::Pin};

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SystemRandom,
    rsa::KeySize,
    signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
        ECDSA_P521_SHA512_ASN1_SIGNING, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair,
        KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use const_oid::ObjectIdentifier;
use der::{Any, Decode};
use spki::AlgorithmIdentifierOwned;

use crate::CaError;

/// The future a [`Signer`] returns.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignerError>> + Send + 'a>>;

/// The signature algorithm of a CA key, which fixes the certificate's `signatureAlgorithm`
/// (Fulcio spec §4.1: ECDSA per curve, RSA with SHA-256, Ed25519).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// ecdsa-with-SHA256 on P-256.
    EcdsaP256Sha256,
    /// ecdsa-with-SHA384 on P-384.
    EcdsaP384Sha384,
    /// ecdsa-with-SHA512 on P-521.
    EcdsaP521Sha512,
    /// sha256WithRSAEncryption (PKCS#1 v1.5).
    RsaPkcs1Sha256,
    /// Ed25519 (pure).
    Ed25519,
}

// RFC 5758 §3.2, RFC 8017 App. C, RFC 8410 §3.
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

impl SignatureAlgorithm {
    /// The AlgorithmIdentifier for the certificate's `signature` and `signatureAlgorithm`
    /// fields, encoded as Go encodes it: ECDSA (RFC 5758 §3.2) and Ed25519 (RFC 8410 §3) with
    /// the parameters absent, sha256WithRSAEncryption with NULL parameters (RFC 8017 App. C).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        let (oid, parameters) = match self {
            SignatureAlgorithm::EcdsaP256Sha256 => (OID_ECDSA_SHA256, None),
            SignatureAlgorithm::EcdsaP384Sha384 => (OID_ECDSA_SHA384, None),
            SignatureAlgorithm::EcdsaP521Sha512 => (OID_ECDSA_SHA512, None),
            SignatureAlgorithm::RsaPkcs1Sha256 => (OID_SHA256_RSA, Some(Any::null())),
            SignatureAlgorithm::Ed25519 => (OID_ED25519, None),
        };
        AlgorithmIdentifierOwned { oid, parameters }
    }
}

/// A CA signing key.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The key's DER SubjectPublicKeyInfo.
    fn public_key_der(&self) -> &[u8];
    /// The algorithm signatures are made with.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// Signs `message` and returns the signature as X.509 carries it (DER for ECDSA).
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a>;
}

/// A signer failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SignerError(pub String);

/// The private key behind an [`InMemorySigner`].
enum PrivateKey {
    /// The signing algorithm is kept beside the key because aws-lc-rs does not expose the curve.
    Ecdsa(EcdsaKeyPair, SignatureAlgorithm),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A CA key held in process memory (aws-lc-rs), for the ephemeral and file CAs.
pub struct InMemorySigner {
    key: PrivateKey,
    spki_der: Vec<u8>,
    algorithm: SignatureAlgorithm,
}

impl fmt::Debug for InMemorySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemorySigner")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Signer for InMemorySigner {
    fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        // In-process signing is done before the future is returned: ECDSA and Ed25519 take tens
        // of microseconds, cheap enough for an async worker (DESIGN.md "Concurrency"). RSA CA
        // keys are slower (about 1 ms for 2048 bits, several ms for 4096); callers that care can
        // wrap a signer in `spawn_blocking`.
        Box::pin(std::future::ready(self.sign_sync(message)))
    }
}

/// Key types the in-memory signer can generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ECDSA P-256.
    EcdsaP256,
    /// ECDSA P-384.
    EcdsaP384,
    /// ECDSA P-521.
    EcdsaP521,
    /// RSA 2048.
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
    /// RSA 4096.
    Rsa4096,
    /// Ed25519.
    Ed25519,
}

fn ecdsa_signing(algorithm: SignatureAlgorithm) -> &'static EcdsaSigningAlgorithm {
    match algorithm {
        SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        SignatureAlgorithm::EcdsaP521Sha512 => &ECDSA_P521_SHA512_ASN1_SIGNING,
        _ => &ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

fn key_error(what: &str) -> impl FnOnce(aws_lc_rs::error::KeyRejected) -> CaError + '_ {
    move |e| CaError::KeyFile(format!("{what}: {e}"))
}

impl InMemorySigner {
    /// A fresh key of `kind`.
    pub fn generate(kind: KeyKind) -> Result<Self, CaError> {
        let generation_failed = |_| CaError::KeyFile(format!("generating a {kind:?} key failed"));
        let key = match kind {
            KeyKind::EcdsaP256 | KeyKind::EcdsaP384 | KeyKind::EcdsaP521 => {
                let algorithm = match kind {
                    KeyKind::EcdsaP384 => SignatureAlgorithm::EcdsaP384Sha384,
                    KeyKind::EcdsaP521 => SignatureAlgorithm::EcdsaP521Sha512,
                    _ => SignatureAlgorithm::EcdsaP256Sha256,
                };
                PrivateKey::Ecdsa(
                    EcdsaKeyPair::generate(ecdsa_signing(algorithm)).map_err(generation_failed)?,
                    algorithm,
                )
            }
            KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 => {
                let size = match kind {
                    KeyKind::Rsa3072 => KeySize::Rsa3072,
                    KeyKind::Rsa4096 => KeySize::Rsa4096,
                    _ => KeySize::Rsa2048,
                };
                PrivateKey::Rsa(RsaKeyPair::generate(size).map_err(generation_failed)?)
            }
            KeyKind::Ed25519 => {
                PrivateKey::Ed25519(Ed25519KeyPair::generate().map_err(generation_failed)?)
            }
        };
        Self::new(key)
    }

    /// A key from DER PKCS#8 `PrivateKeyInfo` (RSA, ECDSA P-256/384/521 or Ed25519; PKCS#8 v1
    /// or v2).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CaError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|e| CaError::KeyFile(format!("PKCS#8: {e}")))?;
        let key = match info.algorithm.oid {
            OID_RSA => PrivateKey::Rsa(RsaKeyPair::from_pkcs8(der).map_err(key_error("RSA"))?),
            OID_EC => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .ok_or_else(|| CaError::KeyFile("ECDSA key without a named curve".into()))?;
                let algorithm = ecdsa_algorithm_for_curve(curve)?;
                PrivateKey::Ecdsa(
                    EcdsaKeyPair::from_pkcs8(ecdsa_signing(algorithm), der)
                        .map_err(key_error("ECDSA"))?,
                    algorithm,
                )
            }
            OID_ED25519 => PrivateKey::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(key_error("Ed25519"))?,
            ),
            other => {
                return Err(CaError::KeyFile(format!(
                    "unsupported private key algorithm {other}"
                )));
            }
        };
        Self::new(key)
    }

    /// An ECDSA key from a DER SEC 1 `ECPrivateKey` (PEM "EC PRIVATE KEY") on `curve`
    /// (P-256/384/521). SEC 1 keys usually name their curve, but the field is optional, so the
    /// caller says which one it expects.
    pub fn from_sec1_der(der: &[u8], curve: KeyKind) -> Result<Self, CaError> {
        let algorithm = match curve {
            KeyKind::EcdsaP256 => SignatureAlgorithm::EcdsaP256Sha256,
            KeyKind::EcdsaP384 => SignatureAlgorithm::EcdsaP384Sha384,
            KeyKind::EcdsaP521 => SignatureAlgorithm::EcdsaP521Sha512,
            other => return Err(CaError::KeyFile(format!("{other:?} is not an ECDSA curve"))),
        };
        let key = EcdsaKeyPair::from_private_key_der(ecdsa_signing(algorithm), der)
            .map_err(key_error("ECDSA"))?;
        Self::new(PrivateKey::Ecdsa(key, algorithm))
    }

    /// An RSA key from a DER PKCS#1 `RSAPrivateKey` (PEM "RSA PRIVATE KEY").
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CaError> {
        Self::new(PrivateKey::Rsa(
            RsaKeyPair::from_der(der).map_err(key_error("RSA"))?,
        ))
    }

    /// The private key as DER PKCS#8 v1, e.g. to write a key file for `fileca` tests.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CaError> {
        let failed = |_| CaError::KeyFile("encoding the private key failed".into());
        Ok(match &self.key {
            PrivateKey::Ecdsa(key, _) => key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            PrivateKey::Rsa(key) => AsDer::<Pkcs8V1Der<'_>>::as_der(key)
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            PrivateKey::Ed25519(key) => key.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
        })
    }

    /// Signs `message` right away. [`Signer::sign`] does the same behind a ready future; this
    /// is for synchronous callers such as self-signing a fresh root.
    pub fn sign_sync(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let failed = |_| SignerError(format!("{:?} signing failed", self.algorithm));
        match &self.key {
            PrivateKey::Ecdsa(key, _) => Ok(key
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            PrivateKey::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            PrivateKey::Ed25519(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }

    fn new(key: PrivateKey) -> Result<Self, CaError> {
        let encoding_failed = |_| CaError::KeyFile("encoding the public key failed".into());
        let (spki_der, algorithm) = match &key {
            PrivateKey::Ecdsa(k, algorithm) => (
                k.public_key()
                    .as_der()
                    .map_err(encoding_failed)?
                    .as_ref()
                    .to_vec(),
                *algorithm,
            ),
            PrivateKey::Rsa(k) => (
                k.public_key()
                    .as_der()
                    .map_err(encoding_failed)?
                    .as_ref()
                    .to_vec(),
                SignatureAlgorithm::RsaPkcs1Sha256,
            ),
            PrivateKey::Ed25519(k) => (
                k.public_key()
                    .as_der()
                    .map_err(encoding_failed)?
                    .as_ref()
                    .to_vec(),
                SignatureAlgorithm::Ed25519,
            ),
        };
        Ok(Self {
            key,
            spki_der,
            algorithm,
        })
    }
}

fn ecdsa_algorithm_for_curve(curve: ObjectIdentifier) -> Result<SignatureAlgorithm, CaError> {
    match curve {
        OID_P256 => Ok(SignatureAlgorithm::EcdsaP256Sha256),
        OID_P384 => Ok(SignatureAlgorithm::EcdsaP384Sha384),
        OID_P521 => Ok(SignatureAlgorithm::EcdsaP521Sha512),
        other => Err(CaError::KeyFile(format!("unsupported ECDSA curve {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientPublicKey, KeyAlgorithm};
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ECDSA_P521_SHA512_ASN1, ED25519,
        RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey, VerificationAlgorithm,
    };
    use der::Encode;

    fn verifier(kind: KeyKind) -> &'static dyn VerificationAlgorithm {
        match kind {
            KeyKind::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
            KeyKind::EcdsaP384 => &ECDSA_P384_SHA384_ASN1,
            KeyKind::EcdsaP521 => &ECDSA_P521_SHA512_ASN1,
            KeyKind::Ed25519 => &ED25519,
            _ => &RSA_PKCS1_2048_8192_SHA256,
        }
    }

    #[test]
    fn algorithm_identifiers_are_exact_der() {
        let der = |a: SignatureAlgorithm| hex::encode(a.algorithm_identifier().to_der().unwrap());
        assert_eq!(
            der(SignatureAlgorithm::EcdsaP256Sha256),
            "300a06082a8648ce3d040302"
        );
        assert_eq!(
            der(SignatureAlgorithm::EcdsaP384Sha384),
            "300a06082a8648ce3d040303"
        );
        assert_eq!(
            der(SignatureAlgorithm::EcdsaP521Sha512),
            "300a06082a8648ce3d040304"
        );
        assert_eq!(
            der(SignatureAlgorithm::RsaPkcs1Sha256),
            "300d06092a864886f70d01010b0500"
        );
        assert_eq!(der(SignatureAlgorithm::Ed25519), "300506032b6570");
    }

    #[tokio::test]
    async fn generated_keys_sign_with_the_curve_hash_and_round_trip_pkcs8() {
        for (kind, algorithm) in [
            (KeyKind::EcdsaP256, SignatureAlgorithm::EcdsaP256Sha256),
            (KeyKind::EcdsaP384, SignatureAlgorithm::EcdsaP384Sha384),
            (KeyKind::EcdsaP521, SignatureAlgorithm::EcdsaP521Sha512),
            (KeyKind::Rsa2048, SignatureAlgorithm::RsaPkcs1Sha256),
            (KeyKind::Ed25519, SignatureAlgorithm::Ed25519),
        ] {
            let signer = InMemorySigner::generate(kind).unwrap();
            assert_eq!(signer.algorithm(), algorithm);
            let signature = signer.sign(b"tbs").await.unwrap();
            let public = ClientPublicKey::parse(signer.public_key_der()).unwrap();
            // The SPKI aws-lc emits is already the canonical form Go would marshal.
            assert_eq!(public.spki_der, signer.public_key_der());
            let raw = crate::key::subject_public_key(signer.public_key_der()).unwrap();
            let key_bytes: &[u8] = if kind == KeyKind::Ed25519 {
                raw
            } else {
                signer.public_key_der()
            };
            UnparsedPublicKey::new(verifier(kind), key_bytes)
                .verify(b"tbs", &signature)
                .unwrap();
            assert!(
                UnparsedPublicKey::new(verifier(kind), key_bytes)
                    .verify(b"tbx", &signature)
                    .is_err()
            );

            let reloaded = InMemorySigner::from_pkcs8_der(&signer.to_pkcs8_der().unwrap()).unwrap();
            assert_eq!(reloaded.public_key_der(), signer.public_key_der());
            assert_eq!(reloaded.algorithm(), algorithm);
        }
    }

    #[test]
    fn rsa_sizes_are_as_asked() {
        let signer = InMemorySigner::generate(KeyKind::Rsa3072).unwrap();
        let public = ClientPublicKey::parse(signer.public_key_der()).unwrap();
        assert_eq!(public.algorithm, KeyAlgorithm::Rsa(3072));
    }

    #[test]
    fn garbage_pkcs8_is_a_key_file_error() {
        assert!(matches!(
            InMemorySigner::from_pkcs8_der(b"nope"),
            Err(CaError::KeyFile(_))
        ));
        assert!(matches!(
            InMemorySigner::from_pkcs1_der(b"nope"),
            Err(CaError::KeyFile(_))
        ));
        assert!(matches!(
            InMemorySigner::from_sec1_der(b"nope", KeyKind::Rsa2048),
            Err(CaError::KeyFile(_))
        ));
    }
}
