//! What the load generator needs from an ID token: the challenge to sign and the algorithm
//! the server verifies it with. The token is not verified here; the server does that.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::LoadgenError;

/// The parts of a token the load generator uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The compact JWS.
    pub raw: String,
    /// The value the proof of possession signs: `email`, or `sub` without one (Fulcio spec §2.1).
    pub challenge: String,
    /// The JWS `alg` header.
    pub alg: String,
}

impl TokenInfo {
    /// Reads `alg` and the challenge claim from a compact JWS.
    pub fn parse(raw: &str) -> Result<Self, LoadgenError> {
        let raw = raw.trim();
        let mut parts = raw.split('.');
        let (Some(header), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LoadgenError::Token(
                "not a compact JWS (three parts)".into(),
            ));
        };
        let decode = |part: &str, what: &str| -> Result<serde_json::Value, LoadgenError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|e| LoadgenError::Token(format!("{what}: {e}")))?;
            serde_json::from_slice(&bytes).map_err(|e| LoadgenError::Token(format!("{what}: {e}")))
        };
        let header = decode(header, "header")?;
        let claims = decode(payload, "payload")?;
        let challenge = claims["email"]
            .as_str()
            .or_else(|| claims["sub"].as_str())
            .ok_or_else(|| LoadgenError::Token("no email or sub claim".into()))?
            .to_owned();
        let alg = header["alg"]
            .as_str()
            .ok_or_else(|| LoadgenError::Token("no alg header".into()))?
            .to_owned();
        Ok(Self {
            raw: raw.to_owned(),
            challenge,
            alg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn email_wins_over_sub() {
        let t = TokenInfo::parse(&jws(
            r#"{"alg":"RS256"}"#,
            r#"{"sub":"s","email":"a@example.com"}"#,
        ))
        .unwrap();
        assert_eq!(t.challenge, "a@example.com");
        assert_eq!(t.alg, "RS256");
    }

    #[test]
    fn sub_is_the_fallback() {
        let t = TokenInfo::parse(&jws(r#"{"alg":"ES256"}"#, r#"{"sub":"repo:x"}"#)).unwrap();
        assert_eq!(t.challenge, "repo:x");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        assert!(TokenInfo::parse("a.b").is_err());
        assert!(TokenInfo::parse(&jws("{}", r#"{"sub":"s"}"#)).is_err());
        assert!(TokenInfo::parse(&jws(r#"{"alg":"RS256"}"#, "{}")).is_err());
        assert!(TokenInfo::parse("!!.!!.!!").is_err());
    }
}
