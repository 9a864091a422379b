//! The default storage: one data directory on a local POSIX file system.
//!
//! ```text
//! <dir>/state.redb      trusted state (checkpoint, dedup index); its lock guards the directory
//! <dir>/objects/…       one file per object, at its object path (serve this tree as-is)
//! ```

mod object_files;
mod redb_state;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use object_files::ObjectFiles;
use redb_state::RedbState;

use super::{
    CasError, DedupKey, DedupValue, ObjectStore, PutMode, StorageError, StorageFuture,
    TrustedState, validate_object_path,
};

/// [`ObjectStore`] and [`TrustedState`] in one data directory.
///
/// Durability: an object `put` returns after its file and its directory entry are fsynced (the
/// protocol is documented in `object_files`); a checkpoint swap returns after redb's
/// fsynced commit; dedup writes become durable with the next swap or [`close`](Self::close).
///
/// Exclusivity: the store holds redb's exclusive lock on `state.redb` while it is alive, and
/// takes it before touching `objects/`, so a second open of the same directory — from another
/// process or this one — fails with [`StorageError::AlreadyOpen`] instead of racing the first.
///
/// All I/O but dedup lookups runs on tokio's blocking pool; methods must be called inside a
/// tokio runtime.
pub struct DirectoryStore {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    objects: ObjectFiles,
    state: RedbState,
}

/// File names inside the data directory.
const STATE_FILE: &str = "state.redb";
const OBJECTS_DIR: &str = "objects";

/// Runs blocking I/O off the async workers.
async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => Err(StorageError::TaskFailed(join).into()),
    }
}

impl DirectoryStore {
    /// The trusted-state database's page cache for a log that answers submissions from
    /// outside ([`open`](Self::open)): every `add-chain` and `add-pre-chain` looks its
    /// certificate up in the dedup index. redb's own default is 1 GiB, and the index gains
    /// two entries per logged certificate, so under steady load that cache (and the process's
    /// RSS) grew by ~35 MiB a minute until it was full (a soak at 2,500 certificates/s).
    /// Lookups are point reads on recent keys: 32 MiB keeps the hot pages, and the OS page
    /// cache backs the rest.
    pub const DEFAULT_CACHE_BYTES: usize = 32 * 1024 * 1024;

    /// The page cache for the log embedded in `fulcio serve`, which never looks up its own
    /// CA's submissions (`Log::add_own`): the cache serves mostly the commits' page writes.
    /// Half of [`DEFAULT_CACHE_BYTES`](Self::DEFAULT_CACHE_BYTES) cut the server's peak RSS
    /// at 512 clients from 146 to 110 MiB at the same throughput (docs/performance.md).
    pub const EMBEDDED_CACHE_BYTES: usize = 16 * 1024 * 1024;

    /// Opens the data directory `dir`, creating it (and its layout) if needed, with a page
    /// cache of [`DEFAULT_CACHE_BYTES`](Self::DEFAULT_CACHE_BYTES).
    ///
    /// Takes the directory's lock, then deletes temporary files that a crashed writer left in
    /// `objects/`. Fails with [`StorageError::AlreadyOpen`] if another handle holds the lock.
    /// After an unclean shutdown redb checks and repairs `state.redb` first.
    ///
    /// The sweep lists every directory under `objects/`, so opening takes time proportional to
    /// the number of objects (temporary files can be next to any object that was being written).
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self, StorageError> {
        Self::open_with_cache(dir, Self::DEFAULT_CACHE_BYTES).await
    }

    /// [`open`](Self::open) with a page cache of `cache_bytes` for the trusted-state database.
    pub async fn open_with_cache(
        dir: impl Into<PathBuf>,
        cache_bytes: usize,
    ) -> Result<Self, StorageError> {
        let dir = dir.into();
        blocking(move || Self::open_blocking(dir, cache_bytes)).await
    }

    fn open_blocking(dir: PathBuf, cache_bytes: usize) -> Result<Self, StorageError> {
        object_files::create_dir_durable(&dir)?;
        let state_path = dir.join(STATE_FILE);
        let state = RedbState::open(&state_path, cache_bytes)?
            .ok_or_else(|| StorageError::AlreadyOpen { dir: dir.clone() })?;
        let objects_root = dir.join(OBJECTS_DIR);
        object_files::create_dir_durable(&objects_root)?;
        // redb fsyncs the database file's content, not its name: make the entries of
        // `state.redb` and `objects/` durable, however an earlier run ended.
        object_files::sync_dir(&dir)?;
        let removed = object_files::remove_temp_files(&objects_root)?;
        if removed > 0 {
            tracing::info!(
                removed,
                dir = %dir.display(),
                "removed temporary files left by an interrupted write"
            );
        }
        Ok(Self {
            shared: Arc::new(Shared {
                objects: ObjectFiles::new(objects_root),
                state,
                dir,
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Closes the store: makes pending dedup writes durable and releases the directory's lock.
    /// Dropping the store does the same but cannot report errors. If cancelled operations are
    /// still running on the blocking pool, the lock is released when the last one finishes.
    pub async fn close(self) -> Result<(), StorageError> {
        match Arc::try_unwrap(self.shared) {
            Ok(shared) => blocking(move || shared.state.close()).await,
            // Still in use by a cancelled operation's blocking task; it closes when that ends.
            Err(_) => Ok(()),
        }
    }
}

impl std::fmt::Debug for DirectoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryStore")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

impl ObjectStore for DirectoryStore {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes, mode: PutMode) -> StorageFuture<'a, ()> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            validate_object_path(path)?;
            let path = path.to_owned();
            blocking(move || shared.objects.put(&path, &bytes, mode)).await
        })
    }

    fn get<'a>(&'a self, path: &'a str) -> StorageFuture<'a, Option<Bytes>> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            validate_object_path(path)?;
            let path = path.to_owned();
            blocking(move || shared.objects.get(&path)).await
        })
    }

    fn delete<'a>(&'a self, path: &'a str) -> StorageFuture<'a, ()> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            validate_object_path(path)?;
            let path = path.to_owned();
            blocking(move || shared.objects.delete(&path)).await
        })
    }
}

impl TrustedState for DirectoryStore {
    fn load_checkpoint(&self) -> StorageFuture<'_, Option<Vec<u8>>> {
        let shared = Arc::clone(&self.shared);
        Box::pin(blocking(move || shared.state.load_checkpoint()))
    }

    fn compare_and_swap_checkpoint<'a>(
        &'a self,
        expected: Option<&'a [u8]>,
        new: &'a [u8],
    ) -> StorageFuture<'a, (), CasError> {
        let shared = Arc::clone(&self.shared);
        let expected = expected.map(<[u8]>::to_vec);
        let new = new.to_vec();
        Box::pin(blocking(move || {
            shared.state.compare_and_swap(expected.as_deref(), &new)
        }))
    }

    fn put_dedup<'a>(&'a self, entries: &'a [(DedupKey, DedupValue)]) -> StorageFuture<'a, ()> {
        let shared = Arc::clone(&self.shared);
        let entries = entries.to_vec();
        Box::pin(blocking(move || shared.state.put_dedup(&entries)))
    }

    /// Runs on the caller's thread, not the blocking pool: a point lookup reads a few pages,
    /// normally from redb's cache or the OS page cache, in a few microseconds, while the hop
    /// to the blocking pool and back cost more than the lookup (two thread wake-ups per
    /// submission; ~10 % of the log's CPU at 7,000 `add-pre-chain`/s). Reads run alongside
    /// the sequencer's write transactions (redb is MVCC).
    fn get_dedup<'a>(&'a self, key: &'a DedupKey) -> StorageFuture<'a, Option<DedupValue>> {
        Box::pin(std::future::ready(self.shared.state.get_dedup(key)))
    }
}
