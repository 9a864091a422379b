//! Known answers for RFC 6962 hashing, from transparency-dev/merkle (`testonly/constants.go` and
//! `rfc6962/rfc6962_test.go` at commit 417fb0c): the 8-leaf reference tree's leaf, node and root
//! hashes, the empty root and the hash of a named leaf.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::merkle::{
    EMPTY_ROOT, Hash, leaf_hash, node_hash, prove_record, prove_tree, root_from_leaf_hashes,
    stored_hashes, tree_hash, verify_consistency, verify_inclusion,
};

fn h(hex: &str) -> Hash {
    hex::decode(hex).unwrap().try_into().unwrap()
}

/// The reference tree's leaves.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Leaf hashes (level 0) and complete subtree hashes of levels 1-3.
const NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// Roots of the trees of sizes 0 through 8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn leaf_hashes() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

#[test]
fn empty_root_and_named_leaf() {
    assert_eq!(EMPTY_ROOT, h(ROOTS[0]));
    assert_eq!(
        leaf_hash(b""),
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(
        leaf_hash(b"L123456"),
        h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
}

#[test]
fn every_node_of_the_reference_tree() {
    let mut level: Vec<Hash> = leaf_hashes();
    for (depth, expected) in NODES.iter().enumerate() {
        let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
        assert_eq!(level, expected, "level {depth}");
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
}

#[test]
fn roots_for_sizes_zero_to_eight() {
    let leaves = leaf_hashes();
    let mut stored = Vec::new();
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(
            root_from_leaf_hashes(&leaves[..size]),
            h(root),
            "size {size}"
        );
        assert_eq!(
            tree_hash(size as u64, &stored).unwrap(),
            h(root),
            "size {size} from stored hashes"
        );
        if let Some(leaf) = leaves.get(size) {
            stored.extend(stored_hashes(size as u64, leaf, &stored).unwrap());
        }
    }
}

#[test]
fn rfc6962_example_proofs_from_stored_hashes() {
    let leaves = leaf_hashes();
    let mut stored = Vec::new();
    for (i, leaf) in leaves.iter().enumerate().take(7) {
        stored.extend(stored_hashes(i as u64, leaf, &stored).unwrap());
    }
    let root7 = h(ROOTS[7]);
    // The names of RFC 6962 §2.1.3's 7-leaf tree: a..f are leaves d0..d5, j is d6;
    // g = (a, b), h = (c, d), i = (e, f), k = (g, h), l = (i, j).
    let n = |level: usize, i: usize| h(NODES[level][i]);
    let (b, c, d) = (n(0, 1), n(0, 2), n(0, 3));
    let (g, h_, i, j) = (n(1, 0), n(1, 1), n(1, 2), n(0, 6));
    let k = n(2, 0);
    let l = node_hash(&i, &j);
    assert_eq!(node_hash(&k, &l), root7);

    // Audit paths: d0 -> [b, h, l], d3 -> [c, g, l], d6 -> [i, k].
    for (index, path) in [(0, vec![b, h_, l]), (3, vec![c, g, l]), (6, vec![i, k])] {
        assert_eq!(prove_record(7, index, &stored).unwrap(), path, "d{index}");
        verify_inclusion(index, 7, &leaves[index as usize], &path, &root7).unwrap();
    }
    // Consistency: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l],
    // PROOF(6, D[7]) = [i, j, k].
    for (size1, path) in [(3, vec![c, d, g, l]), (4, vec![l]), (6, vec![i, j, k])] {
        assert_eq!(prove_tree(7, size1, &stored).unwrap(), path, "from {size1}");
        verify_consistency(size1, 7, &h(ROOTS[size1 as usize]), &root7, &path).unwrap();
    }
}
