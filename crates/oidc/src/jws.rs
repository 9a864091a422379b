//! JWS compact serialization (RFC 7515 §7.1) as ID tokens use it: splitting, decoding the
//! header and payload, and the signature algorithms Fulcio accepts (Fulcio spec §3.2:
//! go-oidc's list, RFC 7518 §3.1 and RFC 8037 §3.1).

use base64::Engine;
use base64::engine::general_purpose::GeneralPurpose;
use base64::engine::{DecodePaddingMode, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::error::OidcError;

/// Go's `base64.RawURLEncoding` as go-oidc and go-jose use it: no padding, and (Go's decoder
/// not being strict) non-zero trailing bits accepted.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes unpadded base64url the way Go's `RawURLEncoding` does.
pub(crate) fn decode_base64url(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    BASE64URL.decode(text)
}

/// A JWS signature algorithm an ID token may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 using SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 using SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 using SHA-512.
    RS512,
    /// RSASSA-PSS using SHA-256 and MGF1 with SHA-256.
    PS256,
    /// RSASSA-PSS using SHA-384 and MGF1 with SHA-384.
    PS384,
    /// RSASSA-PSS using SHA-512 and MGF1 with SHA-512.
    PS512,
    /// ECDSA using P-256 and SHA-256.
    ES256,
    /// ECDSA using P-384 and SHA-384.
    ES384,
    /// ECDSA using P-521 and SHA-512.
    ES512,
    /// EdDSA with Ed25519.
    EdDSA,
}

impl JwsAlgorithm {
    /// Parses a JOSE `alg` name. `none`, the HMAC algorithms and anything else unknown are
    /// `None`: an ID token signed with them is never accepted.
    pub fn from_name(name: &str) -> Option<JwsAlgorithm> {
        Some(match name {
            "RS256" => JwsAlgorithm::RS256,
            "RS384" => JwsAlgorithm::RS384,
            "RS512" => JwsAlgorithm::RS512,
            "PS256" => JwsAlgorithm::PS256,
            "PS384" => JwsAlgorithm::PS384,
            "PS512" => JwsAlgorithm::PS512,
            "ES256" => JwsAlgorithm::ES256,
            "ES384" => JwsAlgorithm::ES384,
            "ES512" => JwsAlgorithm::ES512,
            "EdDSA" => JwsAlgorithm::EdDSA,
            _ => return None,
        })
    }

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlgorithm::RS256 => "RS256",
            JwsAlgorithm::RS384 => "RS384",
            JwsAlgorithm::RS512 => "RS512",
            JwsAlgorithm::PS256 => "PS256",
            JwsAlgorithm::PS384 => "PS384",
            JwsAlgorithm::PS512 => "PS512",
            JwsAlgorithm::ES256 => "ES256",
            JwsAlgorithm::ES384 => "ES384",
            JwsAlgorithm::ES512 => "ES512",
            JwsAlgorithm::EdDSA => "EdDSA",
        }
    }
}

impl std::fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A token split into its parts, header and payload decoded but nothing verified.
#[derive(Debug)]
pub(crate) struct CompactJws<'t> {
    /// The `alg` header as written (it may name an algorithm we refuse).
    pub alg: String,
    /// The `kid` header, if any.
    pub kid: Option<String>,
    /// The decoded payload object.
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, the bytes that were signed.
    pub signing_input: &'t str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl<'t> CompactJws<'t> {
    /// Splits and decodes `token`. It must have exactly three parts (Fulcio spec §3.2.1), a
    /// JSON object header with a string `alg`, and a JSON object payload.
    pub fn parse(token: &'t str) -> Result<CompactJws<'t>, OidcError> {
        let malformed = |what: &str| OidcError::Malformed(what.to_owned());
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed(
                "a compact JWS has exactly three dot-separated parts",
            ));
        };
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];

        let header = decode_json_object(header_b64)
            .map_err(|e| OidcError::Malformed(format!("header: {e}")))?;
        let claims = decode_json_object(payload_b64)
            .map_err(|e| OidcError::Malformed(format!("payload: {e}")))?;
        let signature = decode_base64url(signature_b64)
            .map_err(|e| OidcError::Malformed(format!("signature: {e}")))?;

        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(malformed("header: `alg` must be a string")),
        };
        let kid = match header.get("kid") {
            None | Some(Value::Null) => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(malformed("header: `kid` must be a string")),
        };
        // RFC 7515 §4.1.11: a critical extension we do not implement must be refused, and
        // we implement none (in particular not RFC 7797's unencoded payloads).
        match header.get("crit") {
            None | Some(Value::Null) => {}
            Some(_) => return Err(malformed("header: unsupported `crit` extensions")),
        }
        Ok(CompactJws {
            alg,
            kid,
            claims,
            signing_input,
            signature,
        })
    }
}

fn decode_json_object(part: &str) -> Result<Map<String, Value>, String> {
    let bytes = decode_base64url(part).map_err(|e| format!("base64url: {e}"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("not a JSON object".to_owned()),
        Err(e) => Err(format!("JSON: {e}")),
    }
}

/// Reads the `iss` claim of a token without verifying anything, to pick the issuer whose
/// keys will verify it (Fulcio spec §3.2.1).
pub fn unverified_issuer(token: &str) -> Result<String, OidcError> {
    let jws = CompactJws::parse(token)?;
    issuer_claim(&jws.claims)
}

pub(crate) fn issuer_claim(claims: &Map<String, Value>) -> Result<String, OidcError> {
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        _ => Err(OidcError::Malformed(
            "payload: `iss` must be a string".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn part(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn parses_three_parts() {
        let header = part(&serde_json::json!({"alg": "ES256", "kid": "k1"}));
        let payload = part(&serde_json::json!({"iss": "https://i", "sub": "s"}));
        let token = format!("{header}.{payload}.AQID");
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.alg, "ES256");
        assert_eq!(jws.kid.as_deref(), Some("k1"));
        assert_eq!(jws.claims["sub"], "s");
        assert_eq!(jws.signing_input, format!("{header}.{payload}"));
        assert_eq!(jws.signature, vec![1, 2, 3]);
        assert_eq!(unverified_issuer(&token).unwrap(), "https://i");
    }

    #[test]
    fn refuses_malformed_tokens() {
        let header = part(&serde_json::json!({"alg": "RS256"}));
        let payload = part(&serde_json::json!({"iss": "https://i"}));
        let cases = [
            String::new(),
            "garbage".to_owned(),
            format!("{header}.{payload}"),
            format!("{header}.{payload}.sig.extra"),
            format!("{header}.{payload}.a=="),
            format!("{header}.%%%.sig"),
            format!("{}.{payload}.sig", part(&serde_json::json!(["alg"]))),
            format!("{}.{payload}.sig", part(&serde_json::json!({"alg": 1}))),
            format!(
                "{}.{payload}.sig",
                part(&serde_json::json!({"alg": "RS256", "kid": 7}))
            ),
            format!(
                "{}.{payload}.sig",
                part(&serde_json::json!({"alg": "RS256", "crit": ["b64"], "b64": false}))
            ),
            format!("{header}.{}.sig", part(&serde_json::json!("a string"))),
            format!("{header}.{}.sig", URL_SAFE_NO_PAD.encode(b"{not json")),
        ];
        for token in cases {
            assert!(
                matches!(CompactJws::parse(&token), Err(OidcError::Malformed(_))),
                "{token:?}"
            );
        }
        let no_iss = format!("{header}.{}.sig", part(&serde_json::json!({"iss": 5})));
        assert!(matches!(
            unverified_issuer(&no_iss),
            Err(OidcError::Malformed(_))
        ));
    }

    #[test]
    fn base64url_is_as_lenient_as_go_raw_url_encoding() {
        // "AR" has non-zero trailing bits; Go's non-strict decoder takes it as [0x01].
        assert_eq!(decode_base64url("AR").unwrap(), vec![0x01]);
        assert!(decode_base64url("AQ==").is_err());
        assert!(decode_base64url("A+/B").is_err());
    }

    #[test]
    fn algorithm_names() {
        for name in [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
            "EdDSA",
        ] {
            assert_eq!(JwsAlgorithm::from_name(name).map(|a| a.name()), Some(name));
        }
        for refused in [
            "none", "HS256", "HS384", "HS512", "rs256", "ES256K", "Ed25519", "",
        ] {
            assert_eq!(JwsAlgorithm::from_name(refused), None, "{refused}");
        }
    }
}
