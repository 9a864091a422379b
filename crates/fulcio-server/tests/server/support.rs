//! A test server and a P-256 client key.

use std::sync::Arc;

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair},
};
use base64::Engine as _;
use fulcio_server::{Issuance, ListenAddress, RunningServer, Server, ct::CtLog};
use oidc::{FulcioConfig, IssuerType, OidcIssuer, TokenVerifier, VerifierOptions};
use serde_json::{Value, json};
use test_support::fake_issuer::FakeIssuer;

/// How the server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Split,
    Duplex,
}

/// An issuance pipeline trusting `issuer` as an `email` issuer (client ID `sigstore`), with an
/// ephemeral P-256 CA, upstream's default algorithms, and `ct_log` if given.
pub fn issuance_for(issuer: &FakeIssuer, ct_log: Option<Arc<dyn CtLog>>) -> Arc<Issuance> {
    let mut config = FulcioConfig::default();
    config.oidc_issuers.insert(
        issuer.url(),
        OidcIssuer {
            issuer_url: issuer.url(),
            client_id: "sigstore".into(),
            issuer_type: IssuerType::Email,
            ..Default::default()
        },
    );
    let verifier =
        Arc::new(TokenVerifier::new(Arc::new(config), VerifierOptions::default()).unwrap());
    let ca = Arc::new(ca::CertificateAuthority::new(
        ca::ephemeral::generate(ca::KeyKind::EcdsaP256).unwrap(),
    ));
    let registry = ca::AlgorithmRegistry::from_names(ca::AlgorithmRegistry::DEFAULT_NAMES).unwrap();
    Arc::new(Issuance::new(verifier, ca, registry, ct_log))
}

pub struct TestServer {
    pub issuer: FakeIssuer,
    pub server: Option<RunningServer>,
    pub http: String,
    pub grpc: String,
    pub metrics: String,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_in(Mode::Split).await
    }

    pub async fn start_in(mode: Mode) -> TestServer {
        TestServer::start_full(mode, None).await
    }

    /// A split-port server submitting to `ct_log`.
    pub async fn start_with_ct(ct_log: Arc<dyn CtLog>) -> TestServer {
        TestServer::start_full(Mode::Split, Some(ct_log)).await
    }

    async fn start_full(mode: Mode, ct_log: Option<Arc<dyn CtLog>>) -> TestServer {
        let issuer = FakeIssuer::start().await;
        let issuance = issuance_for(&issuer, ct_log);
        let local = || ListenAddress::new("127.0.0.1", 0);
        let builder = Server::builder(issuance).metrics(Some(local()));
        let builder = match mode {
            Mode::Split => builder.split(local(), local()),
            Mode::Duplex => builder.duplex(local()),
        };
        let server = builder.bind().await.unwrap();
        TestServer {
            http: format!("http://{}", server.http_addr),
            grpc: format!("http://{}", server.grpc_addr),
            metrics: format!("http://{}", server.metrics_addr.unwrap()),
            issuer,
            server: Some(server),
        }
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// A client key and its proof of possession for an email identity.
pub struct ClientKey {
    pair: EcdsaKeyPair,
}

impl ClientKey {
    pub fn p256() -> ClientKey {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        ClientKey { pair }
    }

    pub fn public_key_pem(&self) -> String {
        let der = self.pair.public_key().as_der().unwrap();
        pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()))
    }

    pub fn sign(&self, message: &str) -> Vec<u8> {
        self.pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec()
    }

    /// The v2 JSON request body proving possession for `email` (token left out).
    pub fn v2_body(&self, token: Option<&str>, email: &str) -> Value {
        let mut body = json!({
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": self.public_key_pem()},
                "proofOfPossession": b64(&self.sign(email)),
            }
        });
        if let Some(token) = token {
            body["credentials"] = json!({"oidcIdentityToken": token});
        }
        body
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The SAN email of a PEM leaf.
pub fn leaf_email(pem_text: &str) -> String {
    let der = pem::parse(pem_text).unwrap().into_contents();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    match &san.value.general_names[0] {
        x509_parser::extensions::GeneralName::RFC822Name(email) => (*email).to_owned(),
        other => panic!("unexpected SAN {other:?}"),
    }
}
