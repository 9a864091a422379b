//! Verification of Merkle inclusion and consistency proofs, following the algorithms of
//! RFC 9162 §2.1.3.2 and §2.1.4.2 (which verify RFC 6962 §2.1.1/§2.1.2 proofs unchanged).
//!
//! Both checks are strict about the proof's length: the number of hashes is fixed by the tree
//! shape, and a proof with a hash added or dropped is refused before any hashing, so a proof
//! has exactly one accepted form.

use super::{Hash, MerkleError, node_hash};

/// The number of hashes in an inclusion proof for leaf `index` of a tree of `tree_size` leaves
/// (`index < tree_size`).
///
/// The path has one hash per level below the point where the paths to `index` and to the last
/// leaf diverge (`inner`), plus one per left sibling above it, where the tree's right border
/// collapses levels (`border`).
pub(crate) fn inclusion_proof_len(index: u64, tree_size: u64) -> usize {
    let last = tree_size.saturating_sub(1);
    let inner = u64::BITS - (index ^ last).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// The number of hashes in a consistency proof between tree sizes `0 < size1 < size2`.
///
/// It is the inclusion path of leaf `size1 - 1` in the larger tree without the levels inside
/// the complete subtree that ends at `size1` (that subtree's hash replaces them), plus that
/// subtree's hash unless it is the whole old tree (`size1` a power of two), in which case the
/// verifier already holds it as the old root.
pub(crate) fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let last1 = size1.saturating_sub(1);
    let inner = u64::BITS - (last1 ^ (size2.saturating_sub(1))).leading_zeros();
    let border = last1.checked_shr(inner).unwrap_or(0).count_ones();
    let shift = size1.trailing_zeros();
    let seed = u32::from(!size1.is_power_of_two());
    (inner.saturating_sub(shift) + border + seed) as usize
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `tree_size` leaves whose root
/// is `root` (RFC 9162 §2.1.3.2). `proof` is the audit path, lowest level first, as
/// `get-proof-by-hash` returns it (RFC 6962 §4.5).
pub fn verify_inclusion(
    index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, tree_size });
    }
    let expected = inclusion_proof_len(index, tree_size);
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    // RFC 9162 §2.1.3.2 steps 2-5: `f` walks up from the leaf, `s` from the last leaf; where
    // they coincide the node is on the right border and every remaining sibling is a left one.
    let mut f = index;
    let mut s = tree_size - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(MerkleError::WrongProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(MerkleError::WrongProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of
/// `size2` leaves with root `root2` (RFC 9162 §2.1.4.2), given the consistency proof as
/// `get-sth-consistency` returns it (RFC 6962 §4.4).
///
/// Requires `0 < size1 <= size2`: a proof from the empty tree says nothing. Equal sizes need an
/// empty proof and equal roots.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if size1 == 0 || size1 > size2 {
        return Err(MerkleError::InvalidTreeSizes { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch)
        };
    }
    let expected = consistency_proof_len(size1, size2);
    let wrong_length = || MerkleError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length());
    }

    // Step 2: when the old tree is a complete subtree, its root is the seed the proof omits.
    let mut path = std::iter::once(root1)
        .filter(|_| size1.is_power_of_two())
        .chain(proof.iter());
    // Steps 3-4: skip the levels inside the complete subtree that ends at size1.
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5. The length check above guarantees a first element; fail closed regardless.
    let seed = path.next().ok_or_else(wrong_length)?;
    let mut fr = *seed;
    let mut sr = *seed;
    // Step 6: `fr` rebuilds the old root from left siblings only, `sr` the new root from all.
    for c in path {
        if s == 0 {
            return Err(wrong_length());
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(wrong_length());
    }
    if fr != *root1 || sr != *root2 {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root_from_leaf_hashes};

    fn leaves(n: u8) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[i])).collect()
    }

    #[test]
    fn proof_lengths_match_small_trees() {
        // Leaf 0 of 8: three siblings. Leaf 6 of 7: [6] is alone at its level, so two.
        assert_eq!(inclusion_proof_len(0, 8), 3);
        assert_eq!(inclusion_proof_len(6, 7), 2);
        assert_eq!(inclusion_proof_len(0, 1), 0);
        // RFC 6962 §2.1.3 examples: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l],
        // PROOF(6, D[7]) = [i, j, k].
        assert_eq!(consistency_proof_len(3, 7), 4);
        assert_eq!(consistency_proof_len(4, 7), 1);
        assert_eq!(consistency_proof_len(6, 7), 3);
    }

    #[test]
    fn two_leaf_inclusion_both_sides() {
        let l = leaves(2);
        let root = root_from_leaf_hashes(&l);
        verify_inclusion(0, 2, &l[0], &[l[1]], &root).unwrap();
        verify_inclusion(1, 2, &l[1], &[l[0]], &root).unwrap();
        assert_eq!(
            verify_inclusion(0, 2, &l[0], &[l[0]], &root),
            Err(MerkleError::RootMismatch)
        );
        assert_eq!(
            verify_inclusion(2, 2, &l[0], &[l[0]], &root),
            Err(MerkleError::IndexOutOfRange {
                index: 2,
                tree_size: 2
            })
        );
    }

    #[test]
    fn consistency_rejects_meaningless_sizes() {
        let r = [0u8; 32];
        for (a, b) in [(0, 0), (0, 5), (3, 2)] {
            assert_eq!(
                verify_consistency(a, b, &r, &r, &[]),
                Err(MerkleError::InvalidTreeSizes { size1: a, size2: b })
            );
        }
        verify_consistency(4, 4, &r, &r, &[]).unwrap();
        assert!(verify_consistency(4, 4, &r, &r, &[r]).is_err());
        assert_eq!(
            verify_consistency(4, 4, &r, &[1; 32], &[]),
            Err(MerkleError::RootMismatch)
        );
    }

    #[test]
    fn consistency_one_to_two() {
        let l = leaves(2);
        let root2 = root_from_leaf_hashes(&l);
        verify_consistency(1, 2, &l[0], &root2, &[l[1]]).unwrap();
        assert_eq!(
            verify_consistency(1, 2, &l[1], &root2, &[l[1]]),
            Err(MerkleError::RootMismatch)
        );
    }
}
