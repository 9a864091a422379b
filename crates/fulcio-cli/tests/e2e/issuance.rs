//! Issuance for every default client key type over every transport: HTTP v2 and gRPC, proof
//! by signed challenge and by CSR, token in the body and in the header; plus the legacy v1 API
//! and the read-only endpoints.

use reqwest::StatusCode;
use test_support::fake_issuer::FakeIssuer;

use crate::support::api::{
    self, KeyPart, Proof, TokenIn, chain_of_json, issue_grpc, issue_http, split_pem_chain,
};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::profile::{Expected, San, check_profile};
use crate::support::server::{CaBackend, FulcioServer, IssuerConfig, Ports};
use crate::support::tokens::Identity;

/// Issues certificates for one key of `kind` by every path and checks each one's profile.
async fn issues_by_every_path(kind: KeyKind) {
    issues_by_every_path_on(kind, Ports::Split).await;
}

async fn issues_by_every_path_on(kind: KeyKind, ports: Ports) {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start_full(
        &[IssuerConfig::email(issuer.url())],
        ports,
        &CaBackend::Ephemeral,
        &[],
    )
    .await;
    let key = ClientKey::generate(kind);
    let who = Identity::new("signer@example.com");
    let token = issuer.token(who.claims());
    let expected = Expected {
        san: San::Email(who.email.clone()),
        issuer: issuer.url(),
        subject: who.subject.clone(),
        spki_der: key.spki_der(),
    };

    for proof in [Proof::PublicKey, Proof::Csr] {
        for token_in in [TokenIn::Body, TokenIn::Header] {
            let part = KeyPart::for_key(&key, proof, &who.email);
            // Printed so a failure names its path (nextest shows a failing test's output).
            println!("case: {kind:?} HTTP v2, {proof:?}, token in {token_in:?}");
            let chain = issue_http(&server, &token, token_in, &part).await;
            check_profile(&chain, &expected);
            println!("case: {kind:?} gRPC, {proof:?}, token in {token_in:?}");
            let chain = issue_grpc(&server, &token, token_in, &part).await;
            check_profile(&chain, &expected);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_ecdsa_p256_by_every_path() {
    issues_by_every_path(KeyKind::P256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_ecdsa_p384_by_every_path() {
    issues_by_every_path(KeyKind::P384).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_ecdsa_p521_by_every_path() {
    issues_by_every_path(KeyKind::P521).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_ed25519_by_every_path() {
    issues_by_every_path(KeyKind::Ed25519).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_rsa_2048_by_every_path() {
    issues_by_every_path(KeyKind::Rsa2048).await;
}

// The only test that generates an RSA-4096 key (slow), so the suite pays for it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_for_rsa_4096_by_every_path() {
    issues_by_every_path(KeyKind::Rsa4096).await;
}

// HTTP and gRPC on one port (`--port 0 --grpc-port 0`): the same matrix must pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_by_every_path_on_a_duplex_port() {
    issues_by_every_path_on(KeyKind::P256, Ports::Duplex).await;
}

// A file CA whose chain has two intermediates (P-384 issuing CA → Ed25519 intermediate → P-384
// root, the ca crate's `intermediate-3` vector): the leaf's AKI names the issuing CA, the chain
// in the answer carries both intermediates, and `openssl verify` walks them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_ca_with_intermediates_issues_verifiable_chains() {
    let vectors = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ca/testdata/fileca");
    let ca = CaBackend::File {
        cert: vectors.join("intermediate-3-cert.pem"),
        key: vectors.join("intermediate-3-key.pem"),
        password: "password123".to_owned(),
    };
    let issuer = FakeIssuer::start().await;
    let server =
        FulcioServer::start_full(&[IssuerConfig::email(issuer.url())], Ports::Split, &ca, &[])
            .await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("file-ca@example.com");
    let token = issuer.token(who.claims());
    let expected = Expected {
        san: San::Email(who.email.clone()),
        issuer: issuer.url(),
        subject: who.subject.clone(),
        spki_der: key.spki_der(),
    };
    for proof in [Proof::PublicKey, Proof::Csr] {
        let part = KeyPart::for_key(&key, proof, &who.email);
        println!("case: file CA, HTTP v2, {proof:?}");
        let chain = issue_http(&server, &token, TokenIn::Header, &part).await;
        assert_eq!(chain.len(), 4, "leaf, two intermediates, root");
        check_profile(&chain, &expected);
        println!("case: file CA, gRPC, {proof:?}");
        check_profile(
            &issue_grpc(&server, &token, TokenIn::Header, &part).await,
            &expected,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_v1_signing_cert_answers_201_with_a_pem_chain() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("legacy@example.com");
    let token = issuer.token(who.claims());

    // As sigstore-rs sends it: base64 DER key, signature over the email, Bearer token.
    let body = api::v1_json(&key.spki_der(), &key.sign(who.email.as_bytes()));
    let answer = api::post_raw(
        &server,
        "/api/v1/signingCert",
        Some(&token),
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "v1 status; body {}",
        answer.body
    );
    assert_eq!(
        answer.content_type, "application/pem-certificate-chain",
        "v1 content type"
    );
    assert_eq!(
        answer.body.trim(),
        answer.body,
        "v1 body is whitespace-trimmed"
    );
    let chain = split_pem_chain(&answer.body);
    check_profile(
        &chain,
        &Expected {
            san: San::Email(who.email.clone()),
            issuer: issuer.url(),
            subject: who.subject.clone(),
            spki_der: key.spki_der(),
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_v1_root_cert_and_v2_trust_bundle_agree_with_issued_chains() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;

    let root = api::get(&server, "/api/v1/rootCert").await;
    assert_eq!(
        root.status,
        StatusCode::OK,
        "v1 rootCert status; body {}",
        root.body
    );
    assert_eq!(
        root.content_type, "application/pem-certificate-chain",
        "v1 rootCert content type"
    );
    let v1_certs = split_pem_chain(&root.body);

    let bundle = api::get(&server, "/api/v2/trustBundle").await;
    assert_eq!(
        bundle.status,
        StatusCode::OK,
        "trustBundle status; body {}",
        bundle.body
    );
    let bundle = bundle.json();
    let chains = bundle["chains"].as_array().expect("chains array");
    assert_eq!(chains.len(), 1, "one CA chain: {bundle}");
    let bundle_certs: Vec<String> = chains[0]["certificates"]
        .as_array()
        .expect("certificates array")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        v1_certs,
        split_pem_chain(&bundle_certs.concat()),
        "v1 rootCert = the trust bundle's certificates"
    );

    let mut grpc = api::grpc_client(&server).await;
    let grpc_bundle = grpc
        .get_trust_bundle(fulcio_proto::v2::GetTrustBundleRequest {})
        .await
        .expect("gRPC GetTrustBundle")
        .into_inner();
    assert_eq!(grpc_bundle.chains.len(), 1, "one chain over gRPC");
    assert_eq!(
        grpc_bundle.chains[0].certificates, bundle_certs,
        "gRPC = HTTP trust bundle"
    );

    // An issued chain ends with exactly the bundle's certificates.
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("bundle@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let answer = api::http_v2(&server, &token, TokenIn::Body, &part).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "issuance; body {}",
        answer.body
    );
    let chain = chain_of_json(&answer.json());
    assert_eq!(
        split_pem_chain(&chain[1..].concat()),
        split_pem_chain(&bundle_certs.concat()),
        "issued chain after the leaf = trust bundle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_lists_the_configured_issuer() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let answer = api::get(&server, "/api/v2/configuration").await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "configuration status; body {}",
        answer.body
    );
    assert_eq!(
        answer.json(),
        serde_json::json!({"issuers": [{
            "issuerUrl": issuer.url(),
            "audience": "sigstore",
            "challengeClaim": "email",
            "spiffeTrustDomain": "",
            "issuerType": "email",
            "subjectDomain": "",
            "skipEmailVerification": false,
        }]}),
        "configuration body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_issued_certificates() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("metrics@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    issue_http(&server, &token, TokenIn::Body, &part).await;

    let metrics = reqwest::get(format!("{}/metrics", server.metrics_url()))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    let count = metrics
        .lines()
        .find_map(|l| l.strip_prefix("fulcio_new_certs "))
        .unwrap_or_else(|| panic!("fulcio_new_certs in the metrics:\n{metrics}"));
    assert_eq!(
        count.trim().parse::<f64>().ok(),
        Some(1.0),
        "one certificate counted"
    );
}
