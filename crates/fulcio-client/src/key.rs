//! The key a certificate is issued for: generated fresh (P-256 by default, P-384, Ed25519,
//! RSA-3072) or read from a PEM file (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1), with aws-lc-rs.
//! It proves possession (a signature over the token's subject, in the form Fulcio checks for
//! its type) or signs a PKCS#10 CSR, and can be written out as PKCS#8 PEM, encrypted with a
//! password (PBES2: scrypt + AES-256-CBC) when one is given.

use std::path::Path;

use zeroize::Zeroizing;

/// Kinds of key the client generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 with SHA-256 (the default).
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA 3072 with PKCS#1 v1.5 SHA-256.
    Rsa3072,
}

impl KeyAlgorithm {
    /// The names the CLI accepts: `p256`, `p384`, `ed25519`, `rsa3072`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "p256" | "p-256" | "ecdsa-p256" => Some(Self::P256),
            "p384" | "p-384" | "ecdsa-p384" => Some(Self::P384),
            "ed25519" => Some(Self::Ed25519),
            "rsa3072" | "rsa-3072" => Some(Self::Rsa3072),
            _ => None,
        }
    }
}

/// Why a key could not be made, read, used or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key generation failed.
    #[error("generating a {0:?} key failed")]
    Generate(KeyAlgorithm),
    /// Reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The PEM is not a key we can use (or the password is wrong).
    #[error("{0}")]
    Invalid(String),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// A private key and its public half.
pub struct SigningKey {
    _private: (),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, KeyError> {
        let _ = algorithm;
        unimplemented!("key: SigningKey::generate")
    }

    /// Reads a PEM private key; `password` decrypts encrypted PKCS#8.
    pub fn from_pem(pem: &[u8], password: Option<&str>) -> Result<Self, KeyError> {
        let _ = (pem, password);
        unimplemented!("key: SigningKey::from_pem")
    }

    /// [`SigningKey::from_pem`] over a file; errors name the file.
    pub fn load(path: &Path, password: Option<&str>) -> Result<Self, KeyError> {
        let _ = (path, password);
        unimplemented!("key: SigningKey::load")
    }

    /// The key's kind.
    pub fn algorithm(&self) -> KeyAlgorithm {
        unimplemented!("key: SigningKey::algorithm")
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn public_key_der(&self) -> &[u8] {
        unimplemented!("key: SigningKey::public_key_der")
    }

    /// The public key as PEM (`PUBLIC KEY`).
    pub fn public_key_pem(&self) -> String {
        unimplemented!("key: SigningKey::public_key_pem")
    }

    /// The proof of possession over `subject` as Fulcio checks it: ECDSA (ASN.1 DER) with the
    /// curve's hash, Ed25519 over the bytes, RSA PKCS#1 v1.5 SHA-256.
    pub fn prove_possession(&self, subject: &str) -> Result<Vec<u8>, KeyError> {
        let _ = subject;
        unimplemented!("key: SigningKey::prove_possession")
    }

    /// A PKCS#10 CSR (DER) with an empty subject and no attributes, signed by this key.
    pub fn certificate_request(&self) -> Result<Vec<u8>, KeyError> {
        unimplemented!("key: SigningKey::certificate_request")
    }

    /// The private key as PKCS#8 PEM; encrypted (PBES2, scrypt + AES-256-CBC) when `password`
    /// is given.
    pub fn to_pkcs8_pem(&self, password: Option<&str>) -> Result<Zeroizing<String>, KeyError> {
        let _ = password;
        unimplemented!("key: SigningKey::to_pkcs8_pem")
    }
}
