//! RFC 6962 §2.1 Merkle tree hashing (unchanged in RFC 9162 §2.1): leaf and node hashes, the
//! hash of the empty tree and the Merkle Tree Hash of a list of leaves.
//!
//! [`verify`] checks inclusion and consistency proofs (RFC 9162 §2.1.3.2, §2.1.4.2); [`stored`]
//! builds proofs from the hashes a tiled log stores (c2sp.org/tlog-tiles, in the numbering of
//! Go's `golang.org/x/mod/sumdb/tlog`).

mod error;
pub mod stored;
pub mod verify;

use aws_lc_rs::digest;

pub use error::{MerkleError, StoredHashError};
pub use stored::{
    AppendedHashes, HashReader, prove_record, prove_tree, split_stored_hash_index,
    stored_hash_count, stored_hash_index, stored_hashes, stored_hashes_for_batch, tree_hash,
};
pub use verify::{verify_consistency, verify_inclusion};

/// A SHA-256 Merkle tree hash (RFC 6962 §2.1: the log's hash algorithm is SHA-256).
pub type Hash = [u8; 32];

/// The size of a [`Hash`](type@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// The Merkle Tree Hash of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Domain-separation prefix of a leaf hash (RFC 6962 §2.1), so a leaf can never pass for a node.
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

fn finish(ctx: digest::Context) -> Hash {
    let mut out = [0u8; HASH_SIZE];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The leaf hash of `leaf` (RFC 6962 §2.1): `SHA-256(0x00 || leaf)`. In CT the leaf is the TLS
/// encoding of a `MerkleTreeLeaf` (RFC 6962 §3.4).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(leaf);
    finish(ctx)
}

/// The hash of an interior node (RFC 6962 §2.1): `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[NODE_PREFIX]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// The Merkle Tree Hash (RFC 6962 §2.1) of a tree whose leaves have the given leaf hashes;
/// [`EMPTY_ROOT`] for none.
pub fn root_from_leaf_hashes(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => EMPTY_ROOT,
        [only] => *only,
        _ => {
            // RFC 6962 splits at k, the largest power of two strictly below n (n ≥ 2 here).
            let k = largest_power_of_two_below(leaf_hashes.len() as u64) as usize;
            let (left, right) = leaf_hashes.split_at(k);
            node_hash(&root_from_leaf_hashes(left), &root_from_leaf_hashes(right))
        }
    }
}

/// Converts a byte string (a proof element or root from JSON, say) into a
/// [`Hash`](type@Hash), refusing any other length: a hash of the wrong size can never be part
/// of a valid proof.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, MerkleError> {
    bytes
        .try_into()
        .map_err(|_| MerkleError::InvalidHashLength(bytes.len()))
}

/// The largest power of two strictly below `n`, for `n ≥ 2` (RFC 6962 §2.1's split point k).
/// Returns 0 for `n < 2`, where no split exists.
pub(crate) const fn largest_power_of_two_below(n: u64) -> u64 {
    if n < 2 {
        0
    } else {
        1 << (63 - (n - 1).leading_zeros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            digest::digest(&digest::SHA256, b"").as_ref(),
            EMPTY_ROOT.as_slice()
        );
        assert_eq!(root_from_leaf_hashes(&[]), EMPTY_ROOT);
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        let cases = [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
        ];
        for (n, k) in cases {
            assert_eq!(largest_power_of_two_below(n), k, "n = {n}");
        }
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }

    #[test]
    fn three_leaf_root_follows_the_rfc_split() {
        let l: Vec<Hash> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
        let expected = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
        assert_eq!(root_from_leaf_hashes(&l), expected);
    }

    #[test]
    fn hash_from_slice_wants_exactly_32_bytes() {
        assert_eq!(hash_from_slice(&[7; 32]), Ok([7; 32]));
        assert_eq!(
            hash_from_slice(&[7; 31]),
            Err(MerkleError::InvalidHashLength(31))
        );
        assert_eq!(hash_from_slice(&[]), Err(MerkleError::InvalidHashLength(0)));
    }
}
