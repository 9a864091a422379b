//! The trusted state of a [`DirectoryStore`](super::DirectoryStore) in one redb database.
//!
//! Durability choices (redb 4 offers `Durability::Immediate` and `Durability::None`):
//! - **Checkpoint swaps commit with `Immediate` and quick-repair.** `Immediate` means the commit
//!   is fsynced before `commit` returns, which the compare-and-swap contract needs: the swap is
//!   the point after which the batch is in the log. Quick-repair makes the commit two-phase and
//!   records the allocator state, so reopening after a crash does not walk the whole file (the
//!   dedup table can hold millions of entries) before the log can serve again; it costs one more
//!   fsync per batch.
//! - **Dedup writes commit with `None`.** They are visible to readers at once but reach the disk
//!   with the next `Immediate` commit (the next batch's swap) or a clean close. The dedup index
//!   is loss-tolerant, so a crash that drops the last batch's entries only admits duplicates,
//!   and skipping the fsync keeps it off the path before waiters get their SCTs. Because a dedup
//!   write always follows the swap of its batch, no durable entry ever points past the trusted
//!   checkpoint.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::storage::{CasError, DedupKey, DedupValue, StorageError};

/// One row, [`CHECKPOINT_KEY`], holding the latest checkpoint.
const CHECKPOINT: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoint");
const CHECKPOINT_KEY: &str = "latest";
/// Submission hash → (leaf index, timestamp).
const DEDUP: TableDefinition<&[u8; 32], (u64, u64)> = TableDefinition::new("dedup");

pub(super) struct RedbState {
    db: Database,
}

fn db_error<E: Into<redb::Error>>(op: &'static str) -> impl FnOnce(E) -> StorageError {
    move |err| StorageError::Database {
        op,
        source: err.into(),
    }
}

impl RedbState {
    /// Opens (creating if needed) the database at `path`, taking redb's exclusive file lock.
    /// `Ok(None)` means another handle holds the lock.
    pub(super) fn open(path: &Path, cache_bytes: usize) -> Result<Option<Self>, StorageError> {
        let mut builder = Database::builder();
        builder.set_cache_size(cache_bytes);
        // Called repeatedly with the progress of a repair; say once that one is under way.
        let announced = AtomicBool::new(false);
        builder.set_repair_callback(move |_session| {
            if !announced.swap(true, Ordering::Relaxed) {
                tracing::warn!("repairing the trusted state database after an unclean shutdown");
            }
        });
        let db = match builder.create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Ok(None),
            Err(err) => return Err(db_error("open")(err)),
        };
        // Create both tables up front so that reads never meet a missing table.
        let txn = db.begin_write().map_err(db_error("begin create tables"))?;
        txn.open_table(CHECKPOINT)
            .map_err(db_error("create checkpoint table"))?;
        txn.open_table(DEDUP)
            .map_err(db_error("create dedup table"))?;
        txn.commit().map_err(db_error("commit create tables"))?;
        Ok(Some(Self { db }))
    }

    pub(super) fn load_checkpoint(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let txn = self.db.begin_read().map_err(db_error("begin read"))?;
        let table = txn
            .open_table(CHECKPOINT)
            .map_err(db_error("open checkpoint table"))?;
        let value = table
            .get(CHECKPOINT_KEY)
            .map_err(db_error("read checkpoint"))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    pub(super) fn compare_and_swap(
        &self,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<(), CasError> {
        // redb runs one write transaction at a time, so the read-compare-write below is atomic
        // with respect to every other swap.
        let mut txn = self.db.begin_write().map_err(db_error("begin swap"))?;
        txn.set_durability(Durability::Immediate)
            .map_err(db_error("set swap durability"))?;
        txn.set_quick_repair(true);
        {
            let mut table = txn
                .open_table(CHECKPOINT)
                .map_err(db_error("open checkpoint table"))?;
            let current = table
                .get(CHECKPOINT_KEY)
                .map_err(db_error("read checkpoint"))?
                .map(|v| v.value().to_vec());
            if current.as_deref() != expected {
                // Dropping the transaction aborts it: nothing is written.
                return Err(CasError::Mismatch { current });
            }
            table
                .insert(CHECKPOINT_KEY, new)
                .map_err(db_error("write checkpoint"))?;
        }
        txn.commit().map_err(db_error("commit swap"))?;
        Ok(())
    }

    pub(super) fn put_dedup(&self, entries: &[(DedupKey, DedupValue)]) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write().map_err(db_error("begin dedup"))?;
        txn.set_durability(Durability::None)
            .map_err(db_error("set dedup durability"))?;
        {
            let mut table = txn
                .open_table(DEDUP)
                .map_err(db_error("open dedup table"))?;
            for (key, value) in entries {
                // The first sequenced copy of a submission stays the one the index answers with.
                if table.get(key).map_err(db_error("read dedup"))?.is_none() {
                    table
                        .insert(key, (value.leaf_index, value.timestamp))
                        .map_err(db_error("write dedup"))?;
                }
            }
        }
        txn.commit().map_err(db_error("commit dedup"))?;
        Ok(())
    }

    pub(super) fn get_dedup(&self, key: &DedupKey) -> Result<Option<DedupValue>, StorageError> {
        let txn = self.db.begin_read().map_err(db_error("begin read"))?;
        let table = txn
            .open_table(DEDUP)
            .map_err(db_error("open dedup table"))?;
        let value = table.get(key).map_err(db_error("read dedup"))?;
        Ok(value.map(|v| {
            let (leaf_index, timestamp) = v.value();
            DedupValue {
                leaf_index,
                timestamp,
            }
        }))
    }

    /// Closes the database: pending dedup writes are made durable and the file lock released.
    pub(super) fn close(self) -> Result<(), StorageError> {
        self.db.close().map_err(db_error("close"))
    }
}
