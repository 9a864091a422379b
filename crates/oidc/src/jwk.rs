//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) turned into signature verifiers.
//!
//! Only keys usable for the algorithms of [`JwsAlgorithm`] are kept: RSA, EC on P-256, P-384
//! and P-521, and OKP Ed25519. Anything else in a key set (symmetric keys, other curves,
//! malformed entries) is skipped rather than failing the whole set.

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use serde_json::Value;

use crate::jws::{JwsAlgorithm, decode_base64url};

/// An elliptic curve of an `EC` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyMaterial {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed SEC1 point `04 ‖ x ‖ y`.
    Ec { curve: Curve, point: Vec<u8> },
    /// The 32-byte public key.
    Ed25519(Vec<u8>),
}

/// A public key from an issuer's JWKS.
#[derive(Debug, Clone)]
pub(crate) struct VerificationKey {
    /// The JWK's `kid`.
    pub kid: Option<String>,
    material: KeyMaterial,
    /// EC and Ed25519 keys parsed once when the key set is fetched, not per token (their
    /// algorithm is fixed by the curve). `None` for RSA keys, and for points the library
    /// rejects: those fail every signature, as they did when parsed per verification.
    parsed: Option<ParsedPublicKey>,
}

impl PartialEq for VerificationKey {
    fn eq(&self, other: &Self) -> bool {
        // `parsed` is derived from `material`.
        self.kid == other.kid && self.material == other.material
    }
}

impl Eq for VerificationKey {}

/// Why a signature was not accepted by one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyVerifyError {
    /// The algorithm needs another kind of key (e.g. `ES256` with an RSA key).
    WrongKeyType,
    /// The signature does not verify (this includes RSA keys shorter than 2048 bits).
    BadSignature,
}

impl VerificationKey {
    /// Parses one JWK; `None` for keys we cannot use.
    pub fn from_jwk(jwk: &Value) -> Option<VerificationKey> {
        let field = |name: &str| -> Option<Vec<u8>> {
            // go-jose tolerates padding on key fields, so strip it before decoding.
            decode_base64url(jwk.get(name)?.as_str()?.trim_end_matches('=')).ok()
        };
        let kid = match jwk.get("kid") {
            Some(Value::String(kid)) => Some(kid.clone()),
            _ => None,
        };
        let material = match jwk.get("kty")?.as_str()? {
            "RSA" => {
                let n = strip_leading_zeros(field("n")?);
                let e = strip_leading_zeros(field("e")?);
                if n.is_empty() || e.is_empty() {
                    return None;
                }
                KeyMaterial::Rsa { n, e }
            }
            "EC" => {
                let curve = match jwk.get("crv")?.as_str()? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    "P-521" => Curve::P521,
                    _ => return None,
                };
                let x = left_pad(field("x")?, curve.coordinate_len())?;
                let y = left_pad(field("y")?, curve.coordinate_len())?;
                let mut point = Vec::with_capacity(1 + 2 * curve.coordinate_len());
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                KeyMaterial::Ec { curve, point }
            }
            "OKP" => {
                if jwk.get("crv")?.as_str()? != "Ed25519" {
                    return None;
                }
                let x = field("x")?;
                if x.len() != 32 {
                    return None;
                }
                KeyMaterial::Ed25519(x)
            }
            _ => return None,
        };
        let parsed = match &material {
            KeyMaterial::Rsa { .. } => None,
            KeyMaterial::Ec { curve, point } => {
                let algorithm = match curve {
                    Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
                    Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
                };
                ParsedPublicKey::new(algorithm, point).ok()
            }
            KeyMaterial::Ed25519(x) => ParsedPublicKey::new(&signature::ED25519, x).ok(),
        };
        Some(VerificationKey {
            kid,
            material,
            parsed,
        })
    }

    /// Verifies `signature` over `message` with this key under `alg`.
    pub fn verify(
        &self,
        alg: JwsAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), KeyVerifyError> {
        use JwsAlgorithm::*;
        let result = match (&self.material, alg) {
            (KeyMaterial::Rsa { n, e }, _) => {
                let params: &'static signature::RsaParameters = match alg {
                    RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    ES256 | ES384 | ES512 | EdDSA => return Err(KeyVerifyError::WrongKeyType),
                };
                RsaPublicKeyComponents { n, e }.verify(params, message, signature)
            }
            // JWS ECDSA signatures are the fixed-size `r ‖ s` (RFC 7518 §3.4): the key was
            // parsed for `ECDSA_*_FIXED` with its curve's hash.
            (KeyMaterial::Ec { curve, .. }, _) => match (curve, alg) {
                (Curve::P256, ES256) | (Curve::P384, ES384) | (Curve::P521, ES512) => {
                    self.verify_parsed(message, signature)
                }
                _ => return Err(KeyVerifyError::WrongKeyType),
            },
            (KeyMaterial::Ed25519(_), EdDSA) => self.verify_parsed(message, signature),
            (KeyMaterial::Ed25519(_), _) => return Err(KeyVerifyError::WrongKeyType),
        };
        result.map_err(|_| KeyVerifyError::BadSignature)
    }

    /// Verifies with the key parsed at load time; a key that did not parse verifies nothing.
    fn verify_parsed(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), aws_lc_rs::error::Unspecified> {
        self.parsed
            .as_ref()
            .ok_or(aws_lc_rs::error::Unspecified)?
            .verify_sig(message, signature)
    }
}

/// Parses a JWKS document's `keys`, skipping keys we cannot use.
pub(crate) fn parse_key_set(document: &Value) -> Result<Vec<VerificationKey>, String> {
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no `keys` array")?;
    Ok(keys.iter().filter_map(VerificationKey::from_jwk).collect())
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// Some encoders drop leading zero bytes of EC coordinates; restore the fixed width.
fn left_pad(bytes: Vec<u8>, len: usize) -> Option<Vec<u8>> {
    if bytes.len() > len {
        return None;
    }
    let mut padded = vec![0; len - bytes.len()];
    padded.extend_from_slice(&bytes);
    Some(padded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unusable_keys_are_skipped() {
        let set = json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
            {"kty": "OKP", "crv": "X25519", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
            {"kty": "RSA", "n": "", "e": "AQAB"},
            {"kty": "RSA", "n": "not base64!", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
            "not an object",
        ]});
        let keys = parse_key_set(&set).unwrap();
        // Only the last EC key (short coordinates, padded) is usable.
        assert_eq!(keys.len(), 1);
        let try_alg = |alg| keys[0].verify(alg, b"m", &[0; 64]);
        assert_eq!(
            try_alg(JwsAlgorithm::ES256),
            Err(KeyVerifyError::BadSignature)
        );
        assert_eq!(
            try_alg(JwsAlgorithm::ES384),
            Err(KeyVerifyError::WrongKeyType)
        );
        assert_eq!(
            try_alg(JwsAlgorithm::RS256),
            Err(KeyVerifyError::WrongKeyType)
        );
        assert!(parse_key_set(&json!({"nokeys": []})).is_err());
    }

    #[test]
    fn wrong_key_type_is_not_a_bad_signature() {
        let rsa =
            VerificationKey::from_jwk(&json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"})).unwrap();
        assert_eq!(
            rsa.verify(JwsAlgorithm::ES256, b"m", b"s"),
            Err(KeyVerifyError::WrongKeyType)
        );
        assert_eq!(
            rsa.verify(JwsAlgorithm::RS256, b"m", b"s"),
            Err(KeyVerifyError::BadSignature)
        );
        let ed = VerificationKey::from_jwk(&json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }))
        .unwrap();
        assert_eq!(
            ed.verify(JwsAlgorithm::RS256, b"m", b"s"),
            Err(KeyVerifyError::WrongKeyType)
        );
    }

    #[test]
    fn rsa_components_lose_leading_zeros() {
        let key =
            VerificationKey::from_jwk(&json!({"kty": "RSA", "n": "AAEC", "e": "AAEAAQ"})).unwrap();
        assert_eq!(
            key.material,
            KeyMaterial::Rsa {
                n: vec![1, 2],
                e: vec![1, 0, 1]
            }
        );
    }
}
