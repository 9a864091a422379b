//! The object half of the storage: tiles, data tiles, issuers, the public checkpoint and the
//! staging bundles (static-ct-api read path; spec/ct-log.md §2.2 and §2.4).

use bytes::Bytes;

use super::StorageFuture;

/// How [`ObjectStore::put`] treats an object that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutMode {
    /// Write-once: tiles, data tiles, issuers, staging bundles. Putting the same bytes again
    /// succeeds (recovery re-applies staging bundles); different bytes fail with
    /// [`StorageError::ImmutableConflict`](super::StorageError::ImmutableConflict) and leave the
    /// existing object untouched, even when two writers race.
    Immutable,
    /// Replaceable: the public `checkpoint`. The last completed put wins.
    Mutable,
}

/// Durable storage of named byte objects.
///
/// # Contract (every implementation)
///
/// - Paths are checked with [`validate_object_path`](super::validate_object_path); an invalid
///   one fails before anything is written.
/// - **Durability:** when `put` returns `Ok`, the object survives a crash or power loss of this
///   machine (or is acknowledged by the remote store).
/// - **Atomicity:** a reader sees either the whole old object (or none) or the whole new one,
///   never a prefix — also across a crash in the middle of a `put`.
/// - **Errors:** after an `Err` from `put`, the object may or may not have been written, except
///   for the errors that say nothing was written (invalid path, immutable conflict).
/// - Methods may be called concurrently from many tasks.
pub trait ObjectStore: Send + Sync {
    /// Stores `bytes` at `path`, durably, with the given overwrite rule.
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes, mode: PutMode) -> StorageFuture<'a, ()>;

    /// Reads the object at `path`; `Ok(None)` if there is none.
    fn get<'a>(&'a self, path: &'a str) -> StorageFuture<'a, Option<Bytes>>;

    /// Removes the object at `path` if present (used to discard staging bundles once their
    /// batch is fully published). Removal is not guaranteed durable: after a crash a deleted
    /// object may reappear, so only delete objects whose reappearance is harmless.
    fn delete<'a>(&'a self, path: &'a str) -> StorageFuture<'a, ()>;
}
