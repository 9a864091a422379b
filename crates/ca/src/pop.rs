//! Proof of possession by a signed challenge (Fulcio spec §2.1, §2.2).
//!
//! The verifier is the key's default one in sigstore's `LoadDefaultVerifier`: ECDSA with the
//! curve's hash, accepting ASN.1 DER or IEEE P1363 `r‖s` signatures; RSA PKCS#1 v1.5 with
//! SHA-256; pure Ed25519.

use der::{
    Decode, Encode, Sequence,
    asn1::{IntRef, UintRef},
};

use crate::{
    ClientPublicKey, HashAlgorithm, KeyAlgorithm, KeyRequestError, key::X509SignatureAlgorithm,
};

/// The longest IEEE P1363 signature sigstore accepts: two P-521 scalars of 66 bytes.
const MAX_P1363_LEN: usize = 132;

/// Verifies that `signature` over `challenge` was made by `key`, with the key's default scheme
/// (ECDSA per-curve hash, DER or raw r‖s; RSA PKCS#1 v1.5 SHA-256; pure Ed25519). Returns the
/// hash used, for the algorithm registry.
pub fn verify(
    key: &ClientPublicKey,
    challenge: &[u8],
    signature: &[u8],
) -> Result<HashAlgorithm, KeyRequestError> {
    let hash = key.algorithm.default_hash();
    let algorithm = match (key.algorithm, hash) {
        (KeyAlgorithm::Ed25519, _) => X509SignatureAlgorithm::PureEd25519,
        (KeyAlgorithm::Rsa(_), _) => X509SignatureAlgorithm::Sha256WithRsa,
        (_, HashAlgorithm::Sha384) => X509SignatureAlgorithm::EcdsaWithSha384,
        (_, HashAlgorithm::Sha512) => X509SignatureAlgorithm::EcdsaWithSha512,
        (_, _) => X509SignatureAlgorithm::EcdsaWithSha256,
    };
    let is_ecdsa = matches!(
        key.algorithm,
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521
    );
    let der_signature;
    let signature = if is_ecdsa && !looks_like_asn1(signature) {
        der_signature = p1363_to_der(signature)?;
        der_signature.as_slice()
    } else {
        signature
    };
    algorithm
        .verify(key, challenge, signature, false)
        .map_err(|_| KeyRequestError::SignatureInvalid)?;
    Ok(hash)
}

/// `Ecdsa-Sig-Value` (RFC 3279 §2.2.3) as Go's lenient `asn1.Unmarshal` reads it in sigstore's
/// verifier to decide between the DER and P1363 paths: signed integers, trailing bytes allowed.
#[derive(Sequence)]
struct LenientEcdsaSignature<'a> {
    r: IntRef<'a>,
    s: IntRef<'a>,
}

/// Whether sigstore would take the DER path. If it does, the DER verifier decides (strictly); if
/// not, the bytes are split into r and s.
fn looks_like_asn1(signature: &[u8]) -> bool {
    let mut reader = match der::SliceReader::new(signature) {
        Ok(reader) => reader,
        Err(_) => return false,
    };
    LenientEcdsaSignature::decode(&mut reader).is_ok()
}

/// Converts IEEE P1363 `r‖s` (two equal halves of any length, as sigstore splits them) to DER.
fn p1363_to_der(signature: &[u8]) -> Result<Vec<u8>, KeyRequestError> {
    if signature.is_empty() || signature.len() > MAX_P1363_LEN || !signature.len().is_multiple_of(2)
    {
        return Err(KeyRequestError::SignatureInvalid);
    }
    let (r, s) = signature.split_at(signature.len() / 2);
    let invalid = |_| KeyRequestError::SignatureInvalid;
    DerEcdsaSignature {
        r: UintRef::new(r).map_err(invalid)?,
        s: UintRef::new(s).map_err(invalid)?,
    }
    .to_der()
    .map_err(invalid)
}

#[derive(Sequence)]
struct DerEcdsaSignature<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1363_halves_become_minimal_der_integers() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = p1363_to_der(&raw).unwrap();
        let parsed = DerEcdsaSignature::from_der(&der).unwrap();
        assert_eq!(parsed.r.as_bytes(), &[1]);
        assert_eq!(parsed.s.as_bytes().len(), 32);
        assert!(looks_like_asn1(&der));
        assert!(!looks_like_asn1(&raw));
    }

    #[test]
    fn p1363_length_rules() {
        assert_eq!(p1363_to_der(&[]), Err(KeyRequestError::SignatureInvalid));
        assert_eq!(
            p1363_to_der(&[1; 63]),
            Err(KeyRequestError::SignatureInvalid)
        );
        assert_eq!(
            p1363_to_der(&[1; 134]),
            Err(KeyRequestError::SignatureInvalid)
        );
        assert!(p1363_to_der(&[1; 132]).is_ok());
    }

    #[test]
    fn der_with_trailing_bytes_still_takes_the_der_path() {
        let mut der = DerEcdsaSignature {
            r: UintRef::new(&[1]).unwrap(),
            s: UintRef::new(&[2]).unwrap(),
        }
        .to_der()
        .unwrap();
        der.push(0);
        assert!(looks_like_asn1(&der));
    }
}
