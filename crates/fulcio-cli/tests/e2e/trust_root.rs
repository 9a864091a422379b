//! `fulcio trust-root` against a running `fulcio serve` with its embedded CT log: the files it
//! writes hold the CA chain the server's trust bundle serves, the log's key and log ID, the
//! windows asked for; sigstore-python verifies the SCT of a freshly issued certificate with the
//! written `trusted_root.json` (and with the trusted root of `trust_config.json`); bad input
//! fails with a message and exit status 1.

use std::path::Path;
use std::process::Output;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest as _;
use test_support::fake_issuer::FakeIssuer;

use crate::support::api::{KeyPart, Proof, TokenIn, get, http_v2};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::server::{CaBackend, FulcioServer, IssuerConfig, Ports, fulcio_bin};
use crate::support::tokens::Identity;

/// `fulcio serve` with its embedded log on an OS-chosen port, data in `data_dir`.
async fn start(issuer: &FakeIssuer, data_dir: &Path) -> FulcioServer {
    let data = data_dir.display().to_string();
    FulcioServer::start_full(
        &[IssuerConfig::email(issuer.url())],
        Ports::Split,
        &CaBackend::Ephemeral,
        &[
            "--ct-log-data-dir",
            &data,
            "--ct-log-host",
            "127.0.0.1",
            "--ct-log-port",
            "0",
        ],
    )
    .await
}

async fn trust_root(args: &[&str]) -> Output {
    tokio::process::Command::new(fulcio_bin())
        .arg("trust-root")
        .args(args)
        .output()
        .await
        .expect("running fulcio trust-root")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn der_of_pem(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).expect("PEM").into_contents()
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(BASE64.encode(bytes))
}

/// notBefore of a certificate, as written in the files (RFC 3339, UTC, whole seconds).
fn not_before(der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("certificate");
    let at = cert.validity().not_before.to_datetime();
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
}

/// The server's trust bundle, read independently: chains of DER, issuing certificate first.
async fn served_chains(server: &FulcioServer) -> Vec<Vec<Vec<u8>>> {
    let answer = get(server, "/api/v2/trustBundle").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .map(|chain| {
            chain["certificates"]
                .as_array()
                .expect("certificates")
                .iter()
                .map(|c| der_of_pem(c.as_str().expect("PEM string")))
                .collect()
        })
        .collect()
}

/// Issues one certificate over HTTP v2: DER, leaf first.
async fn issue(server: &FulcioServer, issuer: &FakeIssuer) -> Vec<Vec<u8>> {
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("signer@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let answer = http_v2(server, &token, TokenIn::Body, &part).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .expect("the embedded-SCT form")
        .iter()
        .map(|c| der_of_pem(c.as_str().expect("PEM string")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_describe_the_running_instance() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, data.path()).await;
    let ct_url = server.ct_log_url().expect("an embedded CT log");
    let key_path = data.path().join("log-public-key.pem");
    let out = tempfile::tempdir().expect("out dir");
    let out_dir = out.path().join("trust");
    let output = trust_root(&[
        "--fulcio-url",
        &server.http_url(),
        "--ct-log-public-key",
        &key_path.display().to_string(),
        "--ct-log-url",
        &ct_url,
        "--oidc-url",
        &issuer.url(),
        "--out-dir",
        &out_dir.display().to_string(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "fulcio trust-root failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in [
        "trusted_root.json",
        "signing_config.json",
        "trust_config.json",
    ] {
        assert!(
            stdout.contains(&out_dir.join(name).display().to_string()),
            "stdout does not name {name}: {stdout}"
        );
    }

    let root = read_json(&out_dir.join("trusted_root.json"));
    let chains = served_chains(&server).await;
    assert_eq!(chains.len(), 1, "the ephemeral CA has one chain");
    let chain = &chains[0];
    let spki = der_of_pem(&std::fs::read_to_string(&key_path).expect("log key"));
    let start = not_before(&chain[0]);
    let (_, root_cert) = x509_parser::parse_x509_certificate(chain.last().unwrap()).unwrap();
    let subject_attr = |values: Vec<&x509_parser::x509::AttributeTypeAndValue<'_>>| {
        values
            .first()
            .map(|v| v.as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let organization = subject_attr(root_cert.subject().iter_organization().collect());
    let common_name = subject_attr(root_cert.subject().iter_common_name().collect());
    let expected = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [],
        "certificateAuthorities": [{
            "subject": {"organization": organization, "commonName": common_name},
            "uri": server.http_url(),
            "certChain": {"certificates": chain.iter().map(|c| json!({"rawBytes": b64(c)})).collect::<Vec<_>>()},
            "validFor": {"start": start},
        }],
        "ctlogs": [{
            "baseUrl": ct_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(&spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": start},
            },
            "logId": {"keyId": b64(&sha2::Sha256::digest(&spki))},
        }],
        "timestampAuthorities": [],
    });
    assert_eq!(root, expected);

    let signing = read_json(&out_dir.join("signing_config.json"));
    let service = |url: String| json!({"url": url, "majorApiVersion": 1, "validFor": {"start": start}, "operator": "127.0.0.1"});
    assert_eq!(
        signing,
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service(server.http_url())],
            "oidcUrls": [service(issuer.url().trim_end_matches('/').to_owned())],
            "rekorTlogUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaUrls": [],
            "tsaConfig": {"selector": "ANY"},
        })
    );
    assert_eq!(
        read_json(&out_dir.join("trust_config.json")),
        json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": root,
            "signingConfig": signing,
        })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_follow_the_flags() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, data.path()).await;
    let key_path = data.path().join("log-public-key.pem");
    let out = tempfile::tempdir().expect("out dir");
    let output = trust_root(&[
        "--fulcio-url",
        &server.http_url(),
        "--ct-log-public-key",
        &key_path.display().to_string(),
        "--ct-log-url",
        &server.ct_log_url().expect("an embedded CT log"),
        "--valid-from",
        "2026-01-02T03:04:05+01:00",
        "--valid-until",
        "2027-01-01T00:00:00.5Z",
        "--ct-log-valid-from",
        "2025-06-01T00:00:00Z",
        "--operator",
        "example operator",
        "--out-dir",
        &out.path().display().to_string(),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let root = read_json(&out.path().join("trusted_root.json"));
    assert_eq!(
        root["certificateAuthorities"][0]["validFor"],
        json!({"start": "2026-01-02T02:04:05Z", "end": "2027-01-01T00:00:00.500Z"})
    );
    assert_eq!(
        root["ctlogs"][0]["publicKey"]["validFor"],
        json!({"start": "2025-06-01T00:00:00Z", "end": "2027-01-01T00:00:00.500Z"})
    );
    let signing = read_json(&out.path().join("signing_config.json"));
    assert_eq!(signing["caUrls"][0]["operator"], "example operator");
    assert_eq!(signing["oidcUrls"], json!([]));
    server.stop().await;
}

/// The Python of the venv that `scripts/ensure-test-deps` installs sigstore into.
fn sigstore_python() -> std::path::PathBuf {
    let cache = std::env::var_os("FULCIO_TEST_CACHE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache").join("fulcio-rs"))
        })
        .expect("FULCIO_TEST_CACHE or HOME");
    let python = cache.join("sigstore-venv").join("bin").join("python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/ensure-test-deps",
        python.display()
    );
    python
}

/// sigstore-python checks the SCT of a certificate issued after the files were written, with
/// the CT keyring of our `trusted_root.json` and of our `trust_config.json`'s trusted root.
/// argv: certificate PEM, issuer chain PEM, trusted_root.json, trust_config.json.
const SIGSTORE_VERIFY_SCT: &str = r#"
import sys
from cryptography import x509
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore._internal.trust import KeyringPurpose
from sigstore._internal.sct import verify_sct

cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
chain = x509.load_pem_x509_certificates(open(sys.argv[2], "rb").read())
roots = [
    TrustedRoot.from_file(sys.argv[3]),
    ClientTrustConfig.from_json(open(sys.argv[4]).read()).trusted_root,
]
for root in roots:
    assert root.get_fulcio_certs() == chain, "the Fulcio certificates are not the issuer chain"
    verify_sct(cert, chain, root.ct_keyring(KeyringPurpose.VERIFY))
print("SCT verified")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_python_verifies_an_sct_with_the_written_root() {
    let python = sigstore_python();
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, data.path()).await;
    let out = tempfile::tempdir().expect("out dir");
    let output = trust_root(&[
        "--fulcio-url",
        &server.http_url(),
        "--ct-log-public-key",
        &data.path().join("log-public-key.pem").display().to_string(),
        "--ct-log-url",
        &server.ct_log_url().expect("an embedded CT log"),
        "--out-dir",
        &out.path().display().to_string(),
    ])
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let chain = issue(&server, &issuer).await;
    let to_pem = |der: &Vec<u8>| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone()));
    let cert = out.path().join("cert.pem");
    let issuers = out.path().join("chain.pem");
    std::fs::write(&cert, to_pem(&chain[0])).expect("writing cert");
    std::fs::write(&issuers, chain[1..].iter().map(to_pem).collect::<String>())
        .expect("writing chain");
    let run = |root: &Path, config: &Path| {
        std::process::Command::new(&python)
            .arg("-c")
            .arg(SIGSTORE_VERIFY_SCT)
            .arg(&cert)
            .arg(&issuers)
            .arg(root)
            .arg(config)
            .output()
            .expect("running sigstore-python")
    };
    let verified = run(
        &out.path().join("trusted_root.json"),
        &out.path().join("trust_config.json"),
    );
    assert!(
        verified.status.success(),
        "sigstore-python refused the SCT: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );

    // The same check fails against a root naming another log key: it is the written key that
    // made it pass.
    let other_key = out.path().join("other-log-key.pem");
    std::fs::write(
        &other_key,
        ClientKey::generate(KeyKind::P256).public_key_pem(),
    )
    .unwrap();
    let other_out = tempfile::tempdir().expect("other out dir");
    let output = trust_root(&[
        "--fulcio-url",
        &server.http_url(),
        "--ct-log-public-key",
        &other_key.display().to_string(),
        "--ct-log-url",
        "http://127.0.0.1:1/other-log",
        "--out-dir",
        &other_out.path().display().to_string(),
    ])
    .await;
    assert!(output.status.success());
    let refused = run(
        &other_out.path().join("trusted_root.json"),
        &other_out.path().join("trust_config.json"),
    );
    assert!(
        !refused.status.success(),
        "sigstore-python accepted the SCT under another log's key"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_fails_with_a_message() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, data.path()).await;
    let out = tempfile::tempdir().expect("out dir");
    let out_dir = out.path().display().to_string();
    let failure = |output: Output, expected: &str| {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{expected:?} not in {stderr:?}");
    };

    let missing = data.path().join("no-such-key.pem").display().to_string();
    failure(
        trust_root(&[
            "--fulcio-url",
            &server.http_url(),
            "--ct-log-public-key",
            &missing,
            "--ct-log-url",
            "http://log",
            "--out-dir",
            &out_dir,
        ])
        .await,
        &missing,
    );

    // A certificate where a public key belongs.
    let not_a_key = data.path().join("cert.pem");
    let chain = &served_chains(&server).await[0];
    std::fs::write(
        &not_a_key,
        pem::encode(&pem::Pem::new("CERTIFICATE", chain[0].clone())),
    )
    .unwrap();
    failure(
        trust_root(&[
            "--fulcio-url",
            &server.http_url(),
            "--ct-log-public-key",
            &not_a_key.display().to_string(),
            "--ct-log-url",
            "http://log",
            "--out-dir",
            &out_dir,
        ])
        .await,
        "PUBLIC KEY",
    );

    // Nothing listens there (the server's own port, once it is stopped).
    let url = server.http_url();
    server.stop().await;
    failure(
        trust_root(&[
            "--fulcio-url",
            &url,
            "--out-dir",
            &out_dir,
            "--timeout",
            "5s",
        ])
        .await,
        &url,
    );
    failure(
        trust_root(&[
            "--fulcio-url",
            &url,
            "--valid-from",
            "2027-01-01T00:00:00Z",
            "--valid-until",
            "2026-01-01T00:00:00Z",
            "--out-dir",
            &out_dir,
        ])
        .await,
        "--valid-until",
    );
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing is written on failure"
    );
}
