//! Proof of possession by a PEM certificate signing request (Fulcio spec §2.3).

use crate::{ClientPublicKey, HashAlgorithm, KeyRequestError};

/// Parses a PEM CSR, checks its key's strength and its self-signature (in upstream's order) and
/// returns the key and the hash of the CSR's signature algorithm. Subject, SANs, extensions and
/// attributes are ignored.
pub fn verify(pem: &[u8]) -> Result<(ClientPublicKey, HashAlgorithm), KeyRequestError> {
    let _ = pem;
    unimplemented!("ca helper")
}
