//! Client public keys: parsing (PEM PKIX, PEM PKCS#1, raw DER) and the strength policy
//! (Fulcio spec §2.2).

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

/// A parsed client public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPublicKey {
    /// DER SubjectPublicKeyInfo, as it goes into the certificate.
    pub spki_der: Vec<u8>,
    /// Its algorithm.
    pub algorithm: KeyAlgorithm,
}

impl ClientPublicKey {
    /// Parses PEM `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS#1), else the bytes as DER PKIX.
    pub fn parse(content: &[u8]) -> Result<Self, crate::KeyRequestError> {
        let _ = content;
        unimplemented!("ca helper")
    }

    /// The strength policy of Fulcio spec §2.2 (sigstore goodkey).
    pub fn check_strength(&self) -> Result<(), crate::KeyRequestError> {
        unimplemented!("ca helper")
    }
}
