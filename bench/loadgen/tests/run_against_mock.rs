//! Runs the `fulcio-loadgen` binary against a mock signingCert endpoint on 127.0.0.1 that
//! checks each proof of possession, and reads the JSON report. The mock stands in for a real
//! server so the client side (requests, counting, error kinds, report) is tested on its own.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use axum::{Json, Router, http::StatusCode, routing::get, routing::post};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde_json::{Value, json};

const EMAIL: &str = "mock@example.com";

fn token() -> String {
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"s","email":"{EMAIL}"}}"#))
    )
}

/// Accepts a request whose PoP verifies over the email; fails every fifth with Fulcio's
/// token error, to exercise error counting.
async fn signing_cert(
    counter: Arc<AtomicU64>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    if n % 5 == 4 {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 3, "message": "There was an error processing the identity token", "details": []}),
            ),
        );
    }
    let pem = body["publicKeyRequest"]["publicKey"]["content"]
        .as_str()
        .unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let spki = STANDARD.decode(b64).unwrap();
    let proof = STANDARD
        .decode(
            body["publicKeyRequest"]["proofOfPossession"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let verified = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki[spki.len() - 65..])
        .verify(EMAIL.as_bytes(), &proof)
        .is_ok();
    if !verified {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 3, "message": "The signature supplied in the request could not be verified"}),
            ),
        );
    }
    (
        StatusCode::OK,
        Json(
            json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["leaf", "root"]}}}),
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_certificates_and_errors_by_kind() {
    let counter = Arc::new(AtomicU64::new(0));
    let handler_counter = counter.clone();
    let app = Router::new()
        .route("/healthz", get(|| async { "{\"status\":\"SERVING\"}" }))
        .route(
            "/api/v2/signingCert",
            post(move |body| signing_cert(handler_counter.clone(), body)),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_fulcio-loadgen"))
            .args(["run", "--url", &url, "--token", &token()])
            .args(["--concurrency", "1,3", "--requests", "20", "--warmup", "0s"])
            .args([
                "--no-limit",
                "--json",
                "--server-pid",
                &std::process::id().to_string(),
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ct_embedded"], true);
    assert_eq!(report["token_alg"], "ES256");
    let levels = report["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    for level in levels {
        assert_eq!(level["certificates"], 16, "{level}");
        assert_eq!(level["errors"], 4, "{level}");
        assert_eq!(
            level["error_kinds"]["HTTP 400: There was an error processing the identity token"],
            4
        );
        assert!(level["p50_ms"].as_f64().unwrap() <= level["max_ms"].as_f64().unwrap());
        // This test process plays the server, so /proc figures are present.
        assert!(level["server_cpu_seconds"].is_number());
        assert!(level["server_peak_rss_mib"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(counter.load(Ordering::Relaxed), 40);
}

#[test]
fn missing_token_is_a_usage_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fulcio-loadgen"))
        .args(["run", "--url", "http://127.0.0.1:9", "--no-limit"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no token"));
}
