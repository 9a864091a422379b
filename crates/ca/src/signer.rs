//! The CA key abstraction: anything that can sign a TBSCertificate. The in-memory signer lives
//! here; PKCS#11 and KMS backends implement the same trait.

use std::{fmt, future::Future, pin::Pin};

/// The future a [`Signer`] returns.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignerError>> + Send + 'a>>;

/// The signature algorithm of a CA key, which fixes the certificate's `signatureAlgorithm`.
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

/// A CA key held in process memory (aws-lc-rs), for the ephemeral and file CAs.
pub struct InMemorySigner {
    spki_der: Vec<u8>,
    algorithm: SignatureAlgorithm,
}

impl fmt::Debug for InMemorySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemorySigner").field("algorithm", &self.algorithm).finish_non_exhaustive()
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
        let _ = message;
        unimplemented!("ca helper")
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

impl InMemorySigner {
    /// A fresh key of `kind`.
    pub fn generate(kind: KeyKind) -> Result<Self, crate::CaError> {
        let _ = kind;
        unimplemented!("ca helper")
    }

    /// A key from DER PKCS#8 `PrivateKeyInfo` (RSA, ECDSA P-256/384/521 or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, crate::CaError> {
        let _ = der;
        unimplemented!("ca helper")
    }
}
