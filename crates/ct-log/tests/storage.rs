//! Black-box tests of the storage contract (`ct_log::storage`), run against both
//! implementations, plus the data directory's own durability and locking behaviour.
//!
//! Crash tests run this test binary again as a child process that aborts mid-way (a real
//! process crash: no destructors, no clean database close); power loss cannot be simulated here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use ct_log::storage::{
    CHECKPOINT_PATH, CasError, DedupValue, DirectoryStore, MemoryStore, ObjectStore, PutMode,
    StorageError, TrustedState, issuer_path, staging_path,
};
use tempfile::TempDir;

/// Both halves behind one trait object: the scenarios below call every method through dynamic
/// dispatch, as the sequencer and the HTTP layer will.
trait Storage: ObjectStore + TrustedState {}
impl<T: ObjectStore + TrustedState> Storage for T {}

async fn directory_store() -> (TempDir, Arc<DirectoryStore>) {
    let dir = tempfile::Builder::new()
        .prefix("ct-log-storage-")
        .tempdir()
        .unwrap();
    let store = DirectoryStore::open(dir.path().join("log")).await.unwrap();
    (dir, Arc::new(store))
}

/// Runs `scenario` against a fresh store of each implementation.
macro_rules! for_each_backend {
    ($scenario:ident) => {{
        $scenario(Arc::new(MemoryStore::new())).await;
        let (_dir, store) = directory_store().await;
        $scenario(store).await;
    }};
}

fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn key(n: u8) -> [u8; 32] {
    [n; 32]
}

// ---------------------------------------------------------------------------------------------
// The contract, for every backend

async fn round_trips(store: Arc<dyn Storage>) {
    let objects = [
        ("tile/0/x001/x234/067", bytes("level 0 tile")),
        ("tile/0/x001/x234/067.p/12", bytes("partial")),
        ("tile/data/000", Bytes::from(vec![0u8; 10_000])),
        ("issuer/00ff", Bytes::new()),
        ("staging/12-abcd", bytes("bundle")),
    ];
    for (path, data) in &objects {
        assert_eq!(store.get(path).await.unwrap(), None, "{path} before put");
        store
            .put(path, data.clone(), PutMode::Immutable)
            .await
            .unwrap();
    }
    for (path, data) in &objects {
        assert_eq!(
            store.get(path).await.unwrap().as_ref(),
            Some(data),
            "{path}"
        );
    }
    // A path under an object that is a file is simply absent.
    assert_eq!(store.get("tile/data/000/1").await.unwrap(), None);
    assert_eq!(store.get("tile/1/000").await.unwrap(), None);
    // So is a path that names a directory of objects.
    assert_eq!(store.get("tile/0").await.unwrap(), None);
    store.delete("tile/0").await.unwrap();

    store.delete("staging/12-abcd").await.unwrap();
    assert_eq!(store.get("staging/12-abcd").await.unwrap(), None);
    // Deleting what is not there is not an error.
    store.delete("staging/12-abcd").await.unwrap();
    store.delete("staging/never").await.unwrap();
}

#[tokio::test]
async fn objects_round_trip() {
    for_each_backend!(round_trips);
}

async fn immutable_and_mutable(store: Arc<dyn Storage>) {
    let path = "tile/0/000";
    store
        .put(path, bytes("first"), PutMode::Immutable)
        .await
        .unwrap();
    // Identical bytes again: fine (recovery re-applies staging bundles).
    store
        .put(path, bytes("first"), PutMode::Immutable)
        .await
        .unwrap();
    let err = store
        .put(path, bytes("second"), PutMode::Immutable)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StorageError::ImmutableConflict { path: p } if p == path),
        "{err}"
    );
    assert_eq!(store.get(path).await.unwrap(), Some(bytes("first")));

    for version in ["one", "two", "three, longer than before", "4"] {
        store
            .put(CHECKPOINT_PATH, bytes(version), PutMode::Mutable)
            .await
            .unwrap();
        assert_eq!(
            store.get(CHECKPOINT_PATH).await.unwrap(),
            Some(bytes(version))
        );
    }
}

#[tokio::test]
async fn immutable_objects_are_write_once_and_mutable_ones_replaced() {
    for_each_backend!(immutable_and_mutable);
}

async fn invalid_paths(store: Arc<dyn Storage>) {
    for path in [
        "",
        "/checkpoint",
        "../outside",
        "tile/../../outside",
        "tile//0",
        ".tmp-1",
    ] {
        let is_invalid =
            |r: Result<_, StorageError>| matches!(r, Err(StorageError::InvalidPath { .. }));
        assert!(
            is_invalid(store.put(path, bytes("x"), PutMode::Mutable).await),
            "{path:?}"
        );
        assert!(is_invalid(store.get(path).await.map(|_| ())), "{path:?}");
        assert!(is_invalid(store.delete(path).await), "{path:?}");
    }
}

#[tokio::test]
async fn invalid_paths_are_rejected() {
    for_each_backend!(invalid_paths);
}

async fn compare_and_swap(store: Arc<dyn Storage>) {
    assert_eq!(store.load_checkpoint().await.unwrap(), None);
    store.compare_and_swap_checkpoint(None, b"A").await.unwrap();
    assert_eq!(
        store.load_checkpoint().await.unwrap().as_deref(),
        Some(&b"A"[..])
    );

    // "No checkpoint yet" is stale once there is one.
    let err = store
        .compare_and_swap_checkpoint(None, b"X")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CasError::Mismatch { current: Some(c) } if c == b"A"),
        "{err}"
    );

    store
        .compare_and_swap_checkpoint(Some(b"A"), b"B")
        .await
        .unwrap();
    // A stale writer still expecting A.
    let err = store
        .compare_and_swap_checkpoint(Some(b"A"), b"C")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CasError::Mismatch { current: Some(c) } if c == b"B"),
        "{err}"
    );
    assert_eq!(
        store.load_checkpoint().await.unwrap().as_deref(),
        Some(&b"B"[..])
    );
}

#[tokio::test]
async fn checkpoint_compare_and_swap() {
    for_each_backend!(compare_and_swap);
}

async fn racing_swaps(store: Arc<dyn Storage>) {
    store
        .compare_and_swap_checkpoint(None, b"base")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8u8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let new = vec![b'n', i];
                let result = store.compare_and_swap_checkpoint(Some(b"base"), &new).await;
                (new, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (new, result) = task.await.unwrap();
        match result {
            Ok(()) => winners.push(new),
            Err(CasError::Mismatch { current }) => {
                assert_ne!(current.as_deref(), Some(&b"base"[..]))
            }
            Err(err) => panic!("unexpected error: {err}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one swap from the same value wins"
    );
    assert_eq!(
        store.load_checkpoint().await.unwrap(),
        Some(winners[0].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_swaps_have_one_winner() {
    for_each_backend!(racing_swaps);
}

async fn dedup(store: Arc<dyn Storage>) {
    assert_eq!(store.get_dedup(&key(1)).await.unwrap(), None);
    store.put_dedup(&[]).await.unwrap();
    let first = DedupValue {
        leaf_index: 7,
        timestamp: 1_700_000_000_000,
    };
    let second = DedupValue {
        leaf_index: u64::MAX,
        timestamp: 0,
    };
    store
        .put_dedup(&[(key(1), first), (key(2), second)])
        .await
        .unwrap();
    assert_eq!(store.get_dedup(&key(1)).await.unwrap(), Some(first));
    assert_eq!(store.get_dedup(&key(2)).await.unwrap(), Some(second));
    assert_eq!(store.get_dedup(&key(3)).await.unwrap(), None);

    // A later duplicate does not replace the first sequenced copy.
    let later = DedupValue {
        leaf_index: 99,
        timestamp: 1_800_000_000_000,
    };
    store
        .put_dedup(&[(key(1), later), (key(3), later)])
        .await
        .unwrap();
    assert_eq!(store.get_dedup(&key(1)).await.unwrap(), Some(first));
    assert_eq!(store.get_dedup(&key(3)).await.unwrap(), Some(later));
}

#[tokio::test]
async fn dedup_index_put_and_get() {
    for_each_backend!(dedup);
}

async fn many_writers(store: Arc<dyn Storage>) {
    const TASKS: usize = 6;
    const PER_TASK: usize = 40;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut conflicts = 0;
                for i in 0..PER_TASK {
                    // Own objects, in directories other tasks create at the same time.
                    let path = format!("tile/{}/x{:03}/{:03}", i % 3, i % 5, t * PER_TASK + i);
                    store
                        .put(
                            &path,
                            Bytes::from(path.clone().into_bytes()),
                            PutMode::Immutable,
                        )
                        .await
                        .unwrap();
                    // The same immutable object with the same bytes from every task: all succeed.
                    store
                        .put("issuer/shared", bytes("same"), PutMode::Immutable)
                        .await
                        .unwrap();
                    // Different bytes for one immutable object: exactly one task wins.
                    match store
                        .put(
                            "tile/data/contested",
                            Bytes::from(vec![t as u8]),
                            PutMode::Immutable,
                        )
                        .await
                    {
                        Ok(()) => {}
                        Err(StorageError::ImmutableConflict { .. }) => conflicts += 1,
                        Err(err) => panic!("unexpected error: {err}"),
                    }
                    store
                        .put(
                            CHECKPOINT_PATH,
                            Bytes::from(vec![t as u8; 64]),
                            PutMode::Mutable,
                        )
                        .await
                        .unwrap();
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }

    for t in 0..TASKS {
        for i in 0..PER_TASK {
            let path = format!("tile/{}/x{:03}/{:03}", i % 3, i % 5, t * PER_TASK + i);
            assert_eq!(
                store.get(&path).await.unwrap(),
                Some(Bytes::from(path.clone().into_bytes()))
            );
        }
    }
    let contested = store.get("tile/data/contested").await.unwrap().unwrap();
    let winner = contested[0] as usize;
    assert_eq!(contested.len(), 1);
    // Every put of the contested object failed except the winner's.
    assert_eq!(conflicts, TASKS * PER_TASK - PER_TASK);
    assert!(winner < TASKS);
    // The checkpoint is one task's whole write, never a mix.
    let checkpoint = store.get(CHECKPOINT_PATH).await.unwrap().unwrap();
    assert_eq!(checkpoint.len(), 64);
    assert!(checkpoint.iter().all(|b| *b == checkpoint[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers() {
    for_each_backend!(many_writers);
}

// ---------------------------------------------------------------------------------------------
// The data directory

/// Every regular file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let rel = entry.path().strip_prefix(dir).unwrap().to_owned();
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[tokio::test]
async fn objects_are_files_at_their_paths() {
    let (dir, store) = directory_store().await;
    let root = dir.path().join("log");
    store
        .put("tile/data/x001/234.p/5", bytes("data"), PutMode::Immutable)
        .await
        .unwrap();
    store
        .put(CHECKPOINT_PATH, bytes("cp"), PutMode::Mutable)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(root.join("objects/tile/data/x001/234.p/5")).unwrap(),
        b"data"
    );
    assert_eq!(
        std::fs::read(root.join("objects/checkpoint")).unwrap(),
        b"cp"
    );
    // No temporary file survives a successful put.
    assert_eq!(
        files_under(&root.join("objects")),
        BTreeSet::from(["checkpoint".to_owned(), "tile/data/x001/234.p/5".to_owned()])
    );
    assert!(root.join("state.redb").is_file());

    // Immutable objects are read-only on disk, as a guard against hand edits.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(root.join("objects/tile/data/x001/234.p/5"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o222, 0, "mode {mode:o}");
}

#[tokio::test]
async fn leftover_temporary_files_are_invisible_and_removed_on_open() {
    let (dir, store) = directory_store().await;
    let objects = dir.path().join("log/objects");
    store
        .put("tile/0/000", bytes("complete"), PutMode::Immutable)
        .await
        .unwrap();

    // What a writer that crashed before its rename leaves: a partial temporary file next to
    // the object it was writing, and one for an object whose directory exists but which was
    // never named.
    std::fs::write(objects.join("tile/0/.tmp-4242-0"), b"compl").unwrap();
    std::fs::write(objects.join("tile/0/.tmp-4242-1"), b"partial tile 001").unwrap();
    std::fs::write(objects.join(".tmp-4242-2"), b"half a checkpoint").unwrap();
    assert_eq!(
        store.get("tile/0/000").await.unwrap(),
        Some(bytes("complete"))
    );
    assert_eq!(store.get("tile/0/001").await.unwrap(), None);
    assert_eq!(store.get(CHECKPOINT_PATH).await.unwrap(), None);

    drop(store);
    let store = DirectoryStore::open(dir.path().join("log")).await.unwrap();
    assert_eq!(
        files_under(&objects),
        BTreeSet::from(["tile/0/000".to_owned()]),
        "temporary files are removed on open"
    );
    assert_eq!(
        store.get("tile/0/000").await.unwrap(),
        Some(bytes("complete"))
    );
    // The interrupted writes can be redone.
    store
        .put("tile/0/001", bytes("tile 001"), PutMode::Immutable)
        .await
        .unwrap();
}

#[tokio::test]
async fn reopening_sees_everything_written() {
    let (dir, store) = directory_store().await;
    let root = dir.path().join("log");
    let dedup_value = DedupValue {
        leaf_index: 3,
        timestamp: 1234,
    };
    store
        .put("tile/0/000.p/4", bytes("t"), PutMode::Immutable)
        .await
        .unwrap();
    store
        .put(&issuer_path(&[9; 32]), bytes("issuer"), PutMode::Immutable)
        .await
        .unwrap();
    store
        .put(CHECKPOINT_PATH, bytes("v2"), PutMode::Mutable)
        .await
        .unwrap();
    store
        .compare_and_swap_checkpoint(None, b"cp1")
        .await
        .unwrap();
    store
        .compare_and_swap_checkpoint(Some(b"cp1"), b"cp2")
        .await
        .unwrap();
    store.put_dedup(&[(key(5), dedup_value)]).await.unwrap();
    Arc::into_inner(store).unwrap().close().await.unwrap();

    let store = DirectoryStore::open(&root).await.unwrap();
    assert_eq!(store.get("tile/0/000.p/4").await.unwrap(), Some(bytes("t")));
    assert_eq!(
        store.get(&issuer_path(&[9; 32])).await.unwrap(),
        Some(bytes("issuer"))
    );
    assert_eq!(store.get(CHECKPOINT_PATH).await.unwrap(), Some(bytes("v2")));
    assert_eq!(
        store.load_checkpoint().await.unwrap().as_deref(),
        Some(&b"cp2"[..])
    );
    assert_eq!(store.get_dedup(&key(5)).await.unwrap(), Some(dedup_value));
    // Immutability holds across reopen.
    assert!(matches!(
        store
            .put("tile/0/000.p/4", bytes("other"), PutMode::Immutable)
            .await,
        Err(StorageError::ImmutableConflict { .. })
    ));
}

#[tokio::test]
async fn a_second_open_of_one_directory_fails_until_the_first_closes() {
    let (dir, store) = directory_store().await;
    let root = dir.path().join("log");
    let err = DirectoryStore::open(&root).await.unwrap_err();
    assert!(
        matches!(&err, StorageError::AlreadyOpen { dir } if *dir == root),
        "{err}"
    );
    assert!(err.to_string().contains("already in use"), "{err}");
    // The refused open changed nothing for the first handle.
    store
        .put(CHECKPOINT_PATH, bytes("still mine"), PutMode::Mutable)
        .await
        .unwrap();

    drop(store);
    let store = DirectoryStore::open(&root).await.unwrap();
    assert_eq!(
        store.get(CHECKPOINT_PATH).await.unwrap(),
        Some(bytes("still mine"))
    );
}

// ---------------------------------------------------------------------------------------------
// Real process crashes

const CHILD_DIR: &str = "CT_LOG_STORAGE_TEST_DIR";
const CHILD_MODE: &str = "CT_LOG_STORAGE_TEST_MODE";

/// Runs one `#[ignore]`d test of this binary in a child process with `mode`, returning its
/// exit status and output.
fn run_child(test: &str, dir: &Path, mode: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_MODE, mode)
        .output()
        .unwrap()
}

/// Child side of the crash tests (does nothing unless started by them).
#[tokio::test]
#[ignore = "run as a child process by the crash tests"]
async fn child_process() {
    let (Ok(dir), Ok(mode)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_MODE)) else {
        return;
    };
    match mode.as_str() {
        "write-then-abort" => {
            let store = DirectoryStore::open(&dir).await.unwrap();
            store
                .put("tile/0/000", bytes("tile"), PutMode::Immutable)
                .await
                .unwrap();
            let before = DedupValue {
                leaf_index: 0,
                timestamp: 1,
            };
            store.put_dedup(&[(key(1), before)]).await.unwrap();
            // This durable commit also persists the dedup entry above.
            store
                .compare_and_swap_checkpoint(None, b"cp1")
                .await
                .unwrap();
            store
                .put(CHECKPOINT_PATH, bytes("cp1"), PutMode::Mutable)
                .await
                .unwrap();
            // Not followed by a durable commit: may be lost in the crash.
            let after = DedupValue {
                leaf_index: 1,
                timestamp: 2,
            };
            store.put_dedup(&[(key(2), after)]).await.unwrap();
            // No destructors, no clean close of the database, like a kill -9.
            std::process::abort();
        }
        "expect-locked" => {
            let err = DirectoryStore::open(&dir).await.unwrap_err();
            assert!(matches!(err, StorageError::AlreadyOpen { .. }), "{err}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[tokio::test]
async fn a_crashed_process_loses_nothing_it_was_told_is_durable() {
    let dir = tempfile::Builder::new()
        .prefix("ct-log-storage-crash-")
        .tempdir()
        .unwrap();
    let root = dir.path().join("log");
    let output = run_child("child_process", &root, "write-then-abort");
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(
        output.status.signal(),
        Some(6),
        "the child should have aborted (SIGABRT): {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The crashed process's lock is gone with it; redb recovers the database.
    let store = DirectoryStore::open(&root).await.unwrap();
    assert_eq!(
        store.load_checkpoint().await.unwrap().as_deref(),
        Some(&b"cp1"[..])
    );
    assert_eq!(store.get("tile/0/000").await.unwrap(), Some(bytes("tile")));
    assert_eq!(
        store.get(CHECKPOINT_PATH).await.unwrap(),
        Some(bytes("cp1"))
    );
    assert_eq!(
        store.get_dedup(&key(1)).await.unwrap(),
        Some(DedupValue {
            leaf_index: 0,
            timestamp: 1
        })
    );
    // The swap still works from the recovered value.
    store
        .compare_and_swap_checkpoint(Some(b"cp1"), b"cp2")
        .await
        .unwrap();
}

#[tokio::test]
async fn another_process_cannot_open_a_directory_in_use() {
    let (dir, store) = directory_store().await;
    let output = run_child("child_process", &dir.path().join("log"), "expect-locked");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // "1 passed": the child ran its check, rather than matching no test and exiting 0.
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(store);
}

#[tokio::test]
async fn staging_paths_are_valid_objects() {
    let store = MemoryStore::new();
    let path = staging_path(70_000, &[0xab; 32]);
    store
        .put(&path, bytes("bundle"), PutMode::Immutable)
        .await
        .unwrap();
    assert_eq!(store.object_paths(), vec![path]);
}
