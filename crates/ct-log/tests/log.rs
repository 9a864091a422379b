//! Black-box tests of the log: group commit, SCTs, inclusion of every entry, dedup, the pool
//! cap, restart (DESIGN.md "CT log"; RFC 6962 §3, static-ct-api).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod log_support;

use std::sync::Arc;
use std::time::Duration;

use ct_log::log::{AddError, BatchConfig, Log, LogError};
use ct_log::storage::fault::{FaultInjecting, WriteKind};
use ct_log::storage::{
    CasError, DedupKey, DedupValue, DirectoryStore, MemoryStore, ObjectStore, StorageFuture,
    TrustedState,
};
use ct_log::submission::SubmissionKind;
use log_support::{Fixture, add_all, add_all_own, by_count, check_log};
use tokio::sync::{Notify, Semaphore};

fn memory() -> (
    Arc<MemoryStore>,
    Arc<dyn ObjectStore>,
    Arc<dyn TrustedState>,
) {
    let store = Arc::new(MemoryStore::new());
    (store.clone(), store.clone(), store)
}

/// Opens a log over `objects` and `state` whose passes commit `max_entries` entries.
async fn open_log(
    fixture: &Fixture,
    max_entries: usize,
    objects: &Arc<dyn ObjectStore>,
    state: &Arc<dyn TrustedState>,
) -> Arc<Log> {
    Arc::new(
        Log::open(
            fixture.config(by_count(max_entries)),
            objects.clone(),
            state.clone(),
        )
        .await
        .unwrap(),
    )
}

/// Deletes every staging bundle, so a lost or altered tile cannot be restored from one.
async fn delete_staging_bundles(memory: &MemoryStore, objects: &dyn ObjectStore) {
    for path in memory.object_paths() {
        if path.starts_with("staging/") {
            objects.delete(&path).await.unwrap();
        }
    }
}

/// Opening a log on these stores fails with [`LogError::Corrupt`].
async fn assert_refuses_as_corrupt(
    fixture: &Fixture,
    objects: &Arc<dyn ObjectStore>,
    state: &Arc<dyn TrustedState>,
) {
    let err = Log::open(fixture.config(by_count(3)), objects.clone(), state.clone())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, LogError::Corrupt(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_are_all_included_with_valid_scts() {
    let fixture = Fixture::new();
    let (_, objects, state) = memory();
    let log = open_log(&fixture, 16, &objects, &state).await;
    let empty = check_log(&fixture, &*objects, &*state, &[], None).await;
    assert_eq!(empty.size, 0);

    // Three rounds of 48 (three passes each): 144 entries, a full data tile and a partial one.
    let mut answered = Vec::new();
    let mut seen = empty;
    for _ in 0..3 {
        let chains = fixture.precert_chains(48).await;
        let results = add_all(&log, &chains).await;
        for (chain, result) in chains.iter().zip(results) {
            let result = result.unwrap();
            assert!(!result.duplicate);
            answered.push((fixture.entry_of(chain), result));
        }
        seen = check_log(&fixture, &*objects, &*state, &answered, Some(seen)).await;
    }
    let mut indices: Vec<u64> = answered.iter().map(|(_, r)| r.leaf_index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..144).collect::<Vec<u64>>());
    assert_eq!(seen.size, 144);
    // Passes of 16 entries share a timestamp.
    for (entry, result) in &answered {
        ct_core::verify_sct(&result.sct, entry, log.public_key().spki_der()).unwrap();
    }
    log.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_is_one_checkpoint_and_slow_entries_one_each() {
    let fixture = Fixture::new();
    let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
    let log = Arc::new(
        Log::open(fixture.config(by_count(8)), store.clone(), store.clone())
            .await
            .unwrap(),
    );
    assert_eq!(store.write_count_of(WriteKind::CompareAndSwap), 1);
    let results = add_all(&log, &fixture.precert_chains(8).await).await;
    assert_eq!(store.write_count_of(WriteKind::CompareAndSwap), 2);
    let timestamps: Vec<u64> = results
        .iter()
        .map(|r| r.as_ref().unwrap().sct.timestamp)
        .collect();
    assert!(timestamps.iter().all(|t| *t == timestamps[0]));
    log.shutdown().await;

    // One entry at a time, with a zero delay: every pass commits alone.
    let config = fixture.config(BatchConfig {
        max_entries: 8,
        max_delay: Duration::ZERO,
        max_pending: 100,
    });
    let log = Log::open(config, store.clone(), store.clone())
        .await
        .unwrap();
    let mut last = 0;
    for (i, chain) in fixture.precert_chains(3).await.into_iter().enumerate() {
        let result = log.add(SubmissionKind::PreChain, chain).await.unwrap();
        assert_eq!(result.leaf_index, 8 + i as u64);
        assert!(result.sct.timestamp >= last);
        last = result.sct.timestamp;
        assert_eq!(
            store.write_count_of(WriteKind::CompareAndSwap),
            3 + i as u64
        );
    }
    log.shutdown().await;
    check_log(&fixture, &*store, &*store, &[], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_get_the_same_entry_and_the_log_does_not_grow() {
    let fixture = Fixture::new();
    let (_, objects, state) = memory();
    let log = open_log(&fixture, 2, &objects, &state).await;
    let chains = fixture.precert_chains(2).await;
    // A, A, B: the second A follows the pending one or hits the index.
    let results = add_all(
        &log,
        &[chains[0].clone(), chains[0].clone(), chains[1].clone()],
    )
    .await;
    let (a1, a2) = (results[0].as_ref().unwrap(), results[1].as_ref().unwrap());
    assert_eq!(a1.leaf_index, a2.leaf_index);
    assert_eq!(a1.sct.timestamp, a2.sct.timestamp);
    assert!(a1.duplicate != a2.duplicate, "exactly one is the original");
    let seen = check_log(&fixture, &*objects, &*state, &[], None).await;
    assert_eq!(seen.size, 2);

    // Later, from the index.
    let again = log
        .add(SubmissionKind::PreChain, chains[1].clone())
        .await
        .unwrap();
    let b = results[2].as_ref().unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (again.leaf_index, again.sct.timestamp, &again.sct.extensions),
        (b.leaf_index, b.sct.timestamp, &b.sct.extensions)
    );
    let entry = fixture.entry_of(&chains[1]);
    let answered = vec![(entry, again)];
    let after = check_log(&fixture, &*objects, &*state, &answered, Some(seen)).await;
    assert_eq!(after, seen);
    log.shutdown().await;
}

/// `add_own` (the embedding CA's own chains) logs like `add`: valid SCTs, every entry in the
/// tree, and the dedup index recorded so a later `add` of the same chain is a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_own_logs_like_add_and_records_the_index() {
    let fixture = Fixture::new();
    let (_, objects, state) = memory();
    let log = open_log(&fixture, 2, &objects, &state).await;
    let chains = fixture.precert_chains(2).await;
    let mut answered = Vec::new();
    for (chain, result) in chains.iter().zip(add_all_own(&log, &chains).await) {
        let result = result.unwrap();
        assert!(!result.duplicate);
        answered.push((fixture.entry_of(chain), result));
    }
    let seen = check_log(&fixture, &*objects, &*state, &answered, None).await;
    assert_eq!(seen.size, 2);

    let again = log
        .add(SubmissionKind::PreChain, chains[0].clone())
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.leaf_index, answered[0].1.leaf_index);
    assert_eq!(again.sct.timestamp, answered[0].1.sct.timestamp);

    // Structural checks still apply: a precertificate is not an add-chain entry.
    assert!(matches!(
        log.add_own(SubmissionKind::Chain, chains[1].clone()).await,
        Err(AddError::Submission(_))
    ));
    log.shutdown().await;
}

/// An object store whose tile writes can be held and then failed a given number of times,
/// to fail one pass's publishing while the next pass is already staged.
struct HeldTiles {
    inner: Arc<MemoryStore>,
    /// Writes still to fail, all of them to the first tile written once armed.
    failures: std::sync::atomic::AtomicUsize,
    target: std::sync::Mutex<Option<String>>,
    /// Failing tile writes wait for this first.
    release: tokio::sync::watch::Receiver<bool>,
    /// Signalled on every failing tile write and every staging bundle write.
    seen: Notify,
    staged: std::sync::atomic::AtomicUsize,
}

impl ObjectStore for HeldTiles {
    fn put<'a>(
        &'a self,
        path: &'a str,
        bytes: bytes::Bytes,
        mode: ct_log::storage::PutMode,
    ) -> StorageFuture<'a, ()> {
        use std::sync::atomic::Ordering::SeqCst;
        Box::pin(async move {
            if path.starts_with("staging/") {
                self.staged.fetch_add(1, SeqCst);
                self.seen.notify_waiters();
            }
            let fail = path.starts_with("tile/")
                && self.failures.load(SeqCst) > 0
                && self
                    .target
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| path.to_owned())
                    == path
                && self
                    .failures
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            if fail {
                self.seen.notify_waiters();
                let mut release = self.release.clone();
                release.wait_for(|released| *released).await.unwrap();
                return Err(ct_log::storage::StorageError::Io {
                    op: "test: held tile write",
                    path: path.into(),
                    source: std::io::Error::other("injected"),
                });
            }
            self.inner.put(path, bytes, mode).await
        })
    }

    fn get<'a>(&'a self, path: &'a str) -> StorageFuture<'a, Option<bytes::Bytes>> {
        self.inner.get(path)
    }

    fn delete<'a>(&'a self, path: &'a str) -> StorageFuture<'a, ()> {
        self.inner.delete(path)
    }
}

/// Passes overlap: while pass A publishes, pass B is built and staged. When A's publishing
/// fails, A's waiters get `Unavailable`, B recovers A's objects from A's staging bundle and
/// commits on top of it, and the stored log is whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_commits_after_the_previous_pass_failed_to_publish() {
    use std::sync::atomic::Ordering::SeqCst;
    let fixture = Fixture::new();
    let memory = Arc::new(MemoryStore::new());
    let (release_tx, release) = tokio::sync::watch::channel(false);
    let held = Arc::new(HeldTiles {
        inner: memory.clone(),
        failures: std::sync::atomic::AtomicUsize::new(0),
        target: std::sync::Mutex::new(None),
        release,
        seen: Notify::new(),
        staged: std::sync::atomic::AtomicUsize::new(0),
    });
    let objects: Arc<dyn ObjectStore> = held.clone();
    let state: Arc<dyn TrustedState> = memory.clone();
    let log = open_log(&fixture, 2, &objects, &state).await;
    let chains = fixture.precert_chains(6).await;
    let mut answered = Vec::new();
    for (chain, result) in chains[..2].iter().zip(add_all(&log, &chains[..2]).await) {
        answered.push((fixture.entry_of(chain), result.unwrap()));
    }

    // Pass A: one of its tile writes fails on each of the 3 attempts its publishing makes,
    // the first one held until pass B is staged. Recovery's write of that tile succeeds.
    held.failures.store(3, SeqCst);
    let seen = held.seen.notified();
    let pass_a = {
        let log = log.clone();
        let chains = chains[2..4].to_vec();
        tokio::spawn(async move { add_all(&log, &chains).await })
    };
    seen.await;
    // Pass B is built and staged while A is held.
    let staged_before = held.staged.load(SeqCst);
    let pass_b = {
        let log = log.clone();
        let chains = chains[4..6].to_vec();
        tokio::spawn(async move { add_all(&log, &chains).await })
    };
    while held.staged.load(SeqCst) == staged_before {
        let seen = held.seen.notified();
        if held.staged.load(SeqCst) != staged_before {
            break;
        }
        seen.await;
    }
    release_tx.send(true).unwrap();

    for result in pass_a.await.unwrap() {
        assert!(
            matches!(result, Err(AddError::Unavailable(_))),
            "{result:?}"
        );
    }
    for (chain, result) in chains[4..6].iter().zip(pass_b.await.unwrap()) {
        let result = result.unwrap();
        assert!(!result.duplicate);
        answered.push((fixture.entry_of(chain), result));
    }
    let seen = check_log(&fixture, &*objects, &*state, &answered, None).await;
    // A's entries are in the tree (committed before its publishing failed), then B's.
    assert_eq!(seen.size, 6);
    let mut b_indices: Vec<u64> = answered[2..].iter().map(|(_, r)| r.leaf_index).collect();
    b_indices.sort_unstable();
    assert_eq!(b_indices, [4, 5]);
    log.shutdown().await;
}

/// A trusted state whose checkpoint swaps wait for a permit, announcing each attempt.
struct GatedState {
    inner: Arc<MemoryStore>,
    permits: Semaphore,
    attempted: Notify,
}

impl TrustedState for GatedState {
    fn load_checkpoint(&self) -> StorageFuture<'_, Option<Vec<u8>>> {
        self.inner.load_checkpoint()
    }
    fn compare_and_swap_checkpoint<'a>(
        &'a self,
        expected: Option<&'a [u8]>,
        new: &'a [u8],
    ) -> StorageFuture<'a, (), CasError> {
        Box::pin(async move {
            self.attempted.notify_one();
            self.permits.acquire().await.unwrap().forget();
            self.inner.compare_and_swap_checkpoint(expected, new).await
        })
    }
    fn put_dedup<'a>(&'a self, entries: &'a [(DedupKey, DedupValue)]) -> StorageFuture<'a, ()> {
        self.inner.put_dedup(entries)
    }
    fn get_dedup<'a>(&'a self, key: &'a DedupKey) -> StorageFuture<'a, Option<DedupValue>> {
        self.inner.get_dedup(key)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_answers_pool_full() {
    let fixture = Fixture::new();
    let inner = Arc::new(MemoryStore::new());
    let state = Arc::new(GatedState {
        inner: inner.clone(),
        permits: Semaphore::new(1), // the open-time swap
        attempted: Notify::new(),
    });
    let config = fixture.config(BatchConfig {
        max_entries: 1,
        max_delay: Duration::ZERO,
        max_pending: 1,
    });
    let log = Arc::new(
        Log::open(config, inner.clone(), state.clone())
            .await
            .unwrap(),
    );
    state.attempted.notified().await; // consumes the open-time announcement
    let chains = fixture.precert_chains(3).await;

    // The first entry's pass blocks at its swap: it has left the pool.
    let first = tokio::spawn({
        let log = log.clone();
        let chain = chains[0].clone();
        async move { log.add(SubmissionKind::PreChain, chain).await }
    });
    state.attempted.notified().await;
    // The pool holds one: of the next two, exactly one is queued and the other refused.
    let spawn_add = |chain: Vec<Vec<u8>>| {
        let log = log.clone();
        tokio::spawn(async move { log.add(SubmissionKind::PreChain, chain).await })
    };
    let (mut second, mut third) = (spawn_add(chains[1].clone()), spawn_add(chains[2].clone()));
    // The refused one answers without waiting for the blocked pass.
    let (refused, queued) = tokio::select! {
        result = &mut second => (result.unwrap(), third),
        result = &mut third => (result.unwrap(), second),
    };
    let refused = refused.unwrap_err();
    assert!(matches!(refused, AddError::PoolFull { .. }), "{refused:?}");
    assert_eq!(refused.http_status(), 503);
    state.permits.add_permits(2);
    assert_eq!(first.await.unwrap().unwrap().leaf_index, 0);
    assert_eq!(queued.await.unwrap().unwrap().leaf_index, 1);
    log.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_a_directory_continues_the_same_tree() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let chains = fixture.precert_chains(9).await;
    let mut answered = Vec::new();
    let seen = {
        let store = Arc::new(DirectoryStore::open(dir.path()).await.unwrap());
        let log = Arc::new(
            Log::open(fixture.config(by_count(5)), store.clone(), store.clone())
                .await
                .unwrap(),
        );
        for (chain, result) in chains[..5].iter().zip(add_all(&log, &chains[..5]).await) {
            answered.push((fixture.entry_of(chain), result.unwrap()));
        }
        log.shutdown().await;
        let seen = check_log(&fixture, &*store, &*store, &answered, None).await;
        drop(log);
        Arc::try_unwrap(store).unwrap().close().await.unwrap();
        seen
    };
    assert_eq!(seen.size, 5);

    let store = Arc::new(DirectoryStore::open(dir.path()).await.unwrap());
    // Another key does not verify the stored checkpoint: refuse to start.
    let mut wrong = fixture.config(by_count(3));
    wrong.signing_key = ct_core::LogSigningKey::generate_p256().unwrap();
    assert!(matches!(
        Log::open(wrong, store.clone(), store.clone()).await,
        Err(LogError::Checkpoint(_))
    ));
    let log = Arc::new(
        Log::open(fixture.config(by_count(3)), store.clone(), store.clone())
            .await
            .unwrap(),
    );
    for (chain, result) in chains[5..8].iter().zip(add_all(&log, &chains[5..8]).await) {
        let result = result.unwrap();
        assert!((5..8).contains(&result.leaf_index));
        answered.push((fixture.entry_of(chain), result));
    }
    let after = check_log(&fixture, &*store, &*store, &answered, Some(seen)).await;
    assert_eq!(after.size, 8);
    log.shutdown().await;
    // After shutdown, new submissions are refused as unavailable; known ones still answer.
    assert!(matches!(
        log.add(SubmissionKind::PreChain, chains[8].clone()).await,
        Err(AddError::Unavailable(_))
    ));
    assert!(
        log.add(SubmissionKind::PreChain, chains[0].clone())
            .await
            .unwrap()
            .duplicate
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_stops_the_sequencer() {
    let fixture = Fixture::new();
    let (_, objects, state) = memory();
    let log = Log::open(fixture.config(by_count(1)), objects.clone(), state.clone())
        .await
        .unwrap();
    let chains = fixture.precert_chains(3).await;
    log.add(SubmissionKind::PreChain, chains[0].clone())
        .await
        .unwrap();
    // Someone else swaps the trusted checkpoint.
    let current = state.load_checkpoint().await.unwrap().unwrap();
    state
        .compare_and_swap_checkpoint(Some(&current), b"another writer\n")
        .await
        .unwrap();
    for chain in &chains[1..] {
        let err = log
            .add(SubmissionKind::PreChain, chain.clone())
            .await
            .unwrap_err();
        assert!(matches!(err, AddError::Unavailable(_)), "{err:?}");
    }
    // Nothing was published past the first entry.
    let public = objects
        .get(ct_log::storage::CHECKPOINT_PATH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(public.as_ref(), current.as_slice());
    log.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_tile_without_its_staging_bundle_refuses_to_start() {
    let fixture = Fixture::new();
    let (memory, objects, state) = memory();
    let log = open_log(&fixture, 3, &objects, &state).await;
    add_all(&log, &fixture.precert_chains(3).await).await;
    log.shutdown().await;
    drop(log);

    // A lost tile comes back from the staging bundle.
    objects.delete("tile/0/000.p/3").await.unwrap();
    let log = Log::open(fixture.config(by_count(3)), objects.clone(), state.clone())
        .await
        .unwrap();
    log.shutdown().await;
    assert!(objects.get("tile/0/000.p/3").await.unwrap().is_some());
    check_log(&fixture, &*objects, &*state, &[], None).await;

    // Without the bundle, the log refuses to serve a broken tree.
    delete_staging_bundles(memory.as_ref(), objects.as_ref()).await;
    objects.delete("tile/0/000.p/3").await.unwrap();
    assert_refuses_as_corrupt(&fixture, &objects, &state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_tile_that_does_not_match_its_hashes_refuses_to_start() {
    let fixture = Fixture::new();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let (memory, objects, state) = memory();
        let log = open_log(&fixture, 3, &objects, &state).await;
        add_all(&log, &fixture.precert_chains(3).await).await;
        log.shutdown().await;
        stores.push((memory, objects, state));
    }
    let (memory, objects, state) = &stores[0];
    let other = stores[1].1.get("tile/data/000.p/3").await.unwrap().unwrap();
    delete_staging_bundles(memory.as_ref(), objects.as_ref()).await;
    objects.delete("tile/data/000.p/3").await.unwrap();
    objects
        .put(
            "tile/data/000.p/3",
            other,
            ct_log::storage::PutMode::Immutable,
        )
        .await
        .unwrap();
    assert_refuses_as_corrupt(&fixture, objects, state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_latest_staging_bundle_is_kept() {
    let fixture = Fixture::new();
    let (memory, objects, state) = memory();
    let log = open_log(&fixture, 2, &objects, &state).await;
    for _ in 0..3 {
        add_all(&log, &fixture.precert_chains(2).await).await;
    }
    log.shutdown().await;
    let staging: Vec<String> = memory
        .object_paths()
        .into_iter()
        .filter(|p| p.starts_with("staging/"))
        .collect();
    assert_eq!(staging.len(), 1, "{staging:?}");
    assert!(staging[0].starts_with("staging/6-"), "{staging:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_submission_is_committed_without_waiting_for_max_delay() {
    // `max_delay` is only an upper bound: once the pool is quiet the pass closes, so a lone
    // submission is answered long before a 10 s `max_delay` (the bound below is half of it).
    let fixture = Fixture::new();
    let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
    let max_delay = Duration::from_secs(10);
    let config = fixture.config(BatchConfig {
        max_entries: 512,
        max_delay,
        max_pending: 100,
    });
    let log = Log::open(config, store.clone(), store.clone())
        .await
        .unwrap();
    let swaps_before = store.write_count_of(WriteKind::CompareAndSwap);
    let chain = fixture.precert_chains(1).await.remove(0);
    let entry = fixture.entry_of(&chain);
    let result = tokio::time::timeout(max_delay / 2, log.add(SubmissionKind::PreChain, chain))
        .await
        .expect("a lone submission waited for max_delay")
        .unwrap();
    assert_eq!(result.leaf_index, 0);
    assert!(!result.duplicate);
    ct_core::verify_sct(&result.sct, &entry, log.public_key().spki_der()).unwrap();
    // One pass, holding just this entry.
    assert_eq!(
        store.write_count_of(WriteKind::CompareAndSwap),
        swaps_before + 1
    );
    log.shutdown().await;
    let answered = [(entry, result)];
    let seen = check_log(&fixture, &*store, &*store, &answered, None).await;
    assert_eq!(seen.size, 1);
}
