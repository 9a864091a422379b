//! Property tests of the Merkle code against an independent implementation, the `ct-merkle`
//! crate: for random trees, roots and proofs built from our stored hashes equal its roots and
//! proofs, ours verify with our verifier and with its verifier, and its proofs verify with ours.
//! Mutated proofs are refused.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::merkle::{
    Hash, MerkleError, leaf_hash, prove_record, prove_tree, root_from_leaf_hashes, stored_hashes,
    stored_hashes_for_batch, tree_hash, verify_consistency, verify_inclusion,
};
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash, mem_backed_tree::MemoryBackedTree};
use proptest::prelude::*;
use sha2::Sha256;

/// The same leaves in both implementations, and our stored hashes for them.
struct Trees {
    leaves: Vec<Vec<u8>>,
    leaf_hashes: Vec<Hash>,
    stored: Vec<Hash>,
    oracle: MemoryBackedTree<Sha256, Vec<u8>>,
}

fn build(leaves: Vec<Vec<u8>>) -> Trees {
    let mut oracle = MemoryBackedTree::new();
    let mut stored = Vec::new();
    let mut leaf_hashes = Vec::new();
    for (i, leaf) in leaves.iter().enumerate() {
        let h = leaf_hash(leaf);
        stored.extend(stored_hashes(i as u64, &h, &stored).unwrap());
        leaf_hashes.push(h);
        oracle.push(leaf.clone());
    }
    Trees {
        leaves,
        leaf_hashes,
        stored,
        oracle,
    }
}

/// The oracle's root for the first `size` leaves.
fn oracle_prefix(t: &Trees, size: usize) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for leaf in &t.leaves[..size] {
        tree.push(leaf.clone());
    }
    tree
}

fn root_bytes(root: &RootHash<Sha256>) -> Hash {
    root.as_bytes().as_slice().try_into().unwrap()
}

fn flatten(proof: &[Hash]) -> Vec<u8> {
    proof.concat()
}

fn chunks(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap())
        .collect()
}

fn arb_leaves(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..max)
}

/// A tree plus an index in it and an older size.
fn arb_case() -> impl Strategy<Value = (Vec<Vec<u8>>, usize, usize)> {
    arb_leaves(300).prop_flat_map(|leaves| {
        let n = leaves.len();
        (Just(leaves), 0..n, 1..=n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn roots_match_the_oracle(leaves in arb_leaves(300)) {
        let t = build(leaves);
        let size = t.leaves.len() as u64;
        let root = root_bytes(&t.oracle.root());
        prop_assert_eq!(tree_hash(size, &t.stored).unwrap(), root);
        prop_assert_eq!(root_from_leaf_hashes(&t.leaf_hashes), root);
    }

    #[test]
    fn inclusion_proofs_match_the_oracle((leaves, index, _) in arb_case()) {
        let t = build(leaves);
        let size = t.leaves.len() as u64;
        let root = tree_hash(size, &t.stored).unwrap();
        let ours = prove_record(size, index as u64, &t.stored).unwrap();
        let theirs = t.oracle.prove_inclusion(index);
        prop_assert_eq!(flatten(&ours), theirs.as_bytes().to_vec());

        verify_inclusion(index as u64, size, &t.leaf_hashes[index], &ours, &root).unwrap();
        let as_theirs = InclusionProof::from_bytes(flatten(&ours));
        t.oracle.root().verify_inclusion(&t.leaves[index], index as u64, &as_theirs).unwrap();
        // Their proof, through our verifier.
        let theirs = chunks(theirs.as_bytes());
        verify_inclusion(index as u64, size, &t.leaf_hashes[index], &theirs, &root).unwrap();
    }

    #[test]
    fn consistency_proofs_match_the_oracle((leaves, _, old) in arb_case()) {
        let t = build(leaves);
        let size = t.leaves.len();
        let old_tree = oracle_prefix(&t, old);
        let old_root = root_bytes(&old_tree.root());
        let root = root_bytes(&t.oracle.root());
        let ours = prove_tree(size as u64, old as u64, &t.stored).unwrap();
        verify_consistency(old as u64, size as u64, &old_root, &root, &ours).unwrap();
        if old < size {
            let theirs = t.oracle.prove_consistency(size - old);
            prop_assert_eq!(flatten(&ours), theirs.as_bytes().to_vec());
            let as_theirs = ConsistencyProof::try_from_bytes(flatten(&ours)).unwrap();
            t.oracle.root().verify_consistency(&old_tree.root(), &as_theirs).unwrap();
        } else {
            prop_assert!(ours.is_empty());
        }
    }

    #[test]
    fn mutated_proofs_are_refused(
        (leaves, index, old) in arb_case(),
        pick in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let t = build(leaves);
        let size = t.leaves.len() as u64;
        let root = tree_hash(size, &t.stored).unwrap();
        let (index, old) = (index as u64, old as u64);

        let proof = prove_record(size, index, &t.stored).unwrap();
        let leaf = t.leaf_hashes[index as usize];
        if !proof.is_empty() {
            let mut flipped = proof.clone();
            let i = pick.index(flipped.len());
            flipped[i][usize::from(bit) * 4 % 32] ^= 1 << bit;
            prop_assert_eq!(
                verify_inclusion(index, size, &leaf, &flipped, &root),
                Err(MerkleError::RootMismatch)
            );
            let mut shorter = proof.clone();
            shorter.pop();
            prop_assert!(verify_inclusion(index, size, &leaf, &shorter, &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
        // Another leaf or another index does not verify.
        let mut other = leaf;
        other[0] ^= 1;
        prop_assert!(verify_inclusion(index, size, &other, &proof, &root).is_err());
        if size > 1 {
            let wrong_index = (index + 1) % size;
            if t.leaf_hashes[wrong_index as usize] != leaf {
                prop_assert!(verify_inclusion(wrong_index, size, &leaf, &proof, &root).is_err());
            }
        }
        // (A different tree size can legitimately accept the same proof and root: RFC 6962 roots
        // do not commit to the size, e.g. leaf 0 has the same path shape in trees of 3 and 4.)

        let old_root = tree_hash(old, &t.stored).unwrap();
        let proof = prove_tree(size, old, &t.stored).unwrap();
        if !proof.is_empty() {
            let mut flipped = proof.clone();
            let i = pick.index(flipped.len());
            flipped[i][0] ^= 1 << bit;
            prop_assert!(verify_consistency(old, size, &old_root, &root, &flipped).is_err());
            let mut shorter = proof.clone();
            shorter.remove(0);
            prop_assert!(verify_consistency(old, size, &old_root, &root, &shorter).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_consistency(old, size, &old_root, &root, &longer).is_err());
        let mut other = old_root;
        other[31] ^= 1;
        prop_assert!(verify_consistency(old, size, &other, &root, &proof).is_err());
        prop_assert!(verify_consistency(old, size, &old_root, &other, &proof).is_err());
    }

    #[test]
    fn batched_appends_equal_single_appends(
        leaves in arb_leaves(300),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let t = build(leaves);
        let n = t.leaf_hashes.len();
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(n + 1)).collect();
        bounds.extend([0, n]);
        bounds.sort_unstable();
        bounds.dedup();
        let mut stored: Vec<Hash> = Vec::new();
        for pair in bounds.windows(2) {
            let batch = &t.leaf_hashes[pair[0]..pair[1]];
            stored.extend(stored_hashes_for_batch(pair[0] as u64, batch, &stored).unwrap());
        }
        prop_assert_eq!(stored, t.stored);
    }
}
