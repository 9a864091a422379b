//! The HTTP/JSON gateway: bodies, token transport, errors, limits, CORS, legacy framing.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{ClientKey, TestServer, b64, leaf_email};

async fn post_json(url: &str, body: &Value, bearer: Option<&str>) -> reqwest::Response {
    let mut request = Client::new().post(url).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn assert_no_grpc_headers(response: &reqwest::Response) {
    for name in response.headers().keys() {
        assert!(
            !name.as_str().to_ascii_lowercase().starts_with("grpc-"),
            "leaked header {name}"
        );
    }
}

#[tokio::test]
async fn v2_issues_detached_certificate_with_body_token() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("alice@example.com");
    let response = post_json(
        &format!("{}/api/v2/signingCert", server.http),
        &key.v2_body(Some(&token), "alice@example.com"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_no_grpc_headers(&response);
    let body: Value = response.json().await.unwrap();
    let detached = &body["signedCertificateDetachedSct"];
    // CT is disabled: the SCT field is emitted, empty (EmitUnpopulated).
    assert_eq!(detached["signedCertificateTimestamp"], "");
    let chain = detached["chain"]["certificates"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "leaf and ephemeral root");
    let leaf = chain[0].as_str().unwrap();
    assert!(!leaf.ends_with('\n'), "response PEMs are trimmed");
    assert_eq!(leaf_email(leaf), "alice@example.com");
}

#[tokio::test]
async fn v2_takes_token_from_authorization_header() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("bob@example.com");
    let response = post_json(
        &format!("{}/api/v2/signingCert", server.http),
        &key.v2_body(None, "bob@example.com"),
        Some(&token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let leaf = body["signedCertificateDetachedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap();
    assert_eq!(leaf_email(leaf), "bob@example.com");
}

#[tokio::test]
async fn v2_body_token_wins_over_header() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let good = server.issuer.email_token("carol@example.com");
    let response = post_json(
        &format!("{}/api/v2/signingCert", server.http),
        &key.v2_body(Some(&good), "carol@example.com"),
        Some("not-a-token"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_token_gives_gateway_error_json() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let response = post_json(
        &format!("{}/api/v2/signingCert", server.http),
        &key.v2_body(Some("a.b.c"), "x@example.com"),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_no_grpc_headers(&response);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"code":3,"message":"There was an error processing the identity token","details":[]}"#
    );
}

#[tokio::test]
async fn wrong_proof_is_refused_with_upstream_message() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("dave@example.com");
    // Signed over another value than the email.
    let body = key.v2_body(Some(&token), "someone-else@example.com");
    let response = post_json(&format!("{}/api/v2/signingCert", server.http), &body, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error,
        json!({"code": 3, "message": "The signature supplied in the request could not be verified", "details": []})
    );
}

#[tokio::test]
async fn non_json_body_is_invalid_argument() {
    let server = TestServer::start().await;
    let response = Client::new()
        .post(format!("{}/api/v2/signingCert", server.http))
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], 3);
    assert_eq!(
        error["message"],
        "invalid character 'h' looking for beginning of value"
    );
}

#[tokio::test]
async fn body_over_four_mib_is_refused() {
    let server = TestServer::start().await;
    let url = format!("{}/api/v2/signingCert", server.http);
    // A JSON string that pushes the body one byte over the cap.
    let overhead = r#"{"x":""}"#.len();
    let big = format!(r#"{{"x":"{}"}}"#, "a".repeat((4 << 20) + 1 - overhead));
    assert_eq!(big.len(), (4 << 20) + 1);
    let response = Client::new().post(&url).body(big).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error,
        json!({"code": 3, "message": "http: request body too large", "details": []})
    );

    // Exactly at the cap the body is read (and then fails for the missing token instead).
    let at_cap = format!(r#"{{"x":"{}"}}"#, "a".repeat((4 << 20) - overhead));
    let response = Client::new().post(&url).body(at_cap).send().await.unwrap();
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["message"],
        "There was an error processing the identity token"
    );
}

#[tokio::test]
async fn cors_allows_any_origin() {
    let server = TestServer::start().await;
    let response = Client::new()
        .get(format!("{}/api/v2/trustBundle", server.http))
        .header("Origin", "http://example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    let preflight = Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v2/signingCert", server.http),
        )
        .header("Origin", "http://example.com")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-methods"], "POST");
}

#[tokio::test]
async fn healthz_answers_serving_for_any_service() {
    let server = TestServer::start().await;
    for url in [
        format!("{}/healthz", server.http),
        format!("{}/healthz?service=anything", server.http),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.text().await.unwrap(), "{\"status\":\"SERVING\"}\n");
    }
}

#[tokio::test]
async fn routing_errors_match_the_gateway() {
    let server = TestServer::start().await;
    let response = reqwest::get(format!("{}/api/v2/nothing", server.http))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"code":5,"message":"Not Found","details":[]}"#
    );

    let response = reqwest::get(format!("{}/api/v2/signingCert", server.http))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"code":12,"message":"Method Not Allowed","details":[]}"#
    );
}

#[tokio::test]
async fn trust_bundle_and_configuration_json() {
    let server = TestServer::start().await;
    let bundle: Value = reqwest::get(format!("{}/api/v2/trustBundle", server.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chains = bundle["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1);
    let root = chains[0]["certificates"][0].as_str().unwrap();
    assert!(
        root.starts_with("-----BEGIN CERTIFICATE-----\n")
            && root.ends_with("-----END CERTIFICATE-----\n")
    );

    let configuration: Value = reqwest::get(format!("{}/api/v2/configuration", server.http))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        configuration,
        json!({"issuers": [{
            "issuerUrl": server.issuer.url(),
            "audience": "sigstore",
            "challengeClaim": "email",
            "spiffeTrustDomain": "",
            "issuerType": "email",
            "subjectDomain": "",
            "skipEmailVerification": false,
        }]})
    );
}

#[tokio::test]
async fn legacy_v1_answers_201_with_pem_chain() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("erin@example.com");
    let der = pem::parse(key.public_key_pem()).unwrap().into_contents();
    let body = json!({
        "publicKey": {"content": b64(&der), "algorithm": "ecdsa"},
        "signedEmailAddress": b64(&key.sign("erin@example.com")),
    });
    let response = post_json(
        &format!("{}/api/v1/signingCert", server.http),
        &body,
        Some(&token),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["content-type"],
        "application/pem-certificate-chain"
    );
    assert!(
        response.headers().get("sct").is_none(),
        "no SCT header without a detached SCT"
    );
    assert_no_grpc_headers(&response);
    let text = response.text().await.unwrap();
    assert!(!text.ends_with('\n'));
    let certs = pem::parse_many(&text).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(leaf_email(&pem::encode(&certs[0])), "erin@example.com");

    let root = reqwest::get(format!("{}/api/v1/rootCert", server.http))
        .await
        .unwrap();
    assert_eq!(root.status(), StatusCode::OK);
    assert_eq!(
        root.headers()["content-type"],
        "application/pem-certificate-chain"
    );
    let root_text = root.text().await.unwrap();
    assert_eq!(
        pem::parse_many(&root_text).unwrap()[0].contents(),
        certs[1].contents()
    );
}

#[tokio::test]
async fn legacy_v1_without_key_is_refused_before_the_token() {
    let server = TestServer::start().await;
    let response = post_json(
        &format!("{}/api/v1/signingCert", server.http),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["message"],
        "The public key supplied in the request could not be parsed"
    );
}
