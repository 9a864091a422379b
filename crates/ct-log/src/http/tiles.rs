//! Reading the published tree back from the object store: hash tiles for proofs (Itko's idea,
//! spec/ct-log.md §3.5: RFC 6962 read endpoints computed from static-ct-api tiles), data tiles
//! for entries, and issuers for `extra_data`.
//!
//! ct-core's proof code reads hashes synchronously through a [`TileReader`]; the store is
//! asynchronous. So a computation runs against a cache of fetched tiles, and when it asks for
//! tiles the cache lacks, those are fetched (concurrently) and the computation runs again. A
//! proof needs tiles from at most a handful of levels, so this converges in one or two rounds.

use std::collections::HashMap;

use ct_core::{
    merkle::{MerkleError, StoredHashError},
    tile::{FULL_TILE_WIDTH, Tile, TileHashReader, TilePath, TileReadError, TileReader},
    tile_leaf::{TileLeaf, decode_data_tile, encode_data_tile},
};
use futures::future::try_join_all;

use super::{ApiError, ReadState};
use crate::storage::issuer_path;

/// Most fetch-and-retry rounds of one computation. A proof reads one batch of hashes, so it
/// needs one round; the bound only stops a reader bug from looping.
const MAX_ROUNDS: usize = 4;

/// The gzip magic number (RFC 1952 §2.3.1). A TileLeaf starts with a big-endian millisecond
/// timestamp, whose first byte is 0 until the year 4253, so a stored data tile starting with
/// these bytes is compressed, not raw.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Tiles fetched so far; a [`TileReader`] that reports the tiles it lacks.
#[derive(Default)]
pub(crate) struct TileCache {
    tiles: HashMap<Tile, Vec<u8>>,
}

/// The tiles a computation asked for that were not fetched yet.
#[derive(Debug)]
pub(crate) struct MissingTiles(Vec<Tile>);

impl TileReader for &TileCache {
    type Error = MissingTiles;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MissingTiles> {
        let missing: Vec<Tile> = tiles
            .iter()
            .filter(|t| !self.tiles.contains_key(t))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(MissingTiles(missing));
        }
        Ok(tiles
            .iter()
            .map(|t| self.tiles.get(t).cloned().unwrap_or_default())
            .collect())
    }
}

/// Runs `compute` over the hashes of the published tree of `tree_size` leaves, fetching the
/// hash tiles it needs. Argument errors (index or sizes out of range) are 400s: the handlers
/// check the ranges first, so reaching one means a parameter their checks missed, and that is
/// still the client's. Every other failure is the log's (500).
pub(crate) async fn with_tree_hashes<T>(
    read: &ReadState,
    tree_size: u64,
    compute: impl Fn(
        &TileHashReader<&TileCache>,
    ) -> Result<T, StoredHashError<TileReadError<MissingTiles>>>,
) -> Result<T, ApiError> {
    let mut cache = TileCache::default();
    for _ in 0..MAX_ROUNDS {
        let result = compute(&TileHashReader::new(tree_size, &cache));
        let missing = match result {
            Ok(value) => return Ok(value),
            Err(StoredHashError::Read(TileReadError::Read(MissingTiles(missing)))) => missing,
            Err(StoredHashError::Merkle(
                e @ (MerkleError::IndexOutOfRange { .. }
                | MerkleError::InvalidTreeSizes { .. }
                | MerkleError::TreeTooLarge(_)),
            )) => return Err(ApiError::bad_request(e.to_string())),
            Err(e) => return Err(ApiError::internal(format!("tile hashes: {e:?}"))),
        };
        let fetched = try_join_all(missing.iter().map(|tile| fetch_hash_tile(read, *tile))).await?;
        cache.tiles.extend(missing.into_iter().zip(fetched));
    }
    Err(ApiError::internal(
        "tile reads did not converge; the tile reader asked for different tiles every round",
    ))
}

/// The contents of hash tile `tile`. A partial tile may have been deleted once its full tile
/// was published (static-ct-api "Partial Tiles"); its hashes are then the full tile's prefix.
async fn fetch_hash_tile(read: &ReadState, tile: Tile) -> Result<Vec<u8>, ApiError> {
    let bytes = fetch_with_full_fallback(read, TilePath::Hash(tile)).await?;
    bytes
        .get(..tile.byte_len())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            ApiError::internal(format!(
                "{} holds {} bytes, fewer than its {} hashes",
                TilePath::Hash(tile),
                bytes.len(),
                tile.width()
            ))
        })
}

/// The stored object of `path`, or of its full tile if `path` is a partial tile that is gone.
/// A tile the published checkpoint covers must exist, so absence is the log's failure.
async fn fetch_with_full_fallback(read: &ReadState, path: TilePath) -> Result<Vec<u8>, ApiError> {
    if let Some(bytes) = read.get_object(&path.to_string()).await? {
        return Ok(bytes.to_vec());
    }
    let tile = path.tile();
    if !tile.is_full() {
        let full = Tile::new(tile.level(), tile.n(), FULL_TILE_WIDTH)
            .map_err(|e| ApiError::internal(format!("full tile of {path}: {e}")))?;
        let full_path = match path {
            TilePath::Hash(_) => TilePath::Hash(full),
            TilePath::Data(_) => TilePath::Data(full),
        };
        if let Some(bytes) = read.get_object(&full_path.to_string()).await? {
            return Ok(bytes.to_vec());
        }
    }
    Err(ApiError::internal(format!(
        "{path} is covered by the published checkpoint but missing from storage"
    )))
}

/// The entries of data tile `tile` (as wide as the tree of the published checkpoint makes it).
pub(crate) async fn fetch_data_tile(
    read: &ReadState,
    tile: Tile,
) -> Result<Vec<TileLeaf>, ApiError> {
    let bytes = fetch_with_full_fallback(read, TilePath::Data(tile)).await?;
    if bytes.starts_with(&GZIP_MAGIC) {
        return Err(ApiError::internal(format!(
            "{} is stored gzip-compressed; this server reads uncompressed data tiles",
            TilePath::Data(tile)
        )));
    }
    decode_leaves(&bytes, tile)
}

/// Decodes `bytes` (the tile's own contents, or its full tile's) and keeps the tile's entries.
fn decode_leaves(bytes: &[u8], tile: Tile) -> Result<Vec<TileLeaf>, ApiError> {
    let as_stored = decode_data_tile(bytes, tile.width());
    match as_stored {
        Ok(leaves) => Ok(leaves),
        Err(first) if !tile.is_full() => {
            let mut leaves = decode_data_tile(bytes, FULL_TILE_WIDTH).map_err(|full| {
                ApiError::internal(format!(
                    "{} does not decode: {first} (nor as its full tile: {full})",
                    TilePath::Data(tile)
                ))
            })?;
            leaves.truncate(usize::from(tile.width()));
            Ok(leaves)
        }
        Err(e) => Err(ApiError::internal(format!(
            "{} does not decode: {e}",
            TilePath::Data(tile)
        ))),
    }
}

/// The bytes to serve for data tile `path` when only its full tile is stored: the partial
/// tile's entries re-encoded, which are byte-identical to what the partial tile held.
pub(crate) fn partial_data_tile_from_full(full: &[u8], tile: Tile) -> Result<Vec<u8>, ApiError> {
    let leaves = decode_leaves(full, tile)?;
    encode_data_tile(&leaves).map_err(|e| ApiError::internal(format!("re-encoding entries: {e}")))
}

/// The DER of issuer `fingerprint` (static-ct-api `issuer/<hex>`); every issuer a TileLeaf
/// names must be stored, so absence is the log's failure.
pub(crate) async fn fetch_issuer(
    read: &ReadState,
    fingerprint: &[u8; 32],
) -> Result<Vec<u8>, ApiError> {
    let path = issuer_path(fingerprint);
    read.get_object(&path)
        .await?
        .map(|b| b.to_vec())
        .ok_or_else(|| ApiError::internal(format!("{path} is named by an entry but missing")))
}
