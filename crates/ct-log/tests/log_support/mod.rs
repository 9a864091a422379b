//! Shared fixtures of the log tests: Fulcio precertificate chains, a log configuration, and
//! `check_log`, which checks a whole stored log the way a monitor would (after Sunlight's
//! CheckLog, spec/ct-log.md §5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ca::{CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer, ephemeral};
use ct_core::checkpoint::verify_checkpoint;
use ct_core::merkle::{
    Hash, prove_record, prove_tree, tree_hash, verify_consistency, verify_inclusion,
};
use ct_core::tile::{Tile, TileHashReader, TileReader, tile_hashes, tiles_for_size};
use ct_core::tile_leaf::decode_data_tile;
use ct_core::{LogSigningKey, SignedEntry};
use ct_log::log::{AddResult, BatchConfig, Log, LogConfig};
use ct_log::storage::{CHECKPOINT_PATH, ObjectStore, TrustedState, issuer_path};
use ct_log::submission::{Roots, SubmissionKind, ValidationPolicy};
use identity::{CertificateIdentity, SubjectAltName};

pub const ORIGIN: &str = "fulcio-rs.test/ct-log";

/// A CA, its roots, and a log key.
pub struct Fixture {
    pub ca: CertificateAuthority,
    pub roots: Roots,
    pub key_der: Vec<u8>,
}

impl Fixture {
    pub fn new() -> Self {
        let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
        let roots = Roots::from_der(ca.current().chain().last().cloned()).unwrap();
        let key_der = LogSigningKey::generate_p256()
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        Self { ca, roots, key_der }
    }

    pub fn key(&self) -> LogSigningKey {
        LogSigningKey::from_pkcs8_der(&self.key_der).unwrap()
    }

    pub fn config(&self, batch: BatchConfig) -> LogConfig {
        LogConfig {
            origin: ORIGIN.to_owned(),
            signing_key: self.key(),
            roots: self.roots.clone(),
            policy: ValidationPolicy::default(),
            batch,
        }
    }

    /// `n` distinct Fulcio precertificate chains (`[precert, root]`).
    pub async fn precert_chains(&self, n: usize) -> Vec<Vec<Vec<u8>>> {
        let identity = CertificateIdentity {
            san: SubjectAltName::Email("signer@example.com".into()),
            extensions: oidc::Extensions {
                issuer: "https://accounts.example.com".into(),
                subject: "signer@example.com".into(),
                ..Default::default()
            },
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let key = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
            let client = ClientPublicKey::parse(key.public_key_der()).unwrap();
            let precert = self
                .ca
                .issue_precertificate(&identity, &client)
                .await
                .unwrap();
            let mut chain = vec![precert.der.clone()];
            chain.extend(precert.chain().iter().cloned());
            out.push(chain);
        }
        out
    }

    /// The entry an SCT for `chain` covers.
    pub fn entry_of(&self, chain: &[Vec<u8>]) -> SignedEntry {
        ct_log::submission::validate(
            SubmissionKind::PreChain,
            chain.to_vec(),
            &self.roots,
            &ValidationPolicy::default(),
        )
        .unwrap()
        .entry
    }
}

/// Batch limits that close a pass only by count (`max_delay` far beyond any test).
pub fn by_count(max_entries: usize) -> BatchConfig {
    BatchConfig {
        max_entries,
        max_delay: Duration::from_secs(3600),
        max_pending: 10_000,
    }
}

/// Adds every chain concurrently, one task each, and returns the results in chain order.
pub async fn add_all(
    log: &Arc<Log>,
    chains: &[Vec<Vec<u8>>],
) -> Vec<Result<AddResult, ct_log::log::AddError>> {
    add_each(log, chains, false).await
}

/// [`add_all`] through `Log::add_own`, as the CA embedding the log submits.
pub async fn add_all_own(
    log: &Arc<Log>,
    chains: &[Vec<Vec<u8>>],
) -> Vec<Result<AddResult, ct_log::log::AddError>> {
    add_each(log, chains, true).await
}

async fn add_each(
    log: &Arc<Log>,
    chains: &[Vec<Vec<u8>>],
    own: bool,
) -> Vec<Result<AddResult, ct_log::log::AddError>> {
    let tasks: Vec<_> = chains
        .iter()
        .cloned()
        .map(|chain| {
            let log = log.clone();
            tokio::spawn(async move {
                if own {
                    log.add_own(SubmissionKind::PreChain, chain).await
                } else {
                    log.add(SubmissionKind::PreChain, chain).await
                }
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// Every tile of a tree, read up front (the `TileReader` trait is synchronous).
struct Tiles(BTreeMap<Tile, Vec<u8>>);

impl TileReader for Tiles {
    type Error = String;
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, String> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(t)
                    .cloned()
                    .ok_or_else(|| format!("no tile {t:?}"))
            })
            .collect()
    }
}

/// A tree a check saw: its size and root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    pub root: Hash,
}

/// Checks the whole stored log:
/// - the trusted checkpoint verifies and the public one is identical;
/// - every tile of its size exists at its width and the tiles hash to its root;
/// - every data-tile leaf hashes to the level-0 tile's hash at its place, carries its own
///   index, is included (inclusion proof from the stored tiles), and its issuers are stored;
///   where the leaf-hash index has it, it names this index and timestamp;
/// - every SCT in `answered` (entry, result) is at its `leaf_index` with the same timestamp
///   and extensions, verifies, and has its dedup and leaf-hash index entries;
/// - the tree did not shrink since `previous`, and is consistent with it.
pub async fn check_log(
    fixture: &Fixture,
    objects: &dyn ObjectStore,
    state: &dyn TrustedState,
    answered: &[(SignedEntry, AddResult)],
    previous: Option<Seen>,
) -> Seen {
    let key = fixture.key();
    let trusted = state
        .load_checkpoint()
        .await
        .unwrap()
        .expect("a checkpoint");
    let sth = verify_checkpoint(&trusted, ORIGIN, key.public_key()).unwrap();
    let public = objects.get(CHECKPOINT_PATH).await.unwrap().unwrap();
    assert_eq!(
        public.as_ref(),
        trusted.as_slice(),
        "public checkpoint differs"
    );
    let size = sth.tree_head.tree_size;
    let root = sth.tree_head.root_hash;

    let mut tiles = BTreeMap::new();
    for level in tiles_for_size(size).unwrap() {
        for tile in level.tiles() {
            let data = objects
                .get(&tile.path())
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("missing tile {}", tile.path()));
            assert_eq!(data.len(), tile.byte_len(), "tile {}", tile.path());
            tiles.insert(tile, data.to_vec());
        }
    }
    let reader = TileHashReader::new(size, Tiles(tiles.clone()));
    assert_eq!(tree_hash(size, &reader).unwrap(), root, "root from tiles");

    let mut leaves = BTreeMap::new();
    for (tile, data) in tiles.iter().filter(|(t, _)| t.level() == 0) {
        let hashes = tile_hashes(tile, data).unwrap();
        let path = tile.data_path().unwrap();
        let bytes = objects
            .get(&path)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("missing data tile {path}"));
        let decoded = decode_data_tile(&bytes, tile.width()).unwrap();
        for (i, (leaf, hash)) in decoded.into_iter().zip(hashes).enumerate() {
            let index = tile.n() * 256 + i as u64;
            let leaf_hash = leaf.leaf_hash().unwrap();
            assert_eq!(leaf_hash, hash, "level-0 hash of leaf {index}");
            assert_eq!(leaf.leaf_index().unwrap(), index);
            let proof = prove_record(size, index, &reader).unwrap();
            verify_inclusion(index, size, &leaf_hash, &proof, &root).unwrap();
            for fingerprint in &leaf.certificate_chain {
                assert!(
                    objects
                        .get(&issuer_path(fingerprint))
                        .await
                        .unwrap()
                        .is_some(),
                    "issuer of leaf {index}"
                );
            }
            if let Some(value) = state.get_dedup(&leaf_hash).await.unwrap() {
                assert_eq!(value.leaf_index, index);
                assert_eq!(value.timestamp, leaf.timestamped_entry.timestamp);
            }
            leaves.insert(index, (leaf, leaf_hash));
        }
    }
    assert_eq!(leaves.len() as u64, size);

    for (entry, result) in answered {
        let (leaf, leaf_hash) = leaves
            .get(&result.leaf_index)
            .unwrap_or_else(|| panic!("SCT for index {} not in the log", result.leaf_index));
        let logged = &leaf.timestamped_entry;
        assert_eq!(&logged.entry, entry, "entry at {}", result.leaf_index);
        assert_eq!(logged.timestamp, result.sct.timestamp);
        assert_eq!(logged.extensions, result.sct.extensions);
        key.public_key().verify_sct(&result.sct, entry).unwrap();
        let value = state
            .get_dedup(leaf_hash)
            .await
            .unwrap()
            .expect("leaf-hash index");
        assert_eq!(value.leaf_index, result.leaf_index);
    }

    if let Some(previous) = previous {
        assert!(size >= previous.size, "the tree shrank");
        if previous.size == size {
            assert_eq!(previous.root, root);
        } else if previous.size > 0 {
            let proof = prove_tree(size, previous.size, &reader).unwrap();
            verify_consistency(previous.size, size, &previous.root, &root, &proof).unwrap();
        }
    }
    Seen { size, root }
}
