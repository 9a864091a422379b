//! Why a tile, tile path or tile read was refused.

use crate::merkle::MerkleError;

/// A tile that cannot exist, a malformed tile path, or tile contents that do not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// Tile levels run from 0 to 5 in static-ct-api.
    #[error("tile level {0} is above the static-ct-api maximum of 5")]
    LevelTooHigh(u8),
    /// A tile has 1 to 256 hashes.
    #[error("tile width {0} is not between 1 and 256")]
    InvalidWidth(u16),
    /// The tile would cover leaves beyond the largest static-ct-api tree (2^40 entries).
    #[error("tile {n} at level {level} lies beyond the largest possible tree")]
    BeyondMaxTreeSize {
        /// The tile level.
        level: u8,
        /// The tile index.
        n: u64,
    },
    /// A tree larger than static-ct-api's 40-bit leaf indexes allow.
    #[error("tree size {0} exceeds 2^40")]
    TreeTooLarge(u64),
    /// Growth from a larger tree to a smaller one.
    #[error("tree cannot shrink from {old_size} to {new_size}")]
    TreeShrinks {
        /// The earlier size.
        old_size: u64,
        /// The later size.
        new_size: u64,
    },
    /// A path that is not the canonical form of a tile path (tlog-tiles, static-ct-api).
    #[error("invalid tile path: {0}")]
    InvalidPath(&'static str),
    /// Tile contents of another length than its width dictates.
    #[error("tile contents are {actual} bytes, expected {expected}")]
    WrongDataLength {
        /// Bytes the tile must have.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The stored hash is not held in (or computable from) this tile.
    #[error("stored hash {index} is not in this tile")]
    HashNotInTile {
        /// The stored hash index.
        index: u64,
    },
    /// A stored hash index out of range.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// A failure of a [`TileHashReader`](super::TileHashReader): a tile-level inconsistency, or the
/// tile store's own error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileReadError<E> {
    /// The tile request or the returned contents are invalid.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// The tile store failed.
    #[error("reading tiles")]
    Read(#[source] E),
}
