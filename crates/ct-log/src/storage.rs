//! Crash-safe storage of the CT log, in two halves (DESIGN.md "CT log"; spec/ct-log.md §2.4).
//!
//! - [`ObjectStore`]: the public, untrusted half. It holds what static-ct-api readers fetch
//!   (`checkpoint`, `tile/…`, `tile/data/…`, `issuer/<hex>`) and the sequencer's internal
//!   staging bundles (`staging/<size>-<root hex>`). Every successful `put` is durable; immutable
//!   objects are write-once.
//! - [`TrustedState`]: the small, strongly consistent half. It holds the latest checkpoint,
//!   changed only by compare-and-swap so that no two writers (or a stale process) can fork the
//!   log, and the loss-tolerant dedup index.
//!
//! # How the sequencer uses it (one batch, after Sunlight's protocol)
//!
//! 1. compute the batch's tiles and the new signed checkpoint in memory;
//! 2. `put` a [`StagingBundle`] of every new immutable object at [`staging_path`] (durable);
//! 3. [`TrustedState::compare_and_swap_checkpoint`] old → new; any error here is fatal;
//! 4. `put` the tiles and issuers ([`PutMode::Immutable`]) — [`StagingBundle::apply`] does it;
//! 5. `put` [`CHECKPOINT_PATH`] ([`PutMode::Mutable`]);
//! 6. [`TrustedState::put_dedup`] the batch's entries;
//! 7. answer the waiters.
//!
//! Recovery on start-up reads [`TrustedState::load_checkpoint`]; if the public objects lag it
//! (a crash between 3 and 5), it re-applies the staging bundle of that tree size and rewrites
//! the public checkpoint. The trusted checkpoint never moves backwards.
//!
//! # Implementations
//!
//! - [`DirectoryStore`]: the default, one data directory (files written temp → fsync → rename
//!   → fsync directory, plus a redb database for the trusted state).
//! - [`MemoryStore`]: in-process, for tests and throw-away logs.
//! - `fault::FaultInjecting` (feature `testing`): wraps either to fail or "crash" chosen writes.

mod directory;
mod error;
#[cfg(any(test, feature = "testing"))]
pub mod fault;
mod memory;
mod object_path;
mod object_store;
mod staging;
mod trusted_state;

pub use directory::DirectoryStore;
pub use error::{CasError, StorageError};
pub use memory::MemoryStore;
pub use object_path::{CHECKPOINT_PATH, issuer_path, staging_path, validate_object_path};
pub use object_store::{ObjectStore, PutMode};
pub use staging::{StagedObject, StagingBundle, StagingBundleError};
pub use trusted_state::{DedupKey, DedupValue, TrustedState};

use std::future::Future;
use std::pin::Pin;

/// The boxed future every storage method returns: boxing keeps the traits object-safe, so the
/// sequencer and the HTTP layer hold `Arc<dyn ObjectStore>` and `Arc<dyn TrustedState>`.
pub type StorageFuture<'a, T, E = StorageError> =
    Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>;
