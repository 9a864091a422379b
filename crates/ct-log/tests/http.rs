//! End-to-end tests of the log's HTTP interface over real sockets on 127.0.0.1: Fulcio
//! precertificates and certificates from the `ca` crate are submitted to `add-pre-chain` and
//! `add-chain` of a running `Log`, their SCTs are verified (also embedded in the final
//! certificate, as Fulcio does), and the RFC 6962 and static-ct-api read endpoints of the same
//! server are checked against them. Bad submissions must be 4xx with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use ca::{CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer, ephemeral};
use ct_core::{
    AddChainResponse, LogSigningKey, MerkleTreeLeaf, SignedCertificateTimestamp, SignedEntry,
    certificate::{
        embedded_scts, precert_entry_from_certificate, precert_entry_from_precertificate,
    },
    checkpoint::verify_checkpoint,
    encode_sct_list,
    leaf_index::decode_leaf_index_extension,
    merkle::{Hash, leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion},
    sth::{GetSthResponse, SignedTreeHead},
    tile::{Tile, TilePath},
    tile_leaf::decode_data_tile,
};
use ct_log::{
    http::router,
    log::{BatchConfig, Log, LogConfig},
    storage::{DirectoryStore, MemoryStore, issuer_path},
    submission::{GetRootsResponse, Roots, ValidationPolicy},
};
use identity::{CertificateIdentity, SubjectAltName};
use serde_json::{Value, json};

const ORIGIN: &str = "fulcio-rs.test/ct-log-http";

fn identity() -> CertificateIdentity {
    CertificateIdentity {
        san: SubjectAltName::Email("signer@example.com".into()),
        extensions: oidc::Extensions {
            issuer: "https://accounts.example.com".into(),
            subject: "signer@example.com".into(),
            ..Default::default()
        },
    }
}

fn client_key() -> ClientPublicKey {
    let key = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    ClientPublicKey::parse(key.public_key_der()).unwrap()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .try_into()
        .unwrap()
}

fn body_of(chain: &[Vec<u8>]) -> Value {
    json!({ "chain": chain.iter().map(|c| BASE64.encode(c)).collect::<Vec<_>>() })
}

struct Server {
    // Kept for the server's lifetime: the DirectoryStore lives in it.
    _dir: Option<tempfile::TempDir>,
    ca: CertificateAuthority,
    key: LogSigningKey,
    log: Arc<Log>,
    url: String,
    client: reqwest::Client,
}

impl Server {
    /// A log on a `MemoryStore`.
    async fn start() -> Self {
        Self::start_on(false).await
    }

    /// A log on a `MemoryStore`, or on a `DirectoryStore` in a fresh temporary directory.
    async fn start_on(directory: bool) -> Self {
        let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
        let roots = Roots::from_der(ca.current().chain().last().cloned()).unwrap();
        let key = LogSigningKey::generate_p256().unwrap();
        let config = LogConfig {
            origin: ORIGIN.to_owned(),
            signing_key: LogSigningKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap(),
            roots,
            policy: ValidationPolicy::default(),
            batch: BatchConfig {
                max_entries: 64,
                max_delay: Duration::from_millis(5),
                max_pending: 1000,
            },
        };
        let (dir, log) = if directory {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(DirectoryStore::open(dir.path()).await.unwrap());
            let log = Log::open(config, store.clone(), store).await.unwrap();
            (Some(dir), log)
        } else {
            let store = Arc::new(MemoryStore::new());
            (None, Log::open(config, store.clone(), store).await.unwrap())
        };
        let log = Arc::new(log);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = router(Arc::clone(&log));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            _dir: dir,
            ca,
            key,
            log,
            url,
            client: reqwest::Client::new(),
        }
    }

    async fn precert_chain(&self) -> (ca::Precertificate, Vec<Vec<u8>>) {
        let precert = self
            .ca
            .issue_precertificate(&identity(), &client_key())
            .await
            .unwrap();
        let mut chain = vec![precert.der.clone()];
        chain.extend(precert.chain().iter().cloned());
        (precert, chain)
    }

    async fn cert_chain(&self) -> Vec<Vec<u8>> {
        let cert = self
            .ca
            .issue_certificate(&identity(), &client_key())
            .await
            .unwrap();
        let mut chain = vec![cert.der.clone()];
        chain.extend(cert.chain.iter().cloned());
        chain
    }

    async fn post(&self, endpoint: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/ct/v1/{endpoint}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn submit(&self, endpoint: &str, chain: &[Vec<u8>]) -> SignedCertificateTimestamp {
        let response = self.post(endpoint, body_of(chain).to_string()).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: AddChainResponse = response.json().await.unwrap();
        assert_eq!(body.sct_version, 0);
        assert_eq!(body.id, BASE64.encode(self.key.log_id()));
        SignedCertificateTimestamp::try_from(&body).unwrap()
    }

    /// Status and text of a submission expected to fail.
    async fn refused(&self, endpoint: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response = self.post(endpoint, body).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    }
}

fn hashes_of(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            BASE64
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
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

#[tokio::test]
async fn submissions_over_http_are_logged_proven_and_served_from_memory() {
    submissions_are_logged_proven_and_served(Server::start_on(false).await).await;
}

#[tokio::test]
async fn submissions_over_http_are_logged_proven_and_served_from_a_directory() {
    submissions_are_logged_proven_and_served(Server::start_on(true).await).await;
}

async fn submissions_are_logged_proven_and_served(server: Server) {
    let public_key = server.key.public_key().clone();

    // Precertificates: the SCT verifies against the PreCert, and embedded in the final
    // certificate it verifies as a client would check it.
    let mut entries: Vec<(u64, SignedEntry)> = Vec::new();
    for _ in 0..3 {
        let (precert, chain) = server.precert_chain().await;
        let sct = server.submit("add-pre-chain", &chain).await;
        let issuer = chain[1].clone();
        let entry =
            SignedEntry::Precert(precert_entry_from_precertificate(&chain[0], &issuer).unwrap());
        public_key.verify_sct(&sct, &entry).unwrap();
        let final_cert = precert
            .finalize(&encode_sct_list(std::slice::from_ref(&sct)).unwrap())
            .await
            .unwrap();
        let embedded = embedded_scts(&final_cert.der).unwrap();
        assert_eq!(embedded, vec![sct.clone()]);
        let from_final =
            SignedEntry::Precert(precert_entry_from_certificate(&final_cert.der, &issuer).unwrap());
        public_key.verify_sct(&embedded[0], &from_final).unwrap();
        entries.push((decode_leaf_index_extension(&sct.extensions).unwrap(), entry));
    }
    // Final certificates through add-chain.
    for _ in 0..2 {
        let chain = server.cert_chain().await;
        let sct = server.submit("add-chain", &chain).await;
        let entry = SignedEntry::X509(chain[0].clone());
        public_key.verify_sct(&sct, &entry).unwrap();
        entries.push((decode_leaf_index_extension(&sct.extensions).unwrap(), entry));
    }
    let mut indexes: Vec<u64> = entries.iter().map(|(i, _)| *i).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, vec![0, 1, 2, 3, 4]);

    // The tree head: get-sth verifies and matches the checkpoint.
    let sth: GetSthResponse =
        serde_json::from_value(server.get_json("/ct/v1/get-sth").await).unwrap();
    let sth = SignedTreeHead::try_from(&sth).unwrap();
    sth.verify(&public_key).unwrap();
    assert_eq!(sth.tree_head.tree_size, 5);
    let (status, note) = server.get_bytes("/checkpoint").await;
    assert_eq!(status, 200);
    assert_eq!(verify_checkpoint(&note, ORIGIN, &public_key).unwrap(), sth);
    let root = sth.tree_head.root_hash;

    // get-entries holds each logged entry; its leaf hash has a verifying proof by hash.
    let page = server.get_json("/ct/v1/get-entries?start=0&end=4").await;
    let page = page["entries"].as_array().unwrap();
    assert_eq!(page.len(), 5);
    for (index, entry) in &entries {
        let leaf_input = BASE64
            .decode(page[*index as usize]["leaf_input"].as_str().unwrap())
            .unwrap();
        let leaf = MerkleTreeLeaf::from_bytes(&leaf_input).unwrap();
        assert_eq!(&leaf.timestamped_entry.entry, entry);
        let hash = leaf_hash(&leaf_input);
        let proof = server
            .get_json(&format!(
                "/ct/v1/get-proof-by-hash?hash={}&tree_size=5",
                escape(&hash)
            ))
            .await;
        assert_eq!(proof["leaf_index"], *index);
        verify_inclusion(*index, 5, &hash, &hashes_of(&proof["audit_path"]), &root).unwrap();
        let both = server
            .get_json(&format!(
                "/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size=5"
            ))
            .await;
        assert_eq!(both["leaf_input"], page[*index as usize]["leaf_input"]);
        verify_inclusion(*index, 5, &hash, &hashes_of(&both["audit_path"]), &root).unwrap();
        // extra_data ends with the chain; its last certificate is the CA root, served by
        // fingerprint at issuer/.
        let extra = BASE64
            .decode(page[*index as usize]["extra_data"].as_str().unwrap())
            .unwrap();
        let root_der = server.ca.current().chain().last().cloned().unwrap();
        assert!(extra.ends_with(&root_der));
        let (status, served) = server
            .get_bytes(&format!("/{}", issuer_path(&sha256(&root_der))))
            .await;
        assert_eq!(status, 200);
        assert_eq!(served, root_der);
    }

    // The data tile over HTTP decodes to the same leaves.
    let tile = Tile::at_tree_size(0, 0, 5).unwrap().unwrap();
    let (status, data) = server
        .get_bytes(&format!("/{}", TilePath::Data(tile)))
        .await;
    assert_eq!(status, 200);
    let leaves = decode_data_tile(&data, 5).unwrap();
    for (index, entry) in &entries {
        assert_eq!(&leaves[*index as usize].timestamped_entry.entry, entry);
    }

    // Growth: one more entry, and a consistency proof from 5 to 6 that verifies.
    let (_, chain) = server.precert_chain().await;
    server.submit("add-pre-chain", &chain).await;
    let sth6: GetSthResponse =
        serde_json::from_value(server.get_json("/ct/v1/get-sth").await).unwrap();
    assert_eq!(sth6.tree_size, 6);
    let root6: Hash = BASE64
        .decode(&sth6.sha256_root_hash)
        .unwrap()
        .try_into()
        .unwrap();
    let proof = server
        .get_json("/ct/v1/get-sth-consistency?first=5&second=6")
        .await;
    verify_consistency(5, 6, &root, &root6, &hashes_of(&proof["consistency"])).unwrap();

    // A resubmission answers an SCT for the same entry.
    let again = server.submit("add-pre-chain", &chain).await;
    assert_eq!(decode_leaf_index_extension(&again.extensions).unwrap(), 5);
    assert_eq!(server.log.public_key().log_id(), public_key.log_id());
}

#[tokio::test]
async fn bad_submissions_are_client_errors_with_a_message() {
    let server = Server::start().await;
    let (_, precert_chain) = server.precert_chain().await;
    let cert_chain = server.cert_chain().await;
    let other = Server::start().await;
    let (_, foreign_chain) = other.precert_chain().await;

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "add-chain",
            "not json".into(),
            "not a valid add-chain request",
        ),
        ("add-chain", "{}".into(), "no \"chain\""),
        ("add-chain", r#"{"chain": []}"#.into(), "empty"),
        ("add-chain", r#"{"chain": ["%%%"]}"#.into(), "base64"),
        ("add-pre-chain", r#"{"chain": [42]}"#.into(), "not a string"),
        ("add-pre-chain", body_of(&foreign_chain).to_string(), ""),
        ("add-pre-chain", body_of(&cert_chain).to_string(), ""),
        ("add-chain", body_of(&precert_chain).to_string(), ""),
        ("add-chain", body_of(&precert_chain[..1]).to_string(), ""),
    ];
    for (endpoint, body, wanted) in cases {
        let (status, text) = server.refused(endpoint, body.clone()).await;
        assert_eq!(status, 400, "{endpoint} {body:.80}: {text}");
        assert!(text.contains(wanted), "{endpoint}: {text}");
        assert!(text.len() > 5, "{endpoint}: no message");
    }

    // Larger than the policy's body limit: 413 before any parsing.
    let limit = ValidationPolicy::default().limits.max_body_bytes();
    let (status, text) = server.refused("add-chain", vec![b' '; limit + 1]).await;
    assert_eq!(status, 413, "{text}");
    // Just under the limit is read (and refused for what it is, not its size).
    let (status, _) = server.refused("add-chain", vec![b' '; limit - 1]).await;
    assert_eq!(status, 400);

    // Submission endpoints are POST only; get-roots lists the CA root.
    let response = server
        .client
        .get(format!("{}/ct/v1/add-chain", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let roots: GetRootsResponse =
        serde_json::from_value(server.get_json("/ct/v1/get-roots").await).unwrap();
    let root_der = server.ca.current().chain().last().cloned().unwrap();
    assert_eq!(roots.certificates, vec![BASE64.encode(root_der)]);

    // Nothing was logged: the log has not published a tree with entries.
    let (status, _) = server.get_bytes("/ct/v1/get-entries?start=0&end=0").await;
    assert!(status == 400 || status == 503, "{status}");
}

#[tokio::test]
async fn concurrent_submissions_get_distinct_indexes_that_prove_against_the_sth() {
    let server = Arc::new(Server::start().await);
    let mut chains = Vec::new();
    for _ in 0..16 {
        chains.push(server.precert_chain().await.1);
    }
    let tasks: Vec<_> = chains
        .iter()
        .cloned()
        .map(|chain| {
            let server = Arc::clone(&server);
            tokio::spawn(async move { server.submit("add-pre-chain", &chain).await })
        })
        .collect();
    let mut indexes = Vec::new();
    for task in tasks {
        let sct = task.await.unwrap();
        indexes.push(decode_leaf_index_extension(&sct.extensions).unwrap());
    }
    let mut sorted = indexes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..16).collect::<Vec<u64>>());

    let sth: GetSthResponse =
        serde_json::from_value(server.get_json("/ct/v1/get-sth").await).unwrap();
    assert_eq!(sth.tree_size, 16);
    let root: Hash = BASE64
        .decode(&sth.sha256_root_hash)
        .unwrap()
        .try_into()
        .unwrap();
    let page = server.get_json("/ct/v1/get-entries?start=0&end=15").await;
    for (index, entry) in page["entries"].as_array().unwrap().iter().enumerate() {
        let leaf_input = BASE64
            .decode(entry["leaf_input"].as_str().unwrap())
            .unwrap();
        let hash = leaf_hash(&leaf_input);
        let proof = server
            .get_json(&format!(
                "/ct/v1/get-proof-by-hash?hash={}&tree_size=16",
                escape(&hash)
            ))
            .await;
        assert_eq!(proof["leaf_index"], index);
        verify_inclusion(
            index as u64,
            16,
            &hash,
            &hashes_of(&proof["audit_path"]),
            &root,
        )
        .unwrap();
    }
}

#[tokio::test]
async fn a_log_past_one_data_tile_pages_and_proves_over_http() {
    // Over 256 entries in several batches: the sequencer writes partial tiles of many widths,
    // then the full tile; the read path must page across the boundary and prove every size.
    const N: usize = 300;
    let server = Server::start().await;
    let mut chains = Vec::with_capacity(N);
    for _ in 0..N {
        chains.push(server.precert_chain().await.1);
    }
    for batch in chains.chunks(40) {
        let adds: Vec<_> = batch
            .iter()
            .map(|chain| {
                server
                    .log
                    .add(ct_log::submission::SubmissionKind::PreChain, chain.clone())
            })
            .collect();
        for added in futures::future::join_all(adds).await {
            added.unwrap();
        }
    }
    let sth: GetSthResponse =
        serde_json::from_value(server.get_json("/ct/v1/get-sth").await).unwrap();
    assert_eq!(sth.tree_size, N as u64);
    let root: Hash = BASE64
        .decode(&sth.sha256_root_hash)
        .unwrap()
        .try_into()
        .unwrap();

    let mut hashes: Vec<Hash> = Vec::new();
    let mut pages = 0;
    while hashes.len() < N {
        let page = server
            .get_json(&format!(
                "/ct/v1/get-entries?start={}&end={}",
                hashes.len(),
                N - 1
            ))
            .await;
        for entry in page["entries"].as_array().unwrap() {
            let leaf_input = BASE64
                .decode(entry["leaf_input"].as_str().unwrap())
                .unwrap();
            hashes.push(leaf_hash(&leaf_input));
        }
        pages += 1;
    }
    assert_eq!(pages, 2, "a page stops at the end of a data tile");
    assert_eq!(root_from_leaf_hashes(&hashes), root);

    for index in (0..N).step_by(7).chain([255, 256, N - 1]) {
        let proof = server
            .get_json(&format!(
                "/ct/v1/get-proof-by-hash?hash={}&tree_size={N}",
                escape(&hashes[index])
            ))
            .await;
        assert_eq!(proof["leaf_index"], index);
        let path = hashes_of(&proof["audit_path"]);
        verify_inclusion(index as u64, N as u64, &hashes[index], &path, &root).unwrap();
    }
    for first in [1usize, 40, 255, 256, 257, 299] {
        let proof = server
            .get_json(&format!(
                "/ct/v1/get-sth-consistency?first={first}&second={N}"
            ))
            .await;
        let old_root = root_from_leaf_hashes(&hashes[..first]);
        let path = hashes_of(&proof["consistency"]);
        verify_consistency(first as u64, N as u64, &old_root, &root, &path).unwrap();
    }
}
