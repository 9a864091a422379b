//! Tiles (c2sp.org/tlog-tiles, static-ct-api): the spec's 70,000-entry example, path encoding
//! and strict parsing, and a simulated tile store that serves roots and proofs.
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{cell::RefCell, collections::HashMap, convert::Infallible};

use ct_core::{
    merkle::{
        AppendedHashes, Hash, leaf_hash, prove_record, prove_tree, root_from_leaf_hashes,
        stored_hash_count, stored_hashes_for_batch, tree_hash, verify_consistency,
        verify_inclusion,
    },
    tile::{
        FULL_TILE_WIDTH, Tile, TileError, TileHashReader, TilePath, TileReader, new_tiles,
        tile_data, tiles_for_size,
    },
};
use proptest::prelude::*;

#[test]
fn seventy_thousand_entries() {
    let levels = tiles_for_size(70_000).unwrap();
    assert_eq!(levels.len(), 3);
    assert_eq!(levels[0].full, 273);
    assert_eq!(levels[0].partial, Some(Tile::new(0, 273, 112).unwrap()));
    assert_eq!(levels[1].full, 1);
    assert_eq!(levels[1].partial, Some(Tile::new(1, 1, 17).unwrap()));
    assert_eq!(levels[2].full, 0);
    assert_eq!(levels[2].partial, Some(Tile::new(2, 0, 1).unwrap()));
    let all: Vec<Tile> = levels.iter().flat_map(|l| l.tiles()).collect();
    assert_eq!(all.len(), 273 + 1 + 1 + 1 + 1);
    assert_eq!(all[272].path(), "tile/0/272");
    assert_eq!(all[273].path(), "tile/0/273.p/112");
    assert_eq!(all[274].path(), "tile/1/000");
    assert_eq!(all[275].path(), "tile/1/001.p/17");
    assert_eq!(all[276].path(), "tile/2/000.p/1");
    // Growing from empty writes exactly the tiles of the tree.
    assert_eq!(new_tiles(0, 70_000).unwrap().collect::<Vec<_>>(), all);
}

#[test]
fn non_canonical_and_malformed_paths_are_rejected() {
    let bad = [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "/tile/0/000",
        "tile/0/000/",
        "tile/00/000",
        "tile/6/000",
        "tile/a/000",
        "tile/-1/000",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/x000/001",
        "tile/0/001/000",
        "tile/0/x1/000",
        "tile/0/x001",
        "tile/0/xx01/000",
        "tile/0/X001/000",
        "tile/0/x001//000",
        "tile/0/000.p/0",
        "tile/0/000.p/00",
        "tile/0/000.p/07",
        "tile/0/000.p/256",
        "tile/0/000.p/1000",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/1/",
        "tile/0/000.p/1.p/2",
        "tile/0/000.p/+1",
        "tile/0/+00",
        "tile/0/ 00",
        "tile/0/000 ",
        "tile/data/",
        "tile/data/00",
        "tile/Data/000",
        "tile/entries/000",
        "tile/data/x000/000",
        // Index beyond any 2^40-entry tree, or overflowing u64.
        "tile/0/x004/x294/x967/296",
        "tile/5/001",
        "tile/5/000.p/2",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "tile/0/٣٣٣",
    ];
    for path in bad {
        assert!(TilePath::parse(path).is_err(), "accepted {path:?}");
    }
    assert!(matches!(
        TilePath::parse("tile/6/000"),
        Err(TileError::LevelTooHigh(6))
    ));
}

#[test]
fn good_paths_parse() {
    let t = |l, n, w| Tile::new(l, n, w).unwrap();
    let cases = [
        ("tile/0/000", TilePath::Hash(t(0, 0, 256))),
        ("tile/0/000.p/1", TilePath::Hash(t(0, 0, 1))),
        ("tile/0/x001/x234/067", TilePath::Hash(t(0, 1_234_067, 256))),
        ("tile/1/x001/000.p/255", TilePath::Hash(t(1, 1000, 255))),
        ("tile/5/000.p/1", TilePath::Hash(t(5, 0, 1))),
        (
            "tile/data/x001/x234/067",
            TilePath::Data(t(0, 1_234_067, 256)),
        ),
        ("tile/data/273.p/112", TilePath::Data(t(0, 273, 112))),
        // The last level-0 tile of a 2^40-entry log.
        (
            "tile/0/x004/x294/x967/295",
            TilePath::Hash(t(0, (1 << 32) - 1, 256)),
        ),
    ];
    for (path, want) in cases {
        assert_eq!(TilePath::parse(path).unwrap(), want, "{path}");
        assert_eq!(want.to_string(), path);
    }
}

fn arb_tile() -> impl Strategy<Value = Tile> {
    (0u8..=5, any::<u64>(), 1u16..=256).prop_filter_map("tile must exist", |(l, n, w)| {
        // Scale n into the level's range so most draws are valid tiles.
        let max_n = ((1u64 << 40) - 1) >> (8 * (u32::from(l) + 1));
        Tile::new(l, n % (max_n + 1), w).ok()
    })
}

proptest! {
    #[test]
    fn tile_paths_round_trip(tile in arb_tile()) {
        let path = tile.path();
        prop_assert_eq!(TilePath::parse(&path).unwrap(), TilePath::Hash(tile));
        if let Some(data) = tile.data_path() {
            prop_assert_eq!(TilePath::parse(&data).unwrap(), TilePath::Data(tile));
        }
    }

    #[test]
    fn tile_path_parser_never_panics(path in "tile/[0-9a-z./]{0,40}") {
        if let Ok(parsed) = TilePath::parse(&path) {
            prop_assert_eq!(parsed.to_string(), path);
        }
    }

    #[test]
    fn new_tiles_cover_exactly_the_changed_region(a in 0u64..5000, grow in 0u64..5000) {
        let b = a + grow;
        let changed: Vec<Tile> = new_tiles(a, b).unwrap().collect();
        let before: HashMap<(u8, u64), u16> = tiles_for_size(a).unwrap().iter()
            .flat_map(|l| l.tiles()).map(|t| ((t.level(), t.n()), t.width())).collect();
        let after: Vec<Tile> = tiles_for_size(b).unwrap().iter().flat_map(|l| l.tiles()).collect();
        let expected: Vec<Tile> = after.into_iter()
            .filter(|t| before.get(&(t.level(), t.n())) != Some(&t.width()))
            .collect();
        prop_assert_eq!(changed, expected);
    }
}

/// A tile store in memory, keyed by path like a file system or bucket would be.
#[derive(Default)]
struct MemoryTiles {
    files: RefCell<HashMap<String, Vec<u8>>>,
    reads: RefCell<usize>,
}

impl TileReader for &MemoryTiles {
    type Error = Infallible;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Infallible> {
        *self.reads.borrow_mut() += 1;
        Ok(tiles
            .iter()
            .map(|t| {
                self.files
                    .borrow()
                    .get(&t.path())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect())
    }
}

/// Sequencer-style growth: each batch computes its stored hashes against the tiles written so
/// far, writes every changed tile, and the tiles then serve roots and proofs.
#[test]
fn a_tile_store_serves_roots_and_proofs() {
    let store = MemoryTiles::default();
    let leaves: Vec<Hash> = (0u32..1300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let batches = [0usize, 1, 2, 255, 256, 257, 700, 1000, 1024, 1300];
    let mut checkpoints = Vec::new();
    for pair in batches.windows(2) {
        let (old, new) = (pair[0] as u64, pair[1] as u64);
        let stored = TileHashReader::new(old, &store);
        let added = stored_hashes_for_batch(old, &leaves[pair[0]..pair[1]], &stored).unwrap();
        assert_eq!(
            added.len() as u64,
            stored_hash_count(new).unwrap() - stored_hash_count(old).unwrap()
        );
        let overlay = AppendedHashes::new(old, &added, &stored).unwrap();
        for tile in new_tiles(old, new).unwrap() {
            let data = tile_data(&tile, &overlay).unwrap();
            assert_eq!(data.len(), usize::from(tile.width()) * 32);
            store.files.borrow_mut().insert(tile.path(), data);
        }
        let root = tree_hash(new, &overlay).unwrap();
        assert_eq!(root, root_from_leaf_hashes(&leaves[..pair[1]]));
        checkpoints.push((new, root));
    }

    let size = 1300u64;
    let reader = TileHashReader::new(size, &store);
    for &(n, root) in &checkpoints {
        *store.reads.borrow_mut() = 0;
        assert_eq!(tree_hash(n, &reader).unwrap(), root);
        // One tile read per computation, however many tiles it touches.
        assert_eq!(*store.reads.borrow(), 1);
        for index in [0, n / 2, n - 1] {
            let proof = prove_record(n, index, &reader).unwrap();
            verify_inclusion(index, n, &leaves[index as usize], &proof, &root).unwrap();
        }
        let (_, latest) = checkpoints.last().unwrap();
        let proof = prove_tree(size, n, &reader).unwrap();
        verify_consistency(n, size, &root, latest, &proof).unwrap();
    }
    // Every full tile is written at width 256 exactly once it is complete.
    assert!(store.files.borrow().contains_key("tile/0/004"));
    assert!(store.files.borrow().contains_key("tile/0/005.p/20"));
    assert!(store.files.borrow().contains_key("tile/1/000.p/5"));
    assert_eq!(
        store.files.borrow()["tile/0/000"].len(),
        usize::from(FULL_TILE_WIDTH) * 32
    );
}

#[test]
fn a_tile_reader_with_missing_or_short_tiles_fails_cleanly() {
    let store = MemoryTiles::default();
    let reader = TileHashReader::new(10, &store);
    // Nothing written: the tile read returns empty contents.
    assert!(tree_hash(10, &reader).is_err());
    // Asking beyond the reader's tree size is refused before any read.
    assert!(prove_record(20, 15, &reader).is_err());
}
