//! Proof of possession by a signed challenge (Fulcio spec §2.1, §2.2).

use crate::{ClientPublicKey, HashAlgorithm, KeyRequestError};

/// Verifies that `signature` over `challenge` was made by `key`, with the key's default scheme
/// (ECDSA per-curve hash, DER or raw r‖s; RSA PKCS#1 v1.5 SHA-256; pure Ed25519). Returns the
/// hash used, for the algorithm registry.
pub fn verify(
    key: &ClientPublicKey,
    challenge: &[u8],
    signature: &[u8],
) -> Result<HashAlgorithm, KeyRequestError> {
    let _ = (key, challenge, signature);
    unimplemented!("ca helper")
}
