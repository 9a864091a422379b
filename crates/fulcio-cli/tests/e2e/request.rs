//! `fulcio request` end to end: the real binary against a real `fulcio serve` with its embedded
//! CT log, tokens from the in-process fake issuer. What it writes is checked independently: the
//! chain verifies against the instance's trusted root (chain, SCT), the leaf carries the key
//! written next to it (mode 0600, encrypted when asked, readable by the CA's own key reader),
//! and a trusted root of another CA makes it fail without writing anything.

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::{Duration, SystemTime},
};

use fulcio_client::{
    key::SigningKey,
    request::{CaClient, Transport},
    trust::{CaSpec, CtLogSpec, TimeRange, Timestamp, TrustedRoot},
    verify::{VerifyOptions, verify_certificate},
};
use serde_json::Value;
use test_support::fake_issuer::FakeIssuer;

use crate::support::server::{CaBackend, FulcioServer, IssuerConfig, Ports, fulcio_bin};

/// A `fulcio serve` with its embedded log, and the trusted root a client would be given.
pub(crate) struct Instance {
    pub(crate) server: FulcioServer,
    pub(crate) root_file: PathBuf,
    _data: tempfile::TempDir,
}

impl Instance {
    pub(crate) async fn start(issuer: &FakeIssuer) -> Instance {
        Instance::start_trusting(&issuer.url()).await
    }

    /// Trusting the email issuer at `issuer_url`.
    pub(crate) async fn start_trusting(issuer_url: &str) -> Instance {
        let data = tempfile::tempdir().unwrap();
        let data_dir = data.path().join("ct");
        let data_arg = data_dir.display().to_string();
        let server = FulcioServer::start_full(
            &[IssuerConfig::email(issuer_url)],
            Ports::Split,
            &CaBackend::Ephemeral,
            &[
                "--ct-log-data-dir",
                &data_arg,
                "--ct-log-host",
                "127.0.0.1",
                "--ct-log-port",
                "0",
            ],
        )
        .await;
        // The trusted root, built from what the instance publishes: its trust bundle and the
        // key its log wrote.
        let bundle = CaClient::new(&server.http_url(), Transport::Http, Duration::from_secs(10))
            .unwrap()
            .trust_bundle()
            .await
            .unwrap();
        let log_key = std::fs::read(data_dir.join("log-public-key.pem")).unwrap();
        let log_key = pem::parse(log_key).unwrap().into_contents();
        let valid_for = TimeRange {
            start: Timestamp(SystemTime::now() - Duration::from_secs(3600)),
            end: None,
        };
        let root = TrustedRoot::for_instance(
            &CaSpec {
                url: server.http_url(),
                chain_der: bundle[0].clone(),
                valid_for,
            },
            &[CtLogSpec {
                base_url: server.ct_log_url().unwrap(),
                public_key_der: log_key,
                valid_for,
            }],
        )
        .unwrap();
        let root_file = data.path().join("trusted_root.json");
        std::fs::write(&root_file, root.to_json_pretty()).unwrap();
        Instance {
            server,
            root_file,
            _data: data,
        }
    }
}

/// Runs `fulcio request` in `dir` with `args`, with no ambient token source in the environment.
async fn request(dir: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(fulcio_bin())
        .arg("request")
        .args(args)
        .current_dir(dir)
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        .output()
        .await
        .expect("running fulcio request")
}

/// Runs `fulcio request` in `dir` against `url` with `--identity-token token` and
/// `--trusted-root root`, the common shape of most runs here.
async fn request_with(dir: &Path, url: &str, token: &str, root: &str) -> Output {
    request(
        dir,
        &[
            "--fulcio-url",
            url,
            "--identity-token",
            token,
            "--trusted-root",
            root,
        ],
    )
    .await
}

pub(crate) fn show(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The chain in `path` (PEM, leaf first) as DER.
fn read_chain(path: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pem::parse_many(text)
        .unwrap()
        .into_iter()
        .map(|block| {
            assert_eq!(block.tag(), "CERTIFICATE");
            block.into_contents()
        })
        .collect()
}

pub(crate) fn leaf_spki(der: &[u8]) -> Vec<u8> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.public_key().raw.to_vec()
}

/// The written chain verifies against the instance's root and names `email`.
pub(crate) fn check_certificate(instance: &Instance, path: &Path, email: &str) -> Vec<Vec<u8>> {
    let chain = read_chain(path);
    let root = TrustedRoot::load(&instance.root_file).unwrap();
    let verified = verify_certificate(&chain, &root, &VerifyOptions::now()).unwrap();
    assert_eq!(verified.identities, vec![email.to_owned()]);
    assert_eq!(verified.scts.len(), 1);
    chain
}

#[cfg(unix)]
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The default flow: a generated P-256 key, the challenge over HTTP, text output; the key
/// file is 0600 and holds the certificate's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_key_challenge_over_http() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let token = issuer.email_token("signer@example.com");
    let root = instance.root_file.display().to_string();
    let output = request_with(dir.path(), &instance.server.http_url(), &token, &root).await;
    assert!(output.status.success(), "{}", show(&output));

    let cert_path = dir.path().join("fulcio-cert.pem");
    let key_path = dir.path().join("fulcio-key.pem");
    let chain = check_certificate(&instance, &cert_path, "signer@example.com");
    let key = SigningKey::load(&key_path, None).unwrap();
    assert_eq!(leaf_spki(&chain[0]), key.public_key_der());
    assert!(
        std::fs::read_to_string(&key_path)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    #[cfg(unix)]
    assert_eq!(mode(&key_path), 0o600);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("fulcio-cert.pem"), "{stdout}");
    assert!(stdout.contains("fulcio-key.pem"), "{stdout}");
    assert!(stdout.contains("Identity: signer@example.com"), "{stdout}");
    assert!(stdout.contains(&issuer.url()), "{stdout}");
    assert!(stdout.contains("Expires: "), "{stdout}");
    // stderr is not a terminal here: no progress line, nothing at all on success.
    assert!(output.stderr.is_empty(), "{}", show(&output));

    // A second run would overwrite the key: refused, nothing changed, no token spent.
    let before = std::fs::read(&key_path).unwrap();
    let cert_before = std::fs::read(&cert_path).unwrap();
    let again = request_with(dir.path(), &instance.server.http_url(), &token, &root).await;
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        show(&again)
    );
    assert_eq!(std::fs::read(&key_path).unwrap(), before);
    assert_eq!(std::fs::read(&cert_path).unwrap(), cert_before);
}

/// Every key type with a CSR over gRPC, JSON output, the key encrypted with a password that
/// both our reader and the CA's key-file reader accept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csr_over_grpc_with_an_encrypted_key_and_json_output() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "hunter2\n").unwrap();
    let root = instance.root_file.display().to_string();
    for key_type in ["p256", "p384", "ed25519", "rsa3072"] {
        let email = format!("{key_type}@example.com");
        let token = issuer.email_token(&email);
        let cert = format!("{key_type}-cert.pem");
        let key = format!("{key_type}-key.pem");
        let output = request(
            dir.path(),
            &[
                "--fulcio-url",
                &instance.server.http_url(),
                "--fulcio-grpc-url",
                &instance.server.grpc_url(),
                "--csr",
                "--key-type",
                key_type,
                "--identity-token",
                &token,
                "--trusted-root",
                &root,
                "--output-certificate",
                &cert,
                "--output-key",
                &key,
                "--key-password-file",
                password_file.to_str().unwrap(),
                "--output",
                "json",
            ],
        )
        .await;
        assert!(output.status.success(), "{key_type}: {}", show(&output));

        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["certificate"], cert.as_str());
        assert_eq!(report["key"], key.as_str());
        assert_eq!(report["keyEncrypted"], true);
        assert_eq!(report["keyAlgorithm"], key_type);
        assert_eq!(report["identities"][0], email.as_str());
        assert_eq!(report["issuer"], issuer.url().as_str());
        assert!(report["notAfter"].as_str().unwrap().ends_with('Z'));

        let chain = check_certificate(&instance, &dir.path().join(&cert), &email);
        let key_path = dir.path().join(&key);
        let text = std::fs::read(&key_path).unwrap();
        assert!(text.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert!(SigningKey::load(&key_path, None).is_err());
        assert!(SigningKey::load(&key_path, Some("wrong")).is_err());
        let ours = SigningKey::load(&key_path, Some("hunter2")).unwrap();
        assert_eq!(leaf_spki(&chain[0]), ours.public_key_der());
        let signer = ca::keyfile::decode_private_key(&text, "hunter2").unwrap();
        assert_eq!(
            ca::Signer::public_key_der(&signer),
            ours.public_key_der(),
            "{key_type}"
        );
        #[cfg(unix)]
        assert_eq!(mode(&key_path), 0o600);
    }
}

/// An existing key (`--key`, encrypted), the challenge over gRPC (`--grpc` on the gRPC URL),
/// the token from a file; no key file is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_key_over_grpc_with_the_token_in_a_file() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(fulcio_client::key::KeyAlgorithm::P384).unwrap();
    std::fs::write(
        dir.path().join("mine.pem"),
        key.to_pkcs8_pem(Some("pw")).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(dir.path().join("pw.txt"), "pw").unwrap();
    std::fs::write(
        dir.path().join("token.txt"),
        format!("{}\n", issuer.email_token("mine@example.com")),
    )
    .unwrap();
    let root = instance.root_file.display().to_string();
    let output = request(
        dir.path(),
        &[
            "--fulcio-url",
            &instance.server.grpc_url(),
            "--grpc",
            "--key",
            "mine.pem",
            "--key-password-file",
            "pw.txt",
            "--identity-token",
            "token.txt",
            "--trusted-root",
            &root,
            "--output-certificate",
            "mine-cert.pem",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", show(&output));
    let chain = check_certificate(
        &instance,
        &dir.path().join("mine-cert.pem"),
        "mine@example.com",
    );
    assert_eq!(leaf_spki(&chain[0]), key.public_key_der());
    assert!(!dir.path().join("fulcio-key.pem").exists());
}

/// `SIGSTORE_ID_TOKEN` is honoured when no token is given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_from_the_environment() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(fulcio_bin())
        .args(["request", "--fulcio-url", &instance.server.http_url()])
        .arg("--trusted-root")
        .arg(&instance.root_file)
        .args(["--output", "json"])
        .current_dir(dir.path())
        .env("SIGSTORE_ID_TOKEN", issuer.email_token("env@example.com"))
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", show(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["tokenSource"], "Environment");
    check_certificate(
        &instance,
        &dir.path().join("fulcio-cert.pem"),
        "env@example.com",
    );
}

/// A certificate that does not verify against the trusted root given (here: another CA's) is
/// not written, nor is the key; the message names the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_root_of_another_ca_fails_and_writes_nothing() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let other = Instance::start(&issuer).await;
    let dir = tempfile::tempdir().unwrap();
    let token = issuer.email_token("signer@example.com");
    let other_root = other.root_file.display().to_string();
    let output = request_with(dir.path(), &instance.server.http_url(), &token, &other_root).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not verify"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(stderr.contains("chain"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files written: {left:?}");
}

/// What the CA refuses, and what is wrong locally, fail with a message and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_bad_input_write_nothing() {
    let issuer = FakeIssuer::start().await;
    let instance = Instance::start(&issuer).await;
    let stranger = FakeIssuer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let root = instance.root_file.display().to_string();
    let url = instance.server.http_url();

    // A token from an issuer the CA does not trust: Fulcio's message is shown.
    let token = stranger.email_token("signer@example.com");
    let output = request_with(dir.path(), &url, &token, &root).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("There was an error processing the identity token"),
        "{stderr}"
    );

    // No token anywhere and no provider to sign in with.
    let output = request(dir.path(), &["--fulcio-url", &url, "--trusted-root", &root]).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no identity token"),
        "{}",
        show(&output)
    );

    // A trusted root that does not exist: refused before anything else.
    let token = issuer.email_token("signer@example.com");
    let output = request_with(dir.path(), &url, &token, "absent.json").await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("absent.json"),
        "{}",
        show(&output)
    );

    // Nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let output = request_with(dir.path(), &dead, &token, &root).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot reach the CA"),
        "{}",
        show(&output)
    );

    // `--key` and `--key-type` together: a usage error.
    let output = request(
        dir.path(),
        &[
            "--key",
            "k.pem",
            "--key-type",
            "p384",
            "--trusted-root",
            &root,
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));

    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files written: {left:?}");
}
