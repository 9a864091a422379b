//! Fault injection for crash-safety tests (feature `testing`), after the matrix Sunlight's tests
//! run (spec/ct-log.md §5): every write the sequencer makes can be made to fail before or after
//! it takes effect, or to "crash" the storage until it is reopened.
//!
//! ```
//! # async fn example() {
//! use std::sync::Arc;
//! use ct_log::storage::{MemoryStore, ObjectStore, TrustedState};
//! use ct_log::storage::fault::{Fault, FaultInjecting, WriteKind};
//!
//! let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
//! // The second checkpoint swap from now takes effect, then the storage "crashes".
//! store.inject_on(WriteKind::CompareAndSwap, 2, Fault::CrashAfterPersist);
//! let objects: Arc<dyn ObjectStore> = store.clone();
//! let state: Arc<dyn TrustedState> = store.clone();
//! // … run the sequencer on `objects` and `state` until it stops, then:
//! store.reopen(); // a new process over the same surviving data
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{
    CHECKPOINT_PATH, CasError, DedupKey, DedupValue, ObjectStore, PutMode, StorageError,
    StorageFuture, TrustedState,
};

/// The kinds of write that faults can target. Object puts are classified by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteKind {
    /// `put` under `staging/`.
    Staging,
    /// `compare_and_swap_checkpoint`.
    CompareAndSwap,
    /// `put` of a hash tile, `tile/<L>/…`.
    Tile,
    /// `put` of a data tile, `tile/data/…`.
    DataTile,
    /// `put` of the public `checkpoint`.
    Checkpoint,
    /// `put` under `issuer/`.
    Issuer,
    /// `put` of any other path.
    OtherObject,
    /// `delete` of any object.
    Delete,
    /// `put_dedup`.
    Dedup,
}

impl WriteKind {
    /// Classifies an object `put` by its path.
    pub fn of_object_path(path: &str) -> Self {
        if path == CHECKPOINT_PATH {
            Self::Checkpoint
        } else if path.starts_with("staging/") {
            Self::Staging
        } else if path.starts_with("tile/data/") {
            Self::DataTile
        } else if path.starts_with("tile/") {
            Self::Tile
        } else if path.starts_with("issuer/") {
            Self::Issuer
        } else {
            Self::OtherObject
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Staging => "staging bundle put",
            Self::CompareAndSwap => "checkpoint compare-and-swap",
            Self::Tile => "tile put",
            Self::DataTile => "data tile put",
            Self::Checkpoint => "checkpoint put",
            Self::Issuer => "issuer put",
            Self::OtherObject => "object put",
            Self::Delete => "object delete",
            Self::Dedup => "dedup put",
        }
    }
}

/// What happens to a targeted write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The write does not take effect and returns an error.
    Fail,
    /// The write takes effect, then returns an error (the caller cannot tell it happened).
    FailAfterPersist,
    /// The write does not take effect; the storage "crashes": this and every later operation,
    /// reads included, fail with [`StorageError::Crashed`] until [`FaultInjecting::reopen`].
    Crash,
    /// The write takes effect, then the storage crashes as for [`Fault::Crash`].
    CrashAfterPersist,
}

impl Fault {
    fn persists(self) -> bool {
        matches!(self, Self::FailAfterPersist | Self::CrashAfterPersist)
    }

    fn crashes(self) -> bool {
        matches!(self, Self::Crash | Self::CrashAfterPersist)
    }
}

/// One write as the wrapper saw it, for tests that check the order of writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRecord {
    /// The kind of write.
    pub kind: WriteKind,
    /// The object path, for object writes.
    pub path: Option<String>,
    /// The fault injected into it, if any.
    pub fault: Option<Fault>,
}

/// Wraps a storage (usually [`MemoryStore`](super::MemoryStore)) and injects [`Fault`]s into
/// chosen writes. Implements [`ObjectStore`] and [`TrustedState`] when the wrapped storage
/// does, so one `Arc<FaultInjecting<_>>` serves as both halves.
///
/// Writes are counted from creation, in total and per [`WriteKind`], whether they succeed or
/// not; operations refused after a crash are not counted. To try "fail at the k-th write" for
/// every k, run a scenario once to learn [`write_count`](Self::write_count), then once per k
/// on a fresh store with [`inject_at`](Self::inject_at)`(k, …)`.
#[derive(Debug)]
pub struct FaultInjecting<S> {
    inner: S,
    control: Mutex<Control>,
}

#[derive(Debug, Default)]
struct Control {
    crashed: bool,
    total: u64,
    per_kind: HashMap<WriteKind, u64>,
    rules: Vec<Rule>,
    journal: Vec<WriteRecord>,
}

#[derive(Debug)]
struct Rule {
    /// `None`: any kind of write.
    kind: Option<WriteKind>,
    /// Fires on the write that brings the matching counter to this value.
    at: u64,
    fault: Fault,
}

impl<S> FaultInjecting<S> {
    /// Wraps `inner`, with no fault planned.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            control: Mutex::new(Control::default()),
        }
    }

    /// The wrapped storage (to inspect it without going through the faults).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Plans `fault` for the `k`-th write of any kind from now on (`k = 1`: the next write).
    pub fn inject_at(&self, k: u64, fault: Fault) {
        let mut control = self.control();
        let at = control.total + k;
        control.rules.push(Rule {
            kind: None,
            at,
            fault,
        });
    }

    /// Plans `fault` for the `k`-th write of `kind` from now on (`k = 1`: the next one).
    pub fn inject_on(&self, kind: WriteKind, k: u64, fault: Fault) {
        let mut control = self.control();
        let at = control.per_kind.get(&kind).copied().unwrap_or(0) + k;
        control.rules.push(Rule {
            kind: Some(kind),
            at,
            fault,
        });
    }

    /// Forgets the planned faults that have not fired.
    pub fn clear_faults(&self) {
        self.control().rules.clear();
    }

    /// Ends a simulated crash, as a restarted process over the same storage: operations work
    /// again. Planned faults that have not fired stay planned (to inject faults into recovery).
    /// The wrapped storage itself is not reopened; to also exercise a
    /// [`DirectoryStore`](super::DirectoryStore)'s own start-up (temporary-file sweep, database
    /// repair), drop the wrapper and open the directory again.
    pub fn reopen(&self) {
        self.control().crashed = false;
    }

    /// Whether a crash was injected and the storage not reopened since.
    pub fn is_crashed(&self) -> bool {
        self.control().crashed
    }

    /// Writes attempted so far, of every kind.
    pub fn write_count(&self) -> u64 {
        self.control().total
    }

    /// Writes of `kind` attempted so far.
    pub fn write_count_of(&self, kind: WriteKind) -> u64 {
        self.control().per_kind.get(&kind).copied().unwrap_or(0)
    }

    /// Every write attempted so far, in order.
    pub fn journal(&self) -> Vec<WriteRecord> {
        self.control().journal.clone()
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        // Every critical section leaves `Control` consistent.
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses any operation while crashed.
    fn check_alive(&self) -> Result<(), StorageError> {
        if self.control().crashed {
            Err(StorageError::Crashed)
        } else {
            Ok(())
        }
    }

    /// Counts a write and returns the fault planned for it, or refuses it while crashed.
    fn begin_write(
        &self,
        kind: WriteKind,
        path: Option<&str>,
    ) -> Result<Option<Fault>, StorageError> {
        let mut control = self.control();
        if control.crashed {
            return Err(StorageError::Crashed);
        }
        control.total += 1;
        let total = control.total;
        let of_kind = {
            let count = control.per_kind.entry(kind).or_insert(0);
            *count += 1;
            *count
        };
        let fired = control.rules.iter().position(|rule| match rule.kind {
            None => rule.at == total,
            Some(k) => k == kind && rule.at == of_kind,
        });
        let fault = fired.map(|index| control.rules.remove(index).fault);
        control.journal.push(WriteRecord {
            kind,
            path: path.map(str::to_owned),
            fault,
        });
        if fault.is_some_and(|f| f.crashes() && !f.persists()) {
            control.crashed = true;
        }
        Ok(fault)
    }

    /// Settles a write that ran (only called when the fault, if any, persists).
    fn end_write<T, E: From<StorageError>>(
        &self,
        kind: WriteKind,
        fault: Option<Fault>,
        result: Result<T, E>,
    ) -> Result<T, E> {
        let Some(fault) = fault else {
            return result;
        };
        if fault.crashes() {
            self.control().crashed = true;
        }
        // A write that failed on its own reports its own error.
        result?;
        Err(StorageError::InjectedFault {
            operation: kind.name(),
            persisted: true,
        }
        .into())
    }
}

/// The error of a fault that does not let the write run.
fn refused(kind: WriteKind) -> StorageError {
    StorageError::InjectedFault {
        operation: kind.name(),
        persisted: false,
    }
}

impl<S: ObjectStore> ObjectStore for FaultInjecting<S> {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes, mode: PutMode) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let kind = WriteKind::of_object_path(path);
            let fault = self.begin_write(kind, Some(path))?;
            if fault.is_some_and(|f| !f.persists()) {
                return Err(refused(kind));
            }
            let result = self.inner.put(path, bytes, mode).await;
            self.end_write(kind, fault, result)
        })
    }

    fn get<'a>(&'a self, path: &'a str) -> StorageFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            self.check_alive()?;
            self.inner.get(path).await
        })
    }

    fn delete<'a>(&'a self, path: &'a str) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let kind = WriteKind::Delete;
            let fault = self.begin_write(kind, Some(path))?;
            if fault.is_some_and(|f| !f.persists()) {
                return Err(refused(kind));
            }
            let result = self.inner.delete(path).await;
            self.end_write(kind, fault, result)
        })
    }
}

impl<S: TrustedState> TrustedState for FaultInjecting<S> {
    fn load_checkpoint(&self) -> StorageFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move {
            self.check_alive()?;
            self.inner.load_checkpoint().await
        })
    }

    fn compare_and_swap_checkpoint<'a>(
        &'a self,
        expected: Option<&'a [u8]>,
        new: &'a [u8],
    ) -> StorageFuture<'a, (), CasError> {
        Box::pin(async move {
            let kind = WriteKind::CompareAndSwap;
            let fault = self.begin_write(kind, None)?;
            if fault.is_some_and(|f| !f.persists()) {
                return Err(refused(kind).into());
            }
            let result = self.inner.compare_and_swap_checkpoint(expected, new).await;
            self.end_write(kind, fault, result)
        })
    }

    fn put_dedup<'a>(&'a self, entries: &'a [(DedupKey, DedupValue)]) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let kind = WriteKind::Dedup;
            let fault = self.begin_write(kind, None)?;
            if fault.is_some_and(|f| !f.persists()) {
                return Err(refused(kind));
            }
            let result = self.inner.put_dedup(entries).await;
            self.end_write(kind, fault, result)
        })
    }

    fn get_dedup<'a>(&'a self, key: &'a DedupKey) -> StorageFuture<'a, Option<DedupValue>> {
        Box::pin(async move {
            self.check_alive()?;
            self.inner.get_dedup(key).await
        })
    }
}
