//! static-ct-api data tiles: round trips of TileLeafs and whole tiles with real certificates,
//! agreement with the level-0 hashes, and every malformed tile refused.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::{
    CtError, PreCert, SignedEntry, TimestampedEntry,
    leaf_index::{decode_leaf_index_extension, encode_leaf_index_extension},
    merkle::{leaf_hash, root_from_leaf_hashes},
    tile_leaf::{TileLeaf, decode_data_tile, encode_data_tile},
};

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/testdata/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .try_into()
        .unwrap()
}

/// Entry `index` alternates between a final certificate and a precertificate.
fn leaf(index: u64) -> TileLeaf {
    let ca = vector("ca.der");
    let extensions = encode_leaf_index_extension(index).unwrap().to_vec();
    if index.is_multiple_of(2) {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1_700_000_000_000 + index,
                entry: SignedEntry::X509(vector("cert.der")),
                extensions,
            },
            pre_certificate: None,
            certificate_chain: vec![sha256(&ca)],
        }
    } else {
        TileLeaf {
            timestamped_entry: TimestampedEntry {
                timestamp: 1_700_000_000_000 + index,
                entry: SignedEntry::Precert(PreCert {
                    issuer_key_hash: sha256(b"issuer spki"),
                    tbs_certificate: vector("precert_tbs.der"),
                }),
                extensions,
            },
            pre_certificate: Some(vector("precert.der")),
            certificate_chain: vec![sha256(&ca), sha256(b"root")],
        }
    }
}

#[test]
fn a_full_data_tile_round_trips_and_matches_its_hashes() {
    let leaves: Vec<TileLeaf> = (512..768).map(leaf).collect();
    let tile = encode_data_tile(&leaves).unwrap();
    let decoded = decode_data_tile(&tile, 256).unwrap();
    assert_eq!(decoded, leaves);
    for (i, leaf) in decoded.iter().enumerate() {
        assert_eq!(leaf.leaf_index().unwrap(), 512 + i as u64);
        // The leaf hash is the hash of the RFC 6962 MerkleTreeLeaf, as get-entries serves it.
        let leaf_input = leaf.merkle_tree_leaf().to_bytes().unwrap();
        assert_eq!(leaf.leaf_hash().unwrap(), leaf_hash(&leaf_input));
    }
    let hashes: Vec<_> = decoded.iter().map(|l| l.leaf_hash().unwrap()).collect();
    assert_ne!(root_from_leaf_hashes(&hashes), root_from_leaf_hashes(&[]));
    assert!(decode_data_tile(&tile, 255).is_err());
}

#[test]
fn partial_tiles_round_trip_at_every_small_width() {
    for width in 1..=5u16 {
        let leaves: Vec<TileLeaf> = (0..u64::from(width)).map(leaf).collect();
        let tile = encode_data_tile(&leaves).unwrap();
        assert_eq!(decode_data_tile(&tile, width).unwrap(), leaves);
        for wrong in [width - 1, width + 1] {
            assert!(
                decode_data_tile(&tile, wrong).is_err(),
                "{width} as {wrong}"
            );
        }
    }
}

#[test]
fn entry_counts_outside_one_to_256_are_refused() {
    assert!(matches!(
        encode_data_tile(&[]),
        Err(CtError::DataTileEntryCount { .. })
    ));
    let too_many: Vec<TileLeaf> = (0..257).map(leaf).collect();
    assert!(matches!(
        encode_data_tile(&too_many),
        Err(CtError::DataTileEntryCount { actual: 257, .. })
    ));
    assert!(decode_data_tile(&[], 0).is_err());
    assert!(decode_data_tile(&[], 1).is_err());
    assert!(decode_data_tile(&[], 257).is_err());
}

#[test]
fn malformed_data_tiles_are_refused() {
    let leaves = [leaf(0), leaf(1)];
    let tile = encode_data_tile(&leaves).unwrap();
    // Every truncation.
    for len in 0..tile.len() {
        assert!(decode_data_tile(&tile[..len], 2).is_err(), "prefix {len}");
    }
    // A trailing byte.
    let mut padded = tile.clone();
    padded.push(0);
    assert!(matches!(
        decode_data_tile(&padded, 2),
        Err(CtError::TrailingBytes { .. })
    ));

    // A chain length that is not a multiple of 32.
    let x509 = leaf(0);
    let mut bytes = x509.to_bytes().unwrap();
    let chain_len_at = bytes.len() - 32 - 2;
    bytes[chain_len_at + 1] = 31;
    bytes.pop();
    assert!(matches!(
        TileLeaf::from_bytes(&bytes),
        Err(CtError::InvalidTileLeaf(_))
    ));

    // A precert whose pre_certificate is empty.
    let entry = leaf(1).timestamped_entry.to_bytes().unwrap();
    let mut bytes = entry.clone();
    bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
    assert!(matches!(
        TileLeaf::from_bytes(&bytes),
        Err(CtError::InvalidTileLeaf(_))
    ));

    // An unknown entry type (2).
    let mut bytes = x509.to_bytes().unwrap();
    bytes[9] = 2;
    assert!(matches!(
        TileLeaf::from_bytes(&bytes),
        Err(CtError::UnknownValue { value: 2, .. })
    ));
}

#[test]
fn leaf_index_extension_of_a_tile_leaf() {
    let mut l = leaf(4);
    assert_eq!(l.leaf_index().unwrap(), 4);
    assert_eq!(
        decode_leaf_index_extension(&l.timestamped_entry.extensions).unwrap(),
        4
    );
    l.timestamped_entry.extensions = vec![];
    assert!(matches!(
        l.leaf_index(),
        Err(CtError::MalformedLeafIndexExtension(_))
    ));
}
