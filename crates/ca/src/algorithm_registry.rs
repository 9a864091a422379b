//! `--client-signing-algorithms`: which client key and hash combinations are permitted
//! (Fulcio spec §2.4, sigstore's `signature.AlgorithmRegistryConfig`).

use crate::{HashAlgorithm, KeyAlgorithm, KeyRequestError};

/// The key an algorithm entry matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyMatch {
    /// RSA whose modulus, rounded up to whole bytes, has this many bits (Go's `Size()*8`).
    Rsa(usize),
    /// ECDSA on this curve.
    Ecdsa(KeyAlgorithm),
    Ed25519,
}

/// One recognised `--client-signing-algorithms` name and what it permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AlgorithmEntry {
    name: &'static str,
    key: KeyMatch,
    hash: HashAlgorithm,
}

/// Every name sigstore's registry knows, with the key and hash each one permits. PSS entries
/// match RSA keys with SHA-256 exactly like the PKCS#1 ones: the registry looks at key and hash
/// only, so listing either permits the same requests.
const KNOWN_ALGORITHMS: [AlgorithmEntry; 13] = [
    entry(
        "rsa-sign-pkcs1-2048-sha256",
        KeyMatch::Rsa(2048),
        HashAlgorithm::Sha256,
    ),
    entry(
        "rsa-sign-pkcs1-3072-sha256",
        KeyMatch::Rsa(3072),
        HashAlgorithm::Sha256,
    ),
    entry(
        "rsa-sign-pkcs1-4096-sha256",
        KeyMatch::Rsa(4096),
        HashAlgorithm::Sha256,
    ),
    entry(
        "rsa-sign-pss-2048-sha256",
        KeyMatch::Rsa(2048),
        HashAlgorithm::Sha256,
    ),
    entry(
        "rsa-sign-pss-3072-sha256",
        KeyMatch::Rsa(3072),
        HashAlgorithm::Sha256,
    ),
    entry(
        "rsa-sign-pss-4096-sha256",
        KeyMatch::Rsa(4096),
        HashAlgorithm::Sha256,
    ),
    entry(
        "ecdsa-sha2-256-nistp256",
        KeyMatch::Ecdsa(KeyAlgorithm::EcdsaP256),
        HashAlgorithm::Sha256,
    ),
    entry(
        "ecdsa-sha2-384-nistp384",
        KeyMatch::Ecdsa(KeyAlgorithm::EcdsaP384),
        HashAlgorithm::Sha384,
    ),
    entry(
        "ecdsa-sha2-256-nistp384",
        KeyMatch::Ecdsa(KeyAlgorithm::EcdsaP384),
        HashAlgorithm::Sha256,
    ),
    entry(
        "ecdsa-sha2-512-nistp521",
        KeyMatch::Ecdsa(KeyAlgorithm::EcdsaP521),
        HashAlgorithm::Sha512,
    ),
    entry(
        "ecdsa-sha2-256-nistp521",
        KeyMatch::Ecdsa(KeyAlgorithm::EcdsaP521),
        HashAlgorithm::Sha256,
    ),
    entry("ed25519", KeyMatch::Ed25519, HashAlgorithm::None),
    entry("ed25519-ph", KeyMatch::Ed25519, HashAlgorithm::Sha512),
];

const fn entry(name: &'static str, key: KeyMatch, hash: HashAlgorithm) -> AlgorithmEntry {
    AlgorithmEntry { name, key, hash }
}

impl AlgorithmEntry {
    fn matches(&self, key: KeyAlgorithm, hash: HashAlgorithm) -> bool {
        let key_matches = match (self.key, key) {
            (KeyMatch::Rsa(bits), KeyAlgorithm::Rsa(modulus_bits)) => {
                modulus_bits.div_ceil(8) * 8 == bits
            }
            (KeyMatch::Ecdsa(curve), key) => curve == key,
            (KeyMatch::Ed25519, KeyAlgorithm::Ed25519) => true,
            _ => false,
        };
        key_matches && self.hash == hash
    }
}

/// The permitted algorithms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmRegistry {
    names: Vec<String>,
    permitted: Vec<AlgorithmEntry>,
}

impl Default for AlgorithmRegistry {
    /// Upstream's default list ([`AlgorithmRegistry::DEFAULT_NAMES`]).
    fn default() -> Self {
        // Every default name is in the table (checked by a test), so nothing is dropped.
        let permitted = Self::DEFAULT_NAMES
            .iter()
            .filter_map(|name| KNOWN_ALGORITHMS.iter().find(|known| known.name == *name))
            .copied()
            .collect();
        Self {
            names: Self::DEFAULT_NAMES
                .iter()
                .map(|n| (*n).to_owned())
                .collect(),
            permitted,
        }
    }
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

    /// Every name `--client-signing-algorithms` accepts (Fulcio spec §2.4).
    pub fn known_names() -> impl Iterator<Item = &'static str> {
        KNOWN_ALGORITHMS.iter().map(|known| known.name)
    }

    /// A registry of the named algorithms; an unknown name is an error naming it, worded as
    /// upstream's startup failure ("could not find matching signature algorithm for flag: …").
    /// An empty list permits nothing, as upstream.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let permitted = names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                KNOWN_ALGORITHMS
                    .iter()
                    .find(|known| known.name == name)
                    .copied()
                    .ok_or_else(|| {
                        format!("could not find matching signature algorithm for flag: {name}")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            names: names.iter().map(|n| n.as_ref().to_owned()).collect(),
            permitted,
        })
    }

    /// The names the registry was built from, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether `key` signing with `hash` is permitted: some entry must match both the key (type
    /// and RSA size or curve) and the hash. The error carries Go's type and hash names.
    pub fn check(&self, key: KeyAlgorithm, hash: HashAlgorithm) -> Result<(), KeyRequestError> {
        if self.permitted.iter().any(|entry| entry.matches(key, hash)) {
            return Ok(());
        }
        Err(KeyRequestError::AlgorithmNotPermitted {
            key_type: key.go_type_name().to_owned(),
            hash: hash.go_name().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_are_known_and_default_matches_from_names() {
        let registry = AlgorithmRegistry::from_names(AlgorithmRegistry::DEFAULT_NAMES).unwrap();
        assert_eq!(registry, AlgorithmRegistry::default());
        assert_eq!(AlgorithmRegistry::known_names().count(), 13);
    }

    #[test]
    fn rsa_size_is_counted_in_whole_bytes_as_go_does() {
        let entry = KNOWN_ALGORITHMS[0];
        assert!(entry.matches(KeyAlgorithm::Rsa(2048), HashAlgorithm::Sha256));
        assert!(entry.matches(KeyAlgorithm::Rsa(2041), HashAlgorithm::Sha256));
        assert!(!entry.matches(KeyAlgorithm::Rsa(2040), HashAlgorithm::Sha256));
        assert!(!entry.matches(KeyAlgorithm::Rsa(2049), HashAlgorithm::Sha256));
    }
}
