//! `--client-signing-algorithms`: which client key and hash combinations are permitted
//! (Fulcio spec §2.4).

use crate::{HashAlgorithm, KeyAlgorithm, KeyRequestError};

/// The permitted algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmRegistry {
    names: Vec<String>,
}

impl AlgorithmRegistry {
    /// Upstream's default list.
    pub const DEFAULT_NAMES: &'static [&'static str] = &[
        "ecdsa-sha2-256-nistp256",
        "ecdsa-sha2-384-nistp384",
        "ecdsa-sha2-512-nistp521",
        "rsa-sign-pkcs1-2048-sha256",
        "rsa-sign-pkcs1-3072-sha256",
        "rsa-sign-pkcs1-4096-sha256",
        "ed25519",
    ];

    /// A registry of the named algorithms; an unknown name is an error naming it.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        Ok(Self { names: names.iter().map(|n| n.as_ref().to_owned()).collect() })
    }

    /// Whether `key` signing with `hash` is permitted.
    pub fn check(&self, key: KeyAlgorithm, hash: HashAlgorithm) -> Result<(), KeyRequestError> {
        let _ = (key, hash, &self.names);
        unimplemented!("ca helper")
    }
}
