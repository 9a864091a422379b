//! `fulcio_client::request` against a real in-process Fulcio (the `fulcio-server` crate on
//! 127.0.0.1 sockets, HTTP and gRPC listeners) trusting the in-process fake OIDC issuer, with
//! and without the embedded CT log: every key type, both proofs, both transports; what the CA
//! refuses comes back with its message; an unreachable CA is a connection error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use fulcio_client::{
    key::{KeyAlgorithm, SigningKey},
    request::{CaClient, CertificateResponse, Proof, RequestError, Transport},
    trust::{CaSpec, CtLogSpec, TimeRange, Timestamp, TrustedRoot},
    verify::{VerifyOptions, verify_certificate},
};
use fulcio_server::{
    Issuance, ListenAddress, RunningServer, Server,
    ct::CtLog,
    ct_embedded::{self, DirectoryLogOptions, EmbeddedCtLog},
};
use oidc::{FulcioConfig, IssuerType, OidcIssuer, TokenVerifier, VerifierOptions};
use test_support::fake_issuer::FakeIssuer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

const TIMEOUT: Duration = Duration::from_secs(30);

struct TestCa {
    issuer: FakeIssuer,
    server: Option<RunningServer>,
    http: String,
    grpc: String,
    /// The CA's chain, DER, issuing certificate first.
    chain: Vec<Vec<u8>>,
    /// The embedded CT log's key (SPKI DER), when the CA logs.
    ct_log_key: Option<Vec<u8>>,
    _dir: tempfile::TempDir,
}

impl TestCa {
    /// A CA trusting a fresh fake issuer for email identities; with `ct`, it submits to an
    /// embedded CT log (SCTs embedded), without, it answers with a detached, empty SCT.
    async fn start(ct: bool) -> TestCa {
        let issuer = FakeIssuer::start().await;
        let dir = tempfile::tempdir().unwrap();
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
        let authority = Arc::new(ca::CertificateAuthority::new(
            ca::ephemeral::generate(ca::KeyKind::EcdsaP256).unwrap(),
        ));
        let chain = authority.current().chain().to_vec();
        let (ct_log, ct_log_key) = if ct {
            let options = DirectoryLogOptions {
                data_dir: dir.path().join("ct"),
                key_path: dir.path().join("ct-key.pem"),
                origin: "request-test-log".into(),
                batch: Default::default(),
                state_cache_bytes: ct_embedded::EMBEDDED_STATE_CACHE_BYTES,
            };
            let roots = ct_embedded::roots_from_der(vec![chain.last().unwrap().clone()]).unwrap();
            let log = ct_embedded::open_directory_log(&options, roots)
                .await
                .unwrap();
            let public =
                std::fs::read(options.data_dir.join(ct_embedded::PUBLIC_KEY_FILE)).unwrap();
            let public = pem::parse(public).unwrap().into_contents();
            let ct_log: Arc<dyn CtLog> = Arc::new(EmbeddedCtLog::new(log));
            (Some(ct_log), Some(public))
        } else {
            (None, None)
        };
        let registry =
            ca::AlgorithmRegistry::from_names(ca::AlgorithmRegistry::DEFAULT_NAMES).unwrap();
        let issuance = Arc::new(Issuance::new(verifier, authority, registry, ct_log));
        let local = || ListenAddress::new("127.0.0.1", 0);
        let server = Server::builder(issuance)
            .metrics(None)
            .split(local(), local())
            .bind()
            .await
            .unwrap();
        TestCa {
            http: format!("http://{}", server.http_addr),
            grpc: format!("http://{}", server.grpc_addr),
            issuer,
            server: Some(server),
            chain,
            ct_log_key,
            _dir: dir,
        }
    }

    fn client(&self, transport: Transport) -> CaClient {
        let url = match transport {
            Transport::Http => &self.http,
            Transport::Grpc => &self.grpc,
        };
        CaClient::new(url, transport, TIMEOUT).unwrap()
    }

    /// A trusted root for this CA and its CT log.
    fn trusted_root(&self) -> TrustedRoot {
        let valid_for = TimeRange {
            start: Timestamp(SystemTime::now() - Duration::from_secs(3600)),
            end: None,
        };
        let ct_logs: Vec<CtLogSpec> = self
            .ct_log_key
            .iter()
            .map(|key| CtLogSpec {
                base_url: "http://127.0.0.1/ct".into(),
                public_key_der: key.clone(),
                valid_for,
            })
            .collect();
        TrustedRoot::for_instance(
            &CaSpec {
                url: self.http.clone(),
                chain_der: self.chain.clone(),
                valid_for,
            },
            &ct_logs,
        )
        .unwrap()
    }

    async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// The leaf's SPKI and email SAN.
fn leaf_facts(der: &[u8]) -> (Vec<u8>, String) {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let email = match &san.value.general_names[0] {
        GeneralName::RFC822Name(email) => (*email).to_owned(),
        other => panic!("unexpected SAN {other:?}"),
    };
    (cert.public_key().raw.to_vec(), email)
}

/// The chain is leaf + the CA's chain, each certificate signed by the next.
fn check_chain(ca: &TestCa, response: &CertificateResponse) {
    assert_eq!(response.chain.len(), ca.chain.len() + 1);
    assert_eq!(&response.chain[1..], &ca.chain[..]);
    for pair in response.chain.windows(2) {
        let (_, child) = X509Certificate::from_der(&pair[0]).unwrap();
        let (_, parent) = X509Certificate::from_der(&pair[1]).unwrap();
        child.verify_signature(Some(parent.public_key())).unwrap();
    }
}

const ALGORITHMS: [KeyAlgorithm; 4] = [
    KeyAlgorithm::P256,
    KeyAlgorithm::P384,
    KeyAlgorithm::Ed25519,
    KeyAlgorithm::Rsa3072,
];

/// Every key type × both proofs × both transports, against a CA with a CT log: the chain is
/// right, the leaf carries our key and identity, and it verifies with its embedded SCT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_type_and_proof_over_http_and_grpc_with_embedded_scts() {
    let mut ca = TestCa::start(true).await;
    let root = ca.trusted_root();
    let keys: Vec<SigningKey> = ALGORITHMS
        .iter()
        .map(|&a| SigningKey::generate(a).unwrap())
        .collect();
    for transport in [Transport::Http, Transport::Grpc] {
        let client = ca.client(transport);
        for key in &keys {
            for proof in [Proof::Challenge, Proof::Csr] {
                let what = format!("{transport:?} {proof:?} {:?}", key.algorithm());
                let email = format!("{}@example.com", key.algorithm().name());
                let token = ca.issuer.email_token(&email);
                let response = client
                    .signing_certificate(&token, key, proof, &email)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(response.detached_sct, None, "{what}");
                check_chain(&ca, &response);
                let (spki, san) = leaf_facts(&response.chain[0]);
                assert_eq!(spki, key.public_key_der(), "{what}");
                assert_eq!(san, email, "{what}");
                let verified = verify_certificate(&response.chain, &root, &VerifyOptions::now())
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(verified.scts.len(), 1, "{what}");
                assert_eq!(verified.identities, vec![email.clone()], "{what}");
            }
        }
    }
    ca.stop().await;
}

/// Without a CT log Fulcio answers `signedCertificateDetachedSct` with an empty SCT: the chain
/// is read from that form too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detached_answers_are_read_over_http_and_grpc() {
    let mut ca = TestCa::start(false).await;
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    for transport in [Transport::Http, Transport::Grpc] {
        let client = ca.client(transport);
        for proof in [Proof::Challenge, Proof::Csr] {
            let token = ca.issuer.email_token("detached@example.com");
            let response = client
                .signing_certificate(&token, &key, proof, "detached@example.com")
                .await
                .unwrap_or_else(|e| panic!("{transport:?} {proof:?}: {e}"));
            assert_eq!(response.detached_sct, None);
            check_chain(&ca, &response);
            assert_eq!(leaf_facts(&response.chain[0]).0, key.public_key_der());
        }
    }
    ca.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_bundle_over_http_and_grpc_is_the_cas_chain() {
    let mut ca = TestCa::start(false).await;
    for transport in [Transport::Http, Transport::Grpc] {
        let bundle = ca.client(transport).trust_bundle().await.unwrap();
        assert_eq!(bundle, vec![ca.chain.clone()], "{transport:?}");
    }
    ca.stop().await;
}

/// A token from an issuer the CA does not trust, and a proof over the wrong subject: refused,
/// with the CA's status and message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_cas_status_and_message() {
    let mut ca = TestCa::start(false).await;
    let stranger = FakeIssuer::start().await;
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    // Fulcio answers both with InvalidArgument / 400 and fixed messages (spec/fulcio.md §1.4).
    for (transport, bad_request) in [
        (Transport::Http, "400 Bad Request"),
        (Transport::Grpc, "InvalidArgument"),
    ] {
        let client = ca.client(transport);

        let token = stranger.email_token("me@example.com");
        let error = client
            .signing_certificate(&token, &key, Proof::Challenge, "me@example.com")
            .await
            .unwrap_err();
        let RequestError::Refused { status, message } = &error else {
            panic!("{transport:?}: not a refusal: {error:?}");
        };
        assert_eq!(status, bad_request, "{transport:?}");
        assert_eq!(
            message, "There was an error processing the identity token",
            "{transport:?}"
        );
        assert!(
            error.to_string().contains(message.as_str()),
            "{transport:?}: {error}"
        );

        // Signed over another subject than the token's: the proof does not verify.
        let token = ca.issuer.email_token("me@example.com");
        let error = client
            .signing_certificate(&token, &key, Proof::Challenge, "someone-else@example.com")
            .await
            .unwrap_err();
        let RequestError::Refused { status, message } = &error else {
            panic!("{transport:?}: not a refusal: {error:?}");
        };
        assert_eq!(status, bad_request, "{transport:?}");
        assert_eq!(
            message, "The signature supplied in the request could not be verified",
            "{transport:?}"
        );
    }
    ca.stop().await;
}

/// Nothing listening: a connection error naming the URL, for both transports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_ca_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let issuer = FakeIssuer::start().await;
    let key = SigningKey::generate(KeyAlgorithm::P256).unwrap();
    let token = issuer.email_token("me@example.com");
    for transport in [Transport::Http, Transport::Grpc] {
        let client = CaClient::new(&url, transport, TIMEOUT).unwrap();
        let error = client
            .signing_certificate(&token, &key, Proof::Challenge, "me@example.com")
            .await
            .unwrap_err();
        assert!(
            matches!(error, RequestError::Connect { .. }),
            "{transport:?}: {error:?}"
        );
        assert!(error.to_string().contains(&url), "{transport:?}: {error}");
        let error = client.trust_bundle().await.unwrap_err();
        assert!(
            matches!(error, RequestError::Connect { .. }),
            "{transport:?}: {error:?}"
        );
    }
}

#[test]
fn bad_urls_are_refused_up_front() {
    for url in ["not a url", "ftp://example.com", ""] {
        for transport in [Transport::Http, Transport::Grpc] {
            let error = CaClient::new(url, transport, TIMEOUT).unwrap_err();
            assert!(
                matches!(error, RequestError::Connect { .. }),
                "{url:?}: {error:?}"
            );
        }
    }
}

/// An HTTP endpoint that is not Fulcio (here: the fake issuer's server, which answers 404 on
/// Fulcio's paths) gives the status and body, not a JSON parse error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_fulcio_is_reported() {
    let issuer = FakeIssuer::start().await;
    let client = CaClient::new(&issuer.url(), Transport::Http, TIMEOUT).unwrap();
    let error = client.trust_bundle().await.unwrap_err();
    assert!(
        matches!(&error, RequestError::Refused { status, .. } if status.starts_with("404")),
        "{error:?}"
    );
}

/// A Fulcio whose CA has no precertificate support answers with a detached SCT; none of our
/// servers does that (they embed SCTs, or send an empty detached one without a CT log), so a
/// stand-in HTTP endpoint plays that Fulcio. It also records what the client sent: the bearer
/// header and the v2 JSON body's field names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_sct_is_returned_and_the_request_has_fulcios_shape() {
    use axum::{Json, Router, http::HeaderMap, routing::post};
    use base64::Engine as _;
    use serde_json::{Value, json};

    let ca = TestCa::start(false).await;
    let root_pem = pem::encode(&pem::Pem::new("CERTIFICATE", ca.chain[0].clone()));
    /// What the stand-in received: the Authorization header and the JSON body.
    type Seen = Arc<std::sync::Mutex<Vec<(Option<String>, Value)>>>;
    let seen: Seen = Arc::default();
    let recorder = seen.clone();
    let app = Router::new().route(
        "/api/v2/signingCert",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let recorder = recorder.clone();
            let root_pem = root_pem.clone();
            async move {
                let authorization = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                recorder.lock().unwrap().push((authorization, body));
                Json(json!({
                    "signedCertificateDetachedSct": {
                        "chain": {"certificates": [root_pem.trim_end(), root_pem]},
                        "signedCertificateTimestamp":
                            base64::engine::general_purpose::STANDARD.encode(b"an SCT"),
                    }
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = CaClient::new(&url, Transport::Http, TIMEOUT).unwrap();
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let response = client
        .signing_certificate("the-token", &key, Proof::Challenge, "me@example.com")
        .await
        .unwrap();
    assert_eq!(response.detached_sct.as_deref(), Some(&b"an SCT"[..]));
    assert_eq!(
        response.chain,
        vec![ca.chain[0].clone(), ca.chain[0].clone()]
    );
    client
        .signing_certificate("the-token", &key, Proof::Csr, "me@example.com")
        .await
        .unwrap();

    let seen = seen.lock().unwrap();
    let (authorization, challenge) = &seen[0];
    assert_eq!(authorization.as_deref(), Some("Bearer the-token"));
    assert_eq!(challenge["credentials"]["oidcIdentityToken"], "the-token");
    let public_key = &challenge["publicKeyRequest"]["publicKey"];
    assert_eq!(public_key["algorithm"], "ED25519");
    assert_eq!(public_key["content"], key.public_key_pem());
    let proof = base64::engine::general_purpose::STANDARD
        .decode(
            challenge["publicKeyRequest"]["proofOfPossession"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let public = ca::ClientPublicKey::parse(key.public_key_pem().as_bytes()).unwrap();
    ca::pop::verify(&public, b"me@example.com", &proof).unwrap();

    let (_, csr) = &seen[1];
    assert!(csr.get("publicKeyRequest").is_none());
    let csr_pem = base64::engine::general_purpose::STANDARD
        .decode(csr["certificateSigningRequest"].as_str().unwrap())
        .unwrap();
    assert!(csr_pem.starts_with(b"-----BEGIN CERTIFICATE REQUEST-----\n"));
    ca::csr::verify(&csr_pem).unwrap();
}
