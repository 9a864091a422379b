//! The log's HTTP interface, at the root of its listener (spec/ct-log.md §1.1, §2.2):
//!
//! - static-ct-api read path: `/checkpoint`, `/tile/<L>/<N>[.p/<W>]`, `/tile/data/<N>[.p/<W>]`,
//!   `/issuer/<hex>`, served from the [`ObjectStore`] as published;
//! - RFC 6962 §4 read endpoints (`/ct/v1/get-sth`, `get-sth-consistency`, `get-proof-by-hash`,
//!   `get-entries`, `get-entry-and-proof`), computed from the same tiles and the published
//!   checkpoint (Itko's design, §3.5), so both APIs always describe the same tree;
//! - RFC 6962 §4.1, §4.2, §4.7 submission: `add-chain`, `add-pre-chain`, `get-roots`.
//!
//! [`read_router`] serves a store without a sequencer (a read-only mirror); [`router`] adds the
//! write path of a running [`Log`]. Both answer at the root of a listener; to serve a log under
//! a prefix, nest it: `Router::new().nest("/2025h1", router(log))`. Neither adds timeouts,
//! tracing or concurrency limits: the embedding server layers those on the whole app.
//!
//! Errors are plain text with a status (see [`ApiError`]): 400 for malformed parameters and
//! refused chains, 404 for unknown objects and leaf hashes, 413 for oversized submissions, 503
//! when the log is busy or has not published a checkpoint, 500 (detail logged, not sent) when
//! its storage is inconsistent.

mod error;
mod rfc6962;
mod static_ct;
mod submit;
mod tiles;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::Uri,
    routing::{get, post},
};
use bytes::Bytes;
use ct_core::{LogPublicKey, checkpoint::sth_from_checkpoint, sth::SignedTreeHead};

pub use error::ApiError;

use crate::{
    log::Log,
    storage::{CHECKPOINT_PATH, ObjectStore, TrustedState},
};

/// Most entries one `get-entries` answer holds. RFC 6962 §4.6 lets a log return fewer than
/// asked; answers also stop at the end of a data tile, so each reads exactly one tile.
pub const MAX_GET_ENTRIES: u64 = 256;

/// What the read endpoints need: the published objects, the dedup index (leaf hash → index for
/// `get-proof-by-hash`), and the log's identity to open its own checkpoint.
#[derive(Clone)]
pub struct ReadState {
    /// The public objects: checkpoint, tiles, data tiles, issuers.
    pub objects: Arc<dyn ObjectStore>,
    /// The trusted state; only its dedup index is read.
    pub state: Arc<dyn TrustedState>,
    /// The log's public key (its LogID names the checkpoint signature).
    pub public_key: LogPublicKey,
    /// The checkpoint origin (static-ct-api: the submission prefix without scheme).
    pub origin: String,
}

impl std::fmt::Debug for ReadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadState")
            .field("origin", &self.origin)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The published checkpoint: its note bytes and the signed tree head it carries.
pub(crate) struct Published {
    pub(crate) note: Bytes,
    pub(crate) sth: SignedTreeHead,
}

impl ReadState {
    /// The read state of a running log: its storage, key and origin.
    pub fn of_log(log: &Log) -> Self {
        Self {
            objects: Arc::clone(log.objects()),
            state: Arc::clone(log.trusted_state()),
            public_key: log.public_key().clone(),
            origin: log.origin().to_owned(),
        }
    }

    /// Reads an object, turning storage failures into 500s.
    pub(crate) async fn get_object(&self, path: &str) -> Result<Option<Bytes>, ApiError> {
        self.objects
            .get(path)
            .await
            .map_err(|e| ApiError::internal(format!("reading {path}: {e}")))
    }

    /// The published checkpoint (the public object, not the trusted one: the tiles it covers
    /// are written before it, so every tile it needs exists). A log that never sequenced has
    /// none yet: 503, since the log, not the client, is not ready.
    pub(crate) async fn published(&self) -> Result<Published, ApiError> {
        let note =
            self.get_object(CHECKPOINT_PATH)
                .await?
                .ok_or_else(|| ApiError::Unavailable {
                    message: "the log has not published a checkpoint yet".to_owned(),
                    retry_after: None,
                })?;
        let sth = sth_from_checkpoint(&note, &self.origin, &self.public_key.log_id())
            .map_err(|e| ApiError::internal(format!("published checkpoint: {e}")))?;
        Ok(Published { note, sth })
    }
}

/// The read-only routes: static-ct-api and the RFC 6962 read endpoints (everything but
/// `add-chain`, `add-pre-chain` and `get-roots`, which need a running log), for a read-only
/// mirror of a log's storage.
pub fn read_router(read: ReadState) -> Router {
    read_routes(read).fallback(no_route)
}

fn read_routes(read: ReadState) -> Router {
    let read = Arc::new(read);
    Router::new()
        .route("/checkpoint", get(static_ct::checkpoint))
        .route("/tile/{*path}", get(static_ct::tile))
        .route("/issuer/{fingerprint}", get(static_ct::issuer))
        .route("/ct/v1/get-sth", get(rfc6962::get_sth))
        .route(
            "/ct/v1/get-sth-consistency",
            get(rfc6962::get_sth_consistency),
        )
        .route("/ct/v1/get-proof-by-hash", get(rfc6962::get_proof_by_hash))
        .route("/ct/v1/get-entries", get(rfc6962::get_entries))
        .route(
            "/ct/v1/get-entry-and-proof",
            get(rfc6962::get_entry_and_proof),
        )
        .with_state(read)
}

/// Unknown paths get a 404 that says so, rather than an empty body.
async fn no_route(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "{} is not an endpoint or object of this log",
        uri.path()
    ))
}

/// Every route of a running log: [`read_router`] plus `add-chain`, `add-pre-chain` (bodies
/// capped at the policy's [`max_body_bytes`](crate::submission::RequestLimits::max_body_bytes),
/// 413 beyond) and `get-roots`. Mount it at the root of the log's listener, or nest it under the
/// log's prefix.
pub fn router(log: Arc<Log>) -> Router {
    let max_body = log.policy().limits.max_body_bytes();
    let write = Router::new()
        .route("/ct/v1/add-chain", post(submit::add_chain))
        .route("/ct/v1/add-pre-chain", post(submit::add_pre_chain))
        .layer(DefaultBodyLimit::max(max_body))
        .route("/ct/v1/get-roots", get(submit::get_roots))
        .with_state(Arc::clone(&log));
    read_routes(ReadState::of_log(&log))
        .merge(write)
        .fallback(no_route)
}
