//! `fulcio verify` end to end: a certificate issued by the real `fulcio serve` (embedded CT log,
//! ephemeral CA) is checked by the real binary against a `trusted_root.json` written here by
//! hand from the CA chain and the log's key, in the protobuf-specs JSON shape. The exit status
//! is the verdict: 0 verified, 1 rejected, 2 unusable input.

use std::path::Path;
use std::process::Output;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use test_support::fake_issuer::FakeIssuer;

use crate::support::api::{KeyPart, Proof, TokenIn, http_v2, issue_http};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::server::{CaBackend, FulcioServer, IssuerConfig, Ports, fulcio_bin};
use crate::support::tokens::Identity;

const EMAIL: &str = "verify-me@example.com";

/// The trusted root for `ca_chain` (DER, issuing first) and the CT log at `log_url` with the
/// key `log_spki` (DER).
fn trusted_root_json(ca_chain: &[Vec<u8>], log_url: &str, log_spki: &[u8]) -> Value {
    let start = json!({"start": "2020-01-01T00:00:00Z"});
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [],
        "certificateAuthorities": [{
            "subject": {"organization": "sigstore", "commonName": "fulcio-rs e2e"},
            "uri": "http://127.0.0.1",
            "certChain": {"certificates": ca_chain
                .iter()
                .map(|der| json!({"rawBytes": BASE64.encode(der)}))
                .collect::<Vec<_>>()},
            "validFor": start,
        }],
        "ctlogs": [{
            "baseUrl": log_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": BASE64.encode(log_spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": start,
            },
            "logId": {"keyId": BASE64.encode(Sha256::digest(log_spki))},
        }],
        "timestampAuthorities": [],
    })
}

fn pem_of(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// Runs `fulcio verify` with `args`.
async fn fulcio_verify(args: &[&std::ffi::OsStr]) -> Output {
    tokio::process::Command::new(fulcio_bin())
        .arg("verify")
        .args(args)
        .output()
        .await
        .expect("running fulcio verify")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_status(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status; stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Issues a certificate for [`EMAIL`] and returns the DER chain, leaf first.
async fn issue(server: &FulcioServer, issuer: &FakeIssuer) -> Vec<Vec<u8>> {
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new(EMAIL);
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let answer = http_v2(server, &token, TokenIn::Body, &part).await;
    assert_eq!(answer.status, StatusCode::OK, "body {}", answer.body);
    let json = answer.json();
    json["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("not the embedded-SCT form: {json}"))
        .iter()
        .map(|c| pem::parse(c.as_str().unwrap()).unwrap().into_contents())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifies_a_certificate_from_the_running_server() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().display().to_string();
    let server = FulcioServer::start_full(
        &[IssuerConfig::email(issuer.url())],
        Ports::Split,
        &CaBackend::Ephemeral,
        &[
            "--ct-log-data-dir",
            &data_dir,
            "--ct-log-host",
            "127.0.0.1",
            "--ct-log-port",
            "0",
        ],
    )
    .await;
    let log_url = server.ct_log_url().expect("the embedded CT log runs");
    let chain = issue(&server, &issuer).await;
    server.stop().await;

    let log_pem = std::fs::read(data.path().join("log-public-key.pem")).expect("log key");
    let log_spki = pem::parse(&log_pem).expect("PEM log key").into_contents();
    let files = tempfile::tempdir().expect("scratch dir");
    let dir = files.path();
    let root = dir.join("trusted_root.json");
    std::fs::write(
        &root,
        trusted_root_json(&chain[1..], &log_url, &log_spki).to_string(),
    )
    .unwrap();
    let leaf = dir.join("leaf.pem");
    std::fs::write(&leaf, pem_of(&chain[0])).unwrap();
    let full = dir.join("full.pem");
    std::fs::write(&full, chain.iter().map(|c| pem_of(c)).collect::<String>()).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(
        &ca,
        chain[1..].iter().map(|c| pem_of(c)).collect::<String>(),
    )
    .unwrap();
    let issuer_url = issuer.url();
    let os = |s: &str| std::ffi::OsString::from(s);

    // Text: the verdict and what the certificate says.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-identity"),
        &os(EMAIL),
        &os("--certificate-oidc-issuer"),
        &os(&issuer_url),
    ])
    .await;
    assert_status(&output, 0);
    let stdout = text(&output.stdout);
    for expected in [
        "Verified OK\n".to_owned(),
        format!("Identity: {EMAIL}\n"),
        format!("Issuer: {issuer_url}\n"),
        format!("SCT: log {log_url} (log ID "),
        format!("  Issuer (V2) (1.3.6.1.4.1.57264.1.8): {issuer_url}\n"),
        format!("  Issuer (deprecated) (1.3.6.1.4.1.57264.1.1): {issuer_url}\n"),
        format!("  Token Subject (1.3.6.1.4.1.57264.1.24): subject-of-{EMAIL}\n"),
        "O=sigstore".to_owned(),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} in:\n{stdout}");
    }

    // JSON, the whole chain in one file, regular expressions.
    let output = fulcio_verify(&[
        full.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-identity-regexp"),
        &os(r".*@example\.com"),
        &os("--certificate-oidc-issuer-regexp"),
        &os("http://127\\.0\\.0\\.1:[0-9]+"),
        &os("--output"),
        &os("json"),
    ])
    .await;
    assert_status(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["verified"], true);
    assert_eq!(report["identities"], json!([EMAIL]));
    assert_eq!(report["issuer"], json!(issuer_url));
    assert_eq!(report["scts"][0]["logUrl"], json!(log_url));
    assert_eq!(
        report["scts"][0]["logId"],
        json!(BASE64.encode(Sha256::digest(&log_spki)))
    );
    assert_eq!(report["chain"].as_array().map(Vec::len), Some(2));
    assert!(
        report["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["oid"] == "1.3.6.1.4.1.57264.1.8" && e["value"] == json!(issuer_url)),
        "{report}"
    );

    // The CA chain given with --certificate-chain.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--certificate-chain"),
        ca.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
    ])
    .await;
    assert_status(&output, 0);

    // The wrong identity: rejected, with the reason.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-identity"),
        &os("someone-else@example.com"),
    ])
    .await;
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(
            "Error: certificate identity mismatch: expected \"someone-else@example.com\""
        ) && stderr.contains(EMAIL),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout for text output"
    );

    // The wrong issuer, reported in JSON too.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-oidc-issuer"),
        &os("https://accounts.google.com"),
        &os("--output"),
        &os("json"),
    ])
    .await;
    assert_status(&output, 1);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["verified"], false);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("certificate OIDC issuer mismatch"),
        "{report}"
    );

    // Later than the certificate's ten minutes.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--at"),
        &os("2099-01-01T00:00:00Z"),
    ])
    .await;
    assert_status(&output, 1);
    assert!(text(&output.stderr).contains("has expired"));

    // A trusted root without this log: the SCT is not trusted.
    let other_root = dir.join("other_root.json");
    let other_spki = ClientKey::generate(KeyKind::P256).spki_der();
    std::fs::write(
        &other_root,
        trusted_root_json(&chain[1..], "http://127.0.0.1:1", &other_spki).to_string(),
    )
    .unwrap();
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        other_root.as_os_str(),
    ])
    .await;
    assert_status(&output, 1);
    assert!(
        text(&output.stderr).contains("matches no CT log in the trusted root"),
        "{}",
        text(&output.stderr)
    );

    // A bad regular expression is unusable input.
    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-identity-regexp"),
        &os("(unclosed"),
    ])
    .await;
    assert_status(&output, 2);
    assert!(
        text(&output.stderr).contains("invalid regular expression"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test]
async fn unusable_input_exits_2() {
    let files = tempfile::tempdir().expect("scratch dir");
    let dir = files.path();
    let os = |s: &str| std::ffi::OsString::from(s);
    let missing = dir.join("missing.pem");
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "this is not JSON").unwrap();
    let garbage = dir.join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    // A valid trusted root (a CA certificate made by rcgen, a fresh log key).
    let root = dir.join("trusted_root.json");
    let ca = rcgen::generate_simple_self_signed(vec!["ca.example.com".to_owned()]).unwrap();
    let key = ClientKey::generate(KeyKind::P256).spki_der();
    std::fs::write(
        &root,
        trusted_root_json(&[ca.cert.der().to_vec()], "http://127.0.0.1:1", &key).to_string(),
    )
    .unwrap();

    let cases: [(&Path, &Path, &str); 3] = [
        (&missing, &root, "missing.pem"),
        (&garbage, &not_json, "trusted root"),
        (&garbage, &root, "cannot parse certificate"),
    ];
    for (cert, trusted, expected) in cases {
        let output =
            fulcio_verify(&[cert.as_os_str(), &os("--trusted-root"), trusted.as_os_str()]).await;
        assert_status(&output, 2);
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("Error: ") && stderr.contains(expected),
            "{expected:?} in {stderr}"
        );
    }

    // Flags that exclude each other are a usage error (clap's status 2).
    let output = fulcio_verify(&[
        garbage.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--certificate-identity"),
        &os("a"),
        &os("--certificate-identity-regexp"),
        &os("b"),
    ])
    .await;
    assert_status(&output, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_without_an_sct_needs_insecure_ignore_sct() {
    let issuer = FakeIssuer::start().await;
    // CT disabled: the certificate carries no SCT.
    let server = FulcioServer::start(&[IssuerConfig::email(issuer.url())]).await;
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new(EMAIL);
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let chain: Vec<Vec<u8>> =
        issue_http(&server, &issuer.token(who.claims()), TokenIn::Body, &part)
            .await
            .iter()
            .map(|c| pem::parse(c).unwrap().into_contents())
            .collect();
    server.stop().await;

    let files = tempfile::tempdir().expect("scratch dir");
    let dir = files.path();
    let root = dir.join("trusted_root.json");
    let log_key = ClientKey::generate(KeyKind::P256).spki_der();
    std::fs::write(
        &root,
        trusted_root_json(&chain[1..], "http://127.0.0.1:1", &log_key).to_string(),
    )
    .unwrap();
    let leaf = dir.join("leaf.pem");
    std::fs::write(&leaf, pem_of(&chain[0])).unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);

    let output = fulcio_verify(&[leaf.as_os_str(), &os("--trusted-root"), root.as_os_str()]).await;
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("Error: SCT verification failed: the certificate has no embedded SCT"),
        "{stderr}"
    );

    let output = fulcio_verify(&[
        leaf.as_os_str(),
        &os("--trusted-root"),
        root.as_os_str(),
        &os("--insecure-ignore-sct"),
        &os("--certificate-identity"),
        &os(EMAIL),
    ])
    .await;
    assert_status(&output, 0);
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("Verified OK\n") && !stdout.contains("SCT:"),
        "{stdout}"
    );
}
