//! The log: open/recovery, submission, and the handle the HTTP layer serves from.
//!
//! A submission is validated ([`submission::validate`]), looked up in the dedup index, and
//! queued into a bounded pool; one sequencer task per log commits the pool in batches (group
//! commit, DESIGN.md "CT log", spec/ct-log.md §2.3) and answers every waiter with its SCT only
//! once the batch's checkpoint is durable in the trusted state.
//!
//! # Index of leaf hashes
//!
//! Besides the dedup entries (`SHA-256(chain[0] DER)` → `{leaf_index, timestamp}`), every
//! committed entry is also recorded under its Merkle leaf hash (`SHA-256(0x00 ‖
//! MerkleTreeLeaf)`, RFC 6962 §2.1) in the same table, for `get-proof-by-hash` (RFC 6962
//! §4.5): look it up with `trusted_state().get_dedup(&leaf_hash)`. The two key spaces share
//! the table safely: their inputs always differ (a DER certificate starts with `0x30`, a leaf
//! hash input with `0x00`), so a clash would be a SHA-256 collision.
//!
//! Both kinds of entry are written after the commit (sequencer step 5). A pass that failed
//! after its commit leaves its entries in the tree but not in the index: a resubmission then
//! logs the certificate again (harmless in CT), and `get-proof-by-hash` does not find the
//! earlier copy (its tiles still prove it).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ct_core::{LogPublicKey, LogSigningKey, SignedCertificateTimestamp};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::sequencer::edge::recover;
use crate::sequencer::{Job, Pending, Sequencer, duplicate_result};
use crate::storage::{ObjectStore, TrustedState};
use crate::submission::{self, SubmissionError, SubmissionKind};

/// The `Retry-After` suggested when the pool is full: long enough for several passes.
const POOL_FULL_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a log needs besides its storage.
pub struct LogConfig {
    /// The checkpoint origin line (static-ct-api "Checkpoints"; also the note key name).
    pub origin: String,
    /// The log's signing key (SCTs, tree heads, checkpoints).
    pub signing_key: LogSigningKey,
    /// Accepted roots (RFC 6962 §4.1, `get-roots`).
    pub roots: submission::Roots,
    /// Chain validation policy.
    pub policy: submission::ValidationPolicy,
    /// Group commit limits.
    pub batch: BatchConfig,
}

/// Group commit limits (DESIGN.md "CT log": up to N entries or T ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// N: the most entries one sequencing pass commits.
    pub max_entries: usize,
    /// T: the longest a pass waits after its first entry for more. It closes sooner once no
    /// submission has arrived for `max_delay / 16` (see the sequencer), so a lone client does
    /// not wait the whole of it.
    pub max_delay: Duration,
    /// The most submissions that may wait for sequencing; beyond it `add` answers
    /// [`AddError::PoolFull`] (Sunlight's pool cap, spec/ct-log.md §2.3).
    pub max_pending: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_entries: 512,
            max_delay: Duration::from_millis(25),
            max_pending: 20_000,
        }
    }
}

/// The answer to an accepted submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddResult {
    /// The SCT (RFC 6962 §3.2) with the static-ct-api `leaf_index` extension.
    pub sct: SignedCertificateTimestamp,
    /// The entry's index in the tree.
    pub leaf_index: u64,
    /// Whether the same `chain[0]` was already logged (or pending); the SCT then names the
    /// existing entry.
    pub duplicate: bool,
}

/// Why `add` did not produce an SCT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The chain was refused (RFC 6962 §4.1: 400 Bad Request).
    #[error(transparent)]
    Submission(#[from] SubmissionError),
    /// Too many submissions are waiting; retry later (503 with `Retry-After`).
    #[error("the log is busy: too many pending submissions; retry in {retry_after:?}")]
    PoolFull {
        /// Suggested wait before retrying.
        retry_after: Duration,
    },
    /// Sequencing failed or the log is shutting down (503); the detail is for the server log.
    #[error("the log is unavailable: {0}")]
    Unavailable(String),
}

impl AddError {
    /// The HTTP status for this error (RFC 6962 §4; 503 for overload and outages).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Submission(_) => 400,
            Self::PoolFull { .. } | Self::Unavailable(_) => 503,
        }
    }
}

/// Why a log could not be opened (or recovered).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The object store or trusted state failed.
    #[error("log storage: {0}")]
    Storage(#[from] crate::storage::StorageError),
    /// The trusted state changed under us (another writer).
    #[error("log trusted state: {0}")]
    Cas(#[from] crate::storage::CasError),
    /// The stored checkpoint is not ours: wrong key or origin, or unparseable.
    #[error("the stored checkpoint does not verify with this log's key and origin: {0}")]
    Checkpoint(#[source] ct_core::CtError),
    /// The stored state is inconsistent (missing tiles without a staging bundle, a root that
    /// does not match the tiles, ...).
    #[error("the log's stored state is corrupt: {0}")]
    Corrupt(String),
    /// Building or signing a structure failed.
    #[error("log encoding or signing: {0}")]
    Encoding(#[source] ct_core::CtError),
}

/// A running log. Cheap to share as `Arc<Log>`.
pub struct Log {
    config: Arc<LogConfig>,
    objects: Arc<dyn ObjectStore>,
    state: Arc<dyn TrustedState>,
    pending: Arc<Pending>,
    /// The pool's sending side; `None` once shutting down.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    sequencer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Log {
    /// Opens the log over its storage, creating an empty log or recovering a crashed one.
    pub async fn open(
        config: LogConfig,
        objects: Arc<dyn ObjectStore>,
        state: Arc<dyn TrustedState>,
    ) -> Result<Log, LogError> {
        let edge = recover(&config, &*objects, &*state).await?;
        let config = Arc::new(config);
        let pending = Arc::new(Pending::default());
        // The channel's bound is the pool cap: `try_send` refuses beyond it.
        let (sender, receiver) = mpsc::channel(config.batch.max_pending.max(1));
        let sequencer = Sequencer {
            config: config.clone(),
            objects: objects.clone(),
            state: state.clone(),
            pending: pending.clone(),
            jobs: receiver,
        };
        let task = tokio::spawn(sequencer.run(edge));
        Ok(Log {
            config,
            objects,
            state,
            pending,
            jobs: Mutex::new(Some(sender)),
            sequencer: tokio::sync::Mutex::new(Some(task)),
        })
    }

    /// Validates and logs a chain (RFC 6962 §4.1 `add-chain`, §4.2 `add-pre-chain`), returning
    /// its SCT once the entry is durable.
    pub async fn add(
        &self,
        kind: SubmissionKind,
        chain: Vec<Vec<u8>>,
    ) -> Result<AddResult, AddError> {
        let config = &self.config;
        // Validation is a few signature checks: cheap enough to run inline.
        let submission = submission::validate(kind, chain, &config.roots, &config.policy)?;
        let key = submission.dedup_key;
        // Pending first, then the index: an entry leaves the pending set only after its dedup
        // entry is written, so one of the two lookups finds any earlier submission that has
        // been committed or is about to be.
        if let Some(follower) = self.pending.follow(&key) {
            return receive(follower).await;
        }
        if let Some(value) = self
            .state
            .get_dedup(&key)
            .await
            .map_err(|err| AddError::Unavailable(format!("dedup lookup: {err}")))?
        {
            return duplicate_result(config, &submission, value);
        }
        self.enqueue(submission).await
    }

    /// [`add`](Self::add) for a chain the caller has just signed itself: the CA this log is
    /// embedded in, submitting the precertificate it is about to turn into a certificate.
    ///
    /// Two steps of `add` are skipped because they cannot change the outcome for such a chain
    /// and are the most expensive ones besides the SCT signature:
    /// - verifying the chain's signatures ([`submission::validate_own`]; every other check
    ///   still runs, so a misconfigured CA is still refused with the same errors);
    /// - looking the certificate up in the dedup index: a certificate the caller has just
    ///   signed, with a fresh random serial number, cannot have been logged before. A
    ///   concurrent identical submission is still joined while it is pending, and the entry is
    ///   recorded in the index after its commit as usual, so a later resubmission through
    ///   [`add`](Self::add) gets the same SCT.
    ///
    /// Never pass a chain received from elsewhere: it would be logged without its signatures
    /// checked.
    pub async fn add_own(
        &self,
        kind: SubmissionKind,
        chain: Vec<Vec<u8>>,
    ) -> Result<AddResult, AddError> {
        let config = &self.config;
        let submission = submission::validate_own(kind, chain, &config.roots, &config.policy)?;
        // `enqueue` joins an identical pending submission itself; with no index lookup in
        // between there is nothing to check first.
        self.enqueue(submission).await
    }

    /// Queues a validated submission, or joins an identical one that is pending, and waits
    /// for its SCT.
    async fn enqueue(
        &self,
        submission: submission::ValidatedSubmission,
    ) -> Result<AddResult, AddError> {
        let key = submission.dedup_key;
        let sender = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| AddError::Unavailable("the log is shutting down".to_owned()))?;
        let (reply, answer) = oneshot::channel();
        let job = Job { submission, reply };
        let follower = self.pending.claim_or_follow(key, || {
            sender.try_send(job).map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => {
                    metrics::counter!(crate::metrics::POOL_FULL_TOTAL).increment(1);
                    AddError::PoolFull {
                        retry_after: POOL_FULL_RETRY_AFTER,
                    }
                }
                mpsc::error::TrySendError::Closed(_) => {
                    AddError::Unavailable("the sequencer has stopped".to_owned())
                }
            })
        })?;
        receive(follower.unwrap_or(answer)).await
    }

    /// The log's public key.
    pub fn public_key(&self) -> &LogPublicKey {
        self.config.signing_key.public_key()
    }

    /// The checkpoint origin.
    pub fn origin(&self) -> &str {
        &self.config.origin
    }

    /// Accepted roots.
    pub fn roots(&self) -> &submission::Roots {
        &self.config.roots
    }

    /// Chain validation policy.
    pub fn policy(&self) -> &submission::ValidationPolicy {
        &self.config.policy
    }

    /// The object store the read path serves from.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// The trusted state (checkpoint, dedup and leaf-hash index).
    pub fn trusted_state(&self) -> &Arc<dyn TrustedState> {
        &self.state
    }

    /// Stops accepting submissions, answers every pending waiter, and stops the sequencer.
    ///
    /// Submissions already in the pool are still sequenced (and answered); later ones get
    /// [`AddError::Unavailable`].
    pub async fn shutdown(&self) {
        // Dropping the last sender lets the sequencer drain the pool and end.
        drop(
            self.jobs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(task) = self.sequencer.lock().await.take()
            && let Err(err) = task.await
        {
            tracing::error!(error = %err, "the sequencer task failed");
        }
    }
}

async fn receive(
    answer: oneshot::Receiver<crate::sequencer::Reply>,
) -> Result<AddResult, AddError> {
    answer.await.unwrap_or_else(|_| {
        Err(AddError::Unavailable(
            "the sequencer has stopped".to_owned(),
        ))
    })
}
