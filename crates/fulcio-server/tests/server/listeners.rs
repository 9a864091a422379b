//! Listener layouts and lifecycle.

use fulcio_proto::v2;
use reqwest::StatusCode;
use serde_json::Value;
use tonic::transport::Channel;

use crate::support::{ClientKey, Mode, TestServer, leaf_email};

#[tokio::test]
async fn duplex_serves_http_and_grpc_on_one_port() {
    let server = TestServer::start_in(Mode::Duplex).await;
    assert_eq!(server.http, server.grpc);
    let key = ClientKey::p256();

    let token = server.issuer.email_token("duplex@example.com");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", server.http))
        .bearer_auth(&token)
        .json(&key.v2_body(None, "duplex@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["signedCertificateDetachedSct"].is_object());

    let channel = Channel::from_shared(server.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = v2::ca_client::CaClient::new(channel);
    let bundle = client
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bundle.chains.len(), 1);

    let health = reqwest::get(format!("{}/healthz", server.http))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let _ = leaf_email; // issuance over HTTP is checked in http_api
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let mut server = TestServer::start().await;
    let url = format!("{}/healthz", server.http);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::OK);
    server.stop().await;
    // A fresh client, so no pooled connection survives.
    let result = reqwest::Client::new().get(&url).send().await;
    assert!(
        result.is_err(),
        "server still answering after shutdown: {result:?}"
    );
}

#[tokio::test]
async fn startup_line_names_bound_addresses() {
    let server = TestServer::start().await;
    let running = server.server.as_ref().unwrap();
    let line = running.startup_line();
    assert_eq!(
        line,
        format!(
            "fulcio: serving HTTP on {}, gRPC on {}, metrics on {}",
            running.http_addr,
            running.grpc_addr,
            running.metrics_addr.unwrap()
        )
    );
    assert!(!line.contains(":0,"), "real ports, not 0: {line}");
}
