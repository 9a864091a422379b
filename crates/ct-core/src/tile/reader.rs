//! Stored hashes from tiles and tiles from stored hashes: the bridge between a tile store and
//! the proof computations of [`merkle::stored`](crate::merkle::stored).

use std::collections::BTreeMap;

use super::{FULL_TILE_WIDTH, TILE_HEIGHT, Tile, TileError, TileReadError, hash_from_tile};
use crate::merkle::{Hash, HashReader, StoredHashError, stored::read_exactly, stored_hash_index};

/// A store of tile contents (hash tiles only): the log's storage implements this, ct-core does
/// no I/O.
pub trait TileReader {
    /// The store's failure.
    type Error;

    /// Returns the contents of each tile, in order. A store that has replaced a partial tile by
    /// the full one may return the full tile's contents (the partial is its prefix) only if it
    /// is asked for the full tile; [`TileHashReader`] always asks for the widest tile the tree
    /// size allows.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error>;
}

/// A [`HashReader`] over the tiles of the tree of `tree_size` leaves: every stored hash of that
/// tree (and so of every smaller tree, whose hashes are the same) is read from, or computed
/// from, one tile, and each tile is fetched once per call.
#[derive(Debug, Clone)]
pub struct TileHashReader<R> {
    tree_size: u64,
    tiles: R,
}

impl<R: TileReader> TileHashReader<R> {
    /// Reads hashes of the tree of `tree_size` leaves from `tiles`.
    pub const fn new(tree_size: u64, tiles: R) -> Self {
        Self { tree_size, tiles }
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    type Error = TileReadError<R::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        // Map every index to the widest version of its tile at this tree size.
        let mut wanted: Vec<Tile> = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let narrowest = Tile::for_stored_hash(index)?;
            let tile = Tile::at_tree_size(narrowest.level(), narrowest.n(), self.tree_size)?
                .filter(|t| t.width() >= narrowest.width())
                .ok_or(TileError::HashNotInTile { index })?;
            wanted.push(tile);
        }
        let mut unique: Vec<Tile> = wanted.clone();
        unique.sort_unstable();
        unique.dedup();
        let contents = self
            .tiles
            .read_tiles(&unique)
            .map_err(TileReadError::Read)?;
        if contents.len() != unique.len() {
            return Err(TileError::WrongDataLength {
                expected: unique.len(),
                actual: contents.len(),
            }
            .into());
        }
        let by_tile: BTreeMap<Tile, Vec<u8>> = unique.into_iter().zip(contents).collect();
        indexes
            .iter()
            .zip(&wanted)
            .map(|(&index, tile)| {
                let data = by_tile
                    .get(tile)
                    .ok_or(TileError::HashNotInTile { index })?;
                Ok(hash_from_tile(tile, data, index)?)
            })
            .collect()
    }
}

/// The contents of `tile`, read from stored hashes: its `width` hashes of tree level `8·level`,
/// concatenated. A sequencer calls this for every tile [`new_tiles`](super::new_tiles) lists,
/// with an [`AppendedHashes`](crate::merkle::AppendedHashes) reader.
pub fn tile_data<R: HashReader + ?Sized>(
    tile: &Tile,
    reader: &R,
) -> Result<Vec<u8>, StoredHashError<R::Error>> {
    let level = (u32::from(tile.level()) * TILE_HEIGHT) as u8;
    let first = tile.n() * u64::from(FULL_TILE_WIDTH);
    let indexes = (0..u64::from(tile.width()))
        .map(|i| stored_hash_index(level, first + i))
        .collect::<Result<Vec<u64>, _>>()?;
    Ok(read_exactly(reader, &indexes)?.concat())
}
