//! The right edge of the tree that a sequencer keeps in memory, and the open-time recovery that
//! loads it from storage (spec/ct-log.md §5, "Sunlight's approach": the trusted checkpoint is
//! the truth, the staging bundle of its size re-creates any tile a crash lost).

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ct_core::SignedEntry;
use ct_core::checkpoint::{sign_checkpoint, verify_checkpoint};
use ct_core::merkle::{EMPTY_ROOT, Hash, tree_hash};
use ct_core::sth::TreeHead;
use ct_core::tile::{FULL_TILE_WIDTH, Tile, TileHashReader, TilePath, TileReader, tile_hashes};
use ct_core::tile_leaf::{TileLeaf, decode_data_tile};

use crate::log::{LogConfig, LogError};
use crate::storage::{
    CHECKPOINT_PATH, DedupKey, DedupValue, ObjectStore, PutMode, StagingBundle, TrustedState,
    staging_path,
};

/// How many times a computation may ask for tiles it has not seen: each round fetches every
/// tile the computation listed, so one round normally suffices; the bound only stops a loop.
const MAX_TILE_ROUNDS: usize = 8;

/// The state a sequencing pass starts from: the committed tree and the tiles near its edge.
#[derive(Debug, Clone)]
pub(crate) struct Edge {
    /// Size of the committed tree (the trusted checkpoint's).
    pub(crate) tree_size: u64,
    /// Its root hash.
    pub(crate) root: Hash,
    /// Its timestamp (ms); the next batch's timestamp is never below it.
    pub(crate) timestamp: u64,
    /// The trusted checkpoint's bytes: the `expected` value of the next compare-and-swap.
    pub(crate) checkpoint: Vec<u8>,
    /// Hash tiles of this tree (each at its width at `tree_size`) that passes read from.
    pub(crate) tiles: BTreeMap<Tile, Vec<u8>>,
    /// The partial data tile at the edge (the entries after the last full tile), encoded; empty
    /// when `tree_size` is a multiple of 256.
    pub(crate) partial_data: Vec<u8>,
    /// Issuers known to be stored, so a pass writes each `issuer/<hex>` once per process.
    pub(crate) issuers: HashSet<[u8; 32]>,
}

/// Why a computation over the cached tiles could not finish: these tiles are not cached.
#[derive(Debug)]
pub(crate) struct MissingTiles(pub(crate) Vec<Tile>);

/// A [`TileReader`] over the cached tiles that names the missing ones instead of doing I/O, so
/// the Merkle computations stay synchronous and the caller fetches what they ask for.
pub(crate) struct CachedTiles<'a>(pub(crate) &'a BTreeMap<Tile, Vec<u8>>);

impl TileReader for CachedTiles<'_> {
    type Error = MissingTiles;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MissingTiles> {
        let missing: Vec<Tile> = tiles
            .iter()
            .filter(|t| !self.0.contains_key(t))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(MissingTiles(missing));
        }
        Ok(tiles
            .iter()
            .filter_map(|t| self.0.get(t).cloned())
            .collect())
    }
}

/// A reader over the cached tiles of the tree of `tree_size` leaves.
pub(crate) fn cached_reader(
    tree_size: u64,
    tiles: &BTreeMap<Tile, Vec<u8>>,
) -> TileHashReader<CachedTiles<'_>> {
    TileHashReader::new(tree_size, CachedTiles(tiles))
}

/// A failed fetch of tiles.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("tile {0} is missing or has the wrong length")]
    Missing(String),
}

impl Edge {
    /// Fetches `tiles` from the object store into the cache; a tile that is absent or not of
    /// its width's length is an error (the checkpoint promises it).
    pub(crate) async fn fetch_tiles(
        &mut self,
        objects: &dyn ObjectStore,
        tiles: &[Tile],
    ) -> Result<(), FetchError> {
        for tile in tiles {
            let path = tile.path();
            match objects.get(&path).await? {
                Some(bytes) if bytes.len() == tile.byte_len() => {
                    self.tiles.insert(*tile, bytes.to_vec());
                }
                _ => return Err(FetchError::Missing(path)),
            }
        }
        Ok(())
    }

    /// Runs `compute` over the cached tiles, fetching what it reports missing, a bounded
    /// number of rounds.
    pub(crate) async fn with_tiles<T, E: std::fmt::Display>(
        &mut self,
        objects: &dyn ObjectStore,
        mut compute: impl FnMut(&Self) -> Result<T, Needs<E>>,
    ) -> Result<T, WithTilesError<E>> {
        for _ in 0..MAX_TILE_ROUNDS {
            match compute(self) {
                Ok(value) => return Ok(value),
                Err(Needs::Tiles(tiles)) => self
                    .fetch_tiles(objects, &tiles)
                    .await
                    .map_err(WithTilesError::Fetch)?,
                Err(Needs::Failed(err)) => return Err(WithTilesError::Compute(err)),
            }
        }
        Err(WithTilesError::TooManyRounds)
    }

    /// Keeps only the tiles a later pass can need: at each level, the two rightmost tiles of
    /// the tree at `tree_size`, at their current width (appends only read the right edge).
    pub(crate) fn prune_tiles(&mut self) {
        let size = self.tree_size;
        let mut last: BTreeMap<u8, u64> = BTreeMap::new();
        for tile in self.tiles.keys() {
            let n = last.entry(tile.level()).or_insert(0);
            *n = (*n).max(tile.n());
        }
        self.tiles.retain(|tile, _| {
            let recent = last.get(&tile.level()).is_some_and(|&n| tile.n() + 1 >= n);
            let current = Tile::at_tree_size(tile.level(), tile.n(), size)
                .ok()
                .flatten()
                .is_some_and(|t| t == *tile);
            recent && current
        });
    }
}

/// What a computation over cached tiles reports.
pub(crate) enum Needs<E> {
    /// Fetch these tiles and run again.
    Tiles(Vec<Tile>),
    /// A failure that fetching does not fix.
    Failed(E),
}

/// Failure of [`Edge::with_tiles`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum WithTilesError<E: std::fmt::Display> {
    #[error("{0}")]
    Fetch(FetchError),
    #[error("{0}")]
    Compute(E),
    #[error("tile fetching did not converge")]
    TooManyRounds,
}

/// The current time in ms since the Unix epoch (RFC 6962 §3.2 timestamps).
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Opens or recovers the log's state: what `Log::open` runs, and what the sequencer re-runs
/// after a pass failed once its checkpoint may have been committed.
///
/// - No trusted checkpoint: a new log. Sign a size-0 checkpoint and swap it in from nothing
///   (a concurrent creator makes the swap fail, and we refuse to start).
/// - A trusted checkpoint: it must verify with our key and origin. Its staging bundle, if
///   present, is re-applied: a crash between the swap and the tile writes may have lost some
///   of the tiles, and the bundle holds all of them (immutable puts of identical bytes are
///   no-ops, so re-applying is always safe). Then the root is recomputed from the stored
///   tiles and must equal the checkpoint's, and the partial data tile must decode: otherwise
///   the state is corrupt and the log refuses to start rather than serve a broken tree.
/// - Finally the public `checkpoint` object is rewritten from the trusted one: the crash may
///   have happened before it was updated.
pub(crate) async fn recover(
    config: &LogConfig,
    objects: &dyn ObjectStore,
    state: &dyn TrustedState,
) -> Result<Edge, LogError> {
    let key = &config.signing_key;
    let Some(checkpoint) = state.load_checkpoint().await? else {
        let timestamp = now_millis();
        let head = TreeHead {
            tree_size: 0,
            timestamp,
            root_hash: EMPTY_ROOT,
        };
        let (_, note) = sign_checkpoint(head, &config.origin, key).map_err(LogError::Encoding)?;
        state
            .compare_and_swap_checkpoint(None, note.as_bytes())
            .await?;
        objects
            .put(CHECKPOINT_PATH, Bytes::from(note.clone()), PutMode::Mutable)
            .await?;
        return Ok(Edge {
            tree_size: 0,
            root: EMPTY_ROOT,
            timestamp,
            checkpoint: note.into_bytes(),
            tiles: BTreeMap::new(),
            partial_data: Vec::new(),
            issuers: HashSet::new(),
        });
    };
    let sth = verify_checkpoint(&checkpoint, &config.origin, key.public_key())
        .map_err(LogError::Checkpoint)?;
    let head = sth.tree_head;
    let mut edge = Edge {
        tree_size: head.tree_size,
        root: head.root_hash,
        timestamp: head.timestamp,
        checkpoint: checkpoint.clone(),
        tiles: BTreeMap::new(),
        partial_data: Vec::new(),
        issuers: HashSet::new(),
    };
    if head.tree_size > 0 {
        let staging = objects
            .get(&staging_path(head.tree_size, &head.root_hash))
            .await?;
        if let Some(bytes) = staging {
            let bundle = StagingBundle::decode(&bytes).map_err(|err| {
                LogError::Corrupt(format!(
                    "staging bundle of tree size {}: {err}",
                    head.tree_size
                ))
            })?;
            bundle.apply(objects).await?;
            // The index entries of the last pass may be lost: a directory store commits them
            // durably only with the next checkpoint swap, and a pass may fail after its swap.
            // Its data tiles are in the bundle; re-recording them is idempotent.
            let entries = index_entries(&bundle)?;
            if !entries.is_empty() {
                state.put_dedup(&entries).await?;
            }
        }
        let size = head.tree_size;
        let root = edge
            .with_tiles(objects, |edge| {
                tree_hash(size, &cached_reader(size, &edge.tiles)).map_err(|err| match err {
                    ct_core::merkle::StoredHashError::Read(ct_core::tile::TileReadError::Read(
                        MissingTiles(tiles),
                    )) => Needs::Tiles(tiles),
                    other => Needs::Failed(other.to_string()),
                })
            })
            .await
            .map_err(|err| match err {
                WithTilesError::Fetch(FetchError::Storage(err)) => LogError::Storage(err),
                other => LogError::Corrupt(format!(
                    "tiles of tree size {size} (and no staging bundle restores them): {other}"
                )),
            })?;
        if root != head.root_hash {
            return Err(LogError::Corrupt(format!(
                "the stored tiles of tree size {size} do not hash to the checkpoint's root"
            )));
        }
        let width = (size % u64::from(FULL_TILE_WIDTH)) as u16;
        if width > 0 {
            let tile = Tile::new(0, size / u64::from(FULL_TILE_WIDTH), width).map_err(|err| {
                LogError::Corrupt(format!("partial data tile of tree size {size}: {err}"))
            })?;
            let path = TilePath::Data(tile).to_string();
            let data = objects
                .get(&path)
                .await?
                .ok_or_else(|| LogError::Corrupt(format!("data tile {path} is missing")))?;
            let leaves = decode_data_tile(&data, width)
                .map_err(|err| LogError::Corrupt(format!("data tile {path}: {err}")))?;
            // The entries must be the ones the level-0 tile (and so the root) commits to:
            // the next pass extends this tile, and would otherwise publish a mismatched one.
            edge.fetch_tiles(objects, &[tile])
                .await
                .map_err(|err| match err {
                    // A storage failure is not evidence of corruption: report it as such.
                    FetchError::Storage(err) => LogError::Storage(err),
                    missing @ FetchError::Missing(_) => LogError::Corrupt(missing.to_string()),
                })?;
            let committed = edge
                .tiles
                .get(&tile)
                .map(|hashes| tile_hashes(&tile, hashes))
                .transpose()
                .map_err(|err| LogError::Corrupt(format!("level-0 hash tile of {path}: {err}")))?
                .unwrap_or_default();
            let hashes = leaves
                .iter()
                .map(TileLeaf::leaf_hash)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| LogError::Corrupt(format!("data tile {path}: {err}")))?;
            if hashes != committed {
                return Err(LogError::Corrupt(format!(
                    "data tile {path} does not match the level-0 hash tile"
                )));
            }
            edge.partial_data = data.to_vec();
        }
    }
    // The trusted checkpoint is the truth; the public one may lag it after a crash.
    objects
        .put(CHECKPOINT_PATH, Bytes::from(checkpoint), PutMode::Mutable)
        .await?;
    Ok(edge)
}

/// The dedup and leaf-hash index entries (see `crate::log`) of every entry in the data tiles of
/// a staging bundle.
fn index_entries(bundle: &StagingBundle) -> Result<Vec<(DedupKey, DedupValue)>, LogError> {
    let mut entries = Vec::new();
    for object in bundle.objects() {
        let Ok(TilePath::Data(tile)) = TilePath::parse(object.path()) else {
            continue;
        };
        let corrupt = |err: &dyn std::fmt::Display| {
            LogError::Corrupt(format!("staging data tile {}: {err}", object.path()))
        };
        let leaves = decode_data_tile(object.bytes(), tile.width()).map_err(|e| corrupt(&e))?;
        for (leaf_index, leaf) in (tile.n() * u64::from(FULL_TILE_WIDTH)..).zip(&leaves) {
            let value = DedupValue {
                leaf_index,
                timestamp: leaf.timestamped_entry.timestamp,
            };
            entries.push((leaf.leaf_hash().map_err(|e| corrupt(&e))?, value));
            // The dedup key is the SHA-256 of the submitted chain[0]: the precertificate, or
            // the certificate an x509 entry holds.
            let submitted = match (&leaf.pre_certificate, &leaf.timestamped_entry.entry) {
                (Some(pre), _) => Some(pre.as_slice()),
                (None, SignedEntry::X509(der)) => Some(der.as_slice()),
                (None, SignedEntry::Precert(_)) => None,
            };
            if let Some(der) = submitted {
                entries.push((sha256(der), value));
            }
        }
    }
    Ok(entries)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref());
    out
}
