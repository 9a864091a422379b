//! The sequencer: one task per log that commits the submission pool in batches (group commit,
//! DESIGN.md "CT log"; spec/ct-log.md §2.3 and §5 "Sunlight's approach").
//!
//! **Collecting a pass.** A pass starts with the first submission in the pool and takes
//! everything already queued behind it; it then keeps waiting only while submissions keep
//! coming, and closes as soon as the pool has been quiet for an idle gap of `max_delay / 16`
//! (1.56 ms at the default 25 ms), or when it holds `max_entries`, or `max_delay` after its
//! first submission, whichever comes first. `max_entries` and `max_delay` are upper bounds:
//! a lone submission is committed after one idle gap instead of the whole `max_delay`. Under
//! load, closing early costs little batching: while one pass commits (a few ms of fsyncs), the
//! next pass's submissions queue up and join it at once (docs/performance.md, "Closing batches
//! early"). The gap scales with `max_delay` so that a long `max_delay` still groups
//! submissions that trickle in (tests close passes by count alone with a one-hour delay).
//!
//! A pass then does, in this order:
//!
//! 1. puts the **staging bundle** (every new tile and issuer) at `staging/<size>-<root>`;
//! 2. **compare-and-swaps the checkpoint** in the trusted state: this is the commit point;
//! 3. puts the tiles and `issuer/<hex>` objects, and deletes the previous pass's staging
//!    bundle (only the trusted checkpoint's own bundle is ever read), all concurrently;
//! 4. puts the public `checkpoint`;
//! 5. records the dedup and leaf-hash index entries;
//! 6. answers the waiters with their SCTs (signed while the pass was computed, before any
//!    write, so a signing failure leaves nothing behind; released only now).
//!
//! **Passes overlap.** Steps (3)–(6) run as their own task once a pass is committed, while the
//! sequencer collects, builds and stages the next pass on the committed tree; the next pass's
//! commit point waits for that task to end. So checkpoints are still swapped and published in
//! order, and at most one committed pass is unpublished at any time. If the publishing fails,
//! the next pass (staged or not) first runs the open-time recovery, which restores the failed
//! pass's objects from its staging bundle; a pass already staged then commits if recovery
//! finds the tree it was built on.
//!
//! Why this order: an SCT is a promise to include the entry, so none is released before the
//! commit point (2). The swap happens only once the staging bundle is durable (1), so whatever
//! a crash interrupts in (3)–(5), recovery finds every object of the committed tree in the
//! bundle. The public checkpoint (4) follows the tiles (3) so readers never see a checkpoint
//! whose tiles are missing. Dedup entries (5) come last: losing them only costs a duplicate
//! entry on resubmission, never an SCT for an entry that is not in the log; and recovery
//! re-records the last pass's entries from its bundle (a directory store makes them durable
//! only with the next swap).
//!
//! Failures: before (2) the tree did not grow, the pass's waiters get `Unavailable` and its
//! in-memory state is dropped (a stray staging bundle is harmless: it is named by size and root and
//! only read for the trusted checkpoint's; such strays are not deleted). A swap failing with a
//! storage error may or may not have been applied, and failures after (2), retried a few times,
//! leave a committed tree with missing objects: in both cases the waiters get `Unavailable` and the
//! next pass first re-runs the open-time recovery (see "Passes overlap" for a pass already staged).
//! A swap mismatch means another writer: the sequencer stops committing for good.

mod batch;
pub(crate) mod edge;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use ct_core::leaf_index::encode_leaf_index_extension;
use ct_core::sign_sct;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use self::batch::{Batch, BatchError};
use self::edge::{Edge, WithTilesError, now_millis, recover};
use crate::log::{AddError, AddResult, LogConfig, LogError};
use crate::storage::{
    CHECKPOINT_PATH, CasError, DedupKey, DedupValue, ObjectStore, PutMode, StorageError,
    TrustedState, staging_path,
};
use crate::submission::ValidatedSubmission;

/// A pass stops waiting for more submissions once none arrived for `max_delay` divided by
/// this (1.5625 ms at the default 25 ms; module doc, "Collecting a pass").
const IDLE_GAP_DIVISOR: u32 = 16;

/// How many times the writes after the commit point are tried before recovery takes over.
const POST_COMMIT_ATTEMPTS: usize = 3;

/// The answer a waiter receives.
pub(crate) type Reply = Result<AddResult, AddError>;

/// A submission waiting in the pool.
pub(crate) struct Job {
    pub(crate) submission: ValidatedSubmission,
    pub(crate) reply: oneshot::Sender<Reply>,
}

/// Submissions in the pool or in a pass, by dedup key, with the later identical submissions
/// waiting on them (they get the same SCT, marked duplicate).
#[derive(Default)]
pub(crate) struct Pending {
    waiting: Mutex<HashMap<DedupKey, Vec<oneshot::Sender<Reply>>>>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DedupKey, Vec<oneshot::Sender<Reply>>>> {
        // Every critical section leaves the map consistent.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// If `key` is pending, registers a follower and returns its receiver.
    pub(crate) fn follow(&self, key: &DedupKey) -> Option<oneshot::Receiver<Reply>> {
        let mut waiting = self.lock();
        let followers = waiting.get_mut(key)?;
        let (tx, rx) = oneshot::channel();
        followers.push(tx);
        Some(rx)
    }

    /// Claims `key` unless it is pending (then follows it); runs `enqueue` under the lock so a
    /// claim exists exactly while its job is queued or in a pass.
    pub(crate) fn claim_or_follow(
        &self,
        key: DedupKey,
        enqueue: impl FnOnce() -> Result<(), AddError>,
    ) -> Result<Option<oneshot::Receiver<Reply>>, AddError> {
        let mut waiting = self.lock();
        if let Some(followers) = waiting.get_mut(&key) {
            let (tx, rx) = oneshot::channel();
            followers.push(tx);
            return Ok(Some(rx));
        }
        enqueue()?;
        waiting.insert(key, Vec::new());
        Ok(None)
    }

    /// Answers `job` and every follower of its key.
    fn answer(&self, job: Job, reply: Reply) {
        let followers = self
            .lock()
            .remove(&job.submission.dedup_key)
            .unwrap_or_default();
        for follower in followers {
            let copy = match &reply {
                Ok(result) => Ok(AddResult {
                    duplicate: true,
                    ..result.clone()
                }),
                Err(err) => Err(AddError::Unavailable(err.to_string())),
            };
            // A follower that gave up (dropped its receiver) needs no answer.
            let _ = follower.send(copy);
        }
        let _ = job.reply.send(reply);
    }
}

/// Re-signs the SCT of an entry already in the log (dedup hit): same entry, timestamp and
/// `leaf_index` extension as the logged one, so it verifies against the same leaf.
pub(crate) fn duplicate_result(
    config: &LogConfig,
    submission: &ValidatedSubmission,
    value: DedupValue,
) -> Reply {
    let extensions = encode_leaf_index_extension(value.leaf_index)
        .map_err(|err| AddError::Unavailable(format!("dedup entry: {err}")))?;
    let sct = sign_sct(
        &submission.entry,
        value.timestamp,
        &extensions,
        &config.signing_key,
    )
    .map_err(|err| AddError::Unavailable(format!("signing an SCT: {err}")))?;
    Ok(AddResult {
        sct,
        leaf_index: value.leaf_index,
        duplicate: true,
    })
}

/// The sequencer's state between passes.
enum Health {
    /// `edge` is the committed tree.
    Ready(Edge),
    /// A pass may have left the storage ahead of memory: recover before the next pass.
    NeedsRecovery,
    /// Another writer swapped the checkpoint: never commit again.
    Stopped(String),
}

/// The sequencer task.
pub(crate) struct Sequencer {
    pub(crate) config: Arc<LogConfig>,
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) state: Arc<dyn TrustedState>,
    pub(crate) pending: Arc<Pending>,
    pub(crate) jobs: mpsc::Receiver<Job>,
}

impl Sequencer {
    /// Runs passes until every sender of the pool is gone and the pool is drained.
    pub(crate) async fn run(mut self, edge: Edge) {
        let mut health = Health::Ready(edge);
        let mut publishing = Publishing::default();
        let max_entries = self.config.batch.max_entries.max(1);
        let max_delay = self.config.batch.max_delay;
        let idle_gap = max_delay / IDLE_GAP_DIVISOR;
        while let Some(first) = self.jobs.recv().await {
            let started = Instant::now();
            let deadline = started + max_delay;
            let jobs = self.collect(first, max_entries, deadline, idle_gap).await;
            crate::metrics::phase("collect", started.elapsed());
            metrics::histogram!(crate::metrics::PASS_ENTRIES).record(jobs.len() as f64);
            health = self.pass(health, jobs, &mut publishing).await;
        }
        // Every waiter is answered before the sequencer ends.
        publishing.settle().await;
    }

    /// Collects one pass: `first`, everything already queued, then each further submission
    /// that arrives within `idle_gap` of the previous one; never more than `max_entries`, and
    /// no waiting past `deadline`.
    async fn collect(
        &mut self,
        first: Job,
        max_entries: usize,
        deadline: Instant,
        idle_gap: Duration,
    ) -> Vec<Job> {
        let mut jobs = vec![first];
        loop {
            // What is already queued joins without waiting.
            while jobs.len() < max_entries {
                match self.jobs.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if jobs.len() >= max_entries || now >= deadline {
                return jobs;
            }
            // The pool is empty: wait for one more, but only while the pool is still busy.
            match tokio::time::timeout_at((now + idle_gap).min(deadline), self.jobs.recv()).await {
                Ok(Some(job)) => jobs.push(job),
                // Quiet for `idle_gap`, `deadline` reached, or every sender gone.
                Ok(None) | Err(_) => return jobs,
            }
        }
    }

    /// Answers every job of a failed pass. Each failed pass ends here exactly once.
    fn fail_all(&self, jobs: Vec<Job>, why: &str) {
        fail_all(&self.pending, jobs, why);
    }

    async fn recover(&self) -> Result<Edge, LogError> {
        let edge = recover(&self.config, &*self.objects, &*self.state).await;
        match &edge {
            Ok(edge) => tracing::info!(tree_size = edge.tree_size, "sequencer recovered"),
            Err(err) => tracing::error!(error = %err, "sequencer recovery failed"),
        }
        edge
    }

    async fn pass(&self, health: Health, jobs: Vec<Job>, publishing: &mut Publishing) -> Health {
        // A previous pass that has finished publishing is settled first, so that its failure
        // means recovering before this pass rather than failing it.
        let health = match health {
            Health::Ready(edge) if publishing.is_finished() => match publishing.settle().await {
                Published::Yes => Health::Ready(edge),
                Published::No => Health::NeedsRecovery,
            },
            other => other,
        };
        let edge = match health {
            Health::Ready(edge) => edge,
            Health::Stopped(why) => {
                self.fail_all(jobs, &why);
                return Health::Stopped(why);
            }
            Health::NeedsRecovery => {
                publishing.settle().await;
                match self.recover().await {
                    Ok(edge) => edge,
                    Err(err) => {
                        self.fail_all(jobs, &format!("log recovery failed: {err}"));
                        return Health::NeedsRecovery;
                    }
                }
            }
        };
        self.sequence(edge, jobs, publishing).await
    }

    /// Steps (1) and (2) of a pass over `edge`, then (3)–(6) started in `publishing`.
    ///
    /// The previous pass may still be publishing while this one is built and staged: its
    /// tree is committed and `edge` already describes it. This pass's commit point waits for
    /// that publishing to end, so checkpoints are swapped and published in order, and a
    /// staging bundle is deleted only after the pass that follows it has published.
    async fn sequence(
        &self,
        mut edge: Edge,
        jobs: Vec<Job>,
        publishing: &mut Publishing,
    ) -> Health {
        let mut phase_start = Instant::now();
        let mut end_phase = |name: &'static str| {
            let now = Instant::now();
            crate::metrics::phase(name, now - phase_start);
            phase_start = now;
        };
        let mut batch = match self.build(&mut edge, &jobs, publishing).await {
            Ok(batch) => batch,
            Err(why) => {
                tracing::error!(error = %why, "building a sequencing pass failed");
                self.fail_all(jobs, &why);
                // Nothing was written; only the tile cache may have grown. A previous pass
                // that failed to publish is noticed by the next pass.
                return Health::Ready(edge);
            }
        };

        // (1) The staging bundle, durable before the commit point.
        let staged = match batch.staging_bundle() {
            Ok(bundle) => bundle.encode(),
            Err(err) => {
                self.fail_all(jobs, &format!("staging bundle: {err}"));
                return Health::Ready(edge);
            }
        };
        let staging = staging_path(batch.new_size, &batch.root);
        end_phase("build");
        if let Err(err) = self.objects.put(&staging, staged, PutMode::Immutable).await {
            tracing::error!(error = %err, "writing the staging bundle failed");
            self.fail_all(jobs, &format!("writing the staging bundle: {err}"));
            return Health::Ready(edge);
        }
        end_phase("stage");

        // The previous pass must have published before this one commits. If it failed, its
        // objects are restored from its staging bundle by recovery; this pass was built on the
        // same committed tree, so it goes on if recovery finds exactly that tree.
        if publishing.settle().await == Published::No {
            match self.recover().await {
                Ok(recovered)
                    if recovered.tree_size == edge.tree_size
                        && recovered.checkpoint == edge.checkpoint => {}
                Ok(recovered) => {
                    self.fail_all(
                        jobs,
                        "the log's committed tree changed during the pass; try again",
                    );
                    return Health::Ready(recovered);
                }
                Err(err) => {
                    self.fail_all(jobs, &format!("log recovery failed: {err}"));
                    return Health::NeedsRecovery;
                }
            }
        }

        // (2) The commit point.
        match self
            .state
            .compare_and_swap_checkpoint(Some(&edge.checkpoint), batch.checkpoint.as_bytes())
            .await
        {
            Ok(()) => {}
            Err(CasError::Mismatch { .. }) => {
                let why = "the trusted checkpoint was changed by another writer; \
                           the sequencer stopped"
                    .to_owned();
                tracing::error!("{why}");
                self.fail_all(jobs, &why);
                return Health::Stopped(why);
            }
            Err(err) => {
                // The swap may have been applied: only recovery can tell.
                tracing::error!(error = %err, "checkpoint swap failed");
                self.fail_all(jobs, &format!("checkpoint swap: {err}"));
                return Health::NeedsRecovery;
            }
        }
        end_phase("commit");

        // The pass is committed: the next one builds on it while this one publishes.
        // The previous checkpoint's bundle is no longer needed once this one is committed:
        // recovery only ever reads the trusted checkpoint's own bundle.
        let previous_staging =
            (edge.tree_size > 0).then(|| staging_path(edge.tree_size, &edge.root));
        edge.tree_size = batch.new_size;
        edge.root = batch.root;
        edge.timestamp = batch.timestamp;
        edge.checkpoint = batch.checkpoint.clone().into_bytes();
        edge.partial_data = std::mem::take(&mut batch.partial_data);
        edge.issuers.extend(batch.new_issuers.drain(..));
        edge.tiles.extend(batch.hash_tiles.drain(..));
        edge.prune_tiles();
        publishing.start(Publication {
            objects: self.objects.clone(),
            state: self.state.clone(),
            pending: self.pending.clone(),
            batch,
            jobs,
            previous_staging,
            committed_at: phase_start,
        });
        Health::Ready(edge)
    }

    /// Computes a pass in memory (no writes). Tiles missing from the edge's cache are read
    /// only once the previous pass has published (they may be among its writes).
    async fn build(
        &self,
        edge: &mut Edge,
        jobs: &[Job],
        publishing: &mut Publishing,
    ) -> Result<Batch, String> {
        let submissions: Vec<&ValidatedSubmission> =
            jobs.iter().map(|job| &job.submission).collect();
        // One timestamp for the pass, never below the previous checkpoint's (RFC 6962 §3.5
        // timestamps of successive tree heads do not go back).
        let timestamp = now_millis().max(edge.timestamp);
        let leaves = batch::leaves(edge, &submissions, timestamp).map_err(|e| e.to_string())?;
        let (tiles, root) = match batch::tree(edge, &leaves) {
            Ok(computed) => computed,
            Err(edge::Needs::Failed(err)) => return Err(err.to_string()),
            Err(edge::Needs::Tiles(_)) => {
                if publishing.settle().await == Published::No {
                    return Err("the previous pass could not be published".to_owned());
                }
                edge.with_tiles(&*self.objects, |edge| batch::tree(edge, &leaves))
                    .await
                    .map_err(|err: WithTilesError<BatchError>| err.to_string())?
            }
        };
        batch::finish(
            edge,
            &submissions,
            leaves,
            tiles,
            root,
            &self.config.origin,
            &self.config.signing_key,
        )
        .map_err(|e| e.to_string())
    }
}

fn fail_all(pending: &Pending, jobs: Vec<Job>, why: &str) {
    metrics::counter!(crate::metrics::PASSES_TOTAL, "outcome" => "failed").increment(1);
    for job in jobs {
        pending.answer(job, Err(AddError::Unavailable(why.to_owned())));
    }
}

/// Whether a committed pass published (steps 3–5) and answered its waiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Published {
    Yes,
    /// Its waiters got `Unavailable`; recovery must restore its objects before the next commit.
    No,
}

/// The committed pass that is publishing, if any: at most one at a time.
#[derive(Default)]
struct Publishing(Option<tokio::task::JoinHandle<Published>>);

impl Publishing {
    fn start(&mut self, publication: Publication) {
        debug_assert!(self.0.is_none(), "one pass publishes at a time");
        self.0 = Some(tokio::spawn(publication.run()));
    }

    fn is_finished(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished)
    }

    /// Waits for the publishing pass, if any. [`Published::Yes`] when there is none.
    async fn settle(&mut self) -> Published {
        match self.0.take() {
            None => Published::Yes,
            Some(task) => task.await.unwrap_or_else(|err| {
                // Its waiters' senders were dropped with the task: they get `Unavailable`.
                tracing::error!(error = %err, "publishing a committed pass panicked");
                Published::No
            }),
        }
    }
}

/// Steps (3)–(6) of a committed pass, run as their own task.
struct Publication {
    objects: Arc<dyn ObjectStore>,
    state: Arc<dyn TrustedState>,
    pending: Arc<Pending>,
    batch: Batch,
    jobs: Vec<Job>,
    previous_staging: Option<String>,
    committed_at: Instant,
}

impl Publication {
    async fn run(mut self) -> Published {
        if let Err(err) = self.publish().await {
            tracing::error!(error = %err, tree_size = self.batch.new_size,
                "publishing a committed pass failed; recovering before the next pass");
            fail_all(
                &self.pending,
                self.jobs,
                &format!("publishing the committed tree: {err}"),
            );
            return Published::No;
        }
        crate::metrics::phase("publish", self.committed_at.elapsed());
        let entries = self.jobs.len() as u64;
        metrics::counter!(crate::metrics::ENTRIES_TOTAL).increment(entries);
        metrics::counter!(crate::metrics::PASSES_TOTAL, "outcome" => "committed").increment(1);
        metrics::gauge!(crate::metrics::TREE_SIZE).set(self.batch.new_size as f64);

        // (6) Answer.
        let scts = std::mem::take(&mut self.batch.scts);
        for (job, (sct, leaf_index)) in self.jobs.into_iter().zip(scts) {
            self.pending.answer(
                job,
                Ok(AddResult {
                    sct,
                    leaf_index,
                    duplicate: false,
                }),
            );
        }
        Published::Yes
    }

    /// Steps (3)–(5), each retried a few times.
    async fn publish(&self) -> Result<(), StorageError> {
        let batch = &self.batch;
        // (3) Tiles and issuers, immutable: a retry or a recovery rewriting identical bytes
        // is a no-op. The previous pass's staging bundle goes too, so bundles do not pile up.
        // These writes are independent (the staging bundle holds them all, and readers only
        // follow the public checkpoint of step 4), so they run concurrently: a pass pays for
        // one round of fsyncs instead of one per object. Every write is awaited, failed or
        // not, before a retry or the recovery that follows a failure, so none of them is
        // still running on the blocking pool when those start.
        retry(|| async {
            let puts = batch
                .objects
                .iter()
                .map(|(path, bytes)| self.objects.put(path, bytes.clone(), PutMode::Immutable));
            let delete = async {
                match &self.previous_staging {
                    Some(previous) => self.objects.delete(previous).await,
                    None => Ok(()),
                }
            };
            let (puts, delete) = tokio::join!(futures::future::join_all(puts), delete);
            first_error(puts.into_iter().chain(std::iter::once(delete)))
        })
        .await?;
        // (4) The public checkpoint, only once every tile it covers is in place.
        retry(|| {
            self.objects.put(
                CHECKPOINT_PATH,
                Bytes::from(batch.checkpoint.clone()),
                PutMode::Mutable,
            )
        })
        .await?;
        // (5) Dedup and leaf-hash index entries.
        retry(|| self.state.put_dedup(&batch.dedup)).await
    }
}

/// The outcome of several writes that all ran: the first error, except that a crashed storage
/// wins (it makes [`retry`] stop at once).
fn first_error(
    results: impl IntoIterator<Item = Result<(), StorageError>>,
) -> Result<(), StorageError> {
    let mut first = None;
    for result in results {
        match result {
            Ok(()) => {}
            Err(StorageError::Crashed) => return Err(StorageError::Crashed),
            Err(err) => {
                first.get_or_insert(err);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

async fn retry<F, Fut>(mut attempt: F) -> Result<(), StorageError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StorageError>>,
{
    let mut last = None;
    for _ in 0..POST_COMMIT_ATTEMPTS {
        match attempt().await {
            Ok(()) => return Ok(()),
            // A crashed storage fails every call until restarted: retrying is pointless.
            Err(StorageError::Crashed) => return Err(StorageError::Crashed),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or(StorageError::Crashed))
}
