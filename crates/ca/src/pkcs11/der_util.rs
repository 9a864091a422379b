//! The few DER structures the PKCS#11 backend builds by hand: SubjectPublicKeyInfo from key
//! attributes, RSAPublicKey, and the ECDSA-Sig-Value X.509 wants from PKCS#11's raw `r || s`.

use const_oid::ObjectIdentifier;
use der::{Any, Decode, Encode, asn1::BitString};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// A DER length.
fn length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        // Short form: fits in one byte.
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(length(contents.len()));
    out.extend_from_slice(contents);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes (leading zeros dropped, a zero byte
/// added when the high bit is set).
pub(super) fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match magnitude.iter().position(|b| *b != 0) {
        Some(start) => &magnitude[start..],
        None => &[],
    };
    let mut contents = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(trimmed);
    tlv(0x02, &contents)
}

/// A SEQUENCE around already-encoded `contents`.
pub(super) fn sequence(contents: &[u8]) -> Vec<u8> {
    tlv(0x30, contents)
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
    let mut body = unsigned_integer(r);
    body.extend(unsigned_integer(s));
    Ok(sequence(&body))
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
        assert_eq!(unsigned_integer(&[0, 0, 1]), [2, 1, 1]);
        assert_eq!(unsigned_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0]), [2, 1, 0]);
        assert_eq!(length(200), [0x81, 200]);
        assert_eq!(length(0x1234), [0x82, 0x12, 0x34]);
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
