//! ID tokens for the suite: good ones from the fake issuer with a known `sub`, and the forged
//! or broken ones a hostile client would send.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use test_support::fake_issuer::{FakeIssuer, SigningAlg};

/// A verified-email identity.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `email` (also the PoP challenge).
    pub email: String,
    /// `sub`.
    pub subject: String,
}

impl Identity {
    /// An identity whose subject differs from its email, so 1.24 checks tell them apart.
    pub fn new(email: &str) -> Identity {
        Identity {
            email: email.to_owned(),
            subject: format!("subject-of-{email}"),
        }
    }

    /// The claims of a good token for this identity.
    pub fn claims(&self) -> Value {
        json!({"sub": self.subject, "email": self.email, "email_verified": true})
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// `base` with the members of `extra` set over it (a `null` member makes the fake issuer
/// drop that claim).
pub fn with(base: Value, extra: Value) -> Value {
    let mut out = base;
    for (k, v) in extra.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}

/// An unsigned token (`alg: none`, empty signature) carrying the issuer's usual claims.
pub fn alg_none(issuer: &FakeIssuer, claims: Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    let payload = issuer.complete_claims(claims);
    format!(
        "{}.{}.",
        b64(&serde_json::to_vec(&header).unwrap()),
        b64(&serde_json::to_vec(&payload).unwrap())
    )
}

/// The key-confusion attack: HS256 with the issuer's public key PEM as the HMAC secret, under
/// the real key's `kid`.
pub fn hs256_with_public_key(issuer: &FakeIssuer, alg: SigningAlg, claims: Value) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": issuer.kid(alg)});
    let payload = issuer.complete_claims(claims);
    let input = format!(
        "{}.{}",
        b64(&serde_json::to_vec(&header).unwrap()),
        b64(&serde_json::to_vec(&payload).unwrap())
    );
    let secret = issuer.public_key_pem(alg);
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// `token` with its payload edited by `edit` and the original signature kept.
pub fn tamper(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS compact token");
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
        .expect("payload is JSON");
    edit(&mut payload);
    format!(
        "{}.{}.{}",
        parts[0],
        b64(&serde_json::to_vec(&payload).unwrap()),
        parts[2]
    )
}
