//! `fulcio serve --grpc-tls-certificate/--grpc-tls-key`: the flags reach the listener (the TLS
//! behaviour itself — TLS 1.3 only, reload on change, handshake timeouts — is tested in
//! fulcio-server's `grpc_tls` tests). A test CA made with rcgen; the generated tonic client.

use fulcio_proto::v2::{GetTrustBundleRequest, ca_client::CaClient};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use test_support::fake_issuer::FakeIssuer;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::support::server::{FulcioServer, IssuerConfig, fulcio_bin};

/// A root, and a server certificate for localhost/127.0.0.1 written with its key into `dir`.
fn tls_files(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "e2e TLS root");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &root)
        .unwrap();
    let cert_path = dir.join("tls.crt");
    let key_path = dir.join("tls.key");
    std::fs::write(&cert_path, format!("{}{}", leaf.pem(), root.pem())).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (root.pem(), cert_path, key_path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_grpc_tls_flags_answers_over_tls_only() {
    let dir = tempfile::tempdir().unwrap();
    let (root_pem, cert, key) = tls_files(dir.path());
    let issuer = FakeIssuer::start().await;
    let server = FulcioServer::start_with_args(
        &[IssuerConfig::email(issuer.url())],
        &[
            "--grpc-tls-certificate",
            cert.to_str().unwrap(),
            "--grpc-tls-key",
            key.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        server.log().contains("gRPC (TLS) on"),
        "start-up line: {}",
        server.log()
    );
    let port = server.grpc_url().rsplit(':').next().unwrap().to_owned();

    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&root_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS connection to the gRPC port");
    let bundle = CaClient::new(channel)
        .get_trust_bundle(GetTrustBundleRequest {})
        .await
        .expect("GetTrustBundle over TLS")
        .into_inner();
    assert_eq!(bundle.chains.len(), 1);

    // A cleartext gRPC client gets nowhere on that port: either the connection or the call
    // fails.
    let cleartext_call_succeeded = match Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
    {
        Ok(channel) => CaClient::new(channel)
            .get_trust_bundle(GetTrustBundleRequest {})
            .await
            .is_ok(),
        Err(_) => false,
    };
    assert!(
        !cleartext_call_succeeded,
        "a cleartext call succeeded on the TLS port"
    );
    server.stop().await;
}

#[tokio::test]
async fn one_tls_flag_without_the_other_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, _) = tls_files(dir.path());
    let output = tokio::process::Command::new(fulcio_bin())
        .args(["serve", "--ca", "ephemeralca", "--ct-log-url", ""])
        .args(["--port", "0", "--grpc-port", "0", "--metrics-port", "0"])
        .arg("--grpc-tls-certificate")
        .arg(&cert)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--grpc-tls-certificate and --grpc-tls-key must be given together"),
        "{stderr}"
    );
}
