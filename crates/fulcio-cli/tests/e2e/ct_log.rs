//! Certificate Transparency end to end: `fulcio serve` with its embedded log (the default), the
//! log's own listener (RFC 6962 and static-ct-api), a restart on the same data directory, and
//! `fulcio ctlog serve` used as an external log through `--ct-log-url`.
//!
//! Every SCT is checked with `ct_core` against the key the log wrote to its data directory, and
//! every certificate is proven to be in the log by an inclusion proof against a verified STH.

use std::path::Path;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    LogPublicKey, MerkleTreeLeaf, SignedCertificateTimestamp, SignedEntry, TimestampedEntry,
    certificate::{embedded_scts, precert_entry_from_certificate},
    checkpoint::verify_checkpoint,
    log_key::log_id_of,
    merkle::{Hash, verify_consistency, verify_inclusion},
    sth::{GetSthResponse, SignedTreeHead},
};
use reqwest::StatusCode;
use serde_json::Value;
use test_support::fake_issuer::FakeIssuer;

use crate::support::api::{KeyPart, Proof, TokenIn, http_v2};
use crate::support::keys::{ClientKey, KeyKind};
use crate::support::server::{CaBackend, CtlogServer, FulcioServer, IssuerConfig, Ports};
use crate::support::tokens::Identity;

/// The embedded log's default checkpoint origin.
const DEFAULT_ORIGIN: &str = "fulcio-rs-ct-log";

/// The public key the log wrote to its data directory.
fn log_public_key(data_dir: &Path) -> LogPublicKey {
    let pem = std::fs::read(data_dir.join("log-public-key.pem")).expect("log-public-key.pem");
    LogPublicKey::from_pem(&pem).expect("the log's public key parses")
}

/// Flags for `fulcio serve` with the embedded log on an OS-chosen loopback port.
fn embedded_flags(data_dir: &Path) -> Vec<String> {
    vec![
        "--ct-log-data-dir".into(),
        data_dir.display().to_string(),
        "--ct-log-host".into(),
        "127.0.0.1".into(),
        "--ct-log-port".into(),
        "0".into(),
    ]
}

async fn start(issuer: &FakeIssuer, flags: &[String]) -> FulcioServer {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    FulcioServer::start_full(
        &[IssuerConfig::email(issuer.url())],
        Ports::Split,
        &CaBackend::Ephemeral,
        &flags,
    )
    .await
}

/// Issues one certificate over HTTP v2 and returns the DER chain (leaf first), asserting the
/// embedded-SCT answer form.
async fn issue_embedded(server: &FulcioServer, issuer: &FakeIssuer) -> Vec<Vec<u8>> {
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new("signer@example.com");
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let answer = http_v2(server, &token, TokenIn::Body, &part).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "body {}; log:\n{}",
        answer.body,
        server.log()
    );
    let json = answer.json();
    let form = json
        .get("signedCertificateEmbeddedSct")
        .unwrap_or_else(|| panic!("not the embedded-SCT form: {json}"));
    form["chain"]["certificates"]
        .as_array()
        .expect("chain.certificates")
        .iter()
        .map(|c| {
            pem::parse(c.as_str().expect("PEM string"))
                .expect("PEM certificate")
                .into_contents()
        })
        .collect()
}

/// Checks the leaf's single embedded SCT against `key` and returns it with the leaf hash of
/// the precertificate entry it names.
fn check_embedded_sct(chain: &[Vec<u8>], key: &LogPublicKey) -> (SignedCertificateTimestamp, Hash) {
    let scts = embedded_scts(&chain[0]).expect("SCT list extension decodes");
    assert_eq!(scts.len(), 1, "exactly one SCT");
    let sct = scts.into_iter().next().unwrap();
    assert_eq!(
        sct.log_id,
        log_id_of(key.spki_der()),
        "log ID = SHA-256(SPKI)"
    );
    let entry = SignedEntry::Precert(
        precert_entry_from_certificate(&chain[0], &chain[1]).expect("precert entry"),
    );
    key.verify_sct(&sct, &entry).expect("the SCT verifies");
    let leaf = MerkleTreeLeaf {
        timestamped_entry: TimestampedEntry {
            timestamp: sct.timestamp,
            entry,
            extensions: sct.extensions.clone(),
        },
    };
    let hash = leaf.leaf_hash().expect("leaf hash");
    (sct, hash)
}

async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.expect("JSON")
}

/// The log's STH (verified) and its checkpoint (verified, same tree).
async fn verified_sth(base: &str, key: &LogPublicKey, origin: &str) -> SignedTreeHead {
    let sth: GetSthResponse =
        serde_json::from_value(get_json(&format!("{base}/ct/v1/get-sth")).await)
            .expect("get-sth JSON");
    let sth = SignedTreeHead::try_from(&sth).expect("get-sth decodes");
    sth.verify(key).expect("the STH verifies");
    let note = reqwest::get(format!("{base}/checkpoint"))
        .await
        .expect("GET checkpoint")
        .bytes()
        .await
        .expect("checkpoint body");
    let from_checkpoint = verify_checkpoint(&note, origin, key).expect("the checkpoint verifies");
    assert_eq!(
        from_checkpoint, sth,
        "checkpoint and get-sth name the same tree"
    );
    sth
}

fn hashes_of(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("array of hashes")
        .iter()
        .map(|h| {
            BASE64
                .decode(h.as_str().expect("string"))
                .expect("base64")
                .try_into()
                .expect("32 bytes")
        })
        .collect()
}

fn escape(hash: &Hash) -> String {
    BASE64
        .encode(hash)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Proves `leaf_hash` is in the tree `sth` names.
async fn assert_included(base: &str, leaf_hash: &Hash, sth: &SignedTreeHead) {
    let size = sth.tree_head.tree_size;
    let proof = get_json(&format!(
        "{base}/ct/v1/get-proof-by-hash?hash={}&tree_size={size}",
        escape(leaf_hash)
    ))
    .await;
    let index = proof["leaf_index"].as_u64().expect("leaf_index");
    verify_inclusion(
        index,
        size,
        leaf_hash,
        &hashes_of(&proof["audit_path"]),
        &sth.tree_head.root_hash,
    )
    .expect("the inclusion proof verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_log_by_default_and_across_a_restart() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let flags = embedded_flags(data.path());

    let server = start(&issuer, &flags).await;
    let base = server
        .ct_log_url()
        .expect("the startup line names the CT log");
    let key = log_public_key(data.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data.path().join("log-key.pem"))
            .expect("the generated key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }

    let mut leaves = Vec::new();
    for _ in 0..2 {
        let chain = issue_embedded(&server, &issuer).await;
        leaves.push(check_embedded_sct(&chain, &key).1);
    }
    let sth = verified_sth(&base, &key, DEFAULT_ORIGIN).await;
    assert_eq!(sth.tree_head.tree_size, 2);
    for leaf in &leaves {
        assert_included(&base, leaf, &sth).await;
    }
    server.stop().await;

    // Same data directory: same key, and the tree continues from where it was.
    let server = start(&issuer, &flags).await;
    let base = server.ct_log_url().expect("CT log address");
    let again = log_public_key(data.path());
    assert_eq!(
        again.spki_der(),
        key.spki_der(),
        "the key survives a restart"
    );
    let before = verified_sth(&base, &key, DEFAULT_ORIGIN).await;
    assert_eq!(before, sth, "the restarted log serves the same tree");
    // The restarted server has a new ephemeral CA root, trusted by the log from now on.
    let chain = issue_embedded(&server, &issuer).await;
    let (_, leaf) = check_embedded_sct(&chain, &key);
    let after = verified_sth(&base, &key, DEFAULT_ORIGIN).await;
    assert_eq!(after.tree_head.tree_size, 3, "the tree grew");
    assert_included(&base, &leaf, &after).await;
    for old in &leaves {
        assert_included(&base, old, &after).await;
    }
    let proof = get_json(&format!(
        "{base}/ct/v1/get-sth-consistency?first=2&second=3"
    ))
    .await;
    verify_consistency(
        2,
        3,
        &sth.tree_head.root_hash,
        &after.tree_head.root_hash,
        &hashes_of(&proof["consistency"]),
    )
    .expect("the consistency proof verifies");

    // The log's metrics: this process committed one entry in one pass, the tree has three.
    let metrics = reqwest::get(format!("{}/metrics", server.metrics_url()))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} in the metrics:\n{metrics}"))
    };
    assert_eq!(value("ct_log_tree_size"), 3.0);
    assert_eq!(value("ct_log_entries_total"), 1.0);
    assert_eq!(value("ct_log_passes_total{outcome=\"committed\"}"), 1.0);
    assert_eq!(value("ct_log_pass_entries_count"), 1.0);
    assert_eq!(value("ct_log_pass_entries_bucket{le=\"1\"}"), 1.0);
    for phase in ["collect", "build", "stage", "commit", "publish"] {
        assert_eq!(
            value(&format!("ct_log_pass_seconds_count{{phase=\"{phase}\"}}")),
            1.0,
            "{phase}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_a_locked_data_dir_fails_to_start() {
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let flags = embedded_flags(data.path());
    let server = start(&issuer, &flags).await;
    let config = data.path().join("config.json");
    std::fs::write(
        &config,
        crate::support::server::config_json(&[IssuerConfig::email(issuer.url())]).to_string(),
    )
    .expect("config");
    let output = tokio::process::Command::new(crate::support::server::fulcio_bin())
        .args([
            "serve",
            "--ca",
            "ephemeralca",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ])
        .args([
            "--grpc-host",
            "127.0.0.1",
            "--grpc-port",
            "0",
            "--metrics-port",
            "0",
        ])
        .arg("--config-path")
        .arg(&config)
        .args(&flags)
        .output()
        .await
        .expect("running a second fulcio serve");
    assert!(!output.status.success(), "the second server must not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CT log data directory"),
        "the error names the data directory: {stderr}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_ctlog_serve_as_an_external_log() {
    let issuer = FakeIssuer::start().await;
    // A file CA (self-signed P-384): the log trusts its certificate as a root.
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ca/testdata/fileca");
    let roots = vectors.join("ecdsa-cert.pem");
    let ca = CaBackend::File {
        cert: roots.clone(),
        key: vectors.join("ecdsa-key.pem"),
        password: "password123".to_owned(),
    };
    let log_dir = tempfile::tempdir().expect("log data dir");

    let log = CtlogServer::start(&[
        "--roots".as_ref(),
        roots.as_os_str(),
        "--data-dir".as_ref(),
        log_dir.path().as_os_str(),
        "--metrics-host".as_ref(),
        "127.0.0.1".as_ref(),
        "--metrics-port".as_ref(),
        "0".as_ref(),
    ])
    .await;
    let public_key_path = log_dir.path().join("log-public-key.pem");
    let key = log_public_key(log_dir.path());

    let server = FulcioServer::start_full(
        &[IssuerConfig::email(issuer.url())],
        Ports::Split,
        &ca,
        &[
            "--ct-log-url",
            &log.url(),
            "--ct-log-public-key-path",
            &public_key_path.display().to_string(),
        ],
    )
    .await;
    assert!(
        server.ct_log_url().is_none(),
        "no embedded log with --ct-log-url"
    );
    let chain = issue_embedded(&server, &issuer).await;
    let (_, leaf) = check_embedded_sct(&chain, &key);
    let sth = verified_sth(&log.url(), &key, DEFAULT_ORIGIN).await;
    assert_eq!(sth.tree_head.tree_size, 1);
    assert_included(&log.url(), &leaf, &sth).await;

    // --metrics-port: the log's series, and none of Fulcio's.
    let metrics_url = log.metrics_url().expect("the metrics start-up line");
    let metrics = reqwest::get(format!("{metrics_url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        metrics.lines().any(|line| line == "ct_log_entries_total 1"),
        "one entry counted:\n{metrics}"
    );
    assert!(
        metrics.contains("ct_log_pass_seconds_bucket{phase=\"commit\""),
        "pass phases:\n{metrics}"
    );
    assert!(
        !metrics.contains("fulcio_new_certs"),
        "no Fulcio series in a CT log process:\n{metrics}"
    );
    server.stop().await;
    log.stop().await;
}

/// sigstore-python's own SCT check, the way `sigstore verify` reaches it: a `trusted_root.json`
/// (the shape of spec/clients.md: `tlogs`, `certificateAuthorities`, `ctlogs` with the log's
/// SPKI and `logId.keyId` = SHA-256 of it) is written and loaded with `TrustedRoot.from_file`,
/// its CT keyring taken with `ct_keyring(KeyringPurpose.VERIFY)`, and
/// `sigstore._internal.sct.verify_sct` run over the certificate and its issuer chain.
/// argv 1..4: certificate PEM, issuer chain PEM, log public key PEM, where to write the root.
const SIGSTORE_VERIFY_SCT: &str = r#"
import base64, hashlib, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sigstore.models import TrustedRoot
from sigstore._internal.trust import KeyringPurpose
from sigstore._internal.sct import verify_sct

cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
chain = x509.load_pem_x509_certificates(open(sys.argv[2], "rb").read())
spki = serialization.load_pem_public_key(open(sys.argv[3], "rb").read()).public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
b64 = lambda data: base64.b64encode(data).decode()
start = {"start": "2020-01-01T00:00:00Z"}
trusted_root = {
    "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "tlogs": [],
    "certificateAuthorities": [{
        "subject": {"organization": "sigstore", "commonName": "fulcio-rs test"},
        "uri": "http://127.0.0.1",
        "certChain": {"certificates": [
            {"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))} for c in chain
        ]},
        "validFor": start,
    }],
    "ctlogs": [{
        "baseUrl": "http://127.0.0.1",
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": b64(spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": start},
        "logId": {"keyId": b64(hashlib.sha256(spki).digest())},
    }],
}
json.dump(trusted_root, open(sys.argv[4], "w"))
keyring = TrustedRoot.from_file(sys.argv[4]).ct_keyring(KeyringPurpose.VERIFY)
verify_sct(cert, chain, keyring)
print("SCT verified")
"#;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_python_verifies_the_embedded_sct() {
    let python = sigstore_python();
    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, &embedded_flags(data.path())).await;
    let chain = issue_embedded(&server, &issuer).await;
    let files = tempfile::tempdir().expect("scratch dir");
    let to_pem = |der: &Vec<u8>| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone()));
    let cert = files.path().join("cert.pem");
    let issuers = files.path().join("chain.pem");
    std::fs::write(&cert, to_pem(&chain[0])).expect("writing cert");
    std::fs::write(&issuers, chain[1..].iter().map(to_pem).collect::<String>())
        .expect("writing chain");
    let output = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(SIGSTORE_VERIFY_SCT)
        .arg(&cert)
        .arg(&issuers)
        .arg(data.path().join("log-public-key.pem"))
        .arg(files.path().join("trusted_root.json"))
        .output()
        .await
        .expect("running sigstore-python");
    assert!(
        output.status.success(),
        "sigstore-python refused the SCT: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    server.stop().await;
}

/// The proofs the log serves, checked by an implementation that is not ours: the `ct-merkle`
/// crate verifies, from the raw `leaf_input` of `get-entry-and-proof`, every entry's inclusion
/// proof against the STH root, and the `get-sth-consistency` proof between two trees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_merkle_implementation_accepts_the_served_proofs() {
    use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
    use sha2::Sha256;

    let issuer = FakeIssuer::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let server = start(&issuer, &embedded_flags(data.path())).await;
    let base = server
        .ct_log_url()
        .expect("the startup line names the CT log");
    let key = log_public_key(data.path());
    let theirs = |sth: &SignedTreeHead| {
        RootHash::<Sha256>::new(sth.tree_head.root_hash.into(), sth.tree_head.tree_size)
    };
    let flat = |value: &Value| hashes_of(value).concat();

    // Each issuance returns only once its entry is durable and published, so the sizes grow
    // one by one.
    for _ in 0..2 {
        issue_embedded(&server, &issuer).await;
    }
    let old = verified_sth(&base, &key, DEFAULT_ORIGIN).await;
    for _ in 0..3 {
        issue_embedded(&server, &issuer).await;
    }
    let new = verified_sth(&base, &key, DEFAULT_ORIGIN).await;
    assert_eq!((old.tree_head.tree_size, new.tree_head.tree_size), (2, 5));

    for index in 0..new.tree_head.tree_size {
        let answer = get_json(&format!(
            "{base}/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size={}",
            new.tree_head.tree_size
        ))
        .await;
        let leaf_input = BASE64
            .decode(answer["leaf_input"].as_str().expect("leaf_input"))
            .expect("base64 leaf_input");
        let proof = InclusionProof::<Sha256>::try_from_bytes(flat(&answer["audit_path"]))
            .expect("well-formed audit path");
        theirs(&new)
            .verify_inclusion(&leaf_input, index, &proof)
            .unwrap_or_else(|e| panic!("ct-merkle refuses the proof of leaf {index}: {e:?}"));
        // The same proof must not prove another position.
        let elsewhere = (index + 1) % new.tree_head.tree_size;
        assert!(
            theirs(&new)
                .verify_inclusion(&leaf_input, elsewhere, &proof)
                .is_err(),
            "leaf {index}'s proof also proves position {elsewhere}"
        );
    }

    let consistency = get_json(&format!(
        "{base}/ct/v1/get-sth-consistency?first={}&second={}",
        old.tree_head.tree_size, new.tree_head.tree_size
    ))
    .await;
    let proof = ConsistencyProof::<Sha256>::try_from_bytes(flat(&consistency["consistency"]))
        .expect("well-formed consistency proof");
    theirs(&new)
        .verify_consistency(&theirs(&old), &proof)
        .expect("ct-merkle accepts the consistency proof");
    server.stop().await;
}
