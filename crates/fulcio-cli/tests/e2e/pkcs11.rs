//! `fulcio serve --ca pkcs11ca` against a real token (SoftHSM2): certificates issued over HTTP
//! chain to the root stored in the token (checked by `openssl verify`) and carry an SCT from
//! the embedded log that verifies; configuration mistakes stop the server at startup with a
//! message naming them; a token removed while serving answers a clean 500 promptly and is used
//! again once it is back, without a restart.
//!
//! The test body runs in a child process with `SOFTHSM2_CONF` set ([`SoftHsm::isolated`]): it
//! opens the token itself to generate the key and store the root, and passes the variable on to
//! the server it starts.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use ca::{
    KeyKind as CaKeyKind, SignatureAlgorithm, Signer,
    pkcs11::{Pkcs11Config, Pkcs11Signer, Pkcs11Token},
};
use ct_core::{
    LogPublicKey, SignedEntry, certificate::embedded_scts,
    certificate::precert_entry_from_certificate,
};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::{fake_issuer::FakeIssuer, softhsm::SoftHsm};
use tokio::process::Command;

use crate::support::{
    api::{KeyPart, Proof, v2_json},
    keys::{ClientKey, KeyKind},
    server::{CaBackend, FulcioServer, IssuerConfig, Ports, config_json, fulcio_bin},
    tokens::Identity,
};

const TOKEN: &str = "fulcio-e2e";
const PIN: &str = "2468";
const ROOT_ID: &str = "fulcio-root";
const READY_PREFIX: &str = "fulcio: serving HTTP on ";
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The token key as rcgen's signing key, to self-sign the root with it.
struct TokenKey<'a> {
    signer: &'a Pkcs11Signer,
    bits: Vec<u8>,
}

impl<'a> TokenKey<'a> {
    fn new(signer: &'a Pkcs11Signer) -> Self {
        let spki = x509_parser::prelude::FromDer::from_der(signer.public_key_der())
            .map(
                |(_, spki): (_, x509_parser::x509::SubjectPublicKeyInfo<'_>)| {
                    spki.subject_public_key.data.to_vec()
                },
            )
            .unwrap();
        Self { signer, bits: spki }
    }
}

impl rcgen::PublicKeyData for TokenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.signer.algorithm() {
            SignatureAlgorithm::EcdsaP256Sha256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::EcdsaP384Sha384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            _ => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for TokenKey<'_> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign_blocking(message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Generates the `PKCS11CA` key pair in the token and stores a self-signed root for it under
/// [`ROOT_ID`], as `fulcio createca` would; returns the root's PEM.
fn provision(hsm: &SoftHsm, kind: CaKeyKind) -> String {
    let config = Pkcs11Config::load(&hsm.crypto11_config(true), None).unwrap();
    let token = Pkcs11Token::open(&config).unwrap();
    token
        .generate_key_pair("PKCS11CA", b"ca-key", kind)
        .unwrap();
    let signer = token.signer("PKCS11CA").unwrap();
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "fulcio-rs e2e");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "token root");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(1));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let root = params.self_signed(&TokenKey::new(&signer)).unwrap();
    token
        .store_certificate(ROOT_ID.as_bytes(), "root", root.der().as_ref())
        .unwrap();
    root.pem()
}

fn serve_command(hsm: &SoftHsm, dir: &Path, issuer: &FakeIssuer, extra: &[&str]) -> Command {
    let config_path = dir.join("config.json");
    std::fs::write(
        &config_path,
        config_json(&[IssuerConfig::email(issuer.url())]).to_string(),
    )
    .unwrap();
    let mut command = Command::new(fulcio_bin());
    command
        .arg("serve")
        .args(["--ca", "pkcs11ca", "--hsm-caroot-id", ROOT_ID])
        .arg("--config-path")
        .arg(&config_path)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(["--grpc-host", "127.0.0.1", "--grpc-port", "0"])
        .args(["--metrics-port", "0"])
        .args(extra)
        .envs(hsm.envs())
        .env_remove(ca::pkcs11::PIN_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// `fulcio serve --ca pkcs11ca --hsm-caroot-id ROOT_ID` with `extra` flags, seeing the token.
async fn start(hsm: &SoftHsm, issuer: &FakeIssuer, extra: &[&str]) -> FulcioServer {
    let ca = ["--ca", "pkcs11ca", "--hsm-caroot-id", ROOT_ID];
    let env = hsm.envs().map(|(name, value)| (name, value.as_os_str()));
    FulcioServer::start_in_env(
        &[IssuerConfig::email(issuer.url())],
        Ports::Split,
        &CaBackend::Args(ca.map(str::to_owned).to_vec()),
        extra,
        &env,
    )
    .await
}

/// Runs `fulcio serve` expected to fail at startup; returns its stderr.
async fn fails_to_start(hsm: &SoftHsm, dir: &Path, issuer: &FakeIssuer, extra: &[&str]) -> String {
    let output = tokio::time::timeout(
        STARTUP_LIMIT,
        serve_command(hsm, dir, issuer, extra).output(),
    )
    .await
    .expect("fulcio serve should exit")
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "fulcio serve started: {stderr}");
    assert!(!stderr.contains(READY_PREFIX), "{stderr}");
    stderr
}

/// `POST /api/v2/signingCert` for a fresh client key; the status and JSON answer.
async fn request(server: &FulcioServer, issuer: &FakeIssuer) -> (StatusCode, Value) {
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("hsm-user@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", server.http_url()))
        .json(&v2_json(Some(&token), &part))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST signingCert: {e}; log:\n{}", server.log()));
    let status = response.status();
    let text = response.text().await.unwrap();
    let json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("answer {text:?} is not JSON: {e}"));
    (status, json)
}

/// The answer's chain as PEM strings, leaf first, asserting the embedded-SCT form.
fn embedded_chain(server: &FulcioServer, json: &Value) -> Vec<String> {
    json.get("signedCertificateEmbeddedSct")
        .unwrap_or_else(|| panic!("not the embedded-SCT form: {json}; log:\n{}", server.log()))
        ["chain"]["certificates"]
        .as_array()
        .expect("chain.certificates")
        .iter()
        .map(|c| c.as_str().expect("PEM string").to_owned())
        .collect()
}

fn openssl_verify(dir: &Path, root_pem: &str, leaf_pem: &str) {
    std::fs::write(dir.join("root.pem"), root_pem).unwrap();
    std::fs::write(dir.join("leaf.pem"), leaf_pem).unwrap();
    let output = std::process::Command::new("openssl")
        .args(["verify", "-CAfile", "root.pem", "leaf.pem"])
        .current_dir(dir)
        .output()
        .expect("running openssl (scripts/ensure-test-deps installs it)");
    assert!(
        output.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn der(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).unwrap().into_contents()
}

/// Checks an issued chain: the root is the token's, `openssl verify` accepts the leaf under
/// it, and the leaf's one embedded SCT verifies with the embedded log's key.
fn check_issued(
    server: &FulcioServer,
    dir: &Path,
    json: &Value,
    root_pem: &str,
    log_key: &LogPublicKey,
) {
    let chain = embedded_chain(server, json);
    assert_eq!(chain.len(), 2, "leaf and the token's root");
    assert_eq!(
        der(&chain[1]),
        der(root_pem),
        "the chain ends at the token's root"
    );
    openssl_verify(dir, root_pem, &chain[0]);
    let leaf = der(&chain[0]);
    let scts = embedded_scts(&leaf).expect("the SCT list extension decodes");
    assert_eq!(scts.len(), 1, "one embedded SCT");
    let entry = SignedEntry::Precert(
        precert_entry_from_certificate(&leaf, &der(root_pem)).expect("precert entry"),
    );
    log_key
        .verify_sct(&scts[0], &entry)
        .expect("the SCT verifies");
}

fn ct_flags(data_dir: &Path) -> Vec<String> {
    vec![
        "--ct-log-data-dir".into(),
        data_dir.display().to_string(),
        "--ct-log-host".into(),
        "127.0.0.1".into(),
        "--ct-log-port".into(),
        "0".into(),
    ]
}

fn log_key(data_dir: &Path) -> LogPublicKey {
    LogPublicKey::from_pem(&std::fs::read(data_dir.join("log-public-key.pem")).unwrap()).unwrap()
}

fn config_flag(path: &Path) -> Vec<String> {
    vec!["--pkcs11-config-path".into(), path.display().to_string()]
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// [`SoftHsm::isolated`] for the test `pkcs11::{test}` with this file's token and PIN.
fn isolated(test: &str) -> Option<SoftHsm> {
    SoftHsm::isolated(&format!("pkcs11::{test}"), TOKEN, PIN)
}

/// `fulcio serve` with the embedded CT log (in the installation's `ct`) and `token_flags`;
/// returns it with its issuer and the log's key.
async fn serve_with_log(
    hsm: &SoftHsm,
    token_flags: Vec<String>,
) -> (FulcioServer, FakeIssuer, LogPublicKey) {
    let issuer = FakeIssuer::start().await;
    let ct_dir = hsm.dir().join("ct");
    let mut args = ct_flags(&ct_dir);
    args.extend(token_flags);
    let server = start(hsm, &issuer, &refs(&args)).await;
    (server, issuer, log_key(&ct_dir))
}

/// One request that must succeed, its chain checked by [`check_issued`].
async fn issues_and_checks(
    server: &FulcioServer,
    issuer: &FakeIssuer,
    hsm: &SoftHsm,
    root_pem: &str,
    log_key: &LogPublicKey,
) {
    let (status, json) = request(server, issuer).await;
    assert_eq!(status, StatusCode::OK, "{json}; log:\n{}", server.log());
    check_issued(server, hsm.dir(), &json, root_pem, log_key);
}

#[tokio::test]
async fn serve_issues_certificates_with_the_token_key_and_root() {
    let Some(hsm) = isolated("serve_issues_certificates_with_the_token_key_and_root") else {
        return;
    };
    let root_pem = provision(&hsm, CaKeyKind::EcdsaP384);
    // The PIN comes from a file, not the config.
    let pin_file = hsm.dir().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let mut token_flags = config_flag(&hsm.crypto11_config(false));
    token_flags.extend(["--pkcs11-pin-file".into(), pin_file.display().to_string()]);
    let (server, issuer, log_key) = serve_with_log(&hsm, token_flags).await;
    for _ in 0..2 {
        issues_and_checks(&server, &issuer, &hsm, &root_pem, &log_key).await;
    }
    // The trust bundle is the token's root.
    let bundle: Value = reqwest::get(format!("{}/api/v2/trustBundle", server.http_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bundle_root = bundle["chains"][0]["certificates"][0].as_str().unwrap();
    assert_eq!(der(bundle_root), der(&root_pem));
    drop(server);
}

#[tokio::test]
async fn serve_refuses_to_start_with_a_bad_token_setup() {
    let Some(hsm) = isolated("serve_refuses_to_start_with_a_bad_token_setup") else {
        return;
    };
    provision(&hsm, CaKeyKind::EcdsaP256);
    let issuer = FakeIssuer::start().await;
    let dir = hsm.dir();
    let write_config = |name: &str, module: &Path, pin: &str| -> PathBuf {
        let path = dir.join(name);
        let config = serde_json::json!({"Path": module, "TokenLabel": TOKEN, "Pin": pin});
        std::fs::write(&path, config.to_string()).unwrap();
        path
    };

    let wrong_pin = write_config("wrong-pin.json", &hsm.module_path(), "0000");
    let stderr = fails_to_start(&hsm, dir, &issuer, &refs(&config_flag(&wrong_pin))).await;
    assert!(stderr.contains("wrong PIN"), "{stderr}");

    let missing = dir.join("no-such-module.so");
    let no_module = write_config("no-module.json", &missing, PIN);
    let stderr = fails_to_start(&hsm, dir, &issuer, &refs(&config_flag(&no_module))).await;
    assert!(
        stderr.contains("no-such-module.so") && stderr.contains("no such file"),
        "{stderr}"
    );

    let good = hsm.crypto11_config(true);
    let mut args = config_flag(&good);
    args.extend(["--hsm-key-label".into(), "NO-SUCH-KEY".into()]);
    let stderr = fails_to_start(&hsm, dir, &issuer, &refs(&args)).await;
    assert!(
        stderr.contains("no private key labelled \"NO-SUCH-KEY\""),
        "{stderr}"
    );

    let stderr = fails_to_start(
        &hsm,
        dir,
        &issuer,
        &refs(&config_flag(&dir.join("absent-config.json"))),
    )
    .await;
    assert!(stderr.contains("absent-config.json"), "{stderr}");

    // Without --hsm-caroot-id, upstream's usage message.
    let output = std::process::Command::new(fulcio_bin())
        .args(["serve", "--ca", "pkcs11ca"])
        .envs(hsm.envs())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("hsm-caroot-id must be set when using pkcs11ca"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_token_removed_while_serving_gives_clean_errors_until_it_is_back() {
    let Some(hsm) = isolated("a_token_removed_while_serving_gives_clean_errors_until_it_is_back")
    else {
        return;
    };
    let root_pem = provision(&hsm, CaKeyKind::EcdsaP256);
    let (mut server, issuer, log_key) =
        serve_with_log(&hsm, config_flag(&hsm.crypto11_config(true))).await;
    issues_and_checks(&server, &issuer, &hsm, &root_pem, &log_key).await;

    let away = hsm.dir().join("tokens-away");
    std::fs::rename(hsm.token_dir(), &away).unwrap();
    for _ in 0..3 {
        let (status, json) = request(&server, &issuer).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{json}");
        // Upstream's generic message: no module details leak to clients.
        assert_eq!(
            json["message"], "error communicating with CA backend",
            "{json}"
        );
    }
    // The server logged the module's error, not the signing timeout: the failures were prompt.
    // (The log line is written before the answer; give the reader task a moment to copy it.)
    let mut log = server.log();
    for _ in 0..50 {
        if log.matches("PKCS#11 key \"PKCS11CA\"").count() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        log = server.log();
    }
    assert_eq!(log.matches("PKCS#11 key \"PKCS11CA\"").count(), 3, "{log}");
    assert!(!log.contains("Failed to close session"), "{log}");
    assert!(!log.contains("no signature from the token within"), "{log}");
    assert!(server.is_running(), "the server died");

    std::fs::rename(&away, hsm.token_dir()).unwrap();
    issues_and_checks(&server, &issuer, &hsm, &root_pem, &log_key).await;
}
