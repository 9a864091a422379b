//! One sequencing pass's contents, computed in memory before anything is written: the entries
//! with their indices and timestamp, every new or wider tile, the new root and checkpoint, the
//! SCTs (spec/ct-log.md §2.3, static-ct-api "Sequencing").

use bytes::Bytes;
use ct_core::checkpoint::sign_checkpoint;
use ct_core::leaf_index::encode_leaf_index_extension;
use ct_core::merkle::{AppendedHashes, Hash, StoredHashError, stored_hashes_for_batch, tree_hash};
use ct_core::sth::TreeHead;
use ct_core::tile::{FULL_TILE_WIDTH, Tile, TilePath, TileReadError, new_tiles, tile_data};
use ct_core::tile_leaf::TileLeaf;
use ct_core::{CtError, LogSigningKey, SignedCertificateTimestamp, sign_sct};

use super::edge::{Edge, MissingTiles, Needs, cached_reader};
use crate::storage::{DedupKey, DedupValue, StagingBundle, StagingBundleError, issuer_path};
use crate::submission::ValidatedSubmission;

/// A failure to build a pass (nothing was written yet).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BatchError {
    #[error("encoding or signing: {0}")]
    Ct(#[from] CtError),
    #[error("tile math: {0}")]
    Tile(#[from] ct_core::tile::TileError),
    #[error("stored hashes: {0}")]
    Merkle(String),
    #[error("staging bundle: {0}")]
    Staging(#[from] StagingBundleError),
}

/// Everything a pass writes, and what it answers.
pub(crate) struct Batch {
    pub(crate) new_size: u64,
    pub(crate) root: Hash,
    pub(crate) timestamp: u64,
    /// The signed checkpoint note.
    pub(crate) checkpoint: String,
    /// Hash and data tiles, then new issuers: the objects of the staging bundle, in write order.
    pub(crate) objects: Vec<(String, Bytes)>,
    /// The new hash tiles, to update the in-memory edge after the commit.
    pub(crate) hash_tiles: Vec<(Tile, Vec<u8>)>,
    /// The new partial data tile at the edge (empty if the tree ends on a full tile).
    pub(crate) partial_data: Vec<u8>,
    /// Issuer fingerprints this pass writes.
    pub(crate) new_issuers: Vec<[u8; 32]>,
    /// Dedup entries (chain[0] hash) and leaf-hash index entries (see `crate::log`).
    pub(crate) dedup: Vec<(DedupKey, DedupValue)>,
    /// Per submission, in order: its SCT and index.
    pub(crate) scts: Vec<(SignedCertificateTimestamp, u64)>,
}

impl Batch {
    /// The staging bundle: every object of the pass, written before the checkpoint swap so
    /// recovery can re-create any of them once the swap made the pass part of the log.
    pub(crate) fn staging_bundle(&self) -> Result<StagingBundle, StagingBundleError> {
        let mut bundle = StagingBundle::new();
        for (path, bytes) in &self.objects {
            bundle.push(path.clone(), bytes.clone())?;
        }
        Ok(bundle)
    }
}

/// The leaves of a pass: submissions at consecutive indices from the edge, one timestamp.
pub(crate) struct Leaves {
    timestamp: u64,
    leaves: Vec<TileLeaf>,
    hashes: Vec<Hash>,
}

/// Assigns indices from `edge.tree_size` and the one timestamp `timestamp` to `submissions`.
pub(crate) fn leaves(
    edge: &Edge,
    submissions: &[&ValidatedSubmission],
    timestamp: u64,
) -> Result<Leaves, BatchError> {
    let mut leaves = Vec::with_capacity(submissions.len());
    let mut hashes = Vec::with_capacity(submissions.len());
    for (index, submission) in (edge.tree_size..).zip(submissions) {
        let extensions = encode_leaf_index_extension(index)?;
        let leaf = TileLeaf {
            timestamped_entry: submission.timestamped_entry(timestamp, extensions.to_vec()),
            pre_certificate: submission.precertificate().map(<[u8]>::to_vec),
            certificate_chain: submission.chain_fingerprints.clone(),
        };
        hashes.push(leaf.leaf_hash()?);
        leaves.push(leaf);
    }
    Ok(Leaves {
        timestamp,
        leaves,
        hashes,
    })
}

/// New or wider hash tiles with their contents.
pub(crate) type HashTiles = Vec<(Tile, Vec<u8>)>;

type TileResult<T> = Result<T, StoredHashError<TileReadError<MissingTiles>>>;

fn needs<T>(result: TileResult<T>) -> Result<T, Needs<BatchError>> {
    result.map_err(|err| match err {
        StoredHashError::Read(TileReadError::Read(MissingTiles(tiles))) => Needs::Tiles(tiles),
        other => Needs::Failed(BatchError::Merkle(other.to_string())),
    })
}

/// The tree part of a pass: new stored hashes, the new or wider hash tiles, the new root.
/// Synchronous over the cached tiles; reports the tiles it lacks (see `Edge::with_tiles`).
pub(crate) fn tree(edge: &Edge, leaves: &Leaves) -> Result<(HashTiles, Hash), Needs<BatchError>> {
    let old = edge.tree_size;
    let new = old + leaves.hashes.len() as u64;
    let stored = cached_reader(old, &edge.tiles);
    let appended = needs(stored_hashes_for_batch(old, &leaves.hashes, &stored))?;
    let reader = AppendedHashes::new(old, &appended, &stored)
        .map_err(|err| Needs::Failed(BatchError::Merkle(err.to_string())))?;
    let tiles = new_tiles(old, new).map_err(|err| Needs::Failed(err.into()))?;
    let mut out = Vec::new();
    for tile in tiles {
        let data = needs(tile_data(&tile, &reader).map_err(StoredHashError::flatten))?;
        out.push((tile, data));
    }
    let root = needs(tree_hash(new, &reader).map_err(StoredHashError::flatten))?;
    Ok((out, root))
}

/// Completes a pass from its leaves and tree part: data tiles, issuers, checkpoint, SCTs.
///
/// SCTs are signed here, before anything is written, so a signing failure leaves nothing
/// behind; they are released only after the checkpoint swap.
pub(crate) fn finish(
    edge: &Edge,
    submissions: &[&ValidatedSubmission],
    leaves: Leaves,
    hash_tiles: Vec<(Tile, Vec<u8>)>,
    root: Hash,
    origin: &str,
    key: &LogSigningKey,
) -> Result<Batch, BatchError> {
    let old = edge.tree_size;
    let new_size = old + leaves.leaves.len() as u64;
    let width = u64::from(FULL_TILE_WIDTH);
    let mut objects = Vec::new();
    // Hash tiles first, then data tiles: the order of the staging bundle and of the writes.
    for (tile, data) in &hash_tiles {
        objects.push((tile.path(), Bytes::from(data.clone())));
    }
    let mut partial_data = Vec::new();
    for (tile, _) in hash_tiles.iter().filter(|(t, _)| t.level() == 0) {
        let start = tile.n() * width;
        let end = start + u64::from(tile.width());
        // The old entries of this tile: only the edge's partial tile can have some.
        let mut data = if start < old {
            edge.partial_data.clone()
        } else {
            Vec::new()
        };
        for index in start.max(old)..end {
            if let Some(leaf) = usize::try_from(index - old)
                .ok()
                .and_then(|i| leaves.leaves.get(i))
            {
                leaf.encode(&mut data)?;
            }
        }
        if !tile.is_full() {
            partial_data = data.clone();
        }
        if let Some(path) = TilePath::data(*tile) {
            objects.push((path.to_string(), Bytes::from(data)));
        }
    }
    let mut new_issuers: Vec<[u8; 32]> = Vec::new();
    for submission in submissions {
        for (fingerprint, der) in submission.issuers() {
            if !edge.issuers.contains(fingerprint) && !new_issuers.contains(fingerprint) {
                new_issuers.push(*fingerprint);
                objects.push((issuer_path(fingerprint), Bytes::from(der.to_vec())));
            }
        }
    }
    let head = TreeHead {
        tree_size: new_size,
        timestamp: leaves.timestamp,
        root_hash: root,
    };
    let (_, checkpoint) = sign_checkpoint(head, origin, key)?;
    let mut dedup = Vec::with_capacity(2 * submissions.len());
    let mut scts = Vec::with_capacity(submissions.len());
    for ((index, submission), (leaf, hash)) in (old..)
        .zip(submissions)
        .zip(leaves.leaves.iter().zip(&leaves.hashes))
    {
        let entry = &leaf.timestamped_entry;
        let sct = sign_sct(&entry.entry, entry.timestamp, &entry.extensions, key)?;
        let value = DedupValue {
            leaf_index: index,
            timestamp: leaves.timestamp,
        };
        dedup.push((submission.dedup_key, value));
        dedup.push((*hash, value));
        scts.push((sct, index));
    }
    Ok(Batch {
        new_size,
        root,
        timestamp: leaves.timestamp,
        checkpoint,
        objects,
        hash_tiles,
        partial_data,
        new_issuers,
        dedup,
        scts,
    })
}
