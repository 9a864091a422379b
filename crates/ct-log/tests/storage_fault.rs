//! Tests of `storage::fault::FaultInjecting`, and of the staging → swap → publish protocol the
//! sequencer follows, driven through every injected fault at every write of a batch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use bytes::Bytes;
use ct_log::storage::fault::{Fault, FaultInjecting, WriteKind, WriteRecord};
use ct_log::storage::{
    CHECKPOINT_PATH, CasError, DedupValue, DirectoryStore, MemoryStore, ObjectStore, PutMode,
    StagingBundle, StorageError, TrustedState, issuer_path, staging_path,
};

const ALL_FAULTS: [Fault; 4] = [
    Fault::Fail,
    Fault::FailAfterPersist,
    Fault::Crash,
    Fault::CrashAfterPersist,
];

fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn injected(err: &StorageError, persisted: bool) -> bool {
    matches!(err, StorageError::InjectedFault { persisted: p, .. } if *p == persisted)
}

fn memory() -> Arc<FaultInjecting<MemoryStore>> {
    Arc::new(FaultInjecting::new(MemoryStore::new()))
}

// ---------------------------------------------------------------------------------------------
// The four faults

#[tokio::test]
async fn fail_does_not_persist_and_later_writes_work() {
    let store = memory();
    store.inject_at(1, Fault::Fail);
    let err = store
        .put("tile/0/000", bytes("t"), PutMode::Immutable)
        .await
        .unwrap_err();
    assert!(injected(&err, false), "{err}");
    assert_eq!(store.get("tile/0/000").await.unwrap(), None);
    assert!(!store.is_crashed());
    store
        .put("tile/0/000", bytes("t"), PutMode::Immutable)
        .await
        .unwrap();
    assert_eq!(store.get("tile/0/000").await.unwrap(), Some(bytes("t")));
}

#[tokio::test]
async fn fail_after_persist_reports_an_error_but_keeps_the_write() {
    let store = memory();
    store.inject_on(WriteKind::CompareAndSwap, 1, Fault::FailAfterPersist);
    let err = store
        .compare_and_swap_checkpoint(None, b"A")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CasError::Storage(e) if injected(e, true)),
        "{err}"
    );
    assert_eq!(
        store.load_checkpoint().await.unwrap().as_deref(),
        Some(&b"A"[..])
    );

    // For a write that fails on its own, its own error wins.
    store
        .put("tile/0/000", bytes("one"), PutMode::Immutable)
        .await
        .unwrap();
    store.inject_at(1, Fault::FailAfterPersist);
    let err = store
        .put("tile/0/000", bytes("two"), PutMode::Immutable)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StorageError::ImmutableConflict { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn crash_refuses_everything_until_reopen() {
    let store = memory();
    store.put_dedup(&[([1; 32], value(0))]).await.unwrap();
    store.inject_on(WriteKind::Tile, 1, Fault::Crash);
    let err = store
        .put("tile/0/000", bytes("t"), PutMode::Immutable)
        .await
        .unwrap_err();
    assert!(injected(&err, false), "{err}");
    assert!(store.is_crashed());

    // Reads and writes of both halves are refused, and not counted as writes.
    let count = store.write_count();
    let crashed = |r: Result<(), StorageError>| matches!(r, Err(StorageError::Crashed));
    assert!(crashed(store.get("tile/0/000").await.map(|_| ())));
    assert!(crashed(
        store.put("issuer/00", bytes("i"), PutMode::Immutable).await
    ));
    assert!(crashed(store.delete("issuer/00").await));
    assert!(crashed(store.load_checkpoint().await.map(|_| ())));
    assert!(crashed(store.get_dedup(&[1; 32]).await.map(|_| ())));
    assert!(crashed(store.put_dedup(&[([2; 32], value(1))]).await));
    assert!(matches!(
        store.compare_and_swap_checkpoint(None, b"A").await,
        Err(CasError::Storage(StorageError::Crashed))
    ));
    assert_eq!(store.write_count(), count);

    store.reopen();
    assert!(!store.is_crashed());
    assert_eq!(
        store.get("tile/0/000").await.unwrap(),
        None,
        "not persisted"
    );
    assert_eq!(store.get_dedup(&[1; 32]).await.unwrap(), Some(value(0)));
    assert_eq!(store.get_dedup(&[2; 32]).await.unwrap(), None);
}

#[tokio::test]
async fn crash_after_persist_keeps_the_write() {
    let store = memory();
    store.inject_on(WriteKind::Dedup, 1, Fault::CrashAfterPersist);
    let err = store.put_dedup(&[([7; 32], value(3))]).await.unwrap_err();
    assert!(injected(&err, true), "{err}");
    assert!(store.is_crashed());
    assert!(matches!(
        store.get_dedup(&[7; 32]).await,
        Err(StorageError::Crashed)
    ));
    store.reopen();
    assert_eq!(store.get_dedup(&[7; 32]).await.unwrap(), Some(value(3)));
    // The wrapped store saw it too.
    assert_eq!(store.inner().dedup_len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Counting and targeting

#[tokio::test]
async fn counters_target_the_kth_write_and_ignore_reads() {
    let store = memory();
    store.inject_on(WriteKind::Tile, 2, Fault::Fail);
    store.inject_at(5, Fault::Fail);

    let tile0 = store
        .put("tile/0/000", bytes("a"), PutMode::Immutable)
        .await;
    let _ = store.get("tile/0/000").await.unwrap(); // reads are not writes
    let data = store
        .put("tile/data/000", bytes("d"), PutMode::Immutable)
        .await;
    let tile1 = store
        .put("tile/1/000", bytes("b"), PutMode::Immutable)
        .await;
    let checkpoint = store
        .put(CHECKPOINT_PATH, bytes("c"), PutMode::Mutable)
        .await;
    let fifth = store.delete("tile/data/000").await;

    assert!(tile0.is_ok() && data.is_ok() && checkpoint.is_ok());
    assert!(injected(&tile1.unwrap_err(), false), "second tile put");
    assert!(injected(&fifth.unwrap_err(), false), "fifth write");
    assert_eq!(store.write_count(), 5);
    assert_eq!(store.write_count_of(WriteKind::Tile), 2);
    assert_eq!(store.write_count_of(WriteKind::DataTile), 1);
    assert_eq!(store.write_count_of(WriteKind::Checkpoint), 1);
    assert_eq!(store.write_count_of(WriteKind::Delete), 1);
    assert_eq!(store.write_count_of(WriteKind::Staging), 0);

    let journal = store.journal();
    let kinds: Vec<_> = journal.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            WriteKind::Tile,
            WriteKind::DataTile,
            WriteKind::Tile,
            WriteKind::Checkpoint,
            WriteKind::Delete
        ]
    );
    assert_eq!(
        journal[2],
        WriteRecord {
            kind: WriteKind::Tile,
            path: Some("tile/1/000".to_owned()),
            fault: Some(Fault::Fail),
        }
    );

    // `inject_at` counts from the call, not from creation.
    store.inject_at(1, Fault::Fail);
    assert!(store.put_dedup(&[([1; 32], value(0))]).await.is_err());
    store.clear_faults();
    assert!(store.put_dedup(&[([1; 32], value(0))]).await.is_ok());
}

#[test]
fn object_paths_are_classified() {
    for (path, kind) in [
        ("checkpoint", WriteKind::Checkpoint),
        ("staging/1-00", WriteKind::Staging),
        ("tile/data/x001/000", WriteKind::DataTile),
        ("tile/3/000.p/1", WriteKind::Tile),
        ("issuer/ab", WriteKind::Issuer),
        ("roots.pem", WriteKind::OtherObject),
    ] {
        assert_eq!(WriteKind::of_object_path(path), kind, "{path}");
    }
}

#[tokio::test]
async fn wraps_the_directory_store() {
    let dir = tempfile::Builder::new()
        .prefix("ct-log-storage-fault-")
        .tempdir()
        .unwrap();
    let store = FaultInjecting::new(DirectoryStore::open(dir.path()).await.unwrap());
    store.inject_on(WriteKind::DataTile, 1, Fault::CrashAfterPersist);
    let err = store
        .put("tile/data/000", bytes("entries"), PutMode::Immutable)
        .await
        .unwrap_err();
    assert!(injected(&err, true), "{err}");
    assert!(matches!(
        store.get("tile/data/000").await,
        Err(StorageError::Crashed)
    ));

    // A real restart: close the directory and open it again.
    drop(store);
    let store = DirectoryStore::open(dir.path()).await.unwrap();
    assert_eq!(
        store.get("tile/data/000").await.unwrap(),
        Some(bytes("entries"))
    );
}

// ---------------------------------------------------------------------------------------------
// The sequencer's protocol at the storage level, through every fault at every write

fn value(leaf_index: u64) -> DedupValue {
    DedupValue {
        leaf_index,
        timestamp: 1_000 + leaf_index,
    }
}

/// A stand-in for batch `n` (tree size `n`, one entry per batch): its checkpoint, root, and the
/// immutable objects it adds. Real tiles come from ct-core; the storage does not look inside.
fn checkpoint(n: u64) -> Vec<u8> {
    format!("example.com/log\n{n}\nroot{n}\n").into_bytes()
}

fn root(n: u64) -> [u8; 32] {
    [n as u8; 32]
}

fn batch_objects(n: u64) -> StagingBundle {
    let mut bundle = StagingBundle::new();
    bundle
        .push(
            format!("tile/data/000.p/{n}"),
            Bytes::from(format!("entries 1..={n}")),
        )
        .unwrap();
    bundle
        .push(
            format!("tile/0/000.p/{n}"),
            Bytes::from(format!("hashes 1..={n}")),
        )
        .unwrap();
    bundle
        .push(
            issuer_path(&[n as u8; 32]),
            Bytes::from(format!("issuer {n}")),
        )
        .unwrap();
    bundle
}

/// One batch, in the order the sequencer writes (module docs of `ct_log::storage`).
async fn sequence(store: &FaultInjecting<MemoryStore>, n: u64) -> Result<(), String> {
    let previous = (n > 1).then(|| checkpoint(n - 1));
    let bundle = batch_objects(n);
    let staging = staging_path(n, &root(n));
    store
        .put(&staging, bundle.encode(), PutMode::Immutable)
        .await
        .map_err(|e| e.to_string())?;
    store
        .compare_and_swap_checkpoint(previous.as_deref(), &checkpoint(n))
        .await
        .map_err(|e| e.to_string())?;
    bundle.apply(store).await.map_err(|e| e.to_string())?;
    store
        .put(
            CHECKPOINT_PATH,
            Bytes::from(checkpoint(n)),
            PutMode::Mutable,
        )
        .await
        .map_err(|e| e.to_string())?;
    store
        .put_dedup(&[([n as u8; 32], value(n - 1))])
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Start-up recovery: publish what the trusted checkpoint covers. Returns the trusted size.
async fn recover(store: &FaultInjecting<MemoryStore>) -> u64 {
    let trusted = store.load_checkpoint().await.unwrap().unwrap();
    let n: u64 = String::from_utf8_lossy(&trusted)
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let public = store.get(CHECKPOINT_PATH).await.unwrap();
    if public.as_deref() != Some(&trusted[..]) {
        let staged = store
            .get(&staging_path(n, &root(n)))
            .await
            .unwrap()
            .expect("the staging bundle of a trusted checkpoint exists");
        StagingBundle::decode(&staged)
            .unwrap()
            .apply(store)
            .await
            .unwrap();
        store
            .put(CHECKPOINT_PATH, Bytes::from(trusted), PutMode::Mutable)
            .await
            .unwrap();
    }
    n
}

/// Everything a reader of a log of size `n` needs is published.
async fn assert_published(store: &FaultInjecting<MemoryStore>, n: u64) {
    assert_eq!(
        store.get(CHECKPOINT_PATH).await.unwrap(),
        Some(Bytes::from(checkpoint(n)))
    );
    for object in batch_objects(n).objects() {
        assert_eq!(
            store.get(object.path()).await.unwrap().as_ref(),
            Some(object.bytes()),
            "{}",
            object.path()
        );
    }
}

#[tokio::test]
async fn every_fault_at_every_write_of_a_batch_recovers_without_rollback() {
    // Learn how many writes a batch makes.
    let probe = memory();
    sequence(&probe, 1).await.unwrap();
    let writes_per_batch = probe.write_count();
    assert_eq!(
        writes_per_batch, 7,
        "staging, swap, 3 objects, checkpoint, dedup"
    );

    for k in 1..=writes_per_batch {
        for fault in ALL_FAULTS {
            let case = format!("fault {fault:?} at write {k} of batch 2");
            let store = memory();
            sequence(&store, 1).await.unwrap();
            store.inject_at(k, fault);
            assert!(sequence(&store, 2).await.is_err(), "{case}");
            let failed = store.journal()[(writes_per_batch + k - 1) as usize].clone();
            assert_eq!(failed.fault, Some(fault), "{case}");
            assert_eq!(
                store.is_crashed(),
                matches!(fault, Fault::Crash | Fault::CrashAfterPersist)
            );

            // Restart.
            store.reopen();
            let n = recover(&store).await;
            // The swap is the commit point: batch 2 is in the log iff it took effect.
            let swapped = failed.kind != WriteKind::Staging
                && (failed.kind != WriteKind::CompareAndSwap
                    || matches!(fault, Fault::FailAfterPersist | Fault::CrashAfterPersist));
            assert_eq!(n, if swapped { 2 } else { 1 }, "{case}");
            assert_published(&store, n).await;

            // The log goes on from where the trusted state says.
            sequence(&store, n + 1).await.unwrap();
            assert_published(&store, n + 1).await;
            assert_eq!(recover(&store).await, n + 1, "{case}");
        }
    }
}
