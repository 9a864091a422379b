//! `--ca fileca` (Fulcio spec §6): loading chain + key pairs, refusing bad ones with the reason,
//! and the watcher swapping pairs when the files change. Vectors: `testdata/fileca/` (see the
//! README there).

// A test crate: helpers panic to fail the test that called them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use ca::{
    CaError, CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer,
    fileca::{self, FileWatcher, ReloadCounts},
};
use identity::{CertificateIdentity, SubjectAltName};
use x509_parser::prelude::{FromDer, X509Certificate};

const PASSWORD: &str = "password123";
/// Generous: debug builds on a shared machine, and one reload may run scrypt.
const DEADLINE: Duration = Duration::from_secs(90);

fn vector(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fileca")
        .join(name)
}

fn pair(name: &str) -> (PathBuf, PathBuf) {
    (
        vector(&format!("{name}-cert.pem")),
        vector(&format!("{name}-key.pem")),
    )
}

fn chain_der(cert_path: &Path) -> Vec<Vec<u8>> {
    pem::parse_many(std::fs::read(cert_path).unwrap())
        .unwrap()
        .into_iter()
        .map(pem::Pem::into_contents)
        .collect()
}

fn load(name: &str) -> Result<ca::IssuingKey, CaError> {
    let (cert, key) = pair(name);
    fileca::load(&cert, &key, PASSWORD)
}

/// Issues a certificate with the CA's current pair and checks it is signed by the issuing
/// certificate `issuing_der`.
async fn assert_issues_under(ca: &CertificateAuthority, issuing_der: &[u8]) {
    let client = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let client_key = ClientPublicKey::parse(client.public_key_der()).unwrap();
    let identity = CertificateIdentity {
        san: SubjectAltName::Email("fileca@example.com".into()),
        extensions: oidc::Extensions {
            issuer: "https://issuer.example.com".into(),
            ..oidc::Extensions::default()
        },
    };
    let issued = ca.issue_certificate(&identity, &client_key).await.unwrap();
    assert_eq!(issued.chain[0], issuing_der, "issued under another chain");
    let (_, leaf) = X509Certificate::from_der(&issued.der).unwrap();
    let (_, issuing) = X509Certificate::from_der(issuing_der).unwrap();
    assert_eq!(leaf.issuer().as_raw(), issuing.subject().as_raw());
    leaf.verify_signature(Some(issuing.public_key()))
        .unwrap_or_else(|e| panic!("leaf signature does not verify with the issuing key: {e}"));
}

#[tokio::test]
async fn upstream_shaped_pairs_load_and_issue() {
    for name in [
        "ecdsa",
        "ed25519",
        "rsa4096",
        "openssl-3des",
        "intermediate-2",
        "intermediate-3",
    ] {
        let key = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = chain_der(&pair(name).0);
        assert_eq!(
            key.chain(),
            expected.as_slice(),
            "{name}: chain in file order"
        );
        let ca = CertificateAuthority::new(key);
        assert_issues_under(&ca, &expected[0]).await;
    }
}

fn invalid_ca_message(name: &str) -> String {
    match load(name) {
        Err(CaError::InvalidCa(message)) => message,
        other => panic!("{name}: expected InvalidCa, got {other:?}"),
    }
}

#[test]
fn leaf_as_issuing_certificate_is_refused() {
    let message = invalid_ca_message("notca");
    assert!(message.contains("not a CA"), "{message}");
    assert!(
        message.contains("notca-cert.pem"),
        "names the file: {message}"
    );
}

#[test]
fn key_of_another_certificate_is_refused() {
    let message = invalid_ca_message("mismatch");
    assert!(
        message.contains("key does not match certificate"),
        "{message}"
    );
    assert!(
        message.contains("mismatch-key.pem"),
        "names the key file: {message}"
    );
}

#[test]
fn intermediate_without_code_signing_breaks_eku_chaining() {
    let message = invalid_ca_message("eku-chaining-violation");
    assert!(message.contains("EKU chaining violation"), "{message}");
    assert!(
        message.contains("certificate 1"),
        "points at the intermediate: {message}"
    );
}

#[test]
fn issuing_certificate_without_eku_in_a_longer_chain_is_refused() {
    let message = invalid_ca_message("eku-missing");
    assert!(message.contains("EKU chaining violation"), "{message}");
    assert!(message.contains("issuing certificate"), "{message}");
}

#[test]
fn wrong_password_names_the_key_file() {
    let (cert, key) = pair("ecdsa");
    match fileca::load(&cert, &key, "password124") {
        Err(CaError::KeyFile(message)) => {
            assert!(message.contains("ecdsa-key.pem"), "{message}");
            assert!(
                message.ends_with("wrong password or corrupt key"),
                "{message}"
            );
        }
        other => panic!("expected KeyFile, got {other:?}"),
    }
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let (cert, key) = pair("ecdsa");
    let missing = vector("no-such-file.pem");
    for (cert, key) in [(&missing, &key), (&cert, &missing)] {
        match fileca::load(cert, key, PASSWORD) {
            Err(CaError::Io { path, .. }) => assert_eq!(path, missing.display().to_string()),
            other => panic!("expected Io, got {other:?}"),
        }
    }
}

/// Loads `cert_text` (as the chain file) with the intermediate-2 key.
fn load_chain_text(cert_text: &[u8]) -> Result<ca::IssuingKey, CaError> {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("chain.pem");
    std::fs::write(&cert, cert_text).unwrap();
    fileca::load(&cert, &vector("intermediate-2-key.pem"), PASSWORD)
}

#[test]
fn chain_file_problems_are_reported_before_the_key_is_read() {
    let full = std::fs::read(vector("intermediate-2-cert.pem")).unwrap();
    let cut = &full[..full.len() - 100];
    let mut with_key = full.clone();
    with_key.extend(std::fs::read(vector("keys/p256-pkcs8.pem")).unwrap());
    for (case, text, expected) in [
        ("cut short", cut, "truncated or malformed PEM block"),
        ("empty", &b""[..], "no certificates found"),
        (
            "key appended",
            &with_key,
            "PEM block 3 (PRIVATE KEY) is not a certificate",
        ),
    ] {
        match load_chain_text(text) {
            Err(CaError::InvalidCa(message)) => {
                assert!(message.contains(expected), "{case}: {message}");
                assert!(message.contains("chain.pem"), "{case}: {message}");
            }
            other => panic!("{case}: expected InvalidCa, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Watching

/// A CA loaded from copies of the `name` pair in a fresh directory, and the copies' paths.
struct Workspace {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Workspace {
    fn with_pair(name: &str) -> (Self, Arc<CertificateAuthority>) {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("ca.pem"), dir.path().join("ca.key"));
        let (source_cert, source_key) = pair(name);
        std::fs::copy(source_cert, &cert).unwrap();
        std::fs::copy(source_key, &key).unwrap();
        let ca = Arc::new(CertificateAuthority::new(
            fileca::load(&cert, &key, PASSWORD).unwrap(),
        ));
        (Self { dir, cert, key }, ca)
    }

    fn watch(&self, ca: &Arc<CertificateAuthority>) -> FileWatcher {
        fileca::watch(Arc::clone(ca), &self.cert, &self.key, PASSWORD).unwrap()
    }

    /// Replaces `target` the way deployment tools do: write a temporary file, rename it over.
    fn replace_by_rename(&self, target: &Path, contents: &[u8]) {
        let temporary = self.dir.path().join(".incoming");
        std::fs::write(&temporary, contents).unwrap();
        std::fs::rename(&temporary, target).unwrap();
    }
}

fn first_cert(name: &str) -> Vec<u8> {
    chain_der(&pair(name).0).swap_remove(0)
}

fn issuing_cert(ca: &CertificateAuthority) -> Vec<u8> {
    ca.current().chain()[0].clone()
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_both_files_swaps_the_pair() {
    let (files, ca) = Workspace::with_pair("ecdsa");
    let watcher = files.watch(&ca);

    let (cert, key) = pair("openssl-3des");
    files.replace_by_rename(&files.key, &std::fs::read(key).unwrap());
    files.replace_by_rename(&files.cert, &std::fs::read(cert).unwrap());

    let expected = first_cert("openssl-3des");
    wait_until("the CA issues under the new pair", || {
        issuing_cert(&ca) == expected
    })
    .await;
    assert_issues_under(&ca, &expected).await;
    assert!(
        watcher.reload_counts().succeeded >= 1,
        "{:?}",
        watcher.reload_counts()
    );
}

#[tokio::test]
async fn half_written_key_keeps_the_old_pair_until_the_write_completes() {
    let (files, ca) = Workspace::with_pair("ecdsa");
    let old = first_cert("ecdsa");
    let watcher = files.watch(&ca);

    // The new certificate lands first, then only half of its key (written in place).
    let (cert, key) = pair("rsa4096");
    let key_text = std::fs::read(key).unwrap();
    std::fs::write(&files.cert, std::fs::read(cert).unwrap()).unwrap();
    std::fs::write(&files.key, &key_text[..key_text.len() / 2]).unwrap();

    // Neither state on disk is a valid pair, so every reload so far has failed.
    wait_until("a reload fails", || watcher.reload_counts().failed >= 1).await;
    assert_eq!(watcher.reload_counts().succeeded, 0);
    assert_eq!(issuing_cert(&ca), old, "the old pair stays");
    assert_issues_under(&ca, &old).await;

    // Completing the write is picked up.
    std::fs::write(&files.key, &key_text).unwrap();
    let new = first_cert("rsa4096");
    wait_until("the CA issues under the new pair", || {
        issuing_cert(&ca) == new
    })
    .await;
    assert_issues_under(&ca, &new).await;
    assert_eq!(
        watcher.reload_counts().succeeded,
        1,
        "{:?}",
        watcher.reload_counts()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn kubernetes_style_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;

    // The layout of a Kubernetes secret volume: NAME → ..data/NAME, ..data → ..<timestamp>/.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let publish = |version: &str, name: &str| {
        let (cert, key) = pair(name);
        std::fs::create_dir(root.join(version)).unwrap();
        std::fs::copy(cert, root.join(version).join("tls.crt")).unwrap();
        std::fs::copy(key, root.join(version).join("tls.key")).unwrap();
        symlink(version, root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    };
    publish("..v1", "ecdsa");
    symlink("..data/tls.crt", root.join("tls.crt")).unwrap();
    symlink("..data/tls.key", root.join("tls.key")).unwrap();
    let (cert, key) = (root.join("tls.crt"), root.join("tls.key"));
    let ca = Arc::new(CertificateAuthority::new(
        fileca::load(&cert, &key, PASSWORD).unwrap(),
    ));
    let _watcher = fileca::watch(Arc::clone(&ca), &cert, &key, PASSWORD).unwrap();

    publish("..v2", "ed25519");
    let expected = first_cert("ed25519");
    wait_until("the CA issues under the new pair", || {
        issuing_cert(&ca) == expected
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn files_symlinked_from_another_directory_are_watched_where_they_live() {
    use std::os::unix::fs::symlink;

    let (real, ca) = Workspace::with_pair("ecdsa");
    let links = tempfile::tempdir().unwrap();
    let (cert, key) = (links.path().join("ca.pem"), links.path().join("ca.key"));
    symlink(&real.cert, &cert).unwrap();
    symlink(&real.key, &key).unwrap();
    let _watcher = fileca::watch(Arc::clone(&ca), &cert, &key, PASSWORD).unwrap();

    // Written in place in the real directory; nothing changes in the links' directory.
    let (new_cert, new_key) = pair("ed25519");
    std::fs::write(&real.key, std::fs::read(new_key).unwrap()).unwrap();
    std::fs::write(&real.cert, std::fs::read(new_cert).unwrap()).unwrap();
    let expected = first_cert("ed25519");
    wait_until("the CA issues under the new pair", || {
        issuing_cert(&ca) == expected
    })
    .await;
}

#[test]
fn dropping_the_watcher_stops_it() {
    let (files, ca) = Workspace::with_pair("ecdsa");
    let watcher = files.watch(&ca);
    assert_eq!(Arc::strong_count(&ca), 2, "the reload thread holds the CA");
    assert_eq!(watcher.reload_counts(), ReloadCounts::default());
    drop(watcher);
    assert_eq!(Arc::strong_count(&ca), 1, "the reload thread has ended");
}

#[test]
fn watching_a_file_in_a_missing_directory_fails() {
    let (files, ca) = Workspace::with_pair("ecdsa");
    let missing = files.dir.path().join("gone").join("ca.pem");
    match fileca::watch(ca, &missing, &files.key, PASSWORD) {
        Err(CaError::Io { path, .. }) => assert_eq!(path, missing.display().to_string()),
        other => panic!("expected Io, got {other:?}"),
    }
}
