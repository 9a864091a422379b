//! Proofs and tree hashes from the hashes a log stores, in the numbering that tiled logs use
//! (c2sp.org/tlog-tiles; the model of Go's `golang.org/x/mod/sumdb/tlog`).
//!
//! A log stores, for every record `n` it appends, first the record's leaf hash and then the hash
//! of every complete subtree that record closes: one more hash per trailing one bit of `n`.
//! The hashes get consecutive *stored hash indexes* in that order, so the hash of the complete
//! subtree `n` at `level` (leaves `n·2^level .. (n+1)·2^level`) has a fixed index that never
//! changes as the log grows. Tiles are just these hashes grouped by level, so a tile store can
//! answer [`HashReader::read_hashes`], and every RFC 6962 root and proof is assembled from
//! stored hashes without keeping the tree in memory.
//!
//! Every computation first lists the indexes it needs and reads them in one call, so a
//! tile-backed reader fetches each tile once.

use super::{
    EMPTY_ROOT, Hash, MerkleError, StoredHashError, largest_power_of_two_below, node_hash,
};

/// The largest tree size the stored-hash numbering supports: every index then fits in a u64
/// with room to spare. Far above any CT log (static-ct-api leaf indexes are 40 bits).
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// Where a log's stored hashes come from (a tile store, an in-memory vector, ...).
pub trait HashReader {
    /// The reader's failure (I/O, a missing tile, ...).
    type Error;

    /// Returns the stored hashes at `indexes`, in the same order and the same number.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error>;
}

/// Stored hashes held in memory, position = stored hash index.
impl HashReader for [Hash] {
    type Error = MerkleError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i))
                    .copied()
                    .ok_or(MerkleError::MissingStoredHash(i))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    type Error = MerkleError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.as_slice().read_hashes(indexes)
    }
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, R::Error> {
        (**self).read_hashes(indexes)
    }
}

/// A reader over the stored hashes of a log before a batch (`stored`, holding the indexes below
/// `base`) plus the hashes the batch appends (`appended`, indexes from `base` on): what a
/// sequencer reads from while it builds the tiles and root of the grown tree, before anything
/// is written.
#[derive(Debug, Clone, Copy)]
pub struct AppendedHashes<'a, R: ?Sized> {
    base: u64,
    appended: &'a [Hash],
    stored: &'a R,
}

impl<'a, R: HashReader + ?Sized> AppendedHashes<'a, R> {
    /// Overlays `appended`, the result of [`stored_hashes_for_batch`] for a tree that had
    /// `old_tree_size` records, on the hashes `stored` already holds.
    pub fn new(
        old_tree_size: u64,
        appended: &'a [Hash],
        stored: &'a R,
    ) -> Result<Self, MerkleError> {
        Ok(Self {
            base: stored_hash_count(old_tree_size)?,
            appended,
            stored,
        })
    }
}

impl<R: HashReader + ?Sized> HashReader for AppendedHashes<'_, R> {
    type Error = StoredHashError<R::Error>;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        let older: Vec<u64> = indexes.iter().copied().filter(|&i| i < self.base).collect();
        let mut older = read_exactly(self.stored, &older)?.into_iter();
        indexes
            .iter()
            .map(|&i| {
                let hash = if i < self.base {
                    older.next()
                } else {
                    usize::try_from(i - self.base)
                        .ok()
                        .and_then(|j| self.appended.get(j))
                        .copied()
                };
                hash.ok_or(StoredHashError::Merkle(MerkleError::MissingStoredHash(i)))
            })
            .collect()
    }
}

impl<E> StoredHashError<StoredHashError<E>> {
    /// Collapses the error of a computation over an [`AppendedHashes`] reader.
    pub fn flatten(self) -> StoredHashError<E> {
        match self {
            Self::Merkle(e) | Self::Read(StoredHashError::Merkle(e)) => StoredHashError::Merkle(e),
            Self::Read(StoredHashError::Read(e)) => StoredHashError::Read(e),
        }
    }
}

/// Reads `indexes` and checks the reader kept its contract on the count.
pub(crate) fn read_exactly<R: HashReader + ?Sized>(
    reader: &R,
    indexes: &[u64],
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(indexes).map_err(StoredHashError::Read)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReaderReturnedWrongCount {
            requested: indexes.len(),
            returned: hashes.len(),
        }
        .into());
    }
    Ok(hashes)
}

fn check_tree_size(tree_size: u64) -> Result<(), MerkleError> {
    if tree_size > MAX_TREE_SIZE {
        return Err(MerkleError::TreeTooLarge(tree_size));
    }
    Ok(())
}

/// The number of hashes stored before record `r`: each record `i` adds `1 + trailing_ones(i)`,
/// which sums to `2r - popcount(r)`. Callers keep `r <= MAX_TREE_SIZE`, so nothing overflows.
const fn count_before(r: u64) -> u64 {
    2 * r - r.count_ones() as u64
}

/// The stored hash index of the complete subtree `n` at `level`: the hash of leaves
/// `n·2^level .. (n+1)·2^level` (tlog-tiles numbering; level 0 is the leaf hash of record `n`).
///
/// That hash is written by the subtree's last record, `r = (n+1)·2^level - 1`, as the
/// `level`-th hash it appends.
pub fn stored_hash_index(level: u8, n: u64) -> Result<u64, MerkleError> {
    let out_of_range = MerkleError::SubtreeOutOfRange { level, n };
    let end = n
        .checked_add(1)
        .and_then(|e| e.checked_shl(u32::from(level)))
        .filter(|&e| e >> level == n + 1 && e <= MAX_TREE_SIZE)
        .ok_or(out_of_range)?;
    Ok(count_before(end - 1) + u64::from(level))
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the subtree stored at `index`.
pub fn split_stored_hash_index(index: u64) -> Result<(u8, u64), MerkleError> {
    if index >= count_before(MAX_TREE_SIZE) {
        return Err(MerkleError::StoredHashIndexOutOfRange(index));
    }
    // count_before(r) lies in [2r - 64, 2r], so the writing record is within 33 of index/2.
    let mut r = index / 2;
    while count_before(r + 1) <= index {
        r += 1;
    }
    // index - count_before(r) <= trailing_ones(r) < 64, by the choice of r.
    let level = (index - count_before(r)) as u8;
    Ok((level, ((r + 1) >> level) - 1))
}

/// The number of hashes stored for a tree of `tree_size` records (`2·size - popcount(size)`),
/// which is also the stored hash index the next record's leaf hash gets.
pub fn stored_hash_count(tree_size: u64) -> Result<u64, MerkleError> {
    check_tree_size(tree_size)?;
    Ok(count_before(tree_size))
}

/// The stored hash indexes of the left siblings record `n` closes, lowest level first.
fn closed_sibling_indexes(n: u64) -> Result<Vec<u64>, MerkleError> {
    (0..n.trailing_ones() as u8)
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect()
}

/// The hashes to store when appending record `n` with `leaf_hash` to a tree of `n` records:
/// the leaf hash, then the hash of each complete subtree the record closes, lowest first. They
/// take the stored hash indexes from `stored_hash_count(n)` on.
pub fn stored_hashes<R: HashReader + ?Sized>(
    n: u64,
    leaf_hash: &Hash,
    reader: &R,
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    check_tree_size(n.saturating_add(1))?;
    let siblings = read_exactly(reader, &closed_sibling_indexes(n)?)?;
    let mut out = Vec::with_capacity(1 + siblings.len());
    let mut current = *leaf_hash;
    out.push(current);
    for left in &siblings {
        current = node_hash(left, &current);
        out.push(current);
    }
    Ok(out)
}

/// The hashes to store when appending `leaf_hashes` to a tree of `old_tree_size` records, in
/// stored-hash order: [`stored_hashes`] for each new record, with siblings inside the batch
/// taken from the batch itself and the older ones read in one call.
pub fn stored_hashes_for_batch<R: HashReader + ?Sized>(
    old_tree_size: u64,
    leaf_hashes: &[Hash],
    reader: &R,
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    let new_tree_size = old_tree_size
        .checked_add(leaf_hashes.len() as u64)
        .ok_or(MerkleError::TreeTooLarge(u64::MAX))?;
    check_tree_size(new_tree_size)?;
    let base = count_before(old_tree_size);

    let mut older: Vec<u64> = Vec::new();
    for n in old_tree_size..new_tree_size {
        older.extend(closed_sibling_indexes(n)?.into_iter().filter(|&i| i < base));
    }
    older.sort_unstable();
    older.dedup();
    let older_hashes = read_exactly(reader, &older)?;

    let mut out: Vec<Hash> = Vec::with_capacity((count_before(new_tree_size) - base) as usize);
    for (n, leaf) in (old_tree_size..new_tree_size).zip(leaf_hashes) {
        let mut current = *leaf;
        out.push(current);
        for index in closed_sibling_indexes(n)? {
            let left = if index < base {
                older
                    .binary_search(&index)
                    .ok()
                    .and_then(|j| older_hashes.get(j))
            } else {
                usize::try_from(index - base).ok().and_then(|j| out.get(j))
            }
            .copied()
            .ok_or(MerkleError::MissingStoredHash(index))?;
            current = node_hash(&left, &current);
            out.push(current);
        }
    }
    Ok(out)
}

/// A half-open range of leaves `[start, end)` whose Merkle Tree Hash a computation needs.
#[derive(Debug, Clone, Copy)]
struct LeafRange {
    start: u64,
    end: u64,
}

/// Appends the complete subtrees that make up `range`, left to right, as `(level, n)`.
///
/// Every range RFC 6962 recursion produces starts at a multiple of a power of two at least as
/// large as the range, so the largest power of two that fits is always aligned.
fn complete_subtrees(range: LeafRange, out: &mut Vec<u64>) -> Result<usize, MerkleError> {
    let mut start = range.start;
    let mut count = 0;
    while start < range.end {
        let width = range.end - start;
        let level = (u64::BITS - 1 - width.leading_zeros()) as u8;
        out.push(stored_hash_index(level, start >> level)?);
        start += 1 << level;
        count += 1;
    }
    Ok(count)
}

/// Reads the hashes of all `ranges` in one call and returns each range's Merkle Tree Hash.
fn range_hashes<R: HashReader + ?Sized>(
    ranges: &[LeafRange],
    reader: &R,
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    let mut indexes = Vec::new();
    let mut counts = Vec::with_capacity(ranges.len());
    for range in ranges {
        counts.push(complete_subtrees(*range, &mut indexes)?);
    }
    let hashes = read_exactly(reader, &indexes)?;
    let mut rest = hashes.as_slice();
    let mut out = Vec::with_capacity(ranges.len());
    for count in counts {
        let (parts, tail) = rest.split_at(count.min(rest.len()));
        rest = tail;
        // Subtrees shrink left to right, so RFC 6962's split folds them from the right.
        let mut parts = parts.iter().rev();
        let mut hash = *parts.next().ok_or(MerkleError::ReaderReturnedWrongCount {
            requested: indexes.len(),
            returned: hashes.len(),
        })?;
        for left in parts {
            hash = node_hash(left, &hash);
        }
        out.push(hash);
    }
    Ok(out)
}

/// The Merkle Tree Hash (RFC 6962 §2.1) of the first `tree_size` records, from stored hashes.
pub fn tree_hash<R: HashReader + ?Sized>(
    tree_size: u64,
    reader: &R,
) -> Result<Hash, StoredHashError<R::Error>> {
    check_tree_size(tree_size)?;
    if tree_size == 0 {
        return Ok(EMPTY_ROOT);
    }
    let hashes = range_hashes(
        &[LeafRange {
            start: 0,
            end: tree_size,
        }],
        reader,
    )?;
    Ok(hashes.first().copied().unwrap_or(EMPTY_ROOT))
}

/// RFC 6962 §2.1.1 PATH(m, D[start:end]), as ranges, lowest level first.
fn inclusion_ranges(index: u64, range: LeafRange, out: &mut Vec<LeafRange>) {
    if range.end - range.start <= 1 {
        return;
    }
    let split = range.start + largest_power_of_two_below(range.end - range.start);
    let left = LeafRange {
        start: range.start,
        end: split,
    };
    let right = LeafRange {
        start: split,
        end: range.end,
    };
    if index < split {
        inclusion_ranges(index, left, out);
        out.push(right);
    } else {
        inclusion_ranges(index, right, out);
        out.push(left);
    }
}

/// The inclusion proof (RFC 6962 §2.1.1 audit path, lowest level first) for record `index` in
/// the tree of `tree_size` records: what `get-proof-by-hash` and `get-entry-and-proof` answer.
pub fn prove_record<R: HashReader + ?Sized>(
    tree_size: u64,
    index: u64,
    reader: &R,
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    check_tree_size(tree_size)?;
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size }.into());
    }
    let mut ranges = Vec::new();
    inclusion_ranges(
        index,
        LeafRange {
            start: 0,
            end: tree_size,
        },
        &mut ranges,
    );
    range_hashes(&ranges, reader)
}

/// RFC 6962 §2.1.2 SUBPROOF(m, D[start:end], b), as ranges, with `m` an absolute tree size.
fn consistency_ranges(m: u64, range: LeafRange, whole_old_tree: bool, out: &mut Vec<LeafRange>) {
    if m == range.end {
        if !whole_old_tree {
            out.push(range);
        }
        return;
    }
    let split = range.start + largest_power_of_two_below(range.end - range.start);
    let left = LeafRange {
        start: range.start,
        end: split,
    };
    let right = LeafRange {
        start: split,
        end: range.end,
    };
    if m <= split {
        consistency_ranges(m, left, whole_old_tree, out);
        out.push(right);
    } else {
        consistency_ranges(m, right, false, out);
        out.push(left);
    }
}

/// The consistency proof (RFC 6962 §2.1.2 `PROOF(size1, D[size2])`) from the tree of `size1`
/// records to the tree of `size2` records: what `get-sth-consistency` answers.
///
/// Requires `0 < size1 <= size2` (RFC 9162 §2.1.4); equal sizes give an empty proof.
pub fn prove_tree<R: HashReader + ?Sized>(
    size2: u64,
    size1: u64,
    reader: &R,
) -> Result<Vec<Hash>, StoredHashError<R::Error>> {
    check_tree_size(size2)?;
    if size1 == 0 || size1 > size2 {
        return Err(MerkleError::InvalidTreeSizes { size1, size2 }.into());
    }
    let mut ranges = Vec::new();
    consistency_ranges(
        size1,
        LeafRange {
            start: 0,
            end: size2,
        },
        true,
        &mut ranges,
    );
    range_hashes(&ranges, reader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_from_leaf_hashes};

    fn build(n: u64) -> (Vec<Hash>, Vec<Hash>) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut stored = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let add = stored_hashes(i as u64, leaf, &stored).unwrap();
            assert_eq!(stored.len() as u64, stored_hash_count(i as u64).unwrap());
            stored.extend(add);
        }
        (leaves, stored)
    }

    #[test]
    fn first_indexes_match_the_sumdb_layout() {
        // Records 0..4 store: h(0) | h(1) h(0..2) | h(2) | h(3) h(2..4) h(0..4).
        let expected = [
            (0, 0, 0),
            (0, 1, 1),
            (1, 0, 2),
            (0, 2, 3),
            (0, 3, 4),
            (1, 1, 5),
        ];
        for (level, n, index) in expected {
            assert_eq!(stored_hash_index(level, n), Ok(index));
            assert_eq!(split_stored_hash_index(index), Ok((level, n)));
        }
        assert_eq!(stored_hash_index(2, 0), Ok(6));
        assert_eq!(stored_hash_count(4), Ok(7));
    }

    #[test]
    fn split_inverts_index_for_every_small_index() {
        for index in 0..5000 {
            let (level, n) = split_stored_hash_index(index).unwrap();
            assert_eq!(stored_hash_index(level, n), Ok(index));
        }
    }

    #[test]
    fn huge_arguments_are_errors_not_overflows() {
        assert!(stored_hash_index(63, 1).is_err());
        assert!(stored_hash_index(0, u64::MAX).is_err());
        assert!(stored_hash_index(1, u64::MAX / 2).is_err());
        assert!(split_stored_hash_index(u64::MAX).is_err());
        assert!(stored_hash_count(u64::MAX).is_err());
        let (_, stored) = build(3);
        assert!(tree_hash(u64::MAX, &stored).is_err());
        assert!(prove_record(u64::MAX, 0, &stored).is_err());
        assert!(prove_tree(u64::MAX, 1, &stored).is_err());
        assert!(stored_hashes_for_batch(u64::MAX, &[[0; 32]], &stored).is_err());
    }

    #[test]
    fn tree_hash_matches_direct_root_for_every_prefix() {
        let (leaves, stored) = build(70);
        for size in 0..=70 {
            assert_eq!(
                tree_hash(size, &stored).unwrap(),
                root_from_leaf_hashes(&leaves[..size as usize]),
                "size {size}"
            );
        }
    }

    #[test]
    fn batch_equals_one_by_one() {
        let (leaves, stored) = build(40);
        for split in [0usize, 1, 7, 8, 31, 40] {
            let before = stored_hash_count(split as u64).unwrap() as usize;
            let batch =
                stored_hashes_for_batch(split as u64, &leaves[split..], &stored[..before]).unwrap();
            assert_eq!(batch, stored[before..], "split {split}");
        }
    }

    #[test]
    fn appended_hashes_read_across_the_boundary() {
        let (leaves, stored) = build(20);
        let before = stored_hash_count(9).unwrap() as usize;
        let batch = stored_hashes_for_batch(9, &leaves[9..], &stored[..before]).unwrap();
        let old = &stored[..before];
        let overlay = AppendedHashes::new(9, &batch, old).unwrap();
        assert_eq!(
            tree_hash(20, &overlay).unwrap(),
            root_from_leaf_hashes(&leaves)
        );
        let all: Vec<u64> = (0..stored.len() as u64).rev().collect();
        let mut want = stored.clone();
        want.reverse();
        assert_eq!(overlay.read_hashes(&all).unwrap(), want);
        assert!(matches!(
            overlay.read_hashes(&[stored.len() as u64]),
            Err(StoredHashError::Merkle(MerkleError::MissingStoredHash(_)))
        ));
    }

    #[test]
    fn proofs_from_stored_hashes_verify() {
        let (leaves, stored) = build(33);
        for size in 1..=33u64 {
            let root = root_from_leaf_hashes(&leaves[..size as usize]);
            for index in 0..size {
                let proof = prove_record(size, index, &stored).unwrap();
                crate::merkle::verify_inclusion(
                    index,
                    size,
                    &leaves[index as usize],
                    &proof,
                    &root,
                )
                .unwrap();
            }
            for old in 1..=size {
                let old_root = root_from_leaf_hashes(&leaves[..old as usize]);
                let proof = prove_tree(size, old, &stored).unwrap();
                crate::merkle::verify_consistency(old, size, &old_root, &root, &proof).unwrap();
            }
        }
    }

    #[test]
    fn invalid_proof_requests_are_refused() {
        let (_, stored) = build(5);
        assert!(matches!(
            prove_record(5, 5, &stored),
            Err(StoredHashError::Merkle(MerkleError::IndexOutOfRange { .. }))
        ));
        assert!(matches!(
            prove_tree(5, 0, &stored),
            Err(StoredHashError::Merkle(
                MerkleError::InvalidTreeSizes { .. }
            ))
        ));
        assert!(matches!(
            prove_tree(4, 5, &stored),
            Err(StoredHashError::Merkle(
                MerkleError::InvalidTreeSizes { .. }
            ))
        ));
        assert_eq!(prove_tree(5, 5, &stored).unwrap(), Vec::<Hash>::new());
    }

    struct ShortReader;
    impl HashReader for ShortReader {
        type Error = std::convert::Infallible;
        fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, Self::Error> {
            Ok(vec![[0; 32]])
        }
    }

    #[test]
    fn a_reader_returning_the_wrong_count_is_an_error() {
        assert!(matches!(
            tree_hash(7, &ShortReader),
            Err(StoredHashError::Merkle(
                MerkleError::ReaderReturnedWrongCount { .. }
            ))
        ));
        assert!(matches!(
            prove_record(8, 3, &ShortReader),
            Err(StoredHashError::Merkle(
                MerkleError::ReaderReturnedWrongCount { .. }
            ))
        ));
    }

    #[test]
    fn missing_hashes_surface_as_read_errors() {
        let (_, stored) = build(8);
        assert!(matches!(
            tree_hash(8, &stored[..3]),
            Err(StoredHashError::Read(MerkleError::MissingStoredHash(_)))
        ));
    }
}
