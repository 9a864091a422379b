//! Why a Merkle computation or proof check failed.

/// A Merkle proof that does not verify, or arguments outside the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// A leaf index at or beyond the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is not in a tree of size {tree_size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// Consistency is only defined for `0 < size1 <= size2` (RFC 9162 §2.1.4).
    #[error("no consistency proof exists from tree size {size1} to {size2}")]
    InvalidTreeSizes {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// A proof with more or fewer hashes than the tree shape dictates.
    #[error("proof has {actual} hashes, the tree shape needs {expected}")]
    WrongProofLength {
        /// Hashes the proof must have.
        expected: usize,
        /// Hashes it has.
        actual: usize,
    },
    /// The proof does not lead to the expected root (or, for consistency, to the older root).
    #[error("proof does not match the root hash")]
    RootMismatch,
    /// A hash that is not 32 bytes.
    #[error("hash must be 32 bytes, got {0}")]
    InvalidHashLength(usize),
    /// A tree this large cannot be numbered in the stored-hash model (u64 would overflow).
    #[error("tree size {0} is beyond the supported maximum")]
    TreeTooLarge(u64),
    /// A subtree that ends beyond [`MAX_TREE_SIZE`](super::stored::MAX_TREE_SIZE) leaves.
    #[error("subtree {n} at level {level} is beyond the supported tree size")]
    SubtreeOutOfRange {
        /// The subtree's level.
        level: u8,
        /// Its index within the level.
        n: u64,
    },
    /// A stored hash index that no tree of supported size has.
    #[error("stored hash index {0} is out of range")]
    StoredHashIndexOutOfRange(u64),
    /// A hash reader returned a different number of hashes than asked for.
    #[error("hash reader returned {returned} hashes for {requested} indexes")]
    ReaderReturnedWrongCount {
        /// Hashes asked for.
        requested: usize,
        /// Hashes returned.
        returned: usize,
    },
    /// An in-memory reader does not hold the stored hash asked for.
    #[error("stored hash {0} is not available")]
    MissingStoredHash(u64),
}

/// A failure of a computation over stored hashes: either the request itself is invalid, or the
/// [`HashReader`](super::HashReader) failed to supply the hashes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoredHashError<E> {
    /// Invalid arguments or an inconsistent reader answer.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    /// The reader's own error (storage failure, missing tile, ...).
    #[error("reading stored hashes")]
    Read(#[source] E),
}
