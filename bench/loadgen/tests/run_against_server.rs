//! Runs the `fulcio-loadgen` binary against a real fulcio server in this process (ephemeral
//! CA, the in-process fake OIDC issuer, CT off or a stand-in log), over gRPC and HTTP, and
//! reads its JSON report: certificates counted per level, and requests the server sheds for
//! overload counted as the `shed` error kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, sync::Arc, time::Duration};

use ct_core::{DigitallySigned, SignedCertificateTimestamp};
use fulcio_server::{
    Issuance, ListenAddress, RunningServer, Server,
    ct::{CtError, CtFuture, CtLog},
};
use oidc::{FulcioConfig, IssuerType, OidcIssuer, TokenVerifier, VerifierOptions};
use serde_json::Value;
use test_support::fake_issuer::FakeIssuer;
use tokio::sync::watch;

const EMAIL: &str = "loadgen-test@example.com";

/// A CT log that holds every submission until `open` is true, so the test can keep one
/// request in flight (a real log cannot be paused from outside).
#[derive(Debug)]
struct GateLog {
    open: watch::Receiver<bool>,
}

impl CtLog for GateLog {
    fn add_pre_chain(&self, _chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        let mut open = self.open.clone();
        Box::pin(async move {
            open.wait_for(|open| *open)
                .await
                .map_err(|_| CtError("gate dropped".into()))?;
            Ok(SignedCertificateTimestamp {
                version: 0,
                log_id: [5; 32],
                timestamp: 1_700_000_000_000,
                extensions: Vec::new(),
                signature: DigitallySigned {
                    hash_algorithm: 4,
                    signature_algorithm: 3,
                    signature: vec![1],
                },
            })
        })
    }

    fn add_chain(&self, _chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(async { Err(CtError("add-chain is not expected".into())) })
    }
}

async fn start(
    issuer: &FakeIssuer,
    ct: Option<Arc<dyn CtLog>>,
    max_in_flight: usize,
) -> RunningServer {
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
    let local = || ListenAddress::new("127.0.0.1", 0);
    Server::builder(Arc::new(Issuance::new(verifier, ca, registry, ct)))
        .split(local(), local())
        .metrics(Some(local()))
        .max_in_flight_requests(max_in_flight)
        .bind()
        .await
        .unwrap()
}

/// Runs the binary with `args` plus the token, no warm-up and no crypto limit; returns the
/// report from stdout after checking the `--json-out` file says the same.
async fn loadgen(token: &str, args: &[&str], json_out: &Path) -> Value {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fulcio-loadgen"));
    command
        .args([
            "run",
            "--token",
            token,
            "--warmup",
            "0s",
            "--no-limit",
            "--json",
        ])
        .arg("--json-out")
        .arg(json_out)
        .args(args);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(json_out).unwrap()).unwrap();
    assert_eq!(written, report);
    report
}

async fn shed_total(metrics: &str) -> f64 {
    let text = reqwest::get(format!("{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("fulcio_shed_requests_total "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_run_issues_real_certificates() {
    let issuer = FakeIssuer::start().await;
    let server = start(&issuer, None, 4096).await;
    let dir = tempfile::tempdir().unwrap();
    let grpc = format!("http://{}", server.grpc_addr);
    let token = issuer.email_token(EMAIL);
    let report = loadgen(
        &token,
        &["--grpc", &grpc, "--concurrency", "1,3", "--requests", "12"],
        &dir.path().join("grpc.json"),
    )
    .await;
    assert_eq!(report["transport"], "grpc");
    assert_eq!(report["url"], grpc);
    let levels = report["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    for (level, concurrency) in levels.iter().zip([1, 3]) {
        assert_eq!(level["concurrency"], concurrency);
        assert_eq!(level["certificates"], 12, "{level}");
        assert_eq!(level["errors"], 0, "{level}");
        assert_eq!(level["shed"], 0, "{level}");
        // CT is off: the server answers with a detached (empty) SCT.
        assert_eq!(level["detached_sct"], 12, "{level}");
        assert!(level["p50_ms"].as_f64().unwrap() <= level["max_ms"].as_f64().unwrap());
    }

    // The CSR form goes through gRPC too.
    let report = loadgen(
        &token,
        &[
            "--grpc",
            &grpc,
            "--csr",
            "--concurrency",
            "2",
            "--requests",
            "4",
        ],
        &dir.path().join("csr.json"),
    )
    .await;
    assert_eq!(report["levels"][0]["certificates"], 4);
    server.shutdown().await;
}

/// With a bound of one and the first request held at the CT log, every other request of the
/// run is shed; the gate opens once the server has counted them, and the held one succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn shed_requests_are_their_own_error_kind_over_both_transports() {
    let issuer = FakeIssuer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = issuer.email_token(EMAIL);
    for transport in ["grpc", "http"] {
        let (open, open_rx) = watch::channel(false);
        let server = start(&issuer, Some(Arc::new(GateLog { open: open_rx })), 1).await;
        let metrics = format!("http://{}", server.metrics_addr.unwrap());
        let before = shed_total(&metrics).await;
        let url = match transport {
            "grpc" => ["--grpc".to_owned(), format!("http://{}", server.grpc_addr)],
            _ => ["--url".to_owned(), format!("http://{}", server.http_addr)],
        };
        let out = dir.path().join(format!("{transport}.json"));
        let run = {
            let (token, url, out) = (token.clone(), url.clone(), out.clone());
            tokio::spawn(async move {
                let args = [
                    url[0].as_str(),
                    &url[1],
                    "--concurrency",
                    "2",
                    "--requests",
                    "10",
                ];
                loadgen(&token, &args, &out).await
            })
        };
        // Nine of the ten requests find the permit taken; then let the held one finish.
        let waited = tokio::time::timeout(Duration::from_secs(60), async {
            while shed_total(&metrics).await - before < 9.0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        open.send(true).unwrap();
        waited.expect("the server never shed nine requests");
        let report = run.await.unwrap();
        let level = &report["levels"][0];
        assert_eq!(report["transport"], transport);
        assert_eq!(level["certificates"], 1, "{transport}: {level}");
        assert_eq!(level["errors"], 9, "{transport}: {level}");
        assert_eq!(level["shed"], 9, "{transport}: {level}");
        assert_eq!(level["error_kinds"]["shed"], 9, "{transport}: {level}");
        assert_eq!(level["embedded_sct"], 1, "{transport}: {level}");
        server.shutdown().await;
    }
}
