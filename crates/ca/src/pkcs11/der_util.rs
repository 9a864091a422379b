//! The few DER structures the PKCS#11 backend builds (with the `der` crate): SubjectPublicKeyInfo
//! from key attributes, RSAPublicKey, and the ECDSA-Sig-Value X.509 wants from PKCS#11's raw
//! `r || s`.

use const_oid::ObjectIdentifier;
use der::{
    Any, Decode, Encode, Sequence,
    asn1::{BitString, UintRef},
};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// `SEQUENCE { INTEGER, INTEGER }` of two non-negative integers: the shape of both
/// ECDSA-Sig-Value (r, s) and RSAPublicKey (modulus, publicExponent).
#[derive(Sequence)]
struct IntegerPair<'a> {
    first: UintRef<'a>,
    second: UintRef<'a>,
}

/// DER `SEQUENCE { INTEGER first, INTEGER second }` from big-endian magnitudes (leading zeros
/// dropped, a zero byte added when the high bit is set: `UintRef` does both).
pub(super) fn integer_pair(first: &[u8], second: &[u8]) -> Result<Vec<u8>, String> {
    let pair = IntegerPair {
        first: UintRef::new(first).map_err(|e| format!("integer: {e}"))?,
        second: UintRef::new(second).map_err(|e| format!("integer: {e}"))?,
    };
    pair.to_der()
        .map_err(|e| format!("encoding two integers: {e}"))
}

/// PKCS#11's ECDSA signature (`r || s`, each the field size) as DER ECDSA-Sig-Value
/// (RFC 5480 §2.2 / RFC 3279 §2.2.3).
pub(super) fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(format!(
            "the token returned a {}-byte ECDSA signature (expected r || s)",
            raw.len()
        ));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    integer_pair(r, s)
}

/// A DER SubjectPublicKeyInfo for `algorithm` with DER `parameters` and the key bits.
pub(super) fn spki(
    algorithm: ObjectIdentifier,
    parameters: Option<&[u8]>,
    key: &[u8],
) -> Result<Vec<u8>, String> {
    let parameters = parameters
        .map(Any::from_der)
        .transpose()
        .map_err(|e| format!("key parameters are not DER: {e}"))?;
    let info = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: algorithm,
            parameters,
        },
        subject_public_key: BitString::from_bytes(key)
            .map_err(|e| format!("public key bits: {e}"))?,
    };
    info.to_der()
        .map_err(|e| format!("encoding the public key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(
            integer_pair(&[0, 0, 1], &[0x80]).unwrap(),
            [0x30, 7, 2, 1, 1, 2, 2, 0, 0x80]
        );
        assert_eq!(
            integer_pair(&[0, 0], &[1]).unwrap(),
            [0x30, 6, 2, 1, 0, 2, 1, 1]
        );
        let long = vec![0x7f_u8; 200];
        let der = integer_pair(&long, &[1]).unwrap();
        assert_eq!(&der[..6], [0x30, 0x81, 3 + 200 + 3, 0x02, 0x81, 200]);
    }

    #[test]
    fn raw_ecdsa_signatures_become_sig_values() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero
        raw[63] = 5; // s is 5
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(&der[..5], [0x30, 2 + 33 + 3, 0x02, 33, 0x00]);
        assert_eq!(&der[der.len() - 3..], [0x02, 1, 5]);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_err());
    }
}
