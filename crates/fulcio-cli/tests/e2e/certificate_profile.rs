//! The certificate profile for tokens from a real OpenID provider (npm `oidc-provider`, driven
//! through its authorization-code + PKCE flow and its device flow) and for every JWS algorithm
//! of the fake issuer.

use test_support::fake_issuer::{FakeIssuer, SigningAlg};
use test_support::oidc_provider::{IdTokenAlg, OidcProvider};

use reqwest::StatusCode;

use crate::support::api::{self, KeyPart, Proof, TokenIn, issue_grpc, issue_http};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::profile::{Expected, San, check_profile};
use crate::support::server::{FulcioServer, IssuerConfig};
use crate::support::tokens::Identity;

/// Gets a token from a real provider signing with `alg` and a certificate for it by `proof`.
async fn real_provider_certificate(alg: IdTokenAlg, kind: KeyKind, proof: Proof, grpc: bool) {
    let provider = OidcProvider::start_with_alg(alg).await;
    let server = FulcioServer::start(&[IssuerConfig::email(provider.issuer())]).await;
    let email = "alice@example.com";
    let token = provider.id_token(email).await;
    let key = ClientKey::generate(kind);
    let part = KeyPart::for_key(&key, proof, email);
    let chain = if grpc {
        issue_grpc(&server, &token, TokenIn::Header, &part).await
    } else {
        issue_http(&server, &token, TokenIn::Header, &part).await
    };
    // The provider makes the login hint the account id, so `sub` is the email too.
    check_profile(
        &chain,
        &Expected {
            san: San::Email(email.to_owned()),
            issuer: provider.issuer(),
            subject: email.to_owned(),
            spki_der: key.spki_der(),
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_provider_es256_token_over_http_with_a_signed_challenge() {
    real_provider_certificate(IdTokenAlg::Es256, KeyKind::P256, Proof::PublicKey, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_provider_rs256_token_over_grpc_with_a_csr() {
    real_provider_certificate(IdTokenAlg::Rs256, KeyKind::P384, Proof::Csr, true).await;
}

// The device authorization grant (what a CLI on a headless machine uses), with the token
// presented to the legacy v1 API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_provider_device_flow_token_over_legacy_v1() {
    let provider = OidcProvider::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(provider.issuer())]).await;
    let email = "device@example.com";
    let token = provider.device_id_token(email).await;
    let key = ClientKey::generate(KeyKind::P256);
    let body = api::v1_json(&key.spki_der(), &key.sign(email.as_bytes()));
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
    check_profile(
        &api::split_pem_chain(&answer.body),
        &Expected {
            san: San::Email(email.to_owned()),
            issuer: provider.issuer(),
            subject: email.to_owned(),
            spki_der: key.spki_der(),
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_signed_with_every_jws_algorithm_are_accepted() {
    let issuer = FakeIssuer::start_with(&SigningAlg::ALL).await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("algs@example.com");
    let expected = Expected {
        san: San::Email(who.email.clone()),
        issuer: issuer.url(),
        subject: who.subject.clone(),
        spki_der: key.spki_der(),
    };
    for alg in SigningAlg::ALL {
        println!("case: token signed with {}", alg.name());
        let token = issuer.token_with(alg, serde_json::json!({}), who.claims());
        let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
        let chain = issue_http(&server, &token, TokenIn::Body, &part).await;
        check_profile(&chain, &expected);
    }
}
