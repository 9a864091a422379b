//! The CT log survives SIGKILL under load (issue crash test (b)): `fulcio ctlog serve` is killed
//! at pseudo-random moments while concurrent clients submit precertificates and a poller reads
//! its tree heads, then restarted on the same data directory. At the end, every SCT the log
//! ever answered must be included at the leaf index its `leaf_index` extension names, with the
//! SCT's timestamp, and every tree head ever seen must be consistent with the final tree: an SCT
//! is only returned for an entry that is durable, and a signed tree head is never taken back.
//!
//! The schedule comes from a seed printed at the start; `CT_LOG_CRASH_SEED=N` replays it (the
//! kill moments, not the thread interleaving, which is what the repetition is for).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ca::{CertificateAuthority, ClientPublicKey, InMemorySigner, KeyKind, Signer as _, ephemeral};
use ct_core::{
    AddChainResponse, LogPublicKey, MerkleTreeLeaf, SignedCertificateTimestamp, SignedEntry,
    certificate::precert_entry_from_precertificate,
    leaf_index::decode_leaf_index_extension,
    merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion},
    sth::{GetSthResponse, SignedTreeHead},
};
use identity::{CertificateIdentity, SubjectAltName};
use serde_json::{Value, json};

use crate::support::server::CtlogServer;

/// Submitting clients, each with at most one request in flight.
const SUBMITTERS: usize = 8;
/// Kill-and-restart rounds.
const ROUNDS: usize = 8;
/// Load before each kill, in milliseconds (inclusive range).
const LOAD_MS: (u64, u64) = (20, 300);
/// Precertificates prepared up front: each is submitted at most once, so this bounds the
/// submissions (and the SCTs to check). Enough for every round to be under load until its kill;
/// a submitter that runs out stops.
const PRECERTS: usize = 800;
/// Between two reads of the tree head by the poller.
const POLL_EVERY: Duration = Duration::from_millis(15);
/// A request the dying process never answers fails after this, instead of hanging the test.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);

/// A SplitMix64 generator: the schedule must be reproducible from the printed seed, and the
/// workspace has no `rand` in this crate's dependencies.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

fn seed() -> u64 {
    match std::env::var("CT_LOG_CRASH_SEED") {
        Ok(text) => text.parse().expect("CT_LOG_CRASH_SEED is a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos() as u64,
    }
}

/// One precertificate and the log entry an SCT for it must sign.
struct Prepared {
    body: String,
    entry: SignedEntry,
}

/// Precertificates from an ephemeral CA (P-256 root, no intermediate): distinct serials, so
/// distinct entries. Returns them with the root's PEM for `--roots`.
async fn prepare(count: usize) -> (Vec<Prepared>, String) {
    let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).expect("CA key"));
    let root = ca.current().chain().last().cloned().expect("root");
    let key = InMemorySigner::generate(KeyKind::EcdsaP256).expect("client key");
    let key = ClientPublicKey::parse(key.public_key_der()).expect("client public key");
    let identity = CertificateIdentity {
        san: SubjectAltName::Email("signer@example.com".into()),
        extensions: oidc::Extensions {
            issuer: "https://accounts.example.com".into(),
            subject: "signer@example.com".into(),
            ..Default::default()
        },
    };
    let mut prepared = Vec::with_capacity(count);
    for _ in 0..count {
        let precert = ca
            .issue_precertificate(&identity, &key)
            .await
            .expect("precertificate");
        let mut chain = vec![precert.der.clone()];
        chain.extend(precert.chain().iter().cloned());
        let entry = SignedEntry::Precert(
            precert_entry_from_precertificate(&chain[0], &chain[1]).expect("precert entry"),
        );
        let body = json!({ "chain": chain.iter().map(|c| BASE64.encode(c)).collect::<Vec<_>>() })
            .to_string();
        prepared.push(Prepared { body, entry });
    }
    let root_pem = pem::encode(&pem::Pem::new("CERTIFICATE", root));
    (prepared, root_pem)
}

/// What the clients saw, in the order they saw it.
#[derive(Default)]
struct Observed {
    /// (precertificate number, kill round it was answered in, SCT) for every 200 answer.
    scts: Vec<(usize, usize, SignedCertificateTimestamp)>,
    /// (kill round, verified tree head) for every tree head the poller read.
    sths: Vec<(usize, SignedTreeHead)>,
}

/// The log the clients talk to: its URL while one is running, `None` between a kill and the
/// restart (clients wait instead of spending precertificates on a dead port).
#[derive(Default)]
struct Target {
    url: Mutex<Option<(String, usize)>>,
}

impl Target {
    fn get(&self) -> Option<(String, usize)> {
        self.url.lock().unwrap().clone()
    }

    fn set(&self, url: Option<(String, usize)>) {
        *self.url.lock().unwrap() = url;
    }
}

async fn submitter(
    client: reqwest::Client,
    target: Arc<Target>,
    precerts: Arc<Vec<Prepared>>,
    next: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
    observed: Arc<Mutex<Observed>>,
) {
    while !done.load(Ordering::Relaxed) {
        let Some((url, round)) = target.get() else {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some(precert) = precerts.get(n) else {
            return;
        };
        // A failed request (the process died under it) may or may not have logged the entry;
        // either is correct, since no SCT was returned. The precertificate is not retried.
        let Ok(response) = client
            .post(format!("{url}/ct/v1/add-pre-chain"))
            .header("content-type", "application/json")
            .body(precert.body.clone())
            .send()
            .await
        else {
            continue;
        };
        let status = response.status();
        if status != 200 {
            // SIGKILL cannot produce an answer, so this came from a live log. A refusal of a
            // valid precertificate is a bug; a 5xx (overload, recovery) is allowed but shown.
            let text = response.text().await.unwrap_or_default();
            assert!(
                !status.is_client_error(),
                "precert {n} refused in round {round}: {status} {text}"
            );
            eprintln!("ct_log_crash: precert {n} in round {round}: {status} {text}");
            continue;
        }
        // The status line came but the body may still be cut off by the kill: only a complete,
        // well-formed answer counts as an SCT returned.
        let Ok(answer) = response.json::<AddChainResponse>().await else {
            continue;
        };
        let sct = SignedCertificateTimestamp::try_from(&answer)
            .unwrap_or_else(|e| panic!("precert {n}: a 200 answer with an undecodable SCT: {e}"));
        observed.lock().unwrap().scts.push((n, round, sct));
    }
}

/// Reads and verifies the log's STH; `None` if the log is not answering (killed).
async fn read_sth(
    client: &reqwest::Client,
    url: &str,
    key: &LogPublicKey,
) -> Option<SignedTreeHead> {
    let response = client
        .get(format!("{url}/ct/v1/get-sth"))
        .send()
        .await
        .ok()?;
    assert_eq!(response.status(), 200, "get-sth from a live log");
    let json: GetSthResponse = response.json().await.ok()?;
    let sth = SignedTreeHead::try_from(&json).expect("get-sth decodes");
    sth.verify(key).unwrap_or_else(|e| {
        panic!(
            "get-sth at size {}: bad signature: {e}",
            sth.tree_head.tree_size
        )
    });
    Some(sth)
}

async fn poller(
    client: reqwest::Client,
    target: Arc<Target>,
    key: LogPublicKey,
    done: Arc<AtomicBool>,
    observed: Arc<Mutex<Observed>>,
) {
    while !done.load(Ordering::Relaxed) {
        if let Some((url, round)) = target.get()
            && let Some(sth) = read_sth(&client, &url, &key).await
        {
            observed.lock().unwrap().sths.push((round, sth));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let text = response.text().await.expect("body");
    assert_eq!(status, 200, "GET {url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
}

fn hashes_of(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .expect("array of hashes")
        .iter()
        .map(|h| {
            BASE64
                .decode(h.as_str().expect("string"))
                .expect("base64")
                .try_into()
                .expect("32 bytes")
        })
        .collect()
}

/// Starts the log on `data_dir` with a group-commit delay drawn from the schedule: short delays
/// put kills in the middle of writes more often, long ones kill batches while they fill.
async fn start_log(roots: &Path, data_dir: &Path, rng: &mut SplitMix) -> CtlogServer {
    let delay = format!("{}ms", rng.between(1, 25));
    CtlogServer::start(&[
        "--roots".as_ref(),
        roots.as_os_str(),
        "--data-dir".as_ref(),
        data_dir.as_os_str(),
        "--batch-max-delay".as_ref(),
        delay.as_ref(),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sct_and_tree_head_survives_sigkill_under_load() {
    let seed = seed();
    // Printed so a failure can be replayed with CT_LOG_CRASH_SEED.
    eprintln!("ct_log_crash: seed {seed}");
    let mut rng = SplitMix(seed);

    let (precerts, root_pem) = prepare(PRECERTS).await;
    let precerts = Arc::new(precerts);
    let scratch = tempfile::tempdir().expect("scratch dir");
    let roots = scratch.path().join("roots.pem");
    std::fs::write(&roots, root_pem).expect("writing roots");
    let data_dir = scratch.path().join("log");

    let client = reqwest::Client::builder()
        .timeout(REQUEST_LIMIT)
        .build()
        .expect("HTTP client");
    let target = Arc::new(Target::default());
    let observed = Arc::new(Mutex::new(Observed::default()));
    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));

    // The first start writes the log key; it stays the same across restarts (same directory).
    let mut log = start_log(&roots, &data_dir, &mut rng).await;
    let pem = std::fs::read(data_dir.join("log-public-key.pem")).expect("log-public-key.pem");
    let key = LogPublicKey::from_pem(&pem).expect("the log's public key parses");

    let mut tasks = Vec::new();
    for _ in 0..SUBMITTERS {
        tasks.push(tokio::spawn(submitter(
            client.clone(),
            Arc::clone(&target),
            Arc::clone(&precerts),
            Arc::clone(&next),
            Arc::clone(&done),
            Arc::clone(&observed),
        )));
    }
    tasks.push(tokio::spawn(poller(
        client.clone(),
        Arc::clone(&target),
        key.clone(),
        Arc::clone(&done),
        Arc::clone(&observed),
    )));

    for round in 0..ROUNDS {
        let url = log.url();
        // A restarted log serves a tree no smaller than any seen before, containing every
        // SCT returned so far.
        let first = read_sth(&client, &url, &key)
            .await
            .expect("a freshly started log answers get-sth");
        {
            let seen = observed.lock().unwrap();
            let largest = seen.sths.iter().map(|(_, s)| s.tree_head.tree_size).max();
            assert!(
                largest.is_none_or(|l| first.tree_head.tree_size >= l),
                "seed {seed}: round {round} restarted at size {} after size {largest:?} was seen",
                first.tree_head.tree_size
            );
            for (n, answered, sct) in &seen.scts {
                let index = decode_leaf_index_extension(&sct.extensions)
                    .unwrap_or_else(|e| panic!("precert {n}: SCT without leaf_index: {e}"));
                assert!(
                    index < first.tree_head.tree_size,
                    "seed {seed}: precert {n}'s SCT (answered in round {answered}, leaf index \
                     {index}) is not in the tree of size {} the log restarted with in round \
                     {round}",
                    first.tree_head.tree_size
                );
            }
            drop(seen);
            observed.lock().unwrap().sths.push((round, first));
        }
        target.set(Some((url, round)));
        let load = rng.between(LOAD_MS.0, LOAD_MS.1);
        tokio::time::sleep(Duration::from_millis(load)).await;
        // SIGKILL: no destructors, no flush, whatever request is in flight is cut off.
        target.set(None);
        log.stop().await;
        let answered = observed.lock().unwrap().scts.len();
        eprintln!(
            "ct_log_crash: round {round}: killed after {load} ms; {answered} SCTs so far, {} \
             precerts spent",
            next.load(Ordering::Relaxed).min(PRECERTS)
        );
        log = start_log(&roots, &data_dir, &mut rng).await;
    }
    done.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("client task");
    }

    let url = log.url();
    let last = read_sth(&client, &url, &key)
        .await
        .expect("the final log answers get-sth");
    let size = last.tree_head.tree_size;
    let root = last.tree_head.root_hash;
    let observed = std::mem::take(&mut *observed.lock().unwrap());
    assert!(
        !observed.scts.is_empty(),
        "seed {seed}: no SCT in {ROUNDS} rounds: the load did not reach the log"
    );
    eprintln!(
        "ct_log_crash: final tree size {size}; checking {} SCTs and {} tree heads",
        observed.scts.len(),
        observed.sths.len()
    );

    // Every SCT: signed over its precertificate's entry, at a distinct index, and that index of
    // the final tree holds exactly the entry, timestamp and extensions it signed.
    let mut by_index: BTreeMap<u64, usize> = BTreeMap::new();
    for (n, round, sct) in &observed.scts {
        let entry = &precerts[*n].entry;
        key.verify_sct(sct, entry)
            .unwrap_or_else(|e| panic!("seed {seed}: precert {n}'s SCT does not verify: {e}"));
        let index = decode_leaf_index_extension(&sct.extensions)
            .unwrap_or_else(|e| panic!("precert {n}: SCT without leaf_index: {e}"));
        if let Some(other) = by_index.insert(index, *n) {
            panic!("seed {seed}: precerts {other} and {n} were both given leaf index {index}");
        }
        assert!(
            index < size,
            "seed {seed}: precert {n}'s SCT (round {round}) names leaf index {index}, beyond the \
             final tree of size {size}"
        );
        let answer = get_json(
            &client,
            &format!("{url}/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size={size}"),
        )
        .await;
        let leaf_input = BASE64
            .decode(answer["leaf_input"].as_str().expect("leaf_input"))
            .expect("leaf_input base64");
        let leaf = MerkleTreeLeaf::from_bytes(&leaf_input).expect("leaf_input decodes");
        let logged = &leaf.timestamped_entry;
        assert!(
            logged.timestamp == sct.timestamp
                && &logged.entry == entry
                && logged.extensions == sct.extensions,
            "seed {seed}: leaf {index} of the final tree is not precert {n}'s SCT (round \
             {round}): timestamp {} vs SCT {}, same entry: {}",
            logged.timestamp,
            sct.timestamp,
            &logged.entry == entry
        );
        verify_inclusion(
            index,
            size,
            &leaf_hash(&leaf_input),
            &hashes_of(&answer["audit_path"]),
            &root,
        )
        .unwrap_or_else(|e| {
            panic!("seed {seed}: precert {n}'s leaf {index} is not included at size {size}: {e}")
        });
    }

    // Tree heads, in the order seen: never shrinking, even across restarts.
    for pair in observed.sths.windows(2) {
        let ((r0, a), (r1, b)) = (&pair[0], &pair[1]);
        assert!(
            a.tree_head.tree_size <= b.tree_head.tree_size,
            "seed {seed}: the tree shrank from {} (round {r0}) to {} (round {r1})",
            a.tree_head.tree_size,
            b.tree_head.tree_size
        );
    }
    // One root per size; then each size is consistent with the next one seen and with the
    // final tree.
    let mut roots_by_size: BTreeMap<u64, (usize, Hash)> = BTreeMap::new();
    for (round, sth) in observed.sths.iter().chain([&(ROUNDS, last)]) {
        let head = &sth.tree_head;
        let (first_round, first_root) = *roots_by_size
            .entry(head.tree_size)
            .or_insert((*round, head.root_hash));
        assert_eq!(
            first_root, head.root_hash,
            "seed {seed}: two roots for size {} (rounds {first_round} and {round})",
            head.tree_size
        );
    }
    let sizes: Vec<(u64, Hash)> = roots_by_size
        .iter()
        .filter(|(s, _)| **s > 0)
        .map(|(s, (_, r))| (*s, *r))
        .collect();
    for (i, (first, first_root)) in sizes.iter().enumerate() {
        let mut seconds = vec![(size, root)];
        if let Some(next) = sizes.get(i + 1)
            && next.0 != size
        {
            seconds.push(*next);
        }
        for (second, second_root) in seconds {
            if *first == second {
                continue;
            }
            let proof = get_json(
                &client,
                &format!("{url}/ct/v1/get-sth-consistency?first={first}&second={second}"),
            )
            .await;
            verify_consistency(
                *first,
                second,
                first_root,
                &second_root,
                &hashes_of(&proof["consistency"]),
            )
            .unwrap_or_else(|e| {
                panic!("seed {seed}: the tree head at size {first} is not consistent with size {second}: {e}")
            });
        }
    }
    eprintln!(
        "ct_log_crash: {} SCTs included, {} distinct tree sizes consistent",
        observed.scts.len(),
        sizes.len()
    );
    log.stop().await;
}
