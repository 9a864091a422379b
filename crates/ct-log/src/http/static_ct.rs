//! The static-ct-api read path (c2sp.org/static-ct-api "Monitoring APIs"): the stored objects
//! as they are, with the content types and caching the spec asks for.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use ct_core::tile::{FULL_TILE_WIDTH, Tile, TilePath};

use super::{
    ApiError, ReadState,
    tiles::{GZIP_MAGIC, partial_data_tile_from_full},
};
use crate::storage::issuer_path;

/// `/checkpoint` is mutable: "headers SHOULD prevent caching beyond a few seconds".
const CHECKPOINT_CACHE: &str = "public, max-age=5";
/// Full tiles, data tiles and issuers never change ("immutable … long-lived").
const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";
/// A partial tile of a given width never changes either, but may be deleted once its full tile
/// exists; a short lifetime lets caches drop it with the store.
const PARTIAL_CACHE: &str = "public, max-age=60";

fn respond(body: Bytes, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// `GET /checkpoint`: the published signed note, `text/plain; charset=utf-8`.
pub(super) async fn checkpoint(State(read): State<Arc<ReadState>>) -> Result<Response, ApiError> {
    let published = read.published().await?;
    Ok(respond(
        published.note.clone(),
        "text/plain; charset=utf-8",
        CHECKPOINT_CACHE,
    ))
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/data/<N>[.p/<W>]`.
///
/// Only canonical paths are accepted (ct-core's strict parsing): anything else is a 400, so a
/// path names one object. A tile the store lacks is a 404, except a partial tile whose full tile
/// exists: its contents are the full tile's prefix, served as such, since static-ct-api lets a
/// log delete partial tiles while clients may still hold a checkpoint that names them.
pub(super) async fn tile(
    State(read): State<Arc<ReadState>>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    let requested = format!("tile/{rest}");
    let path = TilePath::parse(&requested)
        .map_err(|e| ApiError::bad_request(format!("invalid tile path {requested:?}: {e}")))?;
    let tile = path.tile();
    let cache = if tile.is_full() {
        IMMUTABLE_CACHE
    } else {
        PARTIAL_CACHE
    };
    let body = match read.get_object(&requested).await? {
        Some(bytes) => bytes,
        None => from_full_tile(&read, path)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("{requested} does not exist")))?,
    };
    // Data tiles may be stored compressed; static-ct-api lets logs send gzip without
    // negotiation, and clients must accept it.
    let gzip = matches!(path, TilePath::Data(_)) && body.starts_with(&GZIP_MAGIC);
    let mut response = respond(body, "application/octet-stream", cache);
    if gzip {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// The contents of partial tile `path` cut from its full tile, if that exists.
async fn from_full_tile(read: &ReadState, path: TilePath) -> Result<Option<Bytes>, ApiError> {
    let tile = path.tile();
    if tile.is_full() {
        return Ok(None);
    }
    let full = Tile::new(tile.level(), tile.n(), FULL_TILE_WIDTH)
        .map_err(|e| ApiError::internal(format!("full tile of {path}: {e}")))?;
    let (full_path, is_data) = match path {
        TilePath::Hash(_) => (TilePath::Hash(full), false),
        TilePath::Data(_) => (TilePath::Data(full), true),
    };
    let Some(bytes) = read.get_object(&full_path.to_string()).await? else {
        return Ok(None);
    };
    if is_data {
        if bytes.starts_with(&GZIP_MAGIC) {
            // Cutting a compressed tile needs decompression this server does not do; the
            // client falls back to the full tile, as static-ct-api tells it to.
            return Ok(None);
        }
        return partial_data_tile_from_full(&bytes, tile).map(|data| Some(Bytes::from(data)));
    }
    if bytes.len() < tile.byte_len() {
        return Err(ApiError::internal(format!(
            "{full_path} is shorter than a full tile"
        )));
    }
    Ok(Some(bytes.slice(..tile.byte_len())))
}

/// `GET /issuer/<fingerprint>`: one DER certificate, `application/pkix-cert`. The fingerprint
/// must be 64 lowercase hex digits (the spec's form), so each issuer has one URL.
pub(super) async fn issuer(
    State(read): State<Arc<ReadState>>,
    Path(fingerprint): Path<String>,
) -> Result<Response, ApiError> {
    let bytes = parse_fingerprint(&fingerprint).ok_or_else(|| {
        ApiError::bad_request(format!(
            "invalid issuer fingerprint {fingerprint:?}: want 64 lowercase hex digits"
        ))
    })?;
    let path = issuer_path(&bytes);
    let der = read
        .get_object(&path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{path} does not exist")))?;
    Ok(respond(der, "application/pkix-cert", IMMUTABLE_CACHE))
}

fn parse_fingerprint(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        let hi = char::from(*hi).to_digit(16)?;
        let lo = char::from(*lo).to_digit(16)?;
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_64_lowercase_hex_digits() {
        let mut expected = [0u8; 32];
        expected[0] = 0xab;
        expected[31] = 0x09;
        let text = format!("ab{}09", "00".repeat(30));
        assert_eq!(parse_fingerprint(&text), Some(expected));
        for bad in [
            String::new(),
            "ab".repeat(31),
            "ab".repeat(33),
            "AB".repeat(32),
            format!("{}g0", "00".repeat(31)),
            format!("{}+1", "00".repeat(31)),
        ] {
            assert_eq!(parse_fingerprint(&bad), None, "{bad}");
        }
    }
}
