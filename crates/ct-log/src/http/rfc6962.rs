//! The RFC 6962 §4 read endpoints, answered from the published checkpoint and tiles, so they
//! describe exactly the tree that static-ct-api readers see. Parameter names and JSON fields
//! are RFC 6962's (and ct-go's `types.go`).

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    merkle::{Hash, prove_record, prove_tree},
    sth::GetSthResponse,
    tile::{FULL_TILE_WIDTH, Tile},
    tile_leaf::TileLeaf,
    tls::{LengthPrefix, write_opaque},
};
use serde::{Deserialize, Serialize};

use super::{
    ApiError, MAX_GET_ENTRIES, ReadState,
    tiles::{fetch_data_tile, fetch_issuer, with_tree_hashes},
};

/// RFC 6962 answers change with every checkpoint; let caches keep them only briefly.
const SHORT_CACHE: &str = "public, max-age=5";

type Params = Query<HashMap<String, String>>;

fn json<T: Serialize>(value: &T) -> Response {
    let mut response = Json(value).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT_CACHE));
    response
}

/// A required decimal parameter. Only ASCII digits are accepted (no sign, no spaces), so a
/// value means one number.
fn param_u64(params: &HashMap<String, String>, name: &str) -> Result<u64, ApiError> {
    let text = params
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("missing parameter {name:?}")))?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "parameter {name:?} is not a non-negative decimal integer: {text:?}"
        )));
    }
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("parameter {name:?} is out of range: {text:?}")))
}

/// `tree_size` must name a tree the log has published: larger ones have no root yet.
fn check_tree_size(tree_size: u64, current: u64) -> Result<(), ApiError> {
    if tree_size > current {
        return Err(ApiError::bad_request(format!(
            "tree_size {tree_size} is larger than the current tree ({current} entries)"
        )));
    }
    Ok(())
}

fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| BASE64.encode(h)).collect()
}

/// `GET /ct/v1/get-sth` (RFC 6962 §4.3): the published checkpoint's signed tree head. The
/// checkpoint's RFC 6962 note signature is the `tree_head_signature` (static-ct-api
/// "Checkpoints"), so no signing happens here.
pub(super) async fn get_sth(State(read): State<Arc<ReadState>>) -> Result<Response, ApiError> {
    let published = read.published().await?;
    let body = GetSthResponse::try_from(&published.sth)
        .map_err(|e| ApiError::internal(format!("encoding get-sth: {e}")))?;
    Ok(json(&body))
}

/// The `get-sth-consistency` answer (RFC 6962 §4.4).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ConsistencyResponse {
    consistency: Vec<String>,
}

/// `GET /ct/v1/get-sth-consistency?first=&second=` (RFC 6962 §4.4). `first` = 0 or
/// `first` = `second` give an empty proof (nothing to prove; ct-go answers the same);
/// `first` > `second` and `second` beyond the published tree are 400s.
pub(super) async fn get_sth_consistency(
    State(read): State<Arc<ReadState>>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let first = param_u64(&params, "first")?;
    let second = param_u64(&params, "second")?;
    if first > second {
        return Err(ApiError::bad_request(format!(
            "first ({first}) is larger than second ({second})"
        )));
    }
    let current = read.published().await?.sth.tree_head.tree_size;
    check_tree_size(second, current)?;
    let proof = if first == 0 || first == second {
        Vec::new()
    } else {
        with_tree_hashes(&read, current, |reader| prove_tree(second, first, reader)).await?
    };
    Ok(json(&ConsistencyResponse {
        consistency: encode_hashes(&proof),
    }))
}

/// The `get-proof-by-hash` answer (RFC 6962 §4.5).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ProofByHashResponse {
    leaf_index: u64,
    audit_path: Vec<String>,
}

/// `GET /ct/v1/get-proof-by-hash?hash=&tree_size=` (RFC 6962 §4.5).
///
/// The leaf hash is looked up in the dedup index, which the sequencer fills with every entry's
/// leaf hash once its checkpoint is swapped in. The index is trusted state but may lag or lose
/// entries (it is loss-tolerant), so the answer is checked against the data tile: the entry at
/// that index must hash to `hash`. A hash not found, or whose entry is not in the tree of
/// `tree_size`, is a 404.
pub(super) async fn get_proof_by_hash(
    State(read): State<Arc<ReadState>>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let hash_text = params
        .get("hash")
        .ok_or_else(|| ApiError::bad_request("missing parameter \"hash\""))?;
    // A '+' in an unescaped query string arrives as a space; space is never base64, so
    // restoring it only rescues clients that forgot to escape.
    let hash_bytes = BASE64
        .decode(hash_text.replace(' ', "+"))
        .map_err(|e| ApiError::bad_request(format!("parameter \"hash\" is not base64: {e}")))?;
    let hash: Hash = hash_bytes.as_slice().try_into().map_err(|_| {
        ApiError::bad_request(format!(
            "parameter \"hash\" is {} bytes, not a 32-byte SHA-256 leaf hash",
            hash_bytes.len()
        ))
    })?;
    let tree_size = param_u64(&params, "tree_size")?;
    if tree_size == 0 {
        return Err(ApiError::bad_request(
            "tree_size 0 has no leaves to prove inclusion in",
        ));
    }
    let current = read.published().await?.sth.tree_head.tree_size;
    check_tree_size(tree_size, current)?;
    let not_found = || {
        ApiError::not_found(format!(
            "no entry with leaf hash {hash_text} in the tree of size {tree_size}"
        ))
    };
    let found = read
        .state
        .get_dedup(&hash)
        .await
        .map_err(|e| ApiError::internal(format!("dedup index lookup: {e}")))?
        .ok_or_else(not_found)?;
    let index = found.leaf_index;
    if index >= tree_size {
        return Err(not_found());
    }
    let leaf = read_entry(&read, index, current).await?;
    let actual = leaf
        .leaf_hash()
        .map_err(|e| ApiError::internal(format!("hashing entry {index}: {e}")))?;
    if actual != hash {
        // The index named another entry (a stale or foreign record): not this hash's proof.
        return Err(not_found());
    }
    let proof = with_tree_hashes(&read, current, |reader| {
        prove_record(tree_size, index, reader)
    })
    .await?;
    Ok(json(&ProofByHashResponse {
        leaf_index: index,
        audit_path: encode_hashes(&proof),
    }))
}

/// One `get-entries` entry (RFC 6962 §4.6).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LeafEntry {
    leaf_input: String,
    extra_data: String,
}

/// The `get-entries` answer (RFC 6962 §4.6).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct EntriesResponse {
    entries: Vec<LeafEntry>,
}

/// `GET /ct/v1/get-entries?start=&end=` (RFC 6962 §4.6; `end` inclusive).
///
/// `start` > `end` and `start` beyond the published tree are 400s; `end` beyond it is clamped.
/// The answer stops at the end of `start`'s data tile and after [`MAX_GET_ENTRIES`] entries
/// ("the log may return fewer"), so each call reads one data tile; clients page on.
pub(super) async fn get_entries(
    State(read): State<Arc<ReadState>>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let start = param_u64(&params, "start")?;
    let end = param_u64(&params, "end")?;
    if start > end {
        return Err(ApiError::bad_request(format!(
            "start ({start}) is larger than end ({end})"
        )));
    }
    let current = read.published().await?.sth.tree_head.tree_size;
    if start >= current {
        return Err(ApiError::bad_request(format!(
            "start ({start}) is not below the current tree size ({current})"
        )));
    }
    let tile_end = (start / u64::from(FULL_TILE_WIDTH) + 1) * u64::from(FULL_TILE_WIDTH);
    let last = end
        .min(current - 1)
        .min(tile_end - 1)
        .min(start + MAX_GET_ENTRIES - 1);
    let leaves = read_tile_of(&read, start, current).await?;
    let first_in_tile = start % u64::from(FULL_TILE_WIDTH);
    let count = last - start + 1;
    let mut issuers = IssuerCache::default();
    let mut entries = Vec::new();
    for offset in first_in_tile..first_in_tile + count {
        let leaf = usize::try_from(offset)
            .ok()
            .and_then(|i| leaves.get(i))
            .ok_or_else(|| ApiError::internal(format!("data tile lacks entry {offset}")))?;
        entries.push(leaf_entry(&read, leaf, &mut issuers).await?);
    }
    Ok(json(&EntriesResponse { entries }))
}

/// The `get-entry-and-proof` answer (RFC 6962 §4.8).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct EntryAndProofResponse {
    leaf_input: String,
    extra_data: String,
    audit_path: Vec<String>,
}

/// `GET /ct/v1/get-entry-and-proof?leaf_index=&tree_size=` (RFC 6962 §4.8): `leaf_index` must
/// be below `tree_size`, which must not exceed the published tree.
pub(super) async fn get_entry_and_proof(
    State(read): State<Arc<ReadState>>,
    Query(params): Params,
) -> Result<Response, ApiError> {
    let index = param_u64(&params, "leaf_index")?;
    let tree_size = param_u64(&params, "tree_size")?;
    if index >= tree_size {
        return Err(ApiError::bad_request(format!(
            "leaf_index ({index}) is not below tree_size ({tree_size})"
        )));
    }
    let current = read.published().await?.sth.tree_head.tree_size;
    check_tree_size(tree_size, current)?;
    let leaf = read_entry(&read, index, current).await?;
    let entry = leaf_entry(&read, &leaf, &mut IssuerCache::default()).await?;
    let proof = with_tree_hashes(&read, current, |reader| {
        prove_record(tree_size, index, reader)
    })
    .await?;
    Ok(json(&EntryAndProofResponse {
        leaf_input: entry.leaf_input,
        extra_data: entry.extra_data,
        audit_path: encode_hashes(&proof),
    }))
}

/// The entries of the data tile holding `index`, as wide as the tree of `current` leaves.
async fn read_tile_of(
    read: &ReadState,
    index: u64,
    current: u64,
) -> Result<Vec<TileLeaf>, ApiError> {
    let n = index / u64::from(FULL_TILE_WIDTH);
    let tile = Tile::at_tree_size(0, n, current)
        .map_err(|e| ApiError::internal(format!("data tile of entry {index}: {e}")))?
        .ok_or_else(|| ApiError::internal(format!("entry {index} is beyond tree {current}")))?;
    fetch_data_tile(read, tile).await
}

/// Entry `index` of the tree of `current` leaves.
async fn read_entry(read: &ReadState, index: u64, current: u64) -> Result<TileLeaf, ApiError> {
    let leaves = read_tile_of(read, index, current).await?;
    usize::try_from(index % u64::from(FULL_TILE_WIDTH))
        .ok()
        .and_then(|i| leaves.into_iter().nth(i))
        .ok_or_else(|| ApiError::internal(format!("data tile lacks entry {index}")))
}

/// Issuers already read for this answer: a page of entries from one CA names the same few
/// issuers again and again, so each is fetched once per request.
type IssuerCache = HashMap<[u8; 32], Vec<u8>>;

/// `leaf_input` (the RFC 6962 §3.4 `MerkleTreeLeaf`) and `extra_data` (§4.6) of one entry.
async fn leaf_entry(
    read: &ReadState,
    leaf: &TileLeaf,
    issuers: &mut IssuerCache,
) -> Result<LeafEntry, ApiError> {
    let leaf_input = leaf
        .merkle_tree_leaf()
        .to_bytes()
        .map_err(|e| ApiError::internal(format!("encoding leaf_input: {e}")))?;
    let extra_data = extra_data(read, leaf, issuers).await?;
    Ok(LeafEntry {
        leaf_input: BASE64.encode(leaf_input),
        extra_data: BASE64.encode(extra_data),
    })
}

/// RFC 6962 §4.6 `extra_data`, rebuilt from the TileLeaf and the `issuer/` objects: for an
/// x509 entry the `ASN.1Cert certificate_chain<0..2^24-1>`; for a precert entry the
/// `PrecertChainEntry { ASN.1Cert pre_certificate; ASN.1Cert precertificate_chain<0..2^24-1>; }`.
async fn extra_data(
    read: &ReadState,
    leaf: &TileLeaf,
    issuers: &mut IssuerCache,
) -> Result<Vec<u8>, ApiError> {
    let mut chain = Vec::new();
    for fingerprint in &leaf.certificate_chain {
        let der = match issuers.get(fingerprint) {
            Some(der) => der,
            None => {
                let der = fetch_issuer(read, fingerprint).await?;
                issuers.entry(*fingerprint).or_insert(der)
            }
        };
        write_opaque(&mut chain, LengthPrefix::U24, der, "ASN.1Cert")
            .map_err(|e| ApiError::internal(format!("encoding extra_data: {e}")))?;
    }
    let mut out = Vec::new();
    let encode = |out: &mut Vec<u8>| -> Result<(), ct_core::CtError> {
        if let Some(pre) = &leaf.pre_certificate {
            write_opaque(
                out,
                LengthPrefix::U24,
                pre,
                "PrecertChainEntry.pre_certificate",
            )?;
        }
        write_opaque(out, LengthPrefix::U24, &chain, "certificate_chain")
    };
    encode(&mut out).map_err(|e| ApiError::internal(format!("encoding extra_data: {e}")))?;
    Ok(out)
}
