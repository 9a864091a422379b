//! Load shedding: with a bound of one in-flight certificate request and the first request held
//! inside the pipeline (by a stand-in CT log that waits for the test to open its gate; a real
//! log cannot be paused from a test), further certificate requests are refused at once —
//! HTTP 503 + `Retry-After: 1` with the gateway's JSON error, gRPC `Unavailable` — while
//! health, trust bundle and configuration still answer; once the first finishes, requests
//! succeed again.

use std::{sync::Arc, time::Duration};

use ct_core::{DigitallySigned, SignedCertificateTimestamp};
use fulcio_proto::v2;
use fulcio_server::{
    ListenAddress, RunningServer, Server,
    ct::{CtError, CtFuture, CtLog},
};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::fake_issuer::FakeIssuer;
use tokio::sync::{mpsc, watch};
use tonic::{Code, Request, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::support::ClientKey;

/// A CT log that reports each submission on `entered`, then waits until `open` is true.
#[derive(Debug)]
struct GateLog {
    entered: mpsc::UnboundedSender<()>,
    open: watch::Receiver<bool>,
}

impl CtLog for GateLog {
    fn add_pre_chain(&self, _chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        let _ = self.entered.send(());
        let mut open = self.open.clone();
        Box::pin(async move {
            open.wait_for(|open| *open)
                .await
                .map_err(|_| CtError("gate dropped".into()))?;
            Ok(SignedCertificateTimestamp {
                version: 0,
                log_id: [9; 32],
                timestamp: 1_700_000_000_000,
                extensions: Vec::new(),
                signature: DigitallySigned {
                    hash_algorithm: 4,
                    signature_algorithm: 3,
                    signature: vec![1, 2, 3],
                },
            })
        })
    }

    fn add_chain(&self, _chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(async { Err(CtError("add-chain is not expected".into())) })
    }
}

struct Gated {
    issuer: FakeIssuer,
    server: RunningServer,
    http: String,
    grpc: String,
    metrics: String,
    entered: mpsc::UnboundedReceiver<()>,
    open: watch::Sender<bool>,
}

/// A split-port server allowing one certificate request in flight, submitting to a [`GateLog`].
async fn start_gated() -> Gated {
    let issuer = FakeIssuer::start().await;
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let (open, open_rx) = watch::channel(false);
    let log: Arc<dyn CtLog> = Arc::new(GateLog {
        entered: entered_tx,
        open: open_rx,
    });
    let issuance = crate::support::issuance_for(&issuer, Some(log));
    let local = || ListenAddress::new("127.0.0.1", 0);
    let server = Server::builder(issuance)
        .split(local(), local())
        .metrics(Some(local()))
        .max_in_flight_requests(1)
        .bind()
        .await
        .unwrap();
    Gated {
        http: format!("http://{}", server.http_addr),
        grpc: format!("http://{}", server.grpc_addr),
        metrics: format!("http://{}", server.metrics_addr.unwrap()),
        issuer,
        server,
        entered,
        open,
    }
}

fn grpc_request(key: &ClientKey, email: &str) -> v2::CreateSigningCertificateRequest {
    v2::CreateSigningCertificateRequest {
        credentials: None,
        key: Some(
            v2::create_signing_certificate_request::Key::PublicKeyRequest(v2::PublicKeyRequest {
                public_key: Some(v2::PublicKey {
                    algorithm: v2::PublicKeyAlgorithm::Ecdsa as i32,
                    content: key.public_key_pem(),
                }),
                proof_of_possession: key.sign(email),
            }),
        ),
    }
}

async fn grpc_issue(
    url: &str,
    token: &str,
    key: &ClientKey,
    email: &str,
) -> Result<v2::SigningCertificate, tonic::Status> {
    let channel = Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = v2::ca_client::CaClient::new(channel);
    let mut request = Request::new(grpc_request(key, email));
    request
        .metadata_mut()
        .insert("oidcidentitytoken", token.parse().unwrap());
    client
        .create_signing_certificate(request)
        .await
        .map(tonic::Response::into_inner)
}

async fn http_issue(http: &str, token: &str, key: &ClientKey, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{http}/api/v2/signingCert"))
        .json(&key.v2_body(Some(token), email))
        .send()
        .await
        .unwrap()
}

async fn shed_count(metrics: &str) -> f64 {
    let text = reqwest::get(format!("{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("fulcio_shed_requests_total "))
        .unwrap_or_else(|| panic!("no fulcio_shed_requests_total in:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

/// While the one permit is held, every certificate API refuses and the rest still answers.
async fn assert_shed_while_held(gated: &Gated) {
    let key = ClientKey::p256();
    let token = gated.issuer.email_token("second@example.com");
    let before = shed_count(&gated.metrics).await;

    let response = http_issue(&gated.http, &token, &key, "second@example.com").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 14, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("overloaded"),
        "{body}"
    );

    let legacy = reqwest::Client::new()
        .post(format!("{}/api/v1/signingCert", gated.http))
        .bearer_auth(&token)
        .json(&serde_json::json!({"publicKey": {"content": "", "algorithm": "ecdsa"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(legacy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(legacy.headers()["retry-after"], "1");

    let status = grpc_issue(&gated.grpc, &token, &key, "second@example.com")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("overloaded"), "{status:?}");

    // Never shed: health, trust bundle, configuration, gRPC health.
    for path in ["/healthz", "/api/v2/trustBundle", "/api/v2/configuration"] {
        let response = reqwest::get(format!("{}{path}", gated.http)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let channel = Channel::from_shared(gated.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    assert_eq!(shed_count(&gated.metrics).await - before, 3.0);
}

/// Spawns `first` with a fresh key and a token for `first@example.com`, and returns once its
/// request is held at the gate (holding the one permit).
async fn hold_first_request<F>(
    gated: &mut Gated,
    first: impl FnOnce(String, ClientKey) -> F,
) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let key = ClientKey::p256();
    let token = gated.issuer.email_token("first@example.com");
    let handle = tokio::spawn(first(token, key));
    gated.entered.recv().await.unwrap();
    handle
}

/// Checks shedding while the permit is held, then opens the gate.
async fn assert_shed_then_open(gated: &Gated) {
    // A bound that did not hold would park these requests at the gate: fail instead of hanging.
    tokio::time::timeout(Duration::from_secs(60), assert_shed_while_held(gated))
        .await
        .expect("requests were queued behind the held one instead of being shed");
    gated.open.send(true).unwrap();
}

/// With the permit back, HTTP issues for `third@example.com`; returns the key and token used.
async fn assert_http_issues_again(gated: &Gated) -> (ClientKey, String) {
    let key = ClientKey::p256();
    let token = gated.issuer.email_token("third@example.com");
    let response = http_issue(&gated.http, &token, &key, "third@example.com").await;
    assert_eq!(response.status(), StatusCode::OK);
    (key, token)
}

#[tokio::test]
async fn http_request_in_flight_sheds_the_rest_until_it_finishes() {
    let mut gated = start_gated().await;
    let http = gated.http.clone();
    let first = hold_first_request(&mut gated, |token, key| async move {
        let response = http_issue(&http, &token, &key, "first@example.com").await;
        (response.status(), response.text().await.unwrap())
    })
    .await;

    assert_shed_then_open(&gated).await;
    let (status, body) = first.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");

    // The permit is back: both transports issue again.
    let (key, token) = assert_http_issues_again(&gated).await;
    grpc_issue(&gated.grpc, &token, &key, "third@example.com")
        .await
        .unwrap();
    gated.server.shutdown().await;
}

#[tokio::test]
async fn grpc_request_in_flight_holds_the_permit_shared_with_http() {
    let mut gated = start_gated().await;
    let grpc = gated.grpc.clone();
    let first = hold_first_request(&mut gated, |token, key| async move {
        grpc_issue(&grpc, &token, &key, "first@example.com").await
    })
    .await;

    assert_shed_then_open(&gated).await;
    first.await.unwrap().unwrap();
    assert_http_issues_again(&gated).await;
    gated.server.shutdown().await;
}
