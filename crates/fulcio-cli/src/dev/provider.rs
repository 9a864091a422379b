//! The local OpenID provider of `fulcio dev`: it mints ID tokens for whatever identity it is
//! asked for, so that the CA next to it has someone to trust. Never part of `fulcio serve`.
//!
//! One listener, one ES256 (P-256) key kept in the directory (mode 0600), two issuers:
//!
//! - `{base}` — email tokens (`sub` and `email` both the address, `email_verified` true). The
//!   CA trusts it as an `email` issuer: the certificate's SAN is the address.
//! - `{base}/workload` — subject-only tokens (`sub` only). Fulcio's `email` type needs an
//!   email, so the CA trusts this second issuer URL as a `username` issuer whose
//!   `SubjectDomain` is the listener's host (`127.0.0.1`): the identity crate's rule wants the
//!   domain to equal the issuer's host (or share its last two DNS labels), and the
//!   certificate's SAN becomes the otherName `SUBJECT!127.0.0.1`. A subject must not contain
//!   `!` nor be an email address (the `username` type's rules). On an IPv6 host this issuer
//!   is left out: Go's URL rules (which the configuration check follows) cannot read a bare
//!   IPv6 address as a `SubjectDomain`.
//!
//! Endpoints: `GET /.well-known/openid-configuration` and
//! `GET /workload/.well-known/openid-configuration` (discovery), `GET /jwks` (the key, with
//! its RFC 7638 thumbprint as `kid`), and `POST /token` with a form `email=…` or `subject=…`,
//! answering `{"id_token": …, "token_type": "Bearer", "expires_in": 600}`. Tokens carry
//! `iss`, `aud` (`sigstore`), `sub`, `iat`, `exp` (10 minutes later) and a `kid` header.

use std::{
    net::SocketAddr,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _},
};
use axum::{
    Form, Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DevError, state};

/// The audience of every token (Sigstore's client ID).
pub const AUDIENCE: &str = "sigstore";
/// How long a token is good for.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// The path of the subject-only issuer under the provider's base URL.
pub const SUBJECT_ISSUER_PATH: &str = "/workload";
/// The provider's key file in the directory.
pub const KEY_FILE: &str = "oidc-provider-key.pem";

/// The provider's signing key and its public JWK.
pub struct ProviderKey {
    pair: EcdsaKeyPair,
    kid: String,
    jwk: Value,
}

impl std::fmt::Debug for ProviderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ProviderKey {
    /// Loads the key from `path`, or generates one and writes it there (PKCS#8 PEM, 0600).
    pub fn load_or_generate(path: &Path) -> Result<Self, DevError> {
        let bad = |what: String| DevError::Provider(format!("{}: {what}", path.display()));
        let der = if path.exists() {
            let text = state::read_file(path)?;
            let block = pem::parse(&text).map_err(|e| bad(format!("not PEM: {e}")))?;
            if block.tag() != "PRIVATE KEY" {
                return Err(bad(format!(
                    "expected \"PRIVATE KEY\", found \"{}\"",
                    block.tag()
                )));
            }
            zeroize::Zeroizing::new(block.into_contents())
        } else {
            let document = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|_| bad("generating a P-256 key failed".to_owned()))?;
            let der = zeroize::Zeroizing::new(document.as_ref().to_vec());
            let text =
                zeroize::Zeroizing::new(pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec())));
            state::write_file(path, text.as_bytes(), 0o600)?;
            der
        };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| bad(format!("not a P-256 PKCS#8 key: {e}")))?;
        Self::from_pair(pair).map_err(bad)
    }

    fn from_pair(pair: EcdsaKeyPair) -> Result<Self, String> {
        // The uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each on P-256.
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point.first() != Some(&4) {
            return Err("unexpected public key encoding".to_owned());
        }
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref(),
        );
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "use": "sig", "alg": "ES256", "kid": kid,
        });
        Ok(Self { pair, kid, jwk })
    }

    /// A compact JWS (ES256) over `claims`, with this key's `kid`.
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| "signing the token failed".to_owned())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

/// The provider's URLs, fixed once its listener is bound.
#[derive(Debug, Clone)]
pub struct ProviderUrls {
    /// `http://HOST:PORT`: the email issuer.
    pub base: String,
    /// `{base}/workload`: the subject issuer, if the host allows one.
    pub subject_issuer: Option<String>,
    /// The `username` issuer's `SubjectDomain`: the listener's host.
    pub subject_domain: String,
}

impl ProviderUrls {
    /// The URLs of a provider listening on `addr`.
    pub fn for_address(addr: SocketAddr) -> Self {
        let base = format!("http://{addr}");
        let ipv6 = addr.is_ipv6();
        Self {
            subject_issuer: (!ipv6).then(|| format!("{base}{SUBJECT_ISSUER_PATH}")),
            subject_domain: addr.ip().to_string(),
            base,
        }
    }

    /// Where tokens are minted.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.base)
    }

    /// The identity configuration (Fulcio's JSON config format) that trusts this provider.
    pub fn fulcio_config_json(&self) -> Value {
        let mut issuers = serde_json::Map::new();
        issuers.insert(
            self.base.clone(),
            json!({
                "IssuerURL": self.base,
                "ClientID": AUDIENCE,
                "Type": "email",
                "Description": "fulcio dev: local provider, email tokens",
            }),
        );
        if let Some(subject_issuer) = &self.subject_issuer {
            issuers.insert(
                subject_issuer.clone(),
                json!({
                    "IssuerURL": subject_issuer,
                    "ClientID": AUDIENCE,
                    "Type": "username",
                    "SubjectDomain": self.subject_domain,
                    "Description": "fulcio dev: local provider, subject-only tokens",
                }),
            );
        }
        json!({ "OIDCIssuers": issuers })
    }
}

struct Provider {
    key: ProviderKey,
    urls: ProviderUrls,
}

/// The provider's router.
pub fn router(key: ProviderKey, urls: ProviderUrls) -> Router {
    let provider = Arc::new(Provider { key, urls });
    Router::new()
        .route("/.well-known/openid-configuration", get(email_discovery))
        .route(
            &format!("{SUBJECT_ISSUER_PATH}/.well-known/openid-configuration"),
            get(subject_discovery),
        )
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(provider)
}

fn discovery(provider: &Provider, issuer: &str) -> Json<Value> {
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/jwks", provider.urls.base),
        "token_endpoint": provider.urls.token_endpoint(),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["iss", "aud", "sub", "iat", "exp", "email", "email_verified"],
    }))
}

async fn email_discovery(State(provider): State<Arc<Provider>>) -> Json<Value> {
    discovery(&provider, &provider.urls.base)
}

async fn subject_discovery(State(provider): State<Arc<Provider>>) -> Response {
    match &provider.urls.subject_issuer {
        Some(issuer) => discovery(&provider, issuer).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn jwks(State(provider): State<Arc<Provider>>) -> Json<Value> {
    Json(json!({ "keys": [provider.key.jwk] }))
}

/// The token request form.
#[derive(Debug, Deserialize)]
struct TokenForm {
    email: Option<String>,
    subject: Option<String>,
}

fn token_error(status: StatusCode, error: &str, description: String) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn token(State(provider): State<Arc<Provider>>, Form(form): Form<TokenForm>) -> Response {
    let invalid =
        |description: String| token_error(StatusCode::BAD_REQUEST, "invalid_request", description);
    let now = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(elapsed) => elapsed.as_secs(),
        Err(_) => {
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the clock is before 1970".to_owned(),
            );
        }
    };
    let mut claims = json!({
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + TOKEN_LIFETIME.as_secs(),
    });
    let email = form.email.filter(|e| !e.is_empty());
    let subject = form.subject.filter(|s| !s.is_empty());
    match (email, subject) {
        (Some(email), None) => {
            if let Err(why) = check_email(&email) {
                return invalid(why);
            }
            claims["iss"] = json!(provider.urls.base);
            claims["sub"] = json!(email);
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        (None, Some(subject)) => {
            let Some(issuer) = &provider.urls.subject_issuer else {
                return invalid(
                    "subject-only tokens are not available on an IPv6 host; ask for an email"
                        .to_owned(),
                );
            };
            if let Err(why) = check_subject(&subject) {
                return invalid(why);
            }
            claims["iss"] = json!(issuer);
            claims["sub"] = json!(subject);
        }
        (Some(_), Some(_)) => return invalid("give either email or subject, not both".to_owned()),
        (None, None) => return invalid("give email=… or subject=…".to_owned()),
    }
    match provider.key.sign(&claims) {
        Ok(id_token) => {
            tracing::info!(
                iss = %claims["iss"].as_str().unwrap_or_default(),
                sub = %claims["sub"].as_str().unwrap_or_default(),
                "fulcio dev: minted an ID token"
            );
            Json(json!({
                "id_token": id_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME.as_secs(),
            }))
            .into_response()
        }
        Err(why) => token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", why),
    }
}

/// A plausible address: one `@` with something on both sides, no spaces or control
/// characters. (The CA applies its own, stricter check to what it puts in a certificate.)
fn check_email(email: &str) -> Result<(), String> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!("{email:?} is not an email address"))
    }
}

/// The `username` issuer's rules: no `!`, not an email address; and printable.
fn check_subject(subject: &str) -> Result<(), String> {
    if subject.contains('!') {
        return Err(format!("subject {subject:?} must not contain '!'"));
    }
    if subject.contains('@') {
        return Err(format!(
            "subject {subject:?} looks like an email address: ask for an email token instead"
        ));
    }
    if subject.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("subject {subject:?} must not contain spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn key_is_kept_and_signs_verifiable_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = ProviderKey::load_or_generate(&path).unwrap();
        let second = ProviderKey::load_or_generate(&path).unwrap();
        assert_eq!(first.kid, second.kid, "same key on reload");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let token = first.sign(&json!({"sub": "x"})).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let public = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            second.pair.public_key().as_ref().to_vec(),
        );
        public
            .verify(
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .unwrap();
    }

    #[test]
    fn identity_checks() {
        assert!(check_email("you@example.com").is_ok());
        assert!(check_email("you").is_err());
        assert!(check_email("a@b@c").is_err());
        assert!(check_subject("alice").is_ok());
        assert!(check_subject("a!b").is_err());
        assert!(check_subject("a@b").is_err());
    }

    #[test]
    fn config_trusts_both_issuers_and_validates() {
        let urls = ProviderUrls::for_address("127.0.0.1:5556".parse().unwrap());
        let json = urls.fulcio_config_json();
        let config = oidc::FulcioConfig::from_bytes(json.to_string().as_bytes()).unwrap();
        identity::validate_config(&config).unwrap();
        assert_eq!(config.oidc_issuers.len(), 2);
        let v6 = ProviderUrls::for_address("[::1]:5556".parse().unwrap());
        assert!(v6.subject_issuer.is_none());
        oidc::FulcioConfig::from_bytes(v6.fulcio_config_json().to_string().as_bytes()).unwrap();
    }
}
