//! The crash matrix (spec/ct-log.md §5, after Sunlight's TestSequenceErrors): every write of a
//! sequencing pass fails — without taking effect, after taking effect, or crashing the storage
//! before or after taking effect — and the log, reopened over the surviving storage, must be
//! whole: checkpoints agree, every tile is present and consistent, every entry is included,
//! every SCT ever returned is in the log with its index and timestamp, and the tree never
//! shrank. Then it must keep sequencing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod log_support;

use std::sync::Arc;

use ct_core::SignedEntry;
use ct_log::log::{AddError, AddResult, Log};
use ct_log::storage::fault::{Fault, FaultInjecting, WriteKind};
use ct_log::storage::{DirectoryStore, MemoryStore, ObjectStore, TrustedState};
use log_support::{Fixture, Seen, add_all, by_count, check_log};

const BATCH: usize = 4;
const MODES: [Fault; 4] = [
    Fault::Fail,
    Fault::FailAfterPersist,
    Fault::Crash,
    Fault::CrashAfterPersist,
];

type Answered = Vec<(SignedEntry, AddResult)>;

/// Adds `chains` as one pass; keeps the SCTs returned; every failure must be `Unavailable`.
/// Returns how many were answered with an SCT.
async fn add_batch(
    fixture: &Fixture,
    log: &Arc<Log>,
    chains: &[Vec<Vec<u8>>],
    answered: &mut Answered,
) -> usize {
    let mut ok = 0;
    for (chain, result) in chains.iter().zip(add_all(log, chains).await) {
        match result {
            Ok(result) => {
                answered.push((fixture.entry_of(chain), result));
                ok += 1;
            }
            Err(AddError::Unavailable(_)) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    ok
}

async fn open(
    fixture: &Fixture,
    objects: Arc<dyn ObjectStore>,
    state: Arc<dyn TrustedState>,
) -> Arc<Log> {
    Arc::new(
        Log::open(fixture.config(by_count(BATCH)), objects, state)
            .await
            .unwrap(),
    )
}

/// One run over a memory store: a clean pass, a pass with `fault` at its `k`-th write, (if
/// the storage did not crash) another pass on the same log, then a reopened log checked and
/// grown. Returns the number of writes of the faulty pass (for the fault-free run).
async fn memory_run(
    fixture: &Fixture,
    chains: &[Vec<Vec<u8>>],
    fault: Option<(u64, Fault)>,
) -> u64 {
    let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
    let mut answered = Answered::new();
    let log = open(fixture, store.clone(), store.clone()).await;
    assert_eq!(
        add_batch(fixture, &log, &chains[0..BATCH], &mut answered).await,
        BATCH
    );
    let seen = check_log(fixture, &*store, &*store, &answered, None).await;

    let before = store.write_count();
    if let Some((k, fault)) = fault {
        store.inject_at(k, fault);
    }
    let answered_in_faulty =
        add_batch(fixture, &log, &chains[BATCH..2 * BATCH], &mut answered).await;
    let writes = store.write_count() - before;
    if fault.is_none() {
        assert_eq!(answered_in_faulty, BATCH);
    }
    if !store.is_crashed() {
        // The same process goes on: after a failure it recovers before the next pass.
        assert_eq!(
            add_batch(fixture, &log, &chains[2 * BATCH..3 * BATCH], &mut answered).await,
            BATCH,
            "{fault:?}"
        );
    }
    log.shutdown().await;
    drop(log);

    // A new process over the surviving storage.
    store.reopen();
    store.clear_faults();
    let log = open(fixture, store.clone(), store.clone()).await;
    let seen = check_log(fixture, &*store, &*store, &answered, Some(seen)).await;
    assert_eq!(
        add_batch(fixture, &log, &chains[3 * BATCH..4 * BATCH], &mut answered).await,
        BATCH
    );
    let after = check_log(fixture, &*store, &*store, &answered, Some(seen)).await;
    assert_eq!(after.size, seen.size + BATCH as u64);
    log.shutdown().await;
    writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_of_a_pass_fails_in_every_way_over_memory() {
    let fixture = Fixture::new();
    let chains = fixture.precert_chains(4 * BATCH).await;
    let writes = memory_run(&fixture, &chains, None).await;
    // Staging, swap, at least a hash and a data tile, checkpoint, dedup.
    assert!(writes >= 6, "{writes}");
    for fault in MODES {
        for k in 1..=writes {
            memory_run(&fixture, &chains, Some((k, fault))).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_writes_staging_then_swaps_then_publishes() {
    let fixture = Fixture::new();
    let chains = fixture.precert_chains(BATCH).await;
    let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
    let log = open(&fixture, store.clone(), store.clone()).await;
    let from = store.journal().len();
    let mut answered = Answered::new();
    add_batch(&fixture, &log, &chains, &mut answered).await;
    let kinds: Vec<WriteKind> = store.journal()[from..].iter().map(|w| w.kind).collect();
    assert_eq!(kinds[0], WriteKind::Staging);
    assert_eq!(kinds[1], WriteKind::CompareAndSwap);
    let checkpoint = kinds
        .iter()
        .position(|k| *k == WriteKind::Checkpoint)
        .unwrap();
    assert!(
        kinds[2..checkpoint].iter().all(|k| matches!(
            k,
            WriteKind::Tile | WriteKind::DataTile | WriteKind::Issuer | WriteKind::Delete
        )),
        "{kinds:?}"
    );
    assert_eq!(&kinds[checkpoint + 1..], &[WriteKind::Dedup]);
    log.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_write_of_a_pass_over_a_directory() {
    let fixture = Fixture::new();
    let chains = fixture.precert_chains(3 * BATCH).await;
    let dir = tempfile::tempdir().unwrap();
    // Learn the number of writes of a pass on a throw-away directory.
    let writes = {
        let scratch = tempfile::tempdir().unwrap();
        let store = Arc::new(FaultInjecting::new(
            DirectoryStore::open(scratch.path()).await.unwrap(),
        ));
        let log = open(&fixture, store.clone(), store.clone()).await;
        let mut answered = Answered::new();
        add_batch(&fixture, &log, &chains[..BATCH], &mut answered).await;
        let before = store.write_count();
        add_batch(&fixture, &log, &chains[BATCH..2 * BATCH], &mut answered).await;
        log.shutdown().await;
        store.write_count() - before
    };
    for fault in [Fault::Crash, Fault::CrashAfterPersist] {
        for k in 1..=writes {
            let sub = dir.path().join(format!("{fault:?}-{k}"));
            let mut answered = Answered::new();
            let seen: Seen;
            {
                let store = Arc::new(FaultInjecting::new(
                    DirectoryStore::open(&sub).await.unwrap(),
                ));
                let log = open(&fixture, store.clone(), store.clone()).await;
                add_batch(&fixture, &log, &chains[..BATCH], &mut answered).await;
                seen = check_log(&fixture, &*store, &*store, &answered, None).await;
                store.inject_at(k, fault);
                add_batch(&fixture, &log, &chains[BATCH..2 * BATCH], &mut answered).await;
                assert!(store.is_crashed());
                log.shutdown().await;
            }
            // A new process: the directory store itself is opened again.
            let store = Arc::new(DirectoryStore::open(&sub).await.unwrap());
            let log = open(&fixture, store.clone(), store.clone()).await;
            let seen = check_log(&fixture, &*store, &*store, &answered, Some(seen)).await;
            assert_eq!(
                add_batch(&fixture, &log, &chains[2 * BATCH..], &mut answered).await,
                BATCH
            );
            let after = check_log(&fixture, &*store, &*store, &answered, Some(seen)).await;
            assert_eq!(after.size, seen.size + BATCH as u64);
            log.shutdown().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_recovery_is_retried_before_the_next_pass() {
    let fixture = Fixture::new();
    let chains = fixture.precert_chains(4 * BATCH).await;
    let store = Arc::new(FaultInjecting::new(MemoryStore::new()));
    let log = open(&fixture, store.clone(), store.clone()).await;
    let mut answered = Answered::new();
    add_batch(&fixture, &log, &chains[..BATCH], &mut answered).await;
    let seen = check_log(&fixture, &*store, &*store, &answered, None).await;

    // The swap takes effect but reports failure: the sequencer must recover.
    store.inject_on(WriteKind::CompareAndSwap, 1, Fault::FailAfterPersist);
    let ok = add_batch(&fixture, &log, &chains[BATCH..2 * BATCH], &mut answered).await;
    assert_eq!(ok, 0);
    // Its recovery's first write fails too: that pass is refused, nothing grows.
    store.inject_at(1, Fault::Fail);
    let ok = add_batch(&fixture, &log, &chains[2 * BATCH..3 * BATCH], &mut answered).await;
    assert_eq!(ok, 0);
    // The next pass recovers and commits.
    let ok = add_batch(&fixture, &log, &chains[3 * BATCH..], &mut answered).await;
    assert_eq!(ok, BATCH);
    let after = check_log(&fixture, &*store, &*store, &answered, Some(seen)).await;
    // The swapped-but-unanswered pass is in the tree too.
    assert_eq!(after.size, 3 * BATCH as u64);
    log.shutdown().await;
}
