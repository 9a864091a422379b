//! `fulcio dev`: the real binary started from an empty directory on OS-chosen loopback ports.
//! Its own `fulcio dev token` gets tokens from its identity provider, the CA issues for them
//! over HTTP, the commands it prints are run as printed (the `fulcio request` line through
//! `sh`, the sigstore-python line with the test venv's python in place of `python3`), and a
//! restart on the same directory keeps the CA, the CT log key and the log's entries.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::support::{
    api::{KeyPart, Proof, chain_of_json, v2_json},
    keys::{ClientKey, KeyKind},
    server::fulcio_bin,
};

/// A hang guard for start-up and shutdown; both take well under a second.
const LIMIT: Duration = Duration::from_secs(60);

/// The last line `fulcio dev` prints on stdout once everything listens.
const READY: &str = "fulcio dev: ready";

/// A running `fulcio dev`.
struct Dev {
    child: Child,
    /// Everything it printed on stdout up to the ready line.
    stdout: String,
    stderr: Arc<Mutex<String>>,
    state: Value,
}

impl Dev {
    /// Starts `fulcio dev --dir DIR` with every port chosen by the OS.
    async fn start(dir: &Path) -> Dev {
        Dev::start_with(dir, &[]).await
    }

    /// [`Dev::start`] with `extra` flags.
    async fn start_with(dir: &Path, extra: &[&std::ffi::OsStr]) -> Dev {
        let mut child = Command::new(fulcio_bin())
            .args(["dev", "--dir"])
            .arg(dir)
            .args(["--port", "0", "--grpc-port", "0"])
            .args(["--ct-log-port", "0", "--oidc-port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning fulcio dev");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(LIMIT, async {
            let mut text = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                text.push_str(&line);
                text.push('\n');
                if line.starts_with(READY) {
                    return Some(text);
                }
            }
            None
        })
        .await;
        let Ok(Some(stdout)) = ready else {
            let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
            panic!(
                "fulcio dev did not get ready ({status:?}); stderr:\n{}",
                stderr.lock().unwrap()
            );
        };
        // Keep draining stdout so the process never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let state: Value =
            serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap();
        Dev {
            child,
            stdout,
            stderr,
            state,
        }
    }

    fn url(&self, key: &str) -> String {
        self.state[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in state.json: {}", self.state))
            .to_owned()
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The printed command line that contains `marker` (without its leading spaces).
    fn printed(&self, marker: &str) -> String {
        self.stdout
            .lines()
            .map(str::trim)
            .find(|line| !line.starts_with('#') && line.contains(marker))
            .unwrap_or_else(|| panic!("no printed line with {marker:?} in:\n{}", self.stdout))
            .to_owned()
    }

    /// Ctrl-C, as a user stops it: the process must exit by itself, successfully.
    async fn interrupt(mut self) {
        let pid = self.child.id().expect("still running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -INT {pid}");
        let status = tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("fulcio dev exits after SIGINT")
            .unwrap();
        assert!(
            status.success(),
            "fulcio dev exit status after SIGINT: {status}; stderr:\n{}",
            self.log()
        );
    }
}

/// `fulcio dev token --dir DIR ARGS…`: its stdout must be the token and nothing else.
async fn dev_token(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(fulcio_bin())
        .args(["dev", "token", "--dir"])
        .arg(dir)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "fulcio dev token {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let token = text.strip_suffix('\n').expect("one line");
    assert!(
        !token.contains(char::is_whitespace),
        "only the token: {text:?}"
    );
    assert_eq!(token.split('.').count(), 3, "a compact JWS: {token}");
    token.to_owned()
}

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Asks the CA for a certificate for a fresh P-256 key, proving it over `challenge`; returns
/// the PEM chain, leaf first.
async fn issue(dev: &Dev, token: &str, challenge: &str) -> Vec<String> {
    let key = ClientKey::generate(KeyKind::P256);
    let body = v2_json(None, &KeyPart::for_key(&key, Proof::PublicKey, challenge));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", dev.url("fulcio_url")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status,
        200,
        "signingCert: {text}; fulcio dev log:\n{}",
        dev.log()
    );
    chain_of_json(&serde_json::from_str(&text).unwrap())
}

/// The DER of each PEM block.
fn ders(pems: &[String]) -> Vec<Vec<u8>> {
    pems.iter()
        .map(|p| pem::parse(p).unwrap().into_contents())
        .collect()
}

/// The SAN values of a leaf as x509-parser shows them (otherName values as their DER bytes).
fn san_text(leaf_der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf_der).unwrap();
    let san = cert
        .subject_alternative_name()
        .unwrap()
        .expect("a SAN extension");
    format!("{:?}", san.value.general_names)
}

async fn tree_size(dev: &Dev) -> u64 {
    let sth: Value = reqwest::get(format!("{}/ct/v1/get-sth", dev.url("ct_log_url")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sth["tree_size"].as_u64().unwrap()
}

/// The Python of the venv that `scripts/ensure-test-deps` installs sigstore into.
fn sigstore_python() -> PathBuf {
    let cache = std::env::var_os("FULCIO_TEST_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/fulcio-rs")))
        .expect("FULCIO_TEST_CACHE or HOME");
    let python = cache.join("sigstore-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/ensure-test-deps",
        python.display()
    );
    python
}

/// Runs a printed command line through `sh` in `cwd`; returns stdout, asserting success.
async fn run_printed(line: &str, cwd: &Path, dev: &Dev) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(cwd)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "printed command failed: {line}\nstdout: {}\nstderr: {}\nfulcio dev log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        dev.log()
    );
    String::from_utf8(output.stdout).unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_nothing_it_issues_and_a_restart_keeps_its_state() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("fulcio-dev");
    let dev = Dev::start(&dir).await;

    for file in [
        "trusted_root.json",
        "signing_config.json",
        "trust_config.json",
        "ca-chain.pem",
        "ctlog-public-key.pem",
        "sigstore_python_request.py",
    ] {
        assert!(dir.join(file).is_file(), "{file} written");
    }
    #[cfg(unix)]
    for secret in [
        "ca/root-key.pem",
        "oidc-provider-key.pem",
        "ctlog/log-key.pem",
    ] {
        assert_eq!(mode(&dir.join(secret)), 0o600, "{secret} mode");
    }
    assert!(
        dev.log().contains("WARNING") && dev.log().contains("ANY email or subject"),
        "the start-up warning about the provider; stderr:\n{}",
        dev.log()
    );

    // A second instance on the same directory stops before touching it.
    let second = Command::new(fulcio_bin())
        .args(["dev", "--dir"])
        .arg(&dir)
        .args([
            "--port",
            "0",
            "--grpc-port",
            "0",
            "--ct-log-port",
            "0",
            "--oidc-port",
            "0",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        !second.status.success(),
        "a second fulcio dev on the same dir"
    );
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    // An email token: the claims the issue asks for.
    let token = dev_token(&dir, &["--email", "alice@example.com"]).await;
    let header = jwt_part(&token, 0);
    let claims = jwt_part(&token, 1);
    assert_eq!(header["alg"], "ES256");
    assert!(
        header["kid"].as_str().is_some_and(|k| !k.is_empty()),
        "{header}"
    );
    assert_eq!(claims["iss"].as_str().unwrap(), dev.url("oidc_issuer"));
    assert_eq!(claims["aud"], "sigstore");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    let jwks: Value = reqwest::get(format!("{}/jwks", dev.url("oidc_issuer")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], header["kid"], "{jwks}");

    // The CA issues for it, under the chain it wrote to ca-chain.pem.
    let chain = issue(&dev, &token, "alice@example.com").await;
    let written = crate::support::api::split_pem_chain(
        &std::fs::read_to_string(dir.join("ca-chain.pem")).unwrap(),
    );
    assert_eq!(
        ders(&chain[1..]),
        ders(&written),
        "response chain = ca-chain.pem"
    );
    assert!(san_text(&ders(&chain)[0]).contains("alice@example.com"));

    // A subject-only token gets a certificate too (username issuer: SAN `alice!127.0.0.1`).
    let token = dev_token(&dir, &["--subject", "alice"]).await;
    assert_eq!(
        jwt_part(&token, 1)["iss"].as_str().unwrap(),
        dev.url("oidc_subject_issuer")
    );
    assert!(jwt_part(&token, 1).get("email").is_none());
    let chain = issue(&dev, &token, "alice").await;
    let leaf = &ders(&chain)[0];
    assert!(
        leaf.windows(b"alice!127.0.0.1".len())
            .any(|w| w == b"alice!127.0.0.1"),
        "otherName SAN in {}",
        san_text(leaf)
    );

    // The default identity when neither is given.
    let token = dev_token(&dir, &[]).await;
    let default_email = jwt_part(&token, 1)["email"].as_str().unwrap().to_owned();
    let chain = issue(&dev, &token, &default_email).await;
    assert!(san_text(&ders(&chain)[0]).contains(&default_email));

    // sigstore-python: the printed command, with the test venv's python.
    let python = sigstore_python();
    let line = dev.printed("sigstore_python_request.py");
    let rest = line
        .strip_prefix("python3 ")
        .expect("the line starts with python3");
    let line = format!("{} {rest}", python.display());
    let out = run_printed(&line, scratch.path(), &dev).await;
    assert!(out.contains("identity: you@example.com"), "{out}");
    assert!(out.contains("SCT verified"), "{out}");
    // And trusted_root.json on its own, as `sigstore verify --trusted-root` loads it.
    let check = format!(
        "{} -c 'import sys; from sigstore.models import TrustedRoot; from sigstore._internal.trust import KeyringPurpose; r = TrustedRoot.from_file(sys.argv[1]); r.ct_keyring(KeyringPurpose.VERIFY); print(len(r.get_fulcio_certs()))' {}",
        python.display(),
        dir.join("trusted_root.json").display()
    );
    assert_eq!(run_printed(&check, scratch.path(), &dev).await.trim(), "1");

    let size_before = tree_size(&dev).await;
    assert!(
        size_before >= 3,
        "three certificates logged, tree size {size_before}"
    );
    let chain_before = std::fs::read(dir.join("ca-chain.pem")).unwrap();
    let ct_key_before = std::fs::read(dir.join("ctlog-public-key.pem")).unwrap();
    let provider_key_before = std::fs::read(dir.join("oidc-provider-key.pem")).unwrap();
    let trusted_root_before: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    dev.interrupt().await;

    // Restart: same CA, same CT log key and entries, same provider key.
    let dev = Dev::start(&dir).await;
    assert_eq!(
        std::fs::read(dir.join("ca-chain.pem")).unwrap(),
        chain_before
    );
    assert_eq!(
        std::fs::read(dir.join("ctlog-public-key.pem")).unwrap(),
        ct_key_before
    );
    assert_eq!(
        std::fs::read(dir.join("oidc-provider-key.pem")).unwrap(),
        provider_key_before
    );
    let trusted_root: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    assert_eq!(
        trusted_root["certificateAuthorities"][0]["certChain"],
        trusted_root_before["certificateAuthorities"][0]["certChain"]
    );
    assert_eq!(
        trusted_root["ctlogs"][0]["logId"],
        trusted_root_before["ctlogs"][0]["logId"]
    );
    assert!(
        tree_size(&dev).await >= size_before,
        "the log kept its entries"
    );
    let token = dev_token(&dir, &["--email", "bob@example.com"]).await;
    let chain = issue(&dev, &token, "bob@example.com").await;
    assert_eq!(
        chain.last().map(|p| pem::parse(p).unwrap().into_contents()),
        ders(&crate::support::api::split_pem_chain(
            std::str::from_utf8(&chain_before).unwrap()
        ))
        .last()
        .cloned(),
        "issued under the same root after the restart"
    );
    assert!(tree_size(&dev).await > size_before);
    dev.interrupt().await;
}

/// The `fulcio request` lines `fulcio dev` prints, run as printed (the binary by its absolute
/// path, the token from `fulcio dev token` in `$(…)`), for the email and the subject line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_fulcio_request_lines_get_certificates() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("dev dir with spaces");
    let dev = Dev::start(&dir).await;
    for (marker, identity, issuer_key) in [
        ("--email you@example.com)", "you@example.com", "oidc_issuer"),
        ("--subject alice)", "alice!127.0.0.1", "oidc_subject_issuer"),
    ] {
        let line = dev
            .stdout
            .lines()
            .map(str::trim)
            .find(|l| l.contains(" request --fulcio-url ") && l.contains(marker))
            .unwrap_or_else(|| panic!("no fulcio request line for {marker}:\n{}", dev.stdout))
            .to_owned();
        let cwd = tempfile::tempdir().unwrap();
        run_printed(&line, cwd.path(), &dev).await;
        let cert = std::fs::read_to_string(cwd.path().join("cert.pem")).unwrap();
        let leaf = pem::parse_many(&cert).unwrap()[0].contents().to_vec();
        assert!(
            leaf.windows(identity.len())
                .any(|w| w == identity.as_bytes()),
            "{identity} in {}",
            san_text(&leaf)
        );
        let key = std::fs::read_to_string(cwd.path().join("key.pem")).unwrap();
        assert!(key.contains("PRIVATE KEY"), "key.pem: {key}");

        // And `fulcio verify` accepts it against the trusted root fulcio dev wrote, for exactly
        // this identity and issuer, and refuses it for another identity.
        let verify = |identity: &str| {
            std::process::Command::new(fulcio_bin())
                .arg("verify")
                .arg(cwd.path().join("cert.pem"))
                .arg("--trusted-root")
                .arg(dir.join("trusted_root.json"))
                .args(["--certificate-identity", identity])
                .args(["--certificate-oidc-issuer", &dev.url(issuer_key)])
                .output()
                .unwrap()
        };
        let accepted = verify(identity);
        assert!(
            accepted.status.success(),
            "fulcio verify refused the certificate: {}",
            String::from_utf8_lossy(&accepted.stderr)
        );
        assert!(String::from_utf8_lossy(&accepted.stdout).contains("Verified OK"));
        let refused = verify("someone-else@example.com");
        assert_eq!(refused.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("identity"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    dev.interrupt().await;
}

/// With `--fileca-*` (the ca crate's P-384 issuing CA under an Ed25519 intermediate and a P-384
/// root): the answer carries the file's chain, `ca-chain.pem` and the trusted root hold it, the
/// CT log accepts chains to its root, and sigstore-python checks the SCT through the
/// intermediates with the trust config written for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_ca_issues_under_its_own_chain() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ca/testdata/fileca");
    let cert = vectors.join("intermediate-3-cert.pem");
    let key = vectors.join("intermediate-3-key.pem");
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("fulcio-dev");
    let dev = Dev::start_with(
        &dir,
        &[
            "--fileca-cert".as_ref(),
            cert.as_os_str(),
            "--fileca-key".as_ref(),
            key.as_os_str(),
            "--fileca-key-passwd".as_ref(),
            "password123".as_ref(),
        ],
    )
    .await;
    let file_chain = crate::support::api::split_pem_chain(&std::fs::read_to_string(&cert).unwrap());
    assert_eq!(file_chain.len(), 3, "issuing CA, intermediate, root");
    let written = crate::support::api::split_pem_chain(
        &std::fs::read_to_string(dir.join("ca-chain.pem")).unwrap(),
    );
    assert_eq!(
        ders(&written),
        ders(&file_chain),
        "ca-chain.pem is the file CA's chain"
    );
    assert!(!dir.join("ca").exists(), "no root generated with a file CA");
    let trusted_root: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    let certificates = trusted_root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(certificates, 3, "{trusted_root}");

    let token = dev_token(&dir, &["--email", "file-ca@example.com"]).await;
    let chain = issue(&dev, &token, "file-ca@example.com").await;
    assert_eq!(
        ders(&chain[1..]),
        ders(&file_chain),
        "issued under the file chain"
    );

    let line = dev.printed("sigstore_python_request.py");
    let rest = line.strip_prefix("python3 ").unwrap();
    let out = run_printed(
        &format!("{} {rest}", sigstore_python().display()),
        scratch.path(),
        &dev,
    )
    .await;
    assert!(out.contains("SCT verified"), "{out}");
    dev.interrupt().await;
}

#[tokio::test]
async fn a_non_loopback_host_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    for host in ["0.0.0.0", "::", "192.0.2.1", "example.com"] {
        let dir = scratch.path().join("d");
        let output = Command::new(fulcio_bin())
            .args(["dev", "--dir"])
            .arg(&dir)
            .args(["--host", host, "--port", "0", "--grpc-port", "0"])
            .args(["--ct-log-port", "0", "--oidc-port", "0"])
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "--host {host} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("loopback"), "--host {host}: {stderr}");
        assert!(!dir.exists(), "nothing written for --host {host}");
    }
}

/// `fulcio dev token` without a running instance says what to do, and prints no token.
#[tokio::test]
async fn token_without_an_instance_fails_with_a_hint() {
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::new(fulcio_bin())
        .args(["dev", "token", "--dir"])
        .arg(scratch.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("state.json") && stderr.contains("fulcio dev"),
        "{stderr}"
    );
}
