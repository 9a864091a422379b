//! Black-box tests of the read path over real sockets on 127.0.0.1: a tree of 300 entries
//! (one full data tile and a partial one) is published into a `MemoryStore` with ct-core alone,
//! as a sequencer would, then every RFC 6962 read endpoint is checked against the tree's own
//! roots and every static-ct-api object against what was stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use bytes::Bytes;
use ct_core::{
    LogSigningKey, MerkleTreeLeaf, PreCert, SignedEntry, TimestampedEntry,
    checkpoint::{sign_checkpoint, verify_checkpoint},
    leaf_index::encode_leaf_index_extension,
    merkle::{
        Hash, leaf_hash, root_from_leaf_hashes, stored_hashes_for_batch, verify_consistency,
        verify_inclusion,
    },
    sth::{GetSthResponse, SignedTreeHead, TreeHead},
    tile::{tile_data, tiles_for_size},
    tile_leaf::{TileLeaf, decode_data_tile, encode_data_tile},
    tls::{LengthPrefix, Reader},
};
use ct_log::{
    http::{ReadState, read_router},
    storage::{
        CHECKPOINT_PATH, DedupValue, MemoryStore, ObjectStore, PutMode, TrustedState, issuer_path,
    },
};
use serde_json::Value;

const ORIGIN: &str = "ct.example.com/test";
const SIZE: u64 = 300;

fn sha256(bytes: &[u8]) -> [u8; 32] {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .try_into()
        .unwrap()
}

/// Two fake issuers; entries alternate between x509 (one issuer) and precert (two issuers).
fn issuers() -> [Vec<u8>; 2] {
    [
        b"issuer certificate one".to_vec(),
        b"issuer certificate two".to_vec(),
    ]
}

fn entry(index: u64) -> TileLeaf {
    let [a, b] = issuers();
    let extensions = encode_leaf_index_extension(index).unwrap().to_vec();
    if index.is_multiple_of(2) {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1_700_000_000_000 + index,
                entry: SignedEntry::X509(format!("certificate {index}").into_bytes()),
                extensions,
            },
            pre_certificate: None,
            certificate_chain: vec![sha256(&a)],
        }
    } else {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1_700_000_000_000 + index,
                entry: SignedEntry::Precert(PreCert {
                    issuer_key_hash: [7; 32],
                    tbs_certificate: format!("tbs {index}").into_bytes(),
                }),
                extensions,
            },
            pre_certificate: Some(format!("precertificate {index}").into_bytes()),
            certificate_chain: vec![sha256(&a), sha256(&b)],
        }
    }
}

struct Fixture {
    store: Arc<MemoryStore>,
    key: LogSigningKey,
    leaves: Vec<TileLeaf>,
    hashes: Vec<Hash>,
    url: String,
    client: reqwest::Client,
}

impl Fixture {
    /// A log whose published tree has `size` of the 300 entries; `publish` grows it.
    async fn new(size: u64) -> Self {
        let store = Arc::new(MemoryStore::new());
        let key = LogSigningKey::generate_p256().unwrap();
        let leaves: Vec<TileLeaf> = (0..SIZE).map(entry).collect();
        let hashes: Vec<Hash> = leaves.iter().map(|l| l.leaf_hash().unwrap()).collect();
        for issuer in issuers() {
            store
                .put(
                    &issuer_path(&sha256(&issuer)),
                    Bytes::from(issuer),
                    PutMode::Immutable,
                )
                .await
                .unwrap();
        }
        let read = ReadState {
            objects: store.clone(),
            state: store.clone(),
            public_key: key.public_key().clone(),
            origin: ORIGIN.to_owned(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, read_router(read)).await });
        let fixture = Self {
            store,
            key,
            leaves,
            hashes,
            url,
            client: reqwest::Client::new(),
        };
        if size > 0 {
            fixture.publish(size).await;
        }
        fixture
    }

    /// Writes the tiles, data tiles, dedup entries and checkpoint of the first `size` entries,
    /// in the sequencer's order (objects, then dedup, then the public checkpoint).
    async fn publish(&self, size: u64) {
        let stored =
            stored_hashes_for_batch(0, &self.hashes[..size as usize], &Vec::new()).unwrap();
        for level in tiles_for_size(size).unwrap() {
            for tile in level.tiles() {
                let data = tile_data(&tile, &stored).unwrap();
                self.put(&tile.path(), data).await;
                if let Some(path) = tile.data_path() {
                    let start = (tile.n() * 256) as usize;
                    let end = start + usize::from(tile.width());
                    self.put(&path, encode_data_tile(&self.leaves[start..end]).unwrap())
                        .await;
                }
            }
        }
        let dedup: Vec<_> = (0..size)
            .map(|i| {
                let value = DedupValue {
                    leaf_index: i,
                    timestamp: self.leaves[i as usize].timestamped_entry.timestamp,
                };
                (self.hashes[i as usize], value)
            })
            .collect();
        self.store.put_dedup(&dedup).await.unwrap();
        let head = TreeHead {
            tree_size: size,
            timestamp: 1_800_000_000_000 + size,
            root_hash: self.root(size),
        };
        let (_, note) = sign_checkpoint(head, ORIGIN, &self.key).unwrap();
        self.store
            .put(CHECKPOINT_PATH, Bytes::from(note), PutMode::Mutable)
            .await
            .unwrap();
    }

    async fn put(&self, path: &str, data: Vec<u8>) {
        self.store
            .put(path, Bytes::from(data), PutMode::Immutable)
            .await
            .unwrap();
    }

    fn root(&self, size: u64) -> Hash {
        root_from_leaf_hashes(&self.hashes[..size as usize])
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        response.json().await.unwrap()
    }

    /// Status and body of a request expected to fail.
    async fn get_error(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    async fn sth(&self) -> SignedTreeHead {
        let body: GetSthResponse =
            serde_json::from_value(self.get_json("/ct/v1/get-sth").await).unwrap();
        let sth = SignedTreeHead::try_from(&body).unwrap();
        sth.verify(self.key.public_key()).unwrap();
        sth
    }
}

fn b64_hash(value: &Value) -> Hash {
    BASE64
        .decode(value.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes_of(value: &Value) -> Vec<Hash> {
    value.as_array().unwrap().iter().map(b64_hash).collect()
}

fn query_hash(hash: &Hash) -> String {
    // '+' and '/' and '=' must be escaped in a query string.
    BASE64
        .encode(hash)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Parses `extra_data` (RFC 6962 §4.6) into the precertificate (if any) and the chain.
fn parse_extra_data(bytes: &[u8], precert: bool) -> (Option<Vec<u8>>, Vec<Vec<u8>>) {
    let mut reader = Reader::new(bytes);
    let pre = precert.then(|| {
        reader
            .read_opaque(LengthPrefix::U24, "pre_certificate")
            .unwrap()
            .to_vec()
    });
    let list = reader.read_opaque(LengthPrefix::U24, "chain").unwrap();
    reader.finish("extra_data").unwrap();
    let mut inner = Reader::new(list);
    let mut chain = Vec::new();
    while !inner.is_empty() {
        chain.push(
            inner
                .read_opaque(LengthPrefix::U24, "cert")
                .unwrap()
                .to_vec(),
        );
    }
    (pre, chain)
}

#[tokio::test]
async fn get_sth_and_checkpoint_agree_and_verify() {
    let f = Fixture::new(SIZE).await;
    let sth = f.sth().await;
    assert_eq!(sth.tree_head.tree_size, SIZE);
    assert_eq!(sth.tree_head.root_hash, f.root(SIZE));

    let response = f.get("/checkpoint").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cache.contains("max-age=5"), "{cache}");
    let note = response.bytes().await.unwrap();
    let from_checkpoint = verify_checkpoint(&note, ORIGIN, f.key.public_key()).unwrap();
    assert_eq!(from_checkpoint, sth);
}

#[tokio::test]
async fn every_entry_has_a_verifying_proof_by_hash() {
    let f = Fixture::new(SIZE).await;
    let root = f.sth().await.tree_head.root_hash;
    for (index, hash) in f.hashes.iter().enumerate() {
        let body = f
            .get_json(&format!(
                "/ct/v1/get-proof-by-hash?hash={}&tree_size={SIZE}",
                query_hash(hash)
            ))
            .await;
        assert_eq!(body["leaf_index"], index as u64);
        let proof = hashes_of(&body["audit_path"]);
        verify_inclusion(index as u64, SIZE, hash, &proof, &root).unwrap();
    }
    // A smaller tree: proofs against that tree's root.
    let body = f
        .get_json(&format!(
            "/ct/v1/get-proof-by-hash?hash={}&tree_size=7",
            query_hash(&f.hashes[3])
        ))
        .await;
    verify_inclusion(
        3,
        7,
        &f.hashes[3],
        &hashes_of(&body["audit_path"]),
        &f.root(7),
    )
    .unwrap();
}

#[tokio::test]
async fn consistency_proofs_verify() {
    let f = Fixture::new(SIZE).await;
    for (first, second) in [
        (1, 2),
        (5, 300),
        (255, 256),
        (256, 300),
        (299, 300),
        (7, 13),
    ] {
        let body = f
            .get_json(&format!(
                "/ct/v1/get-sth-consistency?first={first}&second={second}"
            ))
            .await;
        let proof = hashes_of(&body["consistency"]);
        verify_consistency(first, second, &f.root(first), &f.root(second), &proof).unwrap();
    }
    for (first, second) in [(0, 300), (300, 300)] {
        let body = f
            .get_json(&format!(
                "/ct/v1/get-sth-consistency?first={first}&second={second}"
            ))
            .await;
        assert_eq!(body["consistency"], serde_json::json!([]));
    }
}

#[tokio::test]
async fn get_entries_pages_by_data_tile_and_rebuilds_extra_data() {
    let f = Fixture::new(SIZE).await;
    let [a, b] = issuers();
    let mut next = 0u64;
    let mut pages = 0;
    while next < SIZE {
        let body = f
            .get_json(&format!(
                "/ct/v1/get-entries?start={next}&end={}",
                SIZE + 50
            ))
            .await;
        let entries = body["entries"].as_array().unwrap();
        assert!(!entries.is_empty());
        for entry in entries {
            let leaf_input = BASE64
                .decode(entry["leaf_input"].as_str().unwrap())
                .unwrap();
            let leaf = MerkleTreeLeaf::from_bytes(&leaf_input).unwrap();
            assert_eq!(leaf_hash(&leaf_input), f.hashes[next as usize]);
            let expected = &f.leaves[next as usize];
            assert_eq!(leaf.timestamped_entry, expected.timestamped_entry);
            let extra = BASE64
                .decode(entry["extra_data"].as_str().unwrap())
                .unwrap();
            let precert = expected.pre_certificate.is_some();
            let (pre, chain) = parse_extra_data(&extra, precert);
            assert_eq!(pre, expected.pre_certificate);
            if precert {
                assert_eq!(chain, vec![a.clone(), b.clone()]);
            } else {
                assert_eq!(chain, vec![a.clone()]);
            }
            next += 1;
        }
        pages += 1;
    }
    // 300 entries: the first page stops at the end of data tile 0, the second at the tree.
    assert_eq!(pages, 2);
    assert_eq!(next, SIZE);

    let body = f.get_json("/ct/v1/get-entries?start=10&end=12").await;
    assert_eq!(body["entries"].as_array().unwrap().len(), 3);
    let body = f.get_json("/ct/v1/get-entries?start=250&end=260").await;
    assert_eq!(body["entries"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn get_entry_and_proof_verifies() {
    let f = Fixture::new(SIZE).await;
    for (index, tree_size) in [(0, 1), (0, 300), (1, 2), (255, 256), (256, 300), (299, 300)] {
        let body = f
            .get_json(&format!(
                "/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size={tree_size}"
            ))
            .await;
        let leaf_input = BASE64.decode(body["leaf_input"].as_str().unwrap()).unwrap();
        let hash = leaf_hash(&leaf_input);
        assert_eq!(hash, f.hashes[index as usize]);
        let proof = hashes_of(&body["audit_path"]);
        verify_inclusion(index, tree_size, &hash, &proof, &f.root(tree_size)).unwrap();
        let extra = BASE64.decode(body["extra_data"].as_str().unwrap()).unwrap();
        parse_extra_data(&extra, index % 2 == 1);
    }
}

#[tokio::test]
async fn tiles_and_issuers_are_served_as_stored() {
    let f = Fixture::new(SIZE).await;
    let stored = stored_hashes_for_batch(0, &f.hashes, &Vec::new()).unwrap();
    for level in tiles_for_size(SIZE).unwrap() {
        for tile in level.tiles() {
            let response = f.get(&format!("/{}", tile.path())).await;
            assert_eq!(response.status(), 200, "{}", tile.path());
            assert_eq!(
                response.headers()["content-type"],
                "application/octet-stream"
            );
            let cache = response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(cache.contains("immutable"), tile.is_full(), "{cache}");
            let body = response.bytes().await.unwrap();
            assert_eq!(body.as_ref(), tile_data(&tile, &stored).unwrap().as_slice());
            if let Some(path) = tile.data_path() {
                let body = f.get(&format!("/{path}")).await.bytes().await.unwrap();
                let leaves = decode_data_tile(&body, tile.width()).unwrap();
                let start = (tile.n() * 256) as usize;
                assert_eq!(leaves, f.leaves[start..start + leaves.len()]);
                for (offset, leaf) in leaves.iter().enumerate() {
                    assert_eq!(leaf.leaf_hash().unwrap(), f.hashes[start + offset]);
                }
            }
        }
    }
    for issuer in issuers() {
        let response = f.get(&format!("/{}", issuer_path(&sha256(&issuer)))).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/pkix-cert");
        assert_eq!(response.bytes().await.unwrap().as_ref(), issuer.as_slice());
    }
}

#[tokio::test]
async fn a_partial_tile_replaced_by_its_full_tile_is_still_served_and_proven() {
    // Published at 100, then at 300; the partial tiles of size 100 are deleted, as a log may
    // once the full tiles exist.
    let f = Fixture::new(100).await;
    f.publish(SIZE).await;
    for path in ["tile/0/000.p/100", "tile/data/000.p/100"] {
        f.store.delete(path).await.unwrap();
    }
    let body = f.get("/tile/0/000.p/100").await;
    assert_eq!(body.status(), 200);
    let expected: Vec<u8> = f.hashes[..100].concat();
    assert_eq!(body.bytes().await.unwrap().as_ref(), expected.as_slice());
    let body = f.get("/tile/data/000.p/100").await.bytes().await.unwrap();
    assert_eq!(decode_data_tile(&body, 100).unwrap(), f.leaves[..100]);

    // Now delete the size-300 partial tiles too: the published tree still needs them, so the
    // RFC 6962 answers fail as a server error, never as a wrong proof.
    let body = f
        .get_json("/ct/v1/get-sth-consistency?first=100&second=300")
        .await;
    let proof = hashes_of(&body["consistency"]);
    verify_consistency(100, 300, &f.root(100), &f.root(300), &proof).unwrap();
    f.store.delete("tile/0/001.p/44").await.unwrap();
    let (status, text) = f
        .get_error("/ct/v1/get-entry-and-proof?leaf_index=299&tree_size=300")
        .await;
    assert_eq!(status, 500, "{text}");
    assert_eq!(text, "internal error\n");
}

#[tokio::test]
async fn malformed_requests_are_client_errors() {
    let f = Fixture::new(SIZE).await;
    let unknown = query_hash(&[9u8; 32]);
    let cases: &[(&str, u16)] = &[
        ("/ct/v1/get-entries?start=5&end=4", 400),
        ("/ct/v1/get-entries?start=300&end=300", 400),
        ("/ct/v1/get-entries?start=-1&end=4", 400),
        ("/ct/v1/get-entries?start=a&end=4", 400),
        ("/ct/v1/get-entries?start=%2B1&end=4", 400),
        ("/ct/v1/get-entries?start=1", 400),
        (
            "/ct/v1/get-entries?start=99999999999999999999999&end=1",
            400,
        ),
        ("/ct/v1/get-sth-consistency?first=5&second=4", 400),
        ("/ct/v1/get-sth-consistency?first=5&second=301", 400),
        ("/ct/v1/get-sth-consistency?first=5", 400),
        ("/ct/v1/get-proof-by-hash?hash=%%%&tree_size=5", 400),
        ("/ct/v1/get-proof-by-hash?hash=not-base64!&tree_size=5", 400),
        ("/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=5", 400),
        ("/ct/v1/get-proof-by-hash?tree_size=5", 400),
        ("/ct/v1/get-entry-and-proof?leaf_index=5&tree_size=5", 400),
        ("/ct/v1/get-entry-and-proof?leaf_index=5&tree_size=301", 400),
        ("/ct/v1/get-entry-and-proof?leaf_index=x&tree_size=10", 400),
        ("/tile/0/0", 400),
        ("/tile/0/000.p/0", 400),
        ("/tile/0/000.p/256", 400),
        ("/tile/6/000", 400),
        ("/tile/00/000", 400),
        ("/tile/data/x000/001", 400),
        ("/tile/0/../checkpoint", 400),
        ("/tile/0/005", 404),
        ("/tile/data/001.p/45", 404),
        ("/tile/1/000", 404),
        ("/issuer/00", 400),
        ("/issuer/", 404),
        ("/nothing", 404),
    ];
    for &(path, want) in cases {
        let (status, text) = f.get_error(path).await;
        assert_eq!(status, want, "{path}: {text}");
        assert!(!text.is_empty(), "{path}: empty error body");
    }
    let missing = f.get(&format!("/issuer/{}", "ab".repeat(32))).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["cache-control"], "no-store");
    let beyond = f.get("/tile/0/001").await;
    assert_eq!(beyond.status(), 404);
    assert_eq!(beyond.headers()["cache-control"], "no-store");
    let (status, _) = f.get_error(&format!("/issuer/{}", "AB".repeat(32))).await;
    assert_eq!(status, 400);
    // Known errors say what was wrong, in plain text as ct-go's http.Error does.
    let (status, text) = f
        .get_error(&format!(
            "/ct/v1/get-proof-by-hash?hash={unknown}&tree_size=300"
        ))
        .await;
    assert_eq!(status, 404);
    assert!(text.contains("no entry with leaf hash"), "{text}");
    // A known hash whose entry lies beyond the requested tree is not in that tree.
    let (status, _) = f
        .get_error(&format!(
            "/ct/v1/get-proof-by-hash?hash={}&tree_size=10",
            query_hash(&f.hashes[200])
        ))
        .await;
    assert_eq!(status, 404);
    let (_, text) = f.get_error("/ct/v1/get-entries?start=5&end=4").await;
    assert_eq!(text, "start (5) is larger than end (4)\n");
}

#[tokio::test]
async fn a_log_without_a_checkpoint_is_unavailable_not_broken() {
    let f = Fixture::new(0).await;
    for path in [
        "/checkpoint",
        "/ct/v1/get-sth",
        "/ct/v1/get-entries?start=0&end=0",
    ] {
        let (status, text) = f.get_error(path).await;
        assert_eq!(status, 503, "{path}");
        assert!(text.contains("not published a checkpoint"), "{text}");
    }
}

#[tokio::test]
async fn a_stale_dedup_record_is_not_served_as_a_proof() {
    // The dedup index is loss-tolerant trusted state; an entry pointing at the wrong index
    // must not yield a proof for another leaf.
    let f = Fixture::new(SIZE).await;
    let fake = [42u8; 32];
    f.store
        .put_dedup(&[(
            fake,
            DedupValue {
                leaf_index: 3,
                timestamp: 0,
            },
        )])
        .await
        .unwrap();
    let (status, _) = f
        .get_error(&format!(
            "/ct/v1/get-proof-by-hash?hash={}&tree_size=300",
            query_hash(&fake)
        ))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn no_parameter_combination_is_a_server_error() {
    let f = Fixture::new(SIZE).await;
    let values = [
        "",
        "0",
        "1",
        "255",
        "256",
        "299",
        "300",
        "301",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "%2B1",
        "%201",
        "1e3",
        "0x10",
        "%EF%BC%91",
        "%00",
        "01",
    ];
    let mut answered = 0;
    for (endpoint, a, b) in [
        ("get-entries", "start", "end"),
        ("get-sth-consistency", "first", "second"),
        ("get-entry-and-proof", "leaf_index", "tree_size"),
    ] {
        for x in values {
            for y in values {
                let path = format!("/ct/v1/{endpoint}?{a}={x}&{b}={y}");
                let status = f.get(&path).await.status().as_u16();
                assert!(matches!(status, 200 | 400), "{path}: {status}");
                answered += 1;
            }
        }
    }
    let known = query_hash(&f.hashes[7]);
    for hash in [
        known.as_str(),
        "",
        "AAAA",
        "%2B%2B%2B%2B",
        "%00",
        &"A".repeat(100),
    ] {
        for size in values {
            let path = format!("/ct/v1/get-proof-by-hash?hash={hash}&tree_size={size}");
            let status = f.get(&path).await.status().as_u16();
            assert!(matches!(status, 200 | 400 | 404), "{path}: {status}");
            answered += 1;
        }
    }
    assert_eq!(answered, 3 * values.len() * values.len() + 6 * values.len());
}
