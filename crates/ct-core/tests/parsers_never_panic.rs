//! Property tests: the decoders and math of the log's read path never panic, whatever the
//! bytes, paths or numbers a client or a corrupted store hands them; and what they accept
//! re-encodes to the same bytes.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ct_core::{
    LogSigningKey,
    checkpoint::{Checkpoint, sth_from_checkpoint, verify_checkpoint},
    leaf_index::decode_leaf_index_extension,
    merkle::{
        Hash, leaf_hash, prove_record, prove_tree, split_stored_hash_index, stored_hash_count,
        stored_hash_index, stored_hashes, tree_hash, verify_consistency, verify_inclusion,
    },
    note::Note,
    sth::{GetSthResponse, SignedTreeHead},
    tile::{Tile, TilePath, hash_from_tile, new_tiles, tiles_for_size},
    tile_leaf::{TileLeaf, decode_data_tile, encode_data_tile},
};
use proptest::prelude::*;

const ORIGIN: &str = "ct.example.com/log";

fn small_store() -> Vec<Hash> {
    let mut stored = Vec::new();
    for i in 0u64..20 {
        stored.extend(stored_hashes(i, &leaf_hash(&i.to_be_bytes()), &stored).unwrap());
    }
    stored
}

/// Notes that are mostly well-formed, so parsing gets past the first check.
fn arb_note_text() -> impl Strategy<Value = String> {
    (
        "[a-z./]{0,12}",
        "[0-9]{0,21}",
        "[A-Za-z0-9+/=]{0,48}",
        prop::collection::vec("[ -~\u{2014}\u{a0}\n]{0,30}", 0..4),
    )
        .prop_map(|(origin, size, root, sigs)| {
            let mut note = format!("{origin}\n{size}\n{root}\n\n");
            for sig in sigs {
                note.push_str("\u{2014} ");
                note.push_str(&sig);
                note.push('\n');
            }
            note
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn byte_decoders_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        width in any::<u16>(),
    ) {
        let _ = decode_data_tile(&bytes, width);
        if let Ok(leaf) = TileLeaf::from_bytes(&bytes) {
            prop_assert_eq!(leaf.to_bytes().unwrap(), bytes.clone());
        }
        let _ = decode_leaf_index_extension(&bytes);
        if let Ok(note) = Note::parse(&bytes) {
            prop_assert_eq!(note.encode().unwrap().into_bytes(), bytes.clone());
        }
        let _ = sth_from_checkpoint(&bytes, ORIGIN, &[0; 32]);
    }

    #[test]
    fn data_tiles_of_valid_leaves_with_garbage_never_panic(
        extra in prop::collection::vec(any::<u8>(), 0..64),
        cut in any::<prop::sample::Index>(),
    ) {
        // Timestamp 1, x509 entry with a 1-byte certificate, a leaf_index extension, no chain.
        let leaf = TileLeaf::from_bytes(&[
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x30, 0, 8, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0,
        ])
        .unwrap();
        let mut tile = encode_data_tile(&[leaf.clone(), leaf]).unwrap();
        tile.truncate(cut.index(tile.len() + 1));
        tile.extend_from_slice(&extra);
        let _ = decode_data_tile(&tile, 2);
    }

    #[test]
    fn note_and_checkpoint_parsers_never_panic(note in arb_note_text()) {
        if let Ok(parsed) = Note::parse(note.as_bytes()) {
            prop_assert_eq!(parsed.encode().unwrap(), note.clone());
            if let Ok(body) = Checkpoint::parse_text(&parsed.text) {
                prop_assert_eq!(body.to_text().unwrap(), parsed.text);
            }
        }
        let key = LogSigningKey::generate_p256().unwrap();
        let _ = verify_checkpoint(note.as_bytes(), ORIGIN, key.public_key());
    }

    #[test]
    fn get_sth_decoding_never_panics(
        root in "[A-Za-z0-9+/=]{0,60}",
        sig in "[A-Za-z0-9+/=]{0,120}",
        tree_size in any::<u64>(),
        timestamp in any::<u64>(),
    ) {
        let resp = GetSthResponse {
            tree_size,
            timestamp,
            sha256_root_hash: root,
            tree_head_signature: sig,
        };
        let _ = SignedTreeHead::try_from(&resp);
    }

    #[test]
    fn tile_paths_never_panic(path in "\\PC{0,60}") {
        if let Ok(parsed) = TilePath::parse(&path) {
            prop_assert_eq!(parsed.to_string(), path);
        }
    }

    #[test]
    fn tile_math_never_panics(
        a in any::<u64>(),
        b in any::<u64>(),
        level in any::<u8>(),
        width in any::<u16>(),
        data in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let _ = tiles_for_size(a);
        if let Ok(tiles) = new_tiles(a % (1 << 41), b % (1 << 41)) {
            prop_assert!(tiles.take(600).count() <= 600);
        }
        let _ = Tile::at_tree_size(level, a, b);
        let _ = Tile::for_stored_hash(a);
        if let Ok(tile) = Tile::new(level, a, width) {
            let _ = hash_from_tile(&tile, &data, b);
            prop_assert!(TilePath::parse(&tile.path()).is_ok());
        }
    }

    #[test]
    fn merkle_math_never_panics(
        a in any::<u64>(),
        b in any::<u64>(),
        level in any::<u8>(),
        proof_len in 0usize..70,
    ) {
        let _ = stored_hash_index(level, a);
        let _ = split_stored_hash_index(a);
        let _ = stored_hash_count(a);
        let proof = vec![[7u8; 32]; proof_len];
        let _ = verify_inclusion(a, b, &[1; 32], &proof, &[2; 32]);
        let _ = verify_consistency(a, b, &[1; 32], &[2; 32], &proof);
        let store = small_store();
        let _ = tree_hash(a, &store);
        let _ = prove_record(a, b, &store);
        let _ = prove_tree(a, b, &store);
        let _ = prove_record(a % 64, b % 64, &store);
        let _ = prove_tree(a % 64, b % 64, &store);
    }
}
