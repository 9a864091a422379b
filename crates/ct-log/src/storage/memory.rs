//! An in-process implementation of both storage halves, for tests and throw-away logs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{
    CasError, DedupKey, DedupValue, ObjectStore, PutMode, StorageError, StorageFuture,
    TrustedState, validate_object_path,
};

/// [`ObjectStore`] and [`TrustedState`] in memory.
///
/// "Durable" here means: for the life of this value. It follows every other rule of the two
/// contracts (path checks, write-once immutable objects, serialised compare-and-swap), so a test
/// against it exercises the same logic as one against [`DirectoryStore`](super::DirectoryStore).
/// Keep it in an `Arc` and hand the same one to a "restarted" sequencer to simulate a process
/// restart over surviving storage.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<String, Bytes>,
    checkpoint: Option<Vec<u8>>,
    dedup: HashMap<DedupKey, DedupValue>,
}

impl MemoryStore {
    /// An empty store: no objects, no checkpoint.
    pub fn new() -> Self {
        Self::default()
    }

    /// The paths of all stored objects, sorted (for tests that audit what was written).
    pub fn object_paths(&self) -> Vec<String> {
        self.lock().objects.keys().cloned().collect()
    }

    /// The number of entries in the dedup index.
    pub fn dedup_len(&self) -> usize {
        self.lock().dedup.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves `Inner` consistent, so a panic elsewhere while holding
        // the lock does not invalidate it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn put_now(&self, path: &str, bytes: Bytes, mode: PutMode) -> Result<(), StorageError> {
        validate_object_path(path)?;
        let mut inner = self.lock();
        match (mode, inner.objects.get(path)) {
            (PutMode::Immutable, Some(existing)) if *existing == bytes => Ok(()),
            (PutMode::Immutable, Some(_)) => Err(StorageError::ImmutableConflict {
                path: path.to_owned(),
            }),
            _ => {
                inner.objects.insert(path.to_owned(), bytes);
                Ok(())
            }
        }
    }

    fn cas_now(&self, expected: Option<&[u8]>, new: &[u8]) -> Result<(), CasError> {
        let mut inner = self.lock();
        if inner.checkpoint.as_deref() != expected {
            return Err(CasError::Mismatch {
                current: inner.checkpoint.clone(),
            });
        }
        inner.checkpoint = Some(new.to_vec());
        Ok(())
    }
}

// The work happens when the future is polled, as with the other backends: a future that is
// dropped unpolled writes nothing.
impl ObjectStore for MemoryStore {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes, mode: PutMode) -> StorageFuture<'a, ()> {
        Box::pin(async move { self.put_now(path, bytes, mode) })
    }

    fn get<'a>(&'a self, path: &'a str) -> StorageFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            validate_object_path(path)?;
            Ok(self.lock().objects.get(path).cloned())
        })
    }

    fn delete<'a>(&'a self, path: &'a str) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            validate_object_path(path)?;
            self.lock().objects.remove(path);
            Ok(())
        })
    }
}

impl TrustedState for MemoryStore {
    fn load_checkpoint(&self) -> StorageFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move { Ok(self.lock().checkpoint.clone()) })
    }

    fn compare_and_swap_checkpoint<'a>(
        &'a self,
        expected: Option<&'a [u8]>,
        new: &'a [u8],
    ) -> StorageFuture<'a, (), CasError> {
        Box::pin(async move { self.cas_now(expected, new) })
    }

    fn put_dedup<'a>(&'a self, entries: &'a [(DedupKey, DedupValue)]) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let mut inner = self.lock();
            for (key, value) in entries {
                inner.dedup.entry(*key).or_insert(*value);
            }
            Ok(())
        })
    }

    fn get_dedup<'a>(&'a self, key: &'a DedupKey) -> StorageFuture<'a, Option<DedupValue>> {
        Box::pin(async move { Ok(self.lock().dedup.get(key).copied()) })
    }
}
