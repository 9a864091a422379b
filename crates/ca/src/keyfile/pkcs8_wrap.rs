//! SEC1 and PKCS#1 private keys wrapped as PKCS#8 `PrivateKeyInfo` (RFC 5958 §2), the one
//! encoding the signer loads.

use const_oid::ObjectIdentifier;
use der::{
    Decode, Encode, Sequence,
    asn1::{AnyRef, BitStringRef, OctetStringRef, UintRef},
};
use pkcs8::PrivateKeyInfoRef;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::{KeyFileError, Pkcs8Der};

/// id-ecPublicKey (RFC 5480 §2.1.1).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption (RFC 8017 §A.1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// `ECPrivateKey` (RFC 5915 §3).
#[derive(Sequence)]
struct EcPrivateKey<'a> {
    version: u8,
    private_key: &'a OctetStringRef,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    parameters: Option<ObjectIdentifier>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    public_key: Option<BitStringRef<'a>>,
}

/// `RSAPrivateKey` (RFC 8017 §A.1.2); parsed only to recognise one, the signer reads it.
#[derive(Sequence)]
struct RsaPrivateKey<'a> {
    version: u8,
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
    private_exponent: UintRef<'a>,
    prime1: UintRef<'a>,
    prime2: UintRef<'a>,
    exponent1: UintRef<'a>,
    exponent2: UintRef<'a>,
    coefficient: UintRef<'a>,
    #[asn1(optional = "true")]
    other_prime_infos: Option<AnyRef<'a>>,
}

/// Checks that `der` is a PKCS#8 `PrivateKeyInfo` (v1 or v2) and passes it through.
pub(super) fn check_pkcs8(der: Zeroizing<Vec<u8>>) -> Result<Pkcs8Der, KeyFileError> {
    PrivateKeyInfoRef::from_der(&der).map_err(|e| KeyFileError::malformed("PKCS#8 key", e))?;
    Ok(der)
}

/// Wraps an RFC 5915 `ECPrivateKey`, which must name its curve (as Go's
/// `x509.ParseECPrivateKey` requires), in a PKCS#8 `PrivateKeyInfo` for that curve.
pub(super) fn from_sec1(der: &[u8]) -> Result<Pkcs8Der, KeyFileError> {
    let key = EcPrivateKey::from_der(der).map_err(|e| KeyFileError::malformed("EC key", e))?;
    if key.version != 1 {
        return Err(KeyFileError::malformed(
            "EC key",
            format!("version {}", key.version),
        ));
    }
    let curve = key
        .parameters
        .ok_or_else(|| KeyFileError::malformed("EC key", "no named curve"))?;
    wrap(EC_PUBLIC_KEY, Some(AnyRef::from(&curve)), der)
}

/// Wraps an RFC 8017 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo` (rsaEncryption, NULL).
pub(super) fn from_pkcs1(der: &[u8]) -> Result<Pkcs8Der, KeyFileError> {
    let key = RsaPrivateKey::from_der(der).map_err(|e| KeyFileError::malformed("RSA key", e))?;
    // Version 1 is multi-prime RSA, which carries otherPrimeInfos.
    if key.version > 1 {
        return Err(KeyFileError::malformed(
            "RSA key",
            format!("version {}", key.version),
        ));
    }
    wrap(RSA_ENCRYPTION, Some(AnyRef::NULL), der)
}

fn wrap(
    oid: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    private_key: &[u8],
) -> Result<Pkcs8Der, KeyFileError> {
    let encoding = |e: der::Error| KeyFileError::malformed("PKCS#8 encoding", e);
    let private_key = OctetStringRef::new(private_key).map_err(encoding)?;
    let info = PrivateKeyInfoRef::new(AlgorithmIdentifierRef { oid, parameters }, private_key);
    // Encode straight into a zeroizing buffer so no copy of the key is left behind.
    let len = usize::try_from(info.encoded_len().map_err(encoding)?).map_err(encoding)?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    info.encode_to_slice(&mut out).map_err(encoding)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec1_without_a_curve_is_refused() {
        // ECPrivateKey { version 1, privateKey 32 × 0x01 } with no parameters.
        let mut der = hex::decode("3025020101 0420".replace(' ', "")).unwrap();
        der.extend([1u8; 32]);
        assert_eq!(
            from_sec1(&der),
            Err(KeyFileError::malformed("EC key", "no named curve"))
        );
    }

    #[test]
    fn pkcs8_labelled_as_sec1_is_refused() {
        // A PrivateKeyInfo (version 0, an AlgorithmIdentifier) does not parse as ECPrivateKey.
        let mut der = hex::decode("302e020100300506032b657004220420").unwrap();
        der.extend([1u8; 32]);
        assert!(matches!(
            from_sec1(&der),
            Err(KeyFileError::Malformed { .. })
        ));
    }
}
