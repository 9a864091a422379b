//! Bad input: each case gets upstream's status and exact message (spec §1.4) over HTTP
//! (`{"code":3,"message":…,"details":[]}`, 400) and over gRPC (InvalidArgument), and the server
//! keeps serving afterwards.

use serde_json::json;
use test_support::fake_issuer::{FakeIssuer, SigningAlg};

use crate::support::api::{
    self, KeyPart, Proof, TokenIn, assert_grpc_invalid_argument, assert_invalid_argument,
};
use crate::support::keys::{ClientKey, KeyKind, corrupt_csr_signature, openssl_public_key_pem};
use crate::support::server::{FulcioServer, IssuerConfig};
use crate::support::tokens::{self, Identity, now, with};

const BAD_TOKEN: &str = "There was an error processing the identity token";
const BAD_CSR: &str = "The certificate signing request could not be parsed";
const BAD_KEY: &str = "The public key supplied in the request could not be parsed";
const INSECURE_KEY: &str = "The public key supplied in the request is insecure";
const BAD_SIGNATURE: &str = "The signature supplied in the request could not be verified";

/// A fake issuer (RS256) and a server trusting it.
async fn setup() -> (FakeIssuer, FulcioServer) {
    setup_with_args(&[]).await
}

async fn setup_with_args(args: &[&str]) -> (FakeIssuer, FulcioServer) {
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start_with_args(&[IssuerConfig::email(issuer.url())], args).await;
    (issuer, server)
}

/// Sends the request over HTTP v2 (token in the body, then in the header) and gRPC, expects
/// InvalidArgument with `message` each time, then checks the server still serves.
async fn assert_rejected(server: &mut FulcioServer, token: &str, key: &KeyPart, message: &str) {
    for token_in in [TokenIn::Body, TokenIn::Header] {
        let answer = api::http_v2(server, token, token_in, key).await;
        println!(
            "HTTP, token in {token_in:?}: {} {}",
            answer.status, answer.body
        );
        assert_invalid_argument(&answer, message);
    }
    let result = api::grpc_v2(server, token, TokenIn::Body, key).await;
    println!("gRPC: {result:?}");
    assert_grpc_invalid_argument(result, message);
    server.assert_serving().await;
}

/// A correct proof for `who` with a fresh P-256 key: whatever fails, fails for the token.
fn good_proof(who: &Identity) -> KeyPart {
    KeyPart::for_key(
        &ClientKey::generate(KeyKind::P256),
        Proof::PublicKey,
        &who.email,
    )
}

// --- Step 1: the identity token -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_token() {
    let (_issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    for token in ["garbage", "a.b.c", "e30.e30.e30", ""] {
        println!("token {token:?}");
        assert_rejected(&mut server, token, &good_proof(&who), BAD_TOKEN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_alg_none_token() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = tokens::alg_none(&issuer, who.claims());
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_token_keyed_with_the_issuers_public_key() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = tokens::hs256_with_public_key(&issuer, SigningAlg::RS256, who.claims());
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_with_tampered_claims() {
    let (issuer, mut server) = setup().await;
    let victim = Identity::new("victim@example.com");
    let attacker = Identity::new("attacker@example.com");
    let genuine = issuer.token(attacker.claims());
    let forged = tokens::tamper(&genuine, |claims| {
        claims["email"] = json!(victim.email);
        claims["sub"] = json!(victim.subject);
    });
    assert_rejected(&mut server, &forged, &good_proof(&victim), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_for_another_audience() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(with(who.claims(), json!({"aud": "not-sigstore"})));
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(with(
        who.claims(),
        json!({"iat": now() - 7200, "exp": now() - 3600}),
    ));
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_not_valid_before_a_future_time() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(with(
        who.claims(),
        json!({"nbf": now() + 3600, "exp": now() + 7200}),
    ));
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_from_an_unconfigured_issuer() {
    let (_issuer, mut server) = setup().await;
    let stranger = FakeIssuer::start().await;
    let who = Identity::new("a@example.com");
    let token = stranger.token(who.claims());
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_naming_an_unknown_key() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token_with(
        SigningAlg::RS256,
        json!({"kid": "no-such-key"}),
        who.claims(),
    );
    assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_with_an_unverified_email() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    for verified in [json!(false), json!("false"), json!(null)] {
        println!("email_verified {verified}");
        let token = issuer.token(with(who.claims(), json!({"email_verified": verified})));
        assert_rejected(&mut server, &token, &good_proof(&who), BAD_TOKEN).await;
    }
}

// --- Step 2: proof of possession and the client key ----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_over_the_wrong_value() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    let key = ClientKey::generate(KeyKind::P256);
    // The subject instead of the email, then someone else's email.
    for challenge in [who.subject.as_str(), "b@example.com"] {
        println!("signed {challenge:?}");
        let part = KeyPart::for_key(&key, Proof::PublicKey, challenge);
        assert_rejected(&mut server, &token, &part, BAD_SIGNATURE).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_made_by_another_key() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    for kind in [KeyKind::P256, KeyKind::Ed25519] {
        println!("key {kind:?}");
        let claimed = ClientKey::generate(kind);
        let signer = ClientKey::generate(kind);
        let part = KeyPart::PublicKey {
            content: claimed.public_key_pem(),
            proof: signer.sign(who.email.as_bytes()),
        };
        assert_rejected(&mut server, &token, &part, BAD_SIGNATURE).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1024_key_is_insecure() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    let pem = openssl_public_key_pem(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]);
    // The key is refused before the proof is looked at.
    let part = KeyPart::PublicKey {
        content: pem,
        proof: vec![1; 128],
    };
    assert_rejected(&mut server, &token, &part, INSECURE_KEY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p224_key_is_insecure() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    let pem = openssl_public_key_pem(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"]);
    let part = KeyPart::PublicKey {
        content: pem,
        proof: vec![1; 64],
    };
    assert_rejected(&mut server, &token, &part, INSECURE_KEY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparseable_public_key() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    let good = ClientKey::generate(KeyKind::P256);
    let truncated = {
        let pem = good.public_key_pem();
        let der = pem::parse(&pem).unwrap().into_contents();
        pem::encode(&pem::Pem::new("PUBLIC KEY", der[..der.len() / 2].to_vec()))
    };
    for content in [String::new(), "not a key".to_owned(), truncated] {
        println!("key content {content:?}");
        let part = KeyPart::PublicKey {
            content,
            proof: good.sign(who.email.as_bytes()),
        };
        assert_rejected(&mut server, &token, &part, BAD_KEY).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_csr() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    let csr_der = pem::parse(ClientKey::generate(KeyKind::P256).csr_pem())
        .unwrap()
        .into_contents();
    let cases: Vec<Vec<u8>> = vec![
        b"not a csr".to_vec(),
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", b"garbage".to_vec())).into_bytes(),
        // A well-formed CSR as DER: Fulcio takes PEM only.
        csr_der,
    ];
    for csr in cases {
        println!("CSR {:?}", String::from_utf8_lossy(&csr));
        assert_rejected(&mut server, &token, &KeyPart::Csr(csr), BAD_CSR).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csr_with_a_bad_signature() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    for kind in [KeyKind::P256, KeyKind::Ed25519, KeyKind::Rsa2048] {
        println!("key {kind:?}");
        let csr = corrupt_csr_signature(&ClientKey::generate(kind).csr_pem());
        assert_rejected(
            &mut server,
            &token,
            &KeyPart::Csr(csr.into_bytes()),
            BAD_SIGNATURE,
        )
        .await;
    }
}

// --- Step 3: the algorithm registry --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn algorithm_outside_the_registry() {
    let (issuer, mut server) =
        setup_with_args(&["--client-signing-algorithms", "ecdsa-sha2-256-nistp256"]).await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    // Go's `%T` of the key and `%s` of the crypto.Hash (0 for pure Ed25519).
    let cases = [
        (
            KeyKind::Ed25519,
            "signing algorithm not permitted: ed25519.PublicKey, unknown hash value 0",
        ),
        (
            KeyKind::P384,
            "signing algorithm not permitted: *ecdsa.PublicKey, SHA-384",
        ),
        (
            KeyKind::Rsa2048,
            "signing algorithm not permitted: *rsa.PublicKey, SHA-256",
        ),
    ];
    for (kind, message) in cases {
        let key = ClientKey::generate(kind);
        for proof in [Proof::PublicKey, Proof::Csr] {
            println!("key {kind:?} by {proof:?}");
            let part = KeyPart::for_key(&key, proof, &who.email);
            assert_rejected(&mut server, &token, &part, message).await;
        }
    }
    // The one permitted algorithm still works.
    let key = ClientKey::generate(KeyKind::P256);
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    api::issue_http(&server, &token, TokenIn::Body, &part).await;
}

// --- Bodies the gateway cannot decode ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_4_mib() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());
    // A valid request padded with an unknown field (ignored if it were small enough).
    let mut body = api::v2_json(Some(&token), &good_proof(&who));
    body["padding"] = json!("x".repeat(4 * 1024 * 1024));
    let answer = api::post_raw(
        &server,
        "/api/v2/signingCert",
        None,
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    // grpc-gateway decodes through http.MaxBytesReader (4 MiB): Go's error text.
    assert_invalid_argument(&answer, "http: request body too large");
    server.assert_serving().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_a_request_message() {
    let (issuer, mut server) = setup().await;
    let who = Identity::new("a@example.com");
    let token = issuer.token(who.claims());

    // Not JSON at all: encoding/json's message, passed through by grpc-gateway.
    let answer = api::post_raw(
        &server,
        "/api/v2/signingCert",
        Some(&token),
        "application/json",
        b"garbage".to_vec(),
    )
    .await;
    assert_invalid_argument(
        &answer,
        "invalid character 'g' looking for beginning of value",
    );

    // JSON of the wrong shape, binary, and bad base64 in a bytes field: 400 with code 3 (the
    // message is protojson's wording, which varies).
    let bad_base64 = json!({"certificateSigningRequest": "%%% not base64 %%%"}).to_string();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("array", b"[]".to_vec()),
        ("string", b"\"text\"".to_vec()),
        (
            "message field as a number",
            br#"{"credentials": 5}"#.to_vec(),
        ),
        ("binary", vec![0xff, 0xfe, 0x00, 0x01]),
        ("bad base64", bad_base64.into_bytes()),
    ];
    for (name, body) in cases {
        let answer = api::post_raw(
            &server,
            "/api/v2/signingCert",
            Some(&token),
            "application/json",
            body,
        )
        .await;
        println!("{name}: {} {}", answer.status, answer.body);
        assert_eq!(
            answer.status,
            reqwest::StatusCode::BAD_REQUEST,
            "{name}: status"
        );
        let status = answer.json();
        assert_eq!(status["code"], 3, "{name}: InvalidArgument in {status}");
        assert!(
            status["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}: message"
        );
        assert_eq!(status["details"], json!([]), "{name}: details");
    }

    // An empty body is an empty request (io.EOF is ignored): no token, so step 1 fails.
    let answer = api::post_raw(
        &server,
        "/api/v2/signingCert",
        None,
        "application/json",
        Vec::new(),
    )
    .await;
    assert_invalid_argument(&answer, BAD_TOKEN);

    // Legacy v1: a body that is not JSON.
    let answer = api::post_raw(
        &server,
        "/api/v1/signingCert",
        Some(&token),
        "application/json",
        b"garbage".to_vec(),
    )
    .await;
    assert_invalid_argument(
        &answer,
        "invalid character 'g' looking for beginning of value",
    );
    server.assert_serving().await;
}
