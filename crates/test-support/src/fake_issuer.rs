//! An in-process OpenID Connect issuer for tests: it serves a discovery document and a JWKS on
//! `127.0.0.1:<ephemeral port>` and mints ID tokens signed with its own keys.
//!
//! Keys are generated with aws-lc-rs (one per requested algorithm, lazily) and tokens are JWS
//! compact serializations built here, so every algorithm Fulcio accepts (Fulcio spec §3.2,
//! go-oidc's list: RS/PS/ES 256–512 and EdDSA) can be exercised, including ES512 which
//! jsonwebtoken lacks. ECDSA signatures use the fixed `r‖s` form that JWS (RFC 7518 §3.4)
//! requires.
//!
//! Besides the happy path it can misbehave on demand, for testing verifiers: go down (503 on
//! every path), rotate keys, advertise a different `issuer` in discovery, or redirect discovery.
//!
//! ```no_run
//! # async fn demo() {
//! use test_support::fake_issuer::FakeIssuer;
//! let issuer = FakeIssuer::start().await;
//! let token = issuer.email_token("alice@example.com");
//! assert!(token.split('.').count() == 3);
//! # }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The JWS algorithms the fake issuer can sign with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// ECDSA P-384 with SHA-384.
    ES384,
    /// ECDSA P-521 with SHA-512.
    ES512,
    /// Ed25519.
    EdDSA,
}

impl SigningAlg {
    /// Every algorithm, in a stable order.
    pub const ALL: [SigningAlg; 10] = [
        SigningAlg::RS256,
        SigningAlg::RS384,
        SigningAlg::RS512,
        SigningAlg::PS256,
        SigningAlg::PS384,
        SigningAlg::PS512,
        SigningAlg::ES256,
        SigningAlg::ES384,
        SigningAlg::ES512,
        SigningAlg::EdDSA,
    ];

    /// The JOSE name (`alg` header value).
    pub fn name(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::RS384 => "RS384",
            SigningAlg::RS512 => "RS512",
            SigningAlg::PS256 => "PS256",
            SigningAlg::PS384 => "PS384",
            SigningAlg::PS512 => "PS512",
            SigningAlg::ES256 => "ES256",
            SigningAlg::ES384 => "ES384",
            SigningAlg::ES512 => "ES512",
            SigningAlg::EdDSA => "EdDSA",
        }
    }
}

/// One signing key with its JWK.
struct IssuerKey {
    kid: String,
    alg: SigningAlg,
    material: KeyMaterial,
}

enum KeyMaterial {
    Rsa(signature::RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl IssuerKey {
    fn generate(alg: SigningAlg) -> IssuerKey {
        let material = match alg {
            SigningAlg::RS256
            | SigningAlg::RS384
            | SigningAlg::RS512
            | SigningAlg::PS256
            | SigningAlg::PS384
            | SigningAlg::PS512 => {
                KeyMaterial::Rsa(signature::RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
            }
            SigningAlg::ES256 => KeyMaterial::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            ),
            SigningAlg::ES384 => KeyMaterial::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap(),
            ),
            SigningAlg::ES512 => KeyMaterial::Ec(
                EcdsaKeyPair::generate(&signature::ECDSA_P521_SHA512_FIXED_SIGNING).unwrap(),
            ),
            SigningAlg::EdDSA => KeyMaterial::Ed(Ed25519KeyPair::generate().unwrap()),
        };
        IssuerKey {
            kid: random_kid(),
            alg,
            material,
        }
    }

    fn sign(&self, alg: SigningAlg, message: &[u8]) -> Vec<u8> {
        match &self.material {
            KeyMaterial::Rsa(key) => {
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    SigningAlg::RS256 => &signature::RSA_PKCS1_SHA256,
                    SigningAlg::RS384 => &signature::RSA_PKCS1_SHA384,
                    SigningAlg::RS512 => &signature::RSA_PKCS1_SHA512,
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    SigningAlg::PS384 => &signature::RSA_PSS_SHA384,
                    SigningAlg::PS512 => &signature::RSA_PSS_SHA512,
                    other => panic!("{} cannot be signed with an RSA key", other.name()),
                };
                let mut sig = vec![0; key.public_modulus_len()];
                key.sign(encoding, &SystemRandom::new(), message, &mut sig)
                    .unwrap();
                sig
            }
            KeyMaterial::Ec(key) => key
                .sign(&SystemRandom::new(), message)
                .unwrap()
                .as_ref()
                .to_vec(),
            KeyMaterial::Ed(key) => key.sign(message).as_ref().to_vec(),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk = match &self.material {
            KeyMaterial::Rsa(key) => {
                let public = key.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            KeyMaterial::Ec(key) => {
                // Uncompressed SEC1 point: 0x04 ‖ x ‖ y, coordinates of equal fixed length.
                let point = key.public_key().as_ref();
                let coordinate_len = (point.len() - 1) / 2;
                let crv = match self.alg {
                    SigningAlg::ES256 => "P-256",
                    SigningAlg::ES384 => "P-384",
                    _ => "P-521",
                };
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": b64(&point[1..1 + coordinate_len]),
                    "y": b64(&point[1 + coordinate_len..]),
                })
            }
            KeyMaterial::Ed(key) => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": b64(key.public_key().as_ref()),
            }),
        };
        let object = jwk.as_object_mut().unwrap();
        object.insert("kid".into(), json!(self.kid));
        object.insert("alg".into(), json!(self.alg.name()));
        object.insert("use".into(), json!("sig"));
        jwk
    }

    fn public_key_der(&self) -> Vec<u8> {
        let der: PublicKeyX509Der<'static> = match &self.material {
            KeyMaterial::Rsa(key) => key.public_key().as_der().unwrap(),
            KeyMaterial::Ec(key) => key.public_key().as_der().unwrap(),
            KeyMaterial::Ed(key) => key.public_key().as_der().unwrap(),
        };
        der.as_ref().to_vec()
    }
}

/// Mutable state shared between the test and the HTTP task.
struct State {
    url: String,
    /// Algorithms advertised in discovery, in the order given to `start_with`.
    algs: Vec<SigningAlg>,
    /// Every key ever generated, in JWKS order (rotation keeps old keys published).
    keys: Mutex<Vec<Arc<IssuerKey>>>,
    /// The current signing key of each algorithm.
    signing: Mutex<HashMap<SigningAlg, Arc<IssuerKey>>>,
    /// `Some(v)`: the discovery document's `issuer` is `v` instead of the URL.
    discovery_issuer: Mutex<Option<String>>,
    /// `Some(location)`: discovery answers 302 to `location`.
    discovery_redirect: Mutex<Option<String>>,
    /// `Some(uri)`: discovery advertises this `jwks_uri` instead of its own.
    jwks_uri: Mutex<Option<String>>,
    /// The `Authorization` header of every request, in order (`None` when absent).
    authorizations: Mutex<Vec<Option<String>>>,
    down: AtomicBool,
    jwks_fetches: AtomicUsize,
    discovery_fetches: AtomicUsize,
    requests: AtomicUsize,
}

/// A running fake issuer; the HTTP task stops when this is dropped.
pub struct FakeIssuer {
    state: Arc<State>,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for FakeIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeIssuer")
            .field("url", &self.state.url)
            .field("algs", &self.state.algs)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeIssuer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl FakeIssuer {
    /// Starts an issuer with a single RS256 key (go-oidc's default algorithm).
    pub async fn start() -> FakeIssuer {
        FakeIssuer::start_with(&[SigningAlg::RS256]).await
    }

    /// Starts an issuer with one key per algorithm; all keys are in the JWKS and all
    /// algorithms are advertised in `id_token_signing_alg_values_supported`. The first
    /// algorithm is the one [`FakeIssuer::token`] signs with.
    pub async fn start_with(algs: &[SigningAlg]) -> FakeIssuer {
        FakeIssuer::launch(algs, None).await
    }

    /// Like [`FakeIssuer::start_with`] but over HTTPS (`https://127.0.0.1:<port>`), with a
    /// server certificate issued by a private CA generated for this issuer: see
    /// [`FakeIssuer::ca_pem`]. For testing issuers behind an internal CA (`CACert`).
    pub async fn start_tls(algs: &[SigningAlg]) -> FakeIssuer {
        FakeIssuer::launch(algs, Some(TlsIdentity::generate())).await
    }

    async fn launch(algs: &[SigningAlg], tls: Option<TlsIdentity>) -> FakeIssuer {
        assert!(
            !algs.is_empty(),
            "a fake issuer needs at least one algorithm"
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());

        let mut advertised = Vec::new();
        let mut keys = Vec::new();
        let mut signing = HashMap::new();
        for &alg in algs {
            if advertised.contains(&alg) {
                continue;
            }
            advertised.push(alg);
            let key = Arc::new(IssuerKey::generate(alg));
            keys.push(key.clone());
            signing.insert(alg, key);
        }

        let state = Arc::new(State {
            url,
            algs: advertised,
            keys: Mutex::new(keys),
            signing: Mutex::new(signing),
            discovery_issuer: Mutex::new(None),
            discovery_redirect: Mutex::new(None),
            jwks_uri: Mutex::new(None),
            authorizations: Mutex::new(Vec::new()),
            down: AtomicBool::new(false),
            jwks_fetches: AtomicUsize::new(0),
            discovery_fetches: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        });

        let app_state = state.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = app_state.clone();
            async move { serve(&state, &uri, &headers) }
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let stopped = async {
            let _ = stopped.await;
        };
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        match tls {
            None => {
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await;
                });
            }
            Some(identity) => {
                let listener = TlsListener {
                    tcp: listener,
                    acceptor: identity.acceptor,
                };
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await;
                });
            }
        }

        FakeIssuer {
            state,
            ca_pem,
            shutdown: Some(shutdown),
        }
    }

    /// The PEM certificate of the private CA that issued an HTTPS issuer's server
    /// certificate ([`FakeIssuer::start_tls`]); `None` for plain HTTP.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The issuer URL (`iss`), e.g. `http://127.0.0.1:41234`, without a trailing slash.
    pub fn url(&self) -> String {
        self.state.url.clone()
    }

    /// The algorithms advertised in discovery.
    pub fn algs(&self) -> Vec<SigningAlg> {
        self.state.algs.clone()
    }

    /// Signs `claims` with the first algorithm's key. `iss` (the URL), `aud` (`sigstore`),
    /// `iat` (now) and `exp` (now + 5 min) are added unless `claims` has them; a claim given as
    /// JSON `null` is removed instead, to build tokens that lack it.
    pub fn token(&self, claims: Value) -> String {
        self.token_with(self.state.algs[0], json!({}), claims)
    }

    /// Signs `claims` (completed as in [`FakeIssuer::token`]) with `alg`'s current key.
    /// `header_extra` is merged over `{alg, kid, typ: "JWT"}`, so it can override `alg` or
    /// `kid` (the signature is still made with `alg`'s key), or remove one with `null`.
    pub fn token_with(&self, alg: SigningAlg, header_extra: Value, claims: Value) -> String {
        let key = self.signing_key(alg);
        let mut header = json!({"alg": alg.name(), "kid": key.kid, "typ": "JWT"});
        merge_over(&mut header, header_extra);
        let payload = self.complete_claims(claims);
        let signing_input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&header).unwrap()),
            b64(&serde_json::to_vec(&payload).unwrap())
        );
        let signature = key.sign(alg, signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature))
    }

    /// Builds a token from raw header and payload JSON and signs it with `alg`'s key, with no
    /// completion of claims or header: for malformed-token tests.
    pub fn sign_raw(&self, alg: SigningAlg, header: &Value, payload: &Value) -> String {
        let key = self.signing_key(alg);
        let signing_input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(header).unwrap()),
            b64(&serde_json::to_vec(payload).unwrap())
        );
        let signature = key.sign(alg, signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&signature))
    }

    /// A token for an email identity: `{sub: <random>, email, email_verified: true}`.
    pub fn email_token(&self, email: &str) -> String {
        self.token(json!({
            "sub": random_kid(),
            "email": email,
            "email_verified": true,
        }))
    }

    /// The claims [`FakeIssuer::token`] would sign for `claims` (defaults filled in), without
    /// the time-dependent values changing between two calls in the same second.
    pub fn complete_claims(&self, claims: Value) -> Value {
        let now = unix_now();
        let mut payload = json!({
            "iss": self.state.url,
            "aud": "sigstore",
            "iat": now,
            "exp": now + 300,
        });
        merge_over(&mut payload, claims);
        payload
    }

    /// The PEM SubjectPublicKeyInfo of `alg`'s current signing key (for crafting tokens that
    /// misuse it, e.g. HS256 with the public key as the HMAC secret).
    pub fn public_key_pem(&self, alg: SigningAlg) -> String {
        let der = self.signing_key(alg).public_key_der();
        let body = STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        pem
    }

    /// The `kid` of `alg`'s current signing key.
    pub fn kid(&self, alg: SigningAlg) -> String {
        self.signing_key(alg).kid.clone()
    }

    /// Adds a new key (new `kid`) for `alg` and makes it `alg`'s signing key; older keys stay
    /// in the JWKS. `alg` need not have been advertised (it is not added to discovery). Returns
    /// the new `kid`.
    pub fn rotate(&self, alg: SigningAlg) -> String {
        let key = Arc::new(IssuerKey::generate(alg));
        let kid = key.kid.clone();
        self.state.keys.lock().unwrap().push(key.clone());
        self.state.signing.lock().unwrap().insert(alg, key);
        kid
    }

    /// Removes the key `kid` from the JWKS (tokens can still be signed with it if it is a
    /// current signing key: for "key withdrawn" tests).
    pub fn unpublish(&self, kid: &str) {
        self.state.keys.lock().unwrap().retain(|k| k.kid != kid);
    }

    /// How many times `/jwks` was answered with the key set.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many times the discovery document was answered (200 only).
    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// How many HTTP requests reached the issuer on any path, failed ones included.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// While `down`, every path answers 503 (an issuer outage).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Makes discovery advertise `issuer` instead of the real URL (`None` restores it).
    pub fn set_discovery_issuer(&self, issuer: Option<&str>) {
        *self.state.discovery_issuer.lock().unwrap() = issuer.map(str::to_owned);
    }

    /// Makes `/.well-known/openid-configuration` answer `302 Found` with `Location: location`
    /// (`None` restores it). The same document is also served at `/alt/openid-configuration`,
    /// a same-host redirect target.
    pub fn set_discovery_redirect(&self, location: Option<&str>) {
        *self.state.discovery_redirect.lock().unwrap() = location.map(str::to_owned);
    }

    /// Makes discovery advertise `jwks_uri` instead of `{url}/jwks` (`None` restores it).
    pub fn set_jwks_uri(&self, jwks_uri: Option<&str>) {
        *self.state.jwks_uri.lock().unwrap() = jwks_uri.map(str::to_owned);
    }

    /// The `Authorization` header of every request received so far, in order (`None` for
    /// requests without one).
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.state.authorizations.lock().unwrap().clone()
    }

    /// The discovery document as currently served.
    pub fn discovery_document(&self) -> Value {
        discovery_document(&self.state)
    }

    /// The JWKS as currently served.
    pub fn jwks(&self) -> Value {
        jwks(&self.state)
    }

    fn signing_key(&self, alg: SigningAlg) -> Arc<IssuerKey> {
        if let Some(key) = self.state.signing.lock().unwrap().get(&alg) {
            return key.clone();
        }
        panic!(
            "fake issuer has no {} key (start_with it, or rotate to add one)",
            alg.name()
        )
    }
}

/// A server certificate for `127.0.0.1` and `localhost` from a fresh private CA.
struct TlsIdentity {
    ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl TlsIdentity {
    fn generate() -> TlsIdentity {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "fake issuer test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf_params.subject_alt_names = vec![
            SanType::IpAddress(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into().unwrap()),
        ];
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        TlsIdentity {
            ca_pem: ca.pem(),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        }
    }
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(_) => {
                    // e.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            // A client that rejects our certificate just drops; keep serving others. The
            // handshake is bounded so one silent client cannot stall the listener.
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(tls)) =
                tokio::time::timeout(std::time::Duration::from_secs(5), handshake).await
            {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn serve(state: &State, uri: &Uri, headers: &HeaderMap) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    state.authorizations.lock().unwrap().push(authorization);
    if state.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "issuer is down").into_response();
    }
    match uri.path() {
        "/.well-known/openid-configuration" => {
            if let Some(location) = state.discovery_redirect.lock().unwrap().clone() {
                return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
            }
            state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            axum::Json(discovery_document(state)).into_response()
        }
        "/alt/openid-configuration" => {
            state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            axum::Json(discovery_document(state)).into_response()
        }
        "/jwks" => {
            state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            axum::Json(jwks(state)).into_response()
        }
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn discovery_document(state: &State) -> Value {
    let issuer = state
        .discovery_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| state.url.clone());
    let algs: Vec<&str> = state.algs.iter().map(|a| a.name()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{}/auth", state.url),
        "token_endpoint": format!("{}/token", state.url),
        "jwks_uri": state
            .jwks_uri
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(|| format!("{}/jwks", state.url)),
        "response_types_supported": ["code", "id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "scopes_supported": ["openid", "email"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "email", "email_verified"],
    })
}

fn jwks(state: &State) -> Value {
    let keys: Vec<Value> = state.keys.lock().unwrap().iter().map(|k| k.jwk()).collect();
    json!({ "keys": keys })
}

/// Shallow merge of `extra`'s members over `base`'s; a `null` member removes the key.
fn merge_over(base: &mut Value, extra: Value) {
    let base = base.as_object_mut().unwrap();
    match extra {
        Value::Object(extra) => {
            for (k, v) in extra {
                if v.is_null() {
                    base.remove(&k);
                } else {
                    base.insert(k, v);
                }
            }
        }
        Value::Null => {}
        other => panic!("claims and header extras must be JSON objects, got {other}"),
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_kid() -> String {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_part(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn serves_discovery_and_jwks() {
        let issuer = FakeIssuer::start_with(&[SigningAlg::ES256, SigningAlg::EdDSA]).await;
        let client = reqwest::Client::new();
        let doc: Value = client
            .get(format!("{}/.well-known/openid-configuration", issuer.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], json!(issuer.url()));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["ES256", "EdDSA"])
        );
        let jwks: Value = client
            .get(doc["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0]["crv"], "P-256");
        assert_eq!(keys[1]["kty"], "OKP");
        assert_eq!(issuer.jwks_fetches(), 1);
        assert_eq!(issuer.discovery_fetches(), 1);
    }

    #[tokio::test]
    async fn token_fills_in_registered_claims_and_verifies() {
        let issuer = FakeIssuer::start_with(&[SigningAlg::ES256]).await;
        let token = issuer.token(json!({"sub": "s", "aud": ["other", "sigstore"], "iat": null}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = decode_part(parts[0]);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], json!(issuer.kid(SigningAlg::ES256)));
        let claims = decode_part(parts[1]);
        assert_eq!(claims["iss"], json!(issuer.url()));
        assert_eq!(claims["aud"], json!(["other", "sigstore"]));
        assert!(claims.get("iat").is_none());
        assert!(claims["exp"].as_u64().unwrap() > unix_now());

        // The signature must check out with the published key, fixed-size r‖s.
        let jwk = &issuer.jwks()["keys"][0];
        let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap();
        let point = [&[4u8][..], &x, &y].concat();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64);
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
    }

    #[tokio::test]
    async fn every_algorithm_signs_verifiably() {
        let issuer = FakeIssuer::start_with(&SigningAlg::ALL).await;
        for alg in SigningAlg::ALL {
            let token = issuer.token_with(alg, json!({}), json!({"sub": "x"}));
            let parts: Vec<&str> = token.split('.').collect();
            let message = format!("{}.{}", parts[0], parts[1]);
            let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
            let jwk = issuer.jwks()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == json!(issuer.kid(alg)))
                .cloned()
                .unwrap();
            let field = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
            let result = match alg {
                SigningAlg::RS256
                | SigningAlg::RS384
                | SigningAlg::RS512
                | SigningAlg::PS256
                | SigningAlg::PS384
                | SigningAlg::PS512 => {
                    let params = match alg {
                        SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                        SigningAlg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                        SigningAlg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                        SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                        SigningAlg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                        _ => &signature::RSA_PSS_2048_8192_SHA512,
                    };
                    signature::RsaPublicKeyComponents {
                        n: field("n"),
                        e: field("e"),
                    }
                    .verify(params, message.as_bytes(), &sig)
                }
                SigningAlg::ES256 | SigningAlg::ES384 | SigningAlg::ES512 => {
                    let verify_alg = match alg {
                        SigningAlg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
                        SigningAlg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
                        _ => &signature::ECDSA_P521_SHA512_FIXED,
                    };
                    let point = [&[4u8][..], &field("x"), &field("y")].concat();
                    signature::UnparsedPublicKey::new(verify_alg, point)
                        .verify(message.as_bytes(), &sig)
                }
                SigningAlg::EdDSA => {
                    signature::UnparsedPublicKey::new(&signature::ED25519, field("x"))
                        .verify(message.as_bytes(), &sig)
                }
            };
            assert!(result.is_ok(), "{} signature did not verify", alg.name());
        }
    }

    #[tokio::test]
    async fn rotate_publishes_a_new_signing_key() {
        let issuer = FakeIssuer::start().await;
        let old = issuer.kid(SigningAlg::RS256);
        let new = issuer.rotate(SigningAlg::RS256);
        assert_ne!(old, new);
        assert_eq!(issuer.kid(SigningAlg::RS256), new);
        assert_eq!(issuer.jwks()["keys"].as_array().unwrap().len(), 2);
        let header = decode_part(issuer.token(json!({})).split('.').next().unwrap());
        assert_eq!(header["kid"], json!(new));
        issuer.unpublish(&old);
        assert_eq!(issuer.jwks()["keys"].as_array().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn down_answers_503_everywhere_and_recovers() {
        let issuer = FakeIssuer::start().await;
        let client = reqwest::Client::new();
        issuer.set_down(true);
        for path in ["/.well-known/openid-configuration", "/jwks", "/other"] {
            let status = client
                .get(format!("{}{path}", issuer.url()))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
        }
        assert_eq!(issuer.jwks_fetches(), 0);
        assert_eq!(issuer.requests(), 3);
        issuer.set_down(false);
        let status = client
            .get(format!("{}/jwks", issuer.url()))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, reqwest::StatusCode::OK);
        assert_eq!(issuer.jwks_fetches(), 1);
    }

    #[tokio::test]
    async fn public_key_pem_is_the_signing_key() {
        let issuer = FakeIssuer::start_with(&[SigningAlg::EdDSA]).await;
        let pem = issuer.public_key_pem(SigningAlg::EdDSA);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body).unwrap();
        // Ed25519 SPKI = 12-byte prefix + the 32-byte key published as `x`.
        let x = URL_SAFE_NO_PAD
            .decode(issuer.jwks()["keys"][0]["x"].as_str().unwrap())
            .unwrap();
        assert_eq!(&der[12..], &x[..]);
    }

    #[tokio::test]
    async fn tls_issuer_is_trusted_only_with_its_ca() {
        let issuer = FakeIssuer::start_tls(&[SigningAlg::ES256]).await;
        assert!(issuer.url().starts_with("https://127.0.0.1:"));
        let ca_pem = issuer.ca_pem().unwrap();
        let url = format!("{}/.well-known/openid-configuration", issuer.url());

        let untrusting = reqwest::Client::new();
        assert!(untrusting.get(&url).send().await.is_err());

        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
        let trusting = reqwest::Client::builder()
            .tls_certs_merge([ca])
            .build()
            .unwrap();
        let doc: Value = trusting
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], json!(issuer.url()));
        assert!(FakeIssuer::start().await.ca_pem().is_none());
    }

    #[tokio::test]
    async fn dropping_stops_the_server() {
        let issuer = FakeIssuer::start().await;
        let url = issuer.url();
        drop(issuer);
        // Graceful shutdown is asynchronous: wait until the listener is gone, bounded.
        let client = reqwest::Client::new();
        let mut refused = false;
        for _ in 0..500 {
            if client.get(format!("{url}/jwks")).send().await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(refused, "server still answering after drop");
    }
}
