//! The request variants real clients send (spec §1.2, §1.3, §2.2, clients.md) and the exact
//! answer shapes they parse: token precedence and `Authorization` without `Bearer`, raw
//! P1363 ECDSA proofs, PKCS#1 RSA keys, the legacy API with a CSR, and the JSON of an answer
//! without CT (detached form, empty SCT, trimmed PEMs).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::json;
use test_support::fake_issuer::FakeIssuer;

use crate::support::api::{self, KeyPart, Proof, TokenIn, issue_http, split_pem_chain};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::profile::{Expected, San, check_profile};
use crate::support::server::{FulcioServer, IssuerConfig};
use crate::support::tokens::Identity;

fn expected(issuer: &FakeIssuer, who: &Identity, key: &ClientKey) -> Expected {
    Expected {
        san: San::Email(who.email.clone()),
        issuer: issuer.url(),
        subject: who.subject.clone(),
        spki_der: key.spki_der(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_without_ct_is_the_detached_form_with_an_empty_sct_and_trimmed_pems() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("shape@example.com");
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let answer = api::http_v2(&server, &issuer.token(who.claims()), TokenIn::Body, &part).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "status; body {}",
        answer.body
    );
    let body = answer.json();
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        top,
        ["signedCertificateDetachedSct"],
        "one oneof member: {body}"
    );
    let detached = &body["signedCertificateDetachedSct"];
    let keys: Vec<&String> = detached.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["chain", "signedCertificateTimestamp"],
        "detached fields: {body}"
    );
    // EmitUnpopulated: the empty bytes field is present as "".
    assert_eq!(
        detached["signedCertificateTimestamp"], "",
        "empty SCT without CT: {body}"
    );
    let certs = api::chain_of_json(&body);
    for pem in &certs {
        assert_eq!(pem.trim(), pem, "signing-certificate PEMs are trimmed");
    }

    let bundle = api::get(&server, "/api/v2/trustBundle").await.json();
    for pem in bundle["chains"][0]["certificates"].as_array().unwrap() {
        assert!(
            pem.as_str().unwrap().ends_with("-----\n"),
            "trust-bundle PEMs keep the encoder's newline: {pem}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_precedence_and_authorization_without_bearer() {
    let issuer = FakeIssuer::start().await;
    let mut server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("precedence@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let body = |t: &str| serde_json::to_vec(&api::v2_json(Some(t), &part)).unwrap();
    let post = |bearer: Option<String>, body: Vec<u8>| {
        let server = &server;
        async move {
            let mut req = reqwest::Client::new()
                .post(format!("{}/api/v2/signingCert", server.http_url()))
                .header("content-type", "application/json")
                .body(body);
            if let Some(value) = bearer {
                req = req.header("authorization", value);
            }
            let resp = req.send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };

    // A non-empty body token wins over the header.
    let (status, text) = post(Some("Bearer garbage".into()), body(&token)).await;
    assert_eq!(status, StatusCode::OK, "body token wins: {text}");
    let (status, text) = post(Some(format!("Bearer {token}")), body("garbage")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "bad body token is not replaced: {text}"
    );
    // Without `Bearer `, the header value is passed on verbatim.
    let no_token = serde_json::to_vec(&api::v2_json(None, &part)).unwrap();
    let (status, text) = post(Some(token.clone()), no_token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "Authorization without Bearer: {text}"
    );
    server.assert_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1363_ecdsa_proofs_and_pkcs1_rsa_keys_are_accepted() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let who = Identity::new("encodings@example.com");
    let token = issuer.token(who.claims());

    for kind in [KeyKind::P256, KeyKind::P384, KeyKind::P521] {
        println!("case: {kind:?} with an r‖s proof");
        let key = ClientKey::generate(kind);
        let part = KeyPart::PublicKey {
            content: key.public_key_pem(),
            proof: key.sign_p1363(who.email.as_bytes()),
        };
        let chain = issue_http(&server, &token, TokenIn::Body, &part).await;
        check_profile(&chain, &expected(&issuer, &who, &key));
    }

    println!("case: RSA key as PEM RSA PUBLIC KEY");
    let key = ClientKey::generate(KeyKind::Rsa2048);
    let part = KeyPart::PublicKey {
        content: key.rsa_public_key_pkcs1_pem(),
        proof: key.sign(who.email.as_bytes()),
    };
    let chain = issue_http(&server, &token, TokenIn::Body, &part).await;
    check_profile(&chain, &expected(&issuer, &who, &key));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_v1_with_a_csr_and_with_a_pem_key() {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let who = Identity::new("legacy-csr@example.com");
    let token = issuer.token(who.claims());

    let key = ClientKey::generate(KeyKind::P384);
    let csr_body = json!({"certificateSigningRequest": STANDARD.encode(key.csr_pem())});
    let pem_body = json!({
        "publicKey": {"content": STANDARD.encode(key.public_key_pem()), "algorithm": "ecdsa"},
        "signedEmailAddress": STANDARD.encode(key.sign(who.email.as_bytes())),
    });
    for (name, body) in [("CSR", csr_body), ("PEM key", pem_body)] {
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
            "v1 {name}: {}",
            answer.body
        );
        check_profile(
            &split_pem_chain(&answer.body),
            &expected(&issuer, &who, &key),
        );
    }
}
