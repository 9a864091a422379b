//! A real process crash: a child process runs the log on a directory and prints every SCT it
//! receives; the parent kills it (SIGKILL: no destructors, no clean close) while it sequences,
//! then reopens the directory and checks that the log is whole and holds every SCT the child
//! printed (DESIGN.md "CT log": an SCT is never returned for an entry that is not durable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod log_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ct_core::{LogSigningKey, SignedCertificateTimestamp};
use ct_log::log::{AddResult, Log, LogConfig};
use ct_log::storage::DirectoryStore;
use ct_log::submission::{Roots, ValidationPolicy};
use log_support::{Fixture, ORIGIN, add_all, by_count, check_log};

const CHILD_DIR: &str = "CT_LOG_SEQUENCER_TEST_DIR";
const BATCH: usize = 4;
/// SCTs the parent waits for before it kills the child.
const KILL_AFTER: usize = 12;

/// What the child needs, written by the parent: the log key, the root, the chains.
#[derive(serde::Serialize, serde::Deserialize)]
struct Plan {
    key: String,
    root: String,
    chains: Vec<Vec<String>>,
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).unwrap()
}

/// Child side (does nothing unless started by the parent test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by the process crash test"]
async fn child_sequences_until_killed() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let dir = Path::new(&dir);
    let plan: Plan =
        serde_json::from_slice(&std::fs::read(dir.join("plan.json")).unwrap()).unwrap();
    let config = LogConfig {
        origin: ORIGIN.to_owned(),
        signing_key: LogSigningKey::from_pkcs8_der(&unb64(&plan.key)).unwrap(),
        roots: Roots::from_der([unb64(&plan.root)]).unwrap(),
        policy: ValidationPolicy::default(),
        batch: by_count(BATCH),
    };
    let store = Arc::new(DirectoryStore::open(dir.join("log")).await.unwrap());
    let log = Arc::new(Log::open(config, store.clone(), store).await.unwrap());
    let chains: Vec<Vec<Vec<u8>>> = plan
        .chains
        .iter()
        .map(|chain| chain.iter().map(|c| unb64(c)).collect())
        .collect();
    for (n, batch) in chains.chunks(BATCH).enumerate() {
        for (i, result) in add_all(&log, batch).await.into_iter().enumerate() {
            let result = result.unwrap();
            // One line per SCT, written before the next pass starts.
            println!(
                "SCT {} {}",
                n * BATCH + i,
                b64(&result.sct.to_bytes().unwrap())
            );
        }
    }
    // Ran out of chains before being killed: the parent fails on the missing kill.
    println!("DONE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_loses_no_entry_it_returned_an_sct_for() {
    let fixture = Fixture::new();
    let chains = fixture.precert_chains(160).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        key: b64(&fixture.key_der),
        root: b64(&fixture.ca.current().chain().last().cloned().unwrap()),
        chains: chains
            .iter()
            .map(|chain| chain.iter().map(|c| b64(c)).collect())
            .collect(),
    };
    std::fs::write(
        dir.path().join("plan.json"),
        serde_json::to_vec(&plan).unwrap(),
    )
    .unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sequences_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed: Vec<(usize, SignedCertificateTimestamp)> = Vec::new();
    let mut killed = false;
    while let Some(Ok(line)) = lines.next() {
        if let Some(rest) = line.strip_prefix("SCT ") {
            let (index, sct) = rest.split_once(' ').unwrap();
            let sct = SignedCertificateTimestamp::from_bytes(&unb64(sct)).unwrap();
            printed.push((index.parse().unwrap(), sct));
            if printed.len() == KILL_AFTER && !killed {
                child.kill().unwrap(); // SIGKILL, mid-sequencing
                killed = true;
            }
        }
        assert_ne!(line, "DONE", "the child finished before it was killed");
    }
    child.wait().unwrap();
    assert!(killed);

    let store = Arc::new(DirectoryStore::open(dir.path().join("log")).await.unwrap());
    let answered: Vec<_> = printed
        .iter()
        .map(|(i, sct)| {
            let leaf_index =
                ct_core::leaf_index::decode_leaf_index_extension(&sct.extensions).unwrap();
            (
                fixture.entry_of(&chains[*i]),
                AddResult {
                    sct: sct.clone(),
                    leaf_index,
                    duplicate: false,
                },
            )
        })
        .collect();
    // Opening recovers (the index entries of the last pass are only durable with the next
    // swap, so they are re-recorded from its staging bundle); then the log must be whole.
    let log = Arc::new(
        Log::open(
            fixture.config(by_count(BATCH)),
            store.clone(),
            store.clone(),
        )
        .await
        .unwrap(),
    );
    let seen = check_log(&fixture, &*store, &*store, &answered, None).await;
    assert!(seen.size >= printed.len() as u64);
    let fresh = fixture.precert_chains(BATCH).await;
    let mut answered = answered;
    for (chain, result) in fresh.iter().zip(add_all(&log, &fresh).await) {
        answered.push((fixture.entry_of(chain), result.unwrap()));
    }
    let after = check_log(&fixture, &*store, &*store, &answered, Some(seen)).await;
    assert_eq!(after.size, seen.size + BATCH as u64);
    log.shutdown().await;
}
