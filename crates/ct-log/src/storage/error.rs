//! Errors of the storage layer.

use std::io;
use std::path::PathBuf;

/// A storage operation failed. Unless a variant says otherwise, the caller cannot tell whether
/// a failed write was persisted: it must treat the object as "maybe written" (for the
/// sequencer, that means stop and let start-up recovery decide).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The object path is not one this storage accepts (see
    /// [`validate_object_path`](super::validate_object_path)). Nothing was written.
    #[error("invalid object path {path:?}: {reason}")]
    InvalidPath {
        /// The rejected path.
        path: String,
        /// Which rule it broke.
        reason: &'static str,
    },

    /// An immutable object already exists at this path with different bytes. Nothing was
    /// written; the existing object is unchanged.
    #[error("immutable object {path} already exists with different content")]
    ImmutableConflict {
        /// The object path.
        path: String,
    },

    /// The data directory is held by another [`DirectoryStore`](super::DirectoryStore), in this
    /// process or another: two writers on one log would fork it.
    #[error(
        "data directory {} is already in use by another process (or another open handle in this one)",
        dir.display()
    )]
    AlreadyOpen {
        /// The data directory.
        dir: PathBuf,
    },

    /// A file-system operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("write temporary file", "fsync directory", …).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The trusted-state database failed.
    #[error("trusted state database, {op}: {source}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// redb's error.
        #[source]
        source: redb::Error,
    },

    /// The blocking task doing the I/O panicked or was cancelled by a runtime shutdown.
    #[error("storage task did not complete: {0}")]
    TaskFailed(#[source] tokio::task::JoinError),

    /// A test fault injected by `fault::FaultInjecting`; `persisted` says whether the write
    /// took effect before the error was returned.
    #[error("injected fault on {operation} (persisted: {persisted})")]
    InjectedFault {
        /// The kind of write that failed.
        operation: &'static str,
        /// Whether the write took effect.
        persisted: bool,
    },

    /// `fault::FaultInjecting` simulated a crash; every operation fails until it is reopened.
    #[error("storage crashed (injected); reopen it to continue")]
    Crashed,
}

/// [`TrustedState::compare_and_swap_checkpoint`](super::TrustedState::compare_and_swap_checkpoint)
/// failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CasError {
    /// The stored checkpoint is not the expected one: another writer moved the log, or this
    /// process is stale. Nothing was written. The sequencer must stop.
    #[error(
        "checkpoint compare-and-swap mismatch: the trusted state holds {}",
        describe(current.as_deref())
    )]
    Mismatch {
        /// What the trusted state holds now (`None`: no checkpoint yet).
        current: Option<Vec<u8>>,
    },

    /// The storage failed; the swap may or may not have happened.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn describe(checkpoint: Option<&[u8]>) -> String {
    match checkpoint {
        None => "no checkpoint".to_owned(),
        // A checkpoint is a signed note: its first two lines (origin, tree size) identify it.
        Some(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let head: Vec<&str> = text.lines().take(2).collect();
            format!(
                "a checkpoint of {} bytes ({:?})",
                bytes.len(),
                head.join(" ")
            )
        }
    }
}
