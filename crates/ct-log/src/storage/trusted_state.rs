//! The trusted half of the storage: the checkpoint lock and the dedup index
//! (spec/ct-log.md §2.4, "Lock backend" and "Dedup cache").

use super::{CasError, StorageFuture};

/// Key of the dedup index: the SHA-256 of the submitted certificate or precertificate (DER).
pub type DedupKey = [u8; 32];

/// Where a previously sequenced submission sits in the log: enough to rebuild its SCT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupValue {
    /// Its leaf index (the static-ct-api `leaf_index` SCT extension).
    pub leaf_index: u64,
    /// Its SCT timestamp, milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// Small, strongly consistent state: the latest checkpoint, changed only by compare-and-swap,
/// and the dedup index.
///
/// # Contract (every implementation)
///
/// - **Checkpoint:** reads see the latest successful swap (read-after-write, across processes
///   and restarts). A successful [`compare_and_swap_checkpoint`](Self::compare_and_swap_checkpoint)
///   is durable when it returns. Concurrent swaps are serialised: of several swaps from the same
///   expected value, exactly one succeeds.
/// - **Dedup index:** loss-tolerant. Entries written by [`put_dedup`](Self::put_dedup) are
///   visible to later [`get_dedup`](Self::get_dedup) calls at once, but an implementation may
///   lose the most recent ones in a crash (losing them only lets duplicates into the log, it
///   never breaks the log). Callers record entries only after the swap of the checkpoint that
///   covers their leaves, so a surviving entry always points into the trusted tree.
/// - Methods may be called concurrently from many tasks.
pub trait TrustedState: Send + Sync {
    /// The latest checkpoint (a signed note), or `None` for a log that was never started.
    fn load_checkpoint(&self) -> StorageFuture<'_, Option<Vec<u8>>>;

    /// Replaces the checkpoint with `new` if and only if it currently equals `expected`
    /// (`None`: no checkpoint yet), comparing bytes. On [`CasError::Mismatch`] nothing changed.
    /// On [`CasError::Storage`] the swap may or may not have happened: the caller must stop
    /// and re-read on restart.
    fn compare_and_swap_checkpoint<'a>(
        &'a self,
        expected: Option<&'a [u8]>,
        new: &'a [u8],
    ) -> StorageFuture<'a, (), CasError>;

    /// Records sequenced submissions. A key already present keeps its first value, so
    /// resubmissions keep getting the SCT of the first entry while the index holds it.
    fn put_dedup<'a>(&'a self, entries: &'a [(DedupKey, DedupValue)]) -> StorageFuture<'a, ()>;

    /// Looks a submission up in the dedup index.
    fn get_dedup<'a>(&'a self, key: &'a DedupKey) -> StorageFuture<'a, Option<DedupValue>>;
}
