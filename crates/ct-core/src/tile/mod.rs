//! Merkle tree tiles (c2sp.org/tlog-tiles, as profiled by c2sp.org/static-ct-api): which tiles
//! a tree of a given size consists of, which ones change when it grows, how a stored hash maps
//! to a tile, and the bytes of a tile.
//!
//! A tile at level `l` holds up to 256 consecutive hashes of tree level `8·l`; tile `n` of level
//! `l` covers leaves `n·256^(l+1) .. (n+1)·256^(l+1)`. A tile with fewer than 256 hashes is
//! *partial*. The hashes in a tile are exactly the stored hashes of
//! [`merkle::stored`](crate::merkle::stored) at that level, so a tile store can serve every
//! proof (see [`TileHashReader`]).

mod error;
mod path;
mod reader;

pub use error::{TileError, TileReadError};
pub use path::TilePath;
pub use reader::{TileHashReader, TileReader, tile_data};

use crate::merkle::{HASH_SIZE, Hash, root_from_leaf_hashes, split_stored_hash_index};

/// Tree levels per tile: each tile is a subtree of height 8 (tlog-tiles fixes this).
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const FULL_TILE_WIDTH: u16 = 1 << TILE_HEIGHT;
/// Bytes of a full tile: 256 hashes of 32 bytes.
pub const FULL_TILE_BYTES: usize = FULL_TILE_WIDTH as usize * HASH_SIZE;
/// The highest tile level static-ct-api allows in a path.
pub const MAX_LEVEL: u8 = 5;
/// The largest tree a static-ct-api log can have: `leaf_index` is a 40-bit integer, so indexes
/// run up to 2^40 - 1. Its only level-5 tile has width 1.
pub const MAX_TREE_SIZE: u64 = 1 << 40;

/// One tile: its level, its index within the level and its width (1-256 hashes).
///
/// Construction checks that the tile can exist in a static-ct-api log, so every `Tile` has a
/// path and every computation on it stays in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    level: u8,
    n: u64,
    width: u16,
}

/// The number of hashes at tile level `level` in a tree of `tree_size` leaves.
const fn hashes_at_level(level: u8, tree_size: u64) -> u64 {
    // level ≤ 7 for any u64 size that passes the checks, and TILE_HEIGHT · 7 < 64.
    tree_size >> (TILE_HEIGHT * level as u32)
}

impl Tile {
    /// The tile `n` at `level` with `width` hashes.
    pub fn new(level: u8, n: u64, width: u16) -> Result<Self, TileError> {
        if level > MAX_LEVEL {
            return Err(TileError::LevelTooHigh(level));
        }
        if width == 0 || width > FULL_TILE_WIDTH {
            return Err(TileError::InvalidWidth(width));
        }
        let capacity = hashes_at_level(level, MAX_TREE_SIZE);
        let end = n
            .checked_mul(u64::from(FULL_TILE_WIDTH))
            .and_then(|start| start.checked_add(u64::from(width)));
        if end.is_none_or(|end| end > capacity) {
            return Err(TileError::BeyondMaxTreeSize { level, n });
        }
        Ok(Self { level, n, width })
    }

    /// The tile's level: its hashes are of tree level `8·level`.
    pub const fn level(&self) -> u8 {
        self.level
    }

    /// The tile's index within its level.
    pub const fn n(&self) -> u64 {
        self.n
    }

    /// The number of hashes in the tile.
    pub const fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes (and so never changes again).
    pub const fn is_full(&self) -> bool {
        self.width == FULL_TILE_WIDTH
    }

    /// The number of bytes of the tile's contents.
    pub const fn byte_len(&self) -> usize {
        self.width as usize * HASH_SIZE
    }

    /// The tile `(level, n)` as it stands in the tree of `tree_size` leaves: full once all its
    /// hashes exist, else partial with the hashes that do; `None` if it has no hash yet.
    pub fn at_tree_size(level: u8, n: u64, tree_size: u64) -> Result<Option<Self>, TileError> {
        check_tree_size(tree_size)?;
        if level > MAX_LEVEL {
            return Ok(None);
        }
        let present = hashes_at_level(level, tree_size);
        let start = n.saturating_mul(u64::from(FULL_TILE_WIDTH));
        if start >= present {
            return Ok(None);
        }
        let width = (present - start).min(u64::from(FULL_TILE_WIDTH)) as u16;
        Self::new(level, n, width).map(Some)
    }

    /// The narrowest tile holding stored hash `index`, or from which it is computed: a hash of a
    /// tree level between two tile levels is the root of a power-of-two run of hashes in the
    /// tile below (tlog-tiles "the levels between ... are reconstructed by hashing").
    pub fn for_stored_hash(index: u64) -> Result<Self, TileError> {
        let (level, n) = split_stored_hash_index(index)?;
        let tile_level = (u32::from(level) / TILE_HEIGHT) as u8;
        let rest = u32::from(level) % TILE_HEIGHT;
        // The run of tile-level hashes under subtree (level, n): [n·2^rest, (n+1)·2^rest).
        let first =
            n.checked_shl(rest)
                .filter(|f| f >> rest == n)
                .ok_or(TileError::BeyondMaxTreeSize {
                    level: tile_level,
                    n,
                })?;
        let tile_n = first >> TILE_HEIGHT;
        let end_in_tile = (first - (tile_n << TILE_HEIGHT)) + (1 << rest);
        Self::new(tile_level, tile_n, end_in_tile as u16)
    }

    /// The byte range inside this tile's contents of the hashes under stored hash `index`, if
    /// they lie in this tile.
    fn span_of(&self, index: u64) -> Result<std::ops::Range<usize>, TileError> {
        let narrowest = Self::for_stored_hash(index)?;
        if narrowest.level != self.level || narrowest.n != self.n || narrowest.width > self.width {
            return Err(TileError::HashNotInTile { index });
        }
        let (level, _) = split_stored_hash_index(index)?;
        let run = 1usize << (u32::from(level) % TILE_HEIGHT);
        let end = usize::from(narrowest.width);
        Ok((end - run) * HASH_SIZE..end * HASH_SIZE)
    }
}

/// The stored hash `index` from the contents `data` of `tile`: a hash the tile holds, or the
/// root of the run of its hashes beneath that subtree.
///
/// `data` must be exactly the tile's contents (`width` hashes), so a truncated or padded tile is
/// caught here rather than yielding a wrong hash.
pub fn hash_from_tile(tile: &Tile, data: &[u8], index: u64) -> Result<Hash, TileError> {
    let hashes = tile_hashes(tile, data)?;
    let span = tile.span_of(index)?;
    let run = hashes
        .get(span.start / HASH_SIZE..span.end / HASH_SIZE)
        .ok_or(TileError::HashNotInTile { index })?;
    Ok(root_from_leaf_hashes(run))
}

/// Splits tile contents into hashes, checking the length matches the tile's width.
pub fn tile_hashes(tile: &Tile, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    if data.len() != tile.byte_len() {
        return Err(TileError::WrongDataLength {
            expected: tile.byte_len(),
            actual: data.len(),
        });
    }
    Ok(data
        .chunks_exact(HASH_SIZE)
        .map(|c| {
            let mut h = [0u8; HASH_SIZE];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

fn check_tree_size(tree_size: u64) -> Result<(), TileError> {
    if tree_size > MAX_TREE_SIZE {
        return Err(TileError::TreeTooLarge(tree_size));
    }
    Ok(())
}

/// The tiles of one level of a tree: `full` full tiles (indexes `0..full`) and at most one
/// partial tile after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelTiles {
    /// The tile level.
    pub level: u8,
    /// The number of full tiles, which are tiles `0..full`.
    pub full: u64,
    /// The partial tile, of width `floor(size / 256^level) mod 256`, if that is not zero.
    pub partial: Option<Tile>,
}

impl LevelTiles {
    /// Every tile of the level, full ones first.
    pub fn tiles(&self) -> impl Iterator<Item = Tile> + '_ {
        let level = self.level;
        (0..self.full)
            .filter_map(move |n| Tile::new(level, n, FULL_TILE_WIDTH).ok())
            .chain(self.partial)
    }
}

/// The tiles a tree of `tree_size` leaves consists of, level by level (tlog-tiles "Partial
/// Tiles"): 70,000 leaves give 273 full level-0 tiles and a partial of width 112, one full
/// level-1 tile and a partial of 17, and a level-2 partial of width 1.
pub fn tiles_for_size(tree_size: u64) -> Result<Vec<LevelTiles>, TileError> {
    check_tree_size(tree_size)?;
    let mut out = Vec::new();
    for level in 0..=MAX_LEVEL {
        let hashes = hashes_at_level(level, tree_size);
        if hashes == 0 {
            break;
        }
        let full = hashes >> TILE_HEIGHT;
        let width = (hashes % u64::from(FULL_TILE_WIDTH)) as u16;
        let partial = if width == 0 {
            None
        } else {
            Some(Tile::new(level, full, width)?)
        };
        out.push(LevelTiles {
            level,
            full,
            partial,
        });
    }
    Ok(out)
}

/// The tiles that are new or wider when the tree grows from `old_size` to `new_size` leaves:
/// what a sequencer must write (each at its width in the new tree), lowest level first.
///
/// The level-0 tiles among them are also the data tiles that change. The list is produced
/// lazily, since growth from 0 to 2^40 would list four billion tiles.
pub fn new_tiles(old_size: u64, new_size: u64) -> Result<impl Iterator<Item = Tile>, TileError> {
    check_tree_size(new_size)?;
    if old_size > new_size {
        return Err(TileError::TreeShrinks { old_size, new_size });
    }
    Ok((0..=MAX_LEVEL)
        .map(move |level| {
            (
                level,
                hashes_at_level(level, old_size),
                hashes_at_level(level, new_size),
            )
        })
        // Equal counts on a level mean equal counts on every level above too.
        .take_while(|&(_, old, new)| old != new)
        .flat_map(|(level, old, new)| {
            ((old >> TILE_HEIGHT)..=((new - 1) >> TILE_HEIGHT)).filter_map(move |n| {
                let start = n << TILE_HEIGHT;
                let width = (new - start).min(u64::from(FULL_TILE_WIDTH)) as u16;
                // Always valid: new_size <= MAX_TREE_SIZE was checked above.
                Tile::new(level, n, width).ok()
            })
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, stored_hash_index, stored_hashes};

    #[test]
    fn tile_bounds() {
        assert!(Tile::new(0, 0, 0).is_err());
        assert!(Tile::new(0, 0, 257).is_err());
        assert!(Tile::new(6, 0, 1).is_err());
        assert!(Tile::new(5, 0, 1).is_ok());
        assert!(Tile::new(5, 0, 2).is_err());
        assert!(Tile::new(0, (1 << 32) - 1, 256).is_ok());
        assert!(Tile::new(0, 1 << 32, 1).is_err());
        assert!(Tile::new(0, u64::MAX, 256).is_err());
    }

    #[test]
    fn size_256_is_one_full_tile_and_a_level_one_partial() {
        let tiles = tiles_for_size(256).unwrap();
        assert_eq!(tiles.len(), 2);
        assert_eq!((tiles[0].full, tiles[0].partial), (1, None));
        assert_eq!(tiles[1].full, 0);
        assert_eq!(tiles[1].partial, Some(Tile::new(1, 0, 1).unwrap()));
        assert!(tiles_for_size(0).unwrap().is_empty());
        assert!(tiles_for_size(MAX_TREE_SIZE + 1).is_err());
        let max = tiles_for_size(MAX_TREE_SIZE).unwrap();
        assert_eq!(
            max.last().unwrap().partial,
            Some(Tile::new(5, 0, 1).unwrap())
        );
    }

    #[test]
    fn at_tree_size_widens_and_stops() {
        assert_eq!(
            Tile::at_tree_size(0, 1, 300).unwrap(),
            Some(Tile::new(0, 1, 44).unwrap())
        );
        assert_eq!(
            Tile::at_tree_size(0, 0, 300).unwrap(),
            Some(Tile::new(0, 0, 256).unwrap())
        );
        assert_eq!(Tile::at_tree_size(0, 2, 300).unwrap(), None);
        assert_eq!(Tile::at_tree_size(1, 0, 255).unwrap(), None);
        assert_eq!(Tile::at_tree_size(9, 0, 255).unwrap(), None);
        assert_eq!(Tile::at_tree_size(0, u64::MAX, 255).unwrap(), None);
    }

    #[test]
    fn stored_hashes_map_to_their_tiles() {
        // Leaf 300 sits in level-0 tile 1 at position 44.
        let idx = stored_hash_index(0, 300).unwrap();
        assert_eq!(
            Tile::for_stored_hash(idx).unwrap(),
            Tile::new(0, 1, 45).unwrap()
        );
        // Subtree (level 3, n 40) = leaves 320..328 = tile-0 positions 64..72 of tile 1.
        let idx = stored_hash_index(3, 40).unwrap();
        assert_eq!(
            Tile::for_stored_hash(idx).unwrap(),
            Tile::new(0, 1, 72).unwrap()
        );
        // Level 8 is level-1 tile hashes; level 10, n 1 = level-1 positions 4..8.
        let idx = stored_hash_index(10, 1).unwrap();
        assert_eq!(
            Tile::for_stored_hash(idx).unwrap(),
            Tile::new(1, 0, 8).unwrap()
        );
    }

    #[test]
    fn hash_from_tile_recomputes_intermediate_levels() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut stored = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            stored.extend(stored_hashes(i as u64, leaf, &stored).unwrap());
        }
        let tile = Tile::new(0, 1, 44).unwrap();
        let data = tile_data(&tile, &stored).unwrap();
        for (level, n) in [(0u8, 256u64), (0, 299), (1, 128), (2, 65), (3, 33), (5, 8)] {
            let index = stored_hash_index(level, n).unwrap();
            assert_eq!(
                hash_from_tile(&tile, &data, index).unwrap(),
                stored[index as usize],
                "level {level} n {n}"
            );
        }
        // Leaf 300 is not in a tile of width 44, nor is anything in tile 0.
        let outside = stored_hash_index(0, 300).unwrap();
        assert!(matches!(
            hash_from_tile(&tile, &data, outside),
            Err(TileError::HashNotInTile { .. })
        ));
        let other = stored_hash_index(0, 3).unwrap();
        assert!(hash_from_tile(&tile, &data, other).is_err());
        assert!(matches!(
            hash_from_tile(&tile, &data[1..], stored_hash_index(0, 256).unwrap()),
            Err(TileError::WrongDataLength { .. })
        ));
    }

    #[test]
    fn growth_rewrites_the_right_edge() {
        let t = |l, n, w| Tile::new(l, n, w).unwrap();
        let new_tiles = |a, b| new_tiles(a, b).map(|t| t.collect::<Vec<_>>());
        assert_eq!(new_tiles(0, 1).unwrap(), [t(0, 0, 1)]);
        assert_eq!(new_tiles(5, 5).unwrap(), []);
        assert_eq!(new_tiles(255, 256).unwrap(), [t(0, 0, 256), t(1, 0, 1)]);
        assert_eq!(new_tiles(256, 257).unwrap(), [t(0, 1, 1)]);
        assert_eq!(
            new_tiles(100, 1000).unwrap(),
            [
                t(0, 0, 256),
                t(0, 1, 256),
                t(0, 2, 256),
                t(0, 3, 232),
                t(1, 0, 3)
            ]
        );
        assert!(matches!(
            new_tiles(3, 2),
            Err(TileError::TreeShrinks { .. })
        ));
        assert_eq!(
            super::new_tiles(0, MAX_TREE_SIZE).unwrap().nth(1),
            Some(t(0, 1, 256))
        );
        assert!(super::new_tiles(0, MAX_TREE_SIZE + 1).is_err());
    }
}
