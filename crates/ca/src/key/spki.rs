//! SubjectPublicKeyInfo parsing with the rules of Go's `crypto/x509` (`parsePublicKey`,
//! `ParsePKCS1PublicKey`), which decide what upstream calls "could not be parsed" (Fulcio spec
//! §1.4, §2.2).
//!
//! Every accepted key is re-encoded canonically from its parsed parts, as Go marshals the parsed
//! key (not the client's bytes) into the certificate.

use const_oid::ObjectIdentifier;
use der::{
    Decode, Encode, Sequence,
    asn1::{AnyRef, BitStringRef, UintRef},
};
use num_bigint::BigUint;
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::{ClientPublicKey, KeyAlgorithm};

/// rsaEncryption (RFC 3279 §2.3.1).
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480 §2.1.1).
pub(crate) const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// id-Ed25519 (RFC 8410 §3).
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// id-X25519 (RFC 8410 §3).
pub(crate) const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
/// id-dsa (RFC 3279 §2.3.2).
pub(crate) const OID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

const OID_P224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// A key Go's parser accepts.
#[derive(Debug)]
pub(crate) enum ParsedSpki {
    /// A key type Fulcio can certify (before the strength policy).
    Supported(ClientPublicKey),
    /// A key Go parses but the strength policy always rejects: ECDSA P-224, DSA, X25519.
    Unsupported,
}

/// Why Go's parser would refuse the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpkiError {
    /// Bad DER, bad parameters, an unsupported curve, a point not on its curve.
    Malformed,
    /// An algorithm OID Go does not know. Go's CSR parser keeps such a request (with a nil key,
    /// which the strength policy then calls insecure), so callers tell it apart.
    UnknownAlgorithm,
}

/// PKCS#1 `RSAPublicKey` (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// DSA `Dss-Parms` (RFC 3279 §2.3.2).
#[derive(Sequence)]
struct DssParms<'a> {
    p: UintRef<'a>,
    q: UintRef<'a>,
    g: UintRef<'a>,
}

/// Parses a DER SubjectPublicKeyInfo as Go's `x509.ParsePKIXPublicKey` would.
pub(crate) fn parse_pkix(der: &[u8]) -> Result<ParsedSpki, SpkiError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| SpkiError::Malformed)?;
    let params = spki.algorithm.parameters;
    // Go right-aligns a BIT STRING with unused bits, which never yields a valid key.
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SpkiError::Malformed)?;
    match spki.algorithm.oid {
        OID_RSA => {
            // RFC 3279 §2.3.1: the parameters MUST be NULL; Go insists.
            if !params.is_some_and(|p| p.is_null()) {
                return Err(SpkiError::Malformed);
            }
            let key = RsaPublicKey::from_der(bits).map_err(|_| SpkiError::Malformed)?;
            let exponent = exponent_value(&key)?;
            if exponent > i64::MAX as u64 {
                // Go reads the exponent into an int.
                return Err(SpkiError::Malformed);
            }
            rsa_key(&key).map(ParsedSpki::Supported)
        }
        OID_EC => {
            let curve = params
                .ok_or(SpkiError::Malformed)?
                .decode_as::<ObjectIdentifier>()
                .map_err(|_| SpkiError::Malformed)?;
            let algorithm = match curve {
                OID_P224 => {
                    check_p224_point(bits)?;
                    return Ok(ParsedSpki::Unsupported);
                }
                OID_P256 => KeyAlgorithm::EcdsaP256,
                OID_P384 => KeyAlgorithm::EcdsaP384,
                OID_P521 => KeyAlgorithm::EcdsaP521,
                _ => return Err(SpkiError::Malformed),
            };
            check_nist_point(algorithm, bits)?;
            let spki_der = encode_spki(OID_EC, Some(AnyRef::from(&curve)), bits)?;
            Ok(ParsedSpki::Supported(ClientPublicKey {
                spki_der,
                algorithm,
            }))
        }
        OID_ED25519 => {
            // RFC 8410 §3: parameters MUST be absent.
            if params.is_some() || bits.len() != 32 {
                return Err(SpkiError::Malformed);
            }
            let spki_der = encode_spki(OID_ED25519, None, bits)?;
            Ok(ParsedSpki::Supported(ClientPublicKey {
                spki_der,
                algorithm: KeyAlgorithm::Ed25519,
            }))
        }
        OID_X25519 => {
            if params.is_some() || bits.len() != 32 {
                return Err(SpkiError::Malformed);
            }
            Ok(ParsedSpki::Unsupported)
        }
        OID_DSA => {
            let y = UintRef::from_der(bits).map_err(|_| SpkiError::Malformed)?;
            let parms = params
                .ok_or(SpkiError::Malformed)?
                .decode_as::<DssParms<'_>>()
                .map_err(|_| SpkiError::Malformed)?;
            // Go refuses zero (and negative, which UintRef already refused) values.
            if [y, parms.p, parms.q, parms.g].iter().any(is_zero) {
                return Err(SpkiError::Malformed);
            }
            Ok(ParsedSpki::Unsupported)
        }
        _ => Err(SpkiError::UnknownAlgorithm),
    }
}

/// Parses a DER PKCS#1 `RSAPublicKey` as Go's `x509.ParsePKCS1PublicKey` would, and wraps it
/// in a SubjectPublicKeyInfo.
pub(crate) fn parse_pkcs1(der: &[u8]) -> Result<ClientPublicKey, SpkiError> {
    let key = RsaPublicKey::from_der(der).map_err(|_| SpkiError::Malformed)?;
    // ParsePKCS1PublicKey refuses "large public exponent"s beyond 2^31-1.
    if exponent_value(&key)? > (1 << 31) - 1 {
        return Err(SpkiError::Malformed);
    }
    rsa_key(&key)
}

/// The modulus and public exponent of an RSA SubjectPublicKeyInfo.
pub(crate) fn rsa_components(spki_der: &[u8]) -> Result<(BigUint, u64), SpkiError> {
    let key =
        RsaPublicKey::from_der(subject_public_key(spki_der)?).map_err(|_| SpkiError::Malformed)?;
    Ok((
        BigUint::from_bytes_be(key.modulus.as_bytes()),
        exponent_value(&key)?,
    ))
}

/// The contents of the subjectPublicKey BIT STRING (what RFC 5280 §4.2.1.2 hashes for a key
/// identifier; the point or key bytes a verifier takes).
pub(crate) fn subject_public_key(spki_der: &[u8]) -> Result<&[u8], SpkiError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| SpkiError::Malformed)?;
    spki.subject_public_key
        .as_bytes()
        .ok_or(SpkiError::Malformed)
}

fn rsa_key(key: &RsaPublicKey<'_>) -> Result<ClientPublicKey, SpkiError> {
    if is_zero(&key.modulus) || is_zero(&key.public_exponent) {
        return Err(SpkiError::Malformed);
    }
    let pkcs1 = key.to_der().map_err(|_| SpkiError::Malformed)?;
    let spki_der = encode_spki(OID_RSA, Some(AnyRef::NULL), &pkcs1)?;
    let bits = BigUint::from_bytes_be(key.modulus.as_bytes()).bits();
    let bits = usize::try_from(bits).map_err(|_| SpkiError::Malformed)?;
    Ok(ClientPublicKey {
        spki_der,
        algorithm: KeyAlgorithm::Rsa(bits),
    })
}

fn exponent_value(key: &RsaPublicKey<'_>) -> Result<u64, SpkiError> {
    let bytes = key.public_exponent.as_bytes();
    if bytes.len() > 8 {
        return Err(SpkiError::Malformed);
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn is_zero(value: &UintRef<'_>) -> bool {
    value.as_bytes().iter().all(|b| *b == 0)
}

fn encode_spki(
    oid: ObjectIdentifier,
    parameters: Option<AnyRef<'_>>,
    key: &[u8],
) -> Result<Vec<u8>, SpkiError> {
    SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid, parameters },
        subject_public_key: BitStringRef::from_bytes(key).map_err(|_| SpkiError::Malformed)?,
    }
    .to_der()
    .map_err(|_| SpkiError::Malformed)
}

/// Go's `elliptic.Unmarshal`: uncompressed form only, coordinates below p, on the curve.
fn check_nist_point(algorithm: KeyAlgorithm, point: &[u8]) -> Result<(), SpkiError> {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ECDSA_P521_SHA512_ASN1, ParsedPublicKey,
    };
    let (coordinate_len, verification) = match algorithm {
        KeyAlgorithm::EcdsaP256 => (32, &ECDSA_P256_SHA256_ASN1),
        KeyAlgorithm::EcdsaP384 => (48, &ECDSA_P384_SHA384_ASN1),
        KeyAlgorithm::EcdsaP521 => (66, &ECDSA_P521_SHA512_ASN1),
        KeyAlgorithm::Rsa(_) | KeyAlgorithm::Ed25519 => return Err(SpkiError::Malformed),
    };
    // aws-lc would also take a compressed point; Go would not.
    if point.len() != 1 + 2 * coordinate_len || point.first() != Some(&0x04) {
        return Err(SpkiError::Malformed);
    }
    // aws-lc checks the coordinates are field elements and the point is on the curve.
    ParsedPublicKey::new(verification, point).map_err(|_| SpkiError::Malformed)?;
    Ok(())
}

/// The same check for P-224, which aws-lc-rs does not offer: y² = x³ − 3x + b (mod p).
fn check_p224_point(point: &[u8]) -> Result<(), SpkiError> {
    const COORDINATE_LEN: usize = 28;
    const B: &str = "b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4";
    if point.len() != 1 + 2 * COORDINATE_LEN || point.first() != Some(&0x04) {
        return Err(SpkiError::Malformed);
    }
    let p = (BigUint::from(1u8) << 224) - (BigUint::from(1u8) << 96) + 1u8;
    let b = BigUint::parse_bytes(B.as_bytes(), 16).ok_or(SpkiError::Malformed)?;
    let x = BigUint::from_bytes_be(&point[1..=COORDINATE_LEN]);
    let y = BigUint::from_bytes_be(&point[1 + COORDINATE_LEN..]);
    if x >= p || y >= p {
        return Err(SpkiError::Malformed);
    }
    let rhs = (x.modpow(&BigUint::from(3u8), &p) + &p * 3u8 - &x * 3u8 + b) % &p;
    if (&y * &y) % &p == rhs {
        Ok(())
    } else {
        Err(SpkiError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The P-224 generator (SEC 2 §2.6.2), uncompressed.
    const P224_G: &str = "04b70e0cbd6bb4bf7f321390b94a03c1d356c21122343280d6115c1d21\
                          bd376388b5f723fb4c22dfe6cd4375a05a07476444d5819985007e34";

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn p224_generator_is_on_the_curve() {
        assert_eq!(check_p224_point(&hex(P224_G)), Ok(()));
    }

    #[test]
    fn p224_off_curve_point_is_malformed() {
        let mut point = hex(P224_G);
        let last = point.len() - 1;
        point[last] ^= 1;
        assert_eq!(check_p224_point(&point), Err(SpkiError::Malformed));
    }

    #[test]
    fn p224_spki_is_unsupported_not_malformed() {
        let der = encode_spki(OID_EC, Some(AnyRef::from(&OID_P224)), &hex(P224_G)).unwrap();
        assert!(matches!(parse_pkix(&der), Ok(ParsedSpki::Unsupported)));
    }

    #[test]
    fn unknown_curve_is_malformed() {
        // secp256k1: Go has no such curve and refuses to parse the key.
        let secp256k1 = ObjectIdentifier::new_unwrap("1.3.132.0.10");
        let der = encode_spki(OID_EC, Some(AnyRef::from(&secp256k1)), &[4; 65]).unwrap();
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::Malformed);
    }

    #[test]
    fn unknown_algorithm_is_reported_as_such() {
        let ed448 = ObjectIdentifier::new_unwrap("1.3.101.113");
        let der = encode_spki(ed448, None, &[1; 57]).unwrap();
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::UnknownAlgorithm);
    }

    #[test]
    fn ed25519_with_parameters_or_wrong_length_is_malformed() {
        let der = encode_spki(OID_ED25519, Some(AnyRef::NULL), &[1; 32]).unwrap();
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::Malformed);
        let der = encode_spki(OID_ED25519, None, &[1; 31]).unwrap();
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::Malformed);
    }

    #[test]
    fn rsa_without_null_parameters_is_malformed() {
        let pkcs1 = RsaPublicKey {
            modulus: UintRef::new(&[0xc5; 256]).unwrap(),
            public_exponent: UintRef::new(&[1, 0, 1]).unwrap(),
        }
        .to_der()
        .unwrap();
        let der = encode_spki(OID_RSA, None, &pkcs1).unwrap();
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::Malformed);
        let der = encode_spki(OID_RSA, Some(AnyRef::NULL), &pkcs1).unwrap();
        let Ok(ParsedSpki::Supported(key)) = parse_pkix(&der) else {
            panic!("rsa")
        };
        assert_eq!(key.algorithm, KeyAlgorithm::Rsa(2048));
        assert_eq!(key.spki_der, der);
    }

    #[test]
    fn dsa_and_x25519_are_unsupported() {
        let parms = DssParms {
            p: UintRef::new(&[7]).unwrap(),
            q: UintRef::new(&[3]).unwrap(),
            g: UintRef::new(&[2]).unwrap(),
        }
        .to_der()
        .unwrap();
        let parms = AnyRef::from_der(&parms).unwrap();
        let y = UintRef::new(&[5]).unwrap().to_der().unwrap();
        let der = encode_spki(OID_DSA, Some(parms), &y).unwrap();
        assert!(matches!(parse_pkix(&der), Ok(ParsedSpki::Unsupported)));
        let der = encode_spki(OID_X25519, None, &[9; 32]).unwrap();
        assert!(matches!(parse_pkix(&der), Ok(ParsedSpki::Unsupported)));
    }

    #[test]
    fn trailing_data_is_malformed() {
        let mut der = encode_spki(OID_ED25519, None, &[1; 32]).unwrap();
        der.push(0);
        assert_eq!(parse_pkix(&der).unwrap_err(), SpkiError::Malformed);
    }
}
