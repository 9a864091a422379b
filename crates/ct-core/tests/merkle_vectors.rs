//! The transparency-dev/merkle proof vectors (shared/testdata/merkle, see its README): every
//! happy path must verify and every mutated case (`wantErr`) must be refused.
//!
//! The vectors come from a byte-slice API, so some mutations use values that are not 32 bytes
//! (garbage proof elements, "WrongLeaf"). Our API takes typed 32-byte hashes: a leaf hash or
//! proof element of another length is refused by [`hash_from_slice`] before verification, and
//! that refusal is this API's rejection of the case. Roots are only ever compared, so a root of
//! another length (the vectors' placeholder roots) gets a 32-byte stand-in that keeps equal
//! values equal and distinct ones distinct; one happy path needs that (equal sizes, equal
//! 12-byte placeholder roots).
// Helpers outside #[test] functions count as non-test code for clippy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::merkle::{
    Hash, MerkleError, hash_from_slice, leaf_hash, verify_consistency, verify_inclusion,
};
use serde::Deserialize;

fn vectors_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/merkle"
    ))
    .to_path_buf()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

/// A root: only compared, so a value that is not 32 bytes gets a stand-in (a hash of it).
fn root_of(b64: &str) -> Hash {
    let bytes = BASE64.decode(b64).unwrap();
    hash_from_slice(&bytes).unwrap_or_else(|_| {
        let mut tagged = b"not a 32-byte root: ".to_vec();
        tagged.extend_from_slice(&bytes);
        leaf_hash(&tagged)
    })
}

/// A leaf hash or proof element, through the typed API's decoding.
fn hash_of(b64: &str) -> Result<Hash, MerkleError> {
    hash_from_slice(&BASE64.decode(b64).unwrap())
}

fn proof_of(proof: &Option<Vec<String>>) -> Result<Vec<Hash>, MerkleError> {
    proof.iter().flatten().map(|p| hash_of(p)).collect()
}

#[derive(Default, Debug)]
struct Tally {
    accepted: usize,
    rejected: usize,
    refused_at_decoding: usize,
}

fn check(
    path: &Path,
    desc: &str,
    want_err: bool,
    result: Result<(), impl std::fmt::Debug>,
    tally: &mut Tally,
) {
    match (want_err, result) {
        (false, Ok(())) => tally.accepted += 1,
        (true, Err(_)) => tally.rejected += 1,
        (false, Err(e)) => panic!("{} ({desc}): valid proof refused: {e:?}", path.display()),
        (true, Ok(())) => panic!("{} ({desc}): invalid proof accepted", path.display()),
    }
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("inclusion"), &mut files);
    assert_eq!(files.len(), 98, "inclusion vector count changed");
    let mut tally = Tally::default();
    for path in &files {
        let case: InclusionCase = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let root = root_of(&case.root);
        let result = hash_of(&case.leaf_hash).and_then(|leaf| {
            let proof = proof_of(&case.proof)?;
            verify_inclusion(case.leaf_idx, case.tree_size, &leaf, &proof, &root)
        });
        if matches!(result, Err(MerkleError::InvalidHashLength(_))) {
            tally.refused_at_decoding += 1;
        }
        check(path, &case.desc, case.want_err, result, &mut tally);
    }
    println!("inclusion vectors: {} files, {tally:?}", files.len());
    assert_eq!(tally.accepted + tally.rejected, files.len());
    assert!(tally.accepted >= 5, "happy paths missing: {tally:?}");
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("consistency"), &mut files);
    assert_eq!(files.len(), 98, "consistency vector count changed");
    let mut tally = Tally::default();
    for path in &files {
        let case: ConsistencyCase = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let (root1, root2) = (root_of(&case.root1), root_of(&case.root2));
        let result = proof_of(&case.proof)
            .and_then(|proof| verify_consistency(case.size1, case.size2, &root1, &root2, &proof));
        if matches!(result, Err(MerkleError::InvalidHashLength(_))) {
            tally.refused_at_decoding += 1;
        }
        check(path, &case.desc, case.want_err, result, &mut tally);
    }
    println!("consistency vectors: {} files, {tally:?}", files.len());
    assert_eq!(tally.accepted + tally.rejected, files.len());
    assert!(tally.accepted >= 5, "happy paths missing: {tally:?}");
}
