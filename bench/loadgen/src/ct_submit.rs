//! `fulcio-loadgen ct-submit`: loads a running CT log (`fulcio ctlog serve`) with
//! `POST /ct/v1/add-pre-chain` alone, no CA in the loop.
//!
//! The precertificates are Fulcio-shaped (the `ca` crate's precertificate path: email SAN,
//! Sigstore issuer extensions, poison) and issued by a CA kept in `--ca-dir` (created on first
//! use; give its `ca.pem` to the log's `--roots`). They are all made before the measured phase,
//! on all cores, and every request sends a different one (each has a random serial), so the log
//! never takes its duplicate path. A sample of the returned SCTs is verified against the log's
//! public key after each level.

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ca::{
    CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyKind, Signer as _,
    certificate::PrincipalExtensions,
};
use ct_core::{AddChainResponse, LogPublicKey, SignedCertificateTimestamp, SignedEntry};
use serde::Serialize;

use crate::{
    cli::CtSubmitArgs,
    error::LoadgenError,
    proc_stats::{self, ProcSample},
    report::Machine,
    request::transport_kind,
    run::{percentile, spawn_rss_sampler},
};

/// The CA certificate file in `--ca-dir` (the log's `--roots`).
const CA_CERT_FILE: &str = "ca.pem";
/// The CA key file in `--ca-dir` (PKCS#8 PEM, unencrypted: a throwaway test CA).
const CA_KEY_FILE: &str = "ca-key.pem";

/// One prepared submission.
struct Submission {
    /// The `add-pre-chain` JSON body.
    body: bytes::Bytes,
    /// The precertificate, DER (to rebuild the entry when verifying its SCT).
    precert: Vec<u8>,
}

/// The prepared submissions and the issuing certificate they chain to.
struct Pool {
    submissions: Vec<Submission>,
    issuer: Vec<u8>,
    /// The next unused submission.
    next: AtomicUsize,
    /// Set when a worker found the pool empty.
    exhausted: AtomicBool,
}

impl Pool {
    /// Claims the next unused submission's index.
    fn take(&self) -> Option<usize> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        if index < self.submissions.len() {
            Some(index)
        } else {
            self.exhausted.store(true, Ordering::Relaxed);
            None
        }
    }
}

/// One level's results.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitLevel {
    /// Concurrent clients.
    pub concurrency: usize,
    /// Measured wall-clock seconds.
    pub seconds: f64,
    /// Entries the log accepted (answered with an SCT, i.e. committed).
    pub entries: u64,
    /// Failed requests.
    pub errors: u64,
    /// Accepted entries per second.
    pub entries_per_second: f64,
    /// Latency percentiles of accepted entries, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Failures by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// The log's CPU seconds (user + system) during the level.
    pub server_cpu_seconds: Option<f64>,
    /// The log's CPU µs per accepted entry.
    pub server_cpu_micros_per_entry: Option<f64>,
    /// The log's user CPU seconds during the level.
    pub server_user_cpu_seconds: Option<f64>,
    /// The log's system CPU seconds during the level.
    pub server_system_cpu_seconds: Option<f64>,
    /// The log's peak RSS during the level, MiB.
    pub server_peak_rss_mib: Option<f64>,
    /// This process's CPU seconds during the level (it shares the machine).
    pub loadgen_cpu_seconds: Option<f64>,
    /// SCTs checked against the log key (all verified, or the run fails).
    pub scts_verified: u64,
    /// The pool ran out before the level's end.
    pub pool_exhausted: bool,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitReport {
    /// Where it ran.
    pub machine: Machine,
    /// When it finished (Unix seconds).
    pub unix_time: u64,
    /// The log's base URL.
    pub url: String,
    /// Precertificates prepared.
    pub pool: usize,
    /// Seconds spent preparing them.
    pub pool_seconds: f64,
    /// One entry per level.
    pub levels: Vec<SubmitLevel>,
}

/// Loads the CA from `dir`, creating a P-256 root there first if it has none.
fn load_or_create_ca(dir: &Path) -> Result<IssuingKey, LoadgenError> {
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    if !cert_path.exists() || !key_path.exists() {
        std::fs::create_dir_all(dir).map_err(|e| LoadgenError::io(dir, e))?;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| LoadgenError::Crypto(e.to_string()))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "sigstore");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fulcio-loadgen ct-submit CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(1));
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2034, 1, 1);
        let cert = params
            .self_signed(&key)
            .map_err(|e| LoadgenError::Crypto(e.to_string()))?;
        std::fs::write(&key_path, key.serialize_pem())
            .map_err(|e| LoadgenError::io(&key_path, e))?;
        std::fs::write(&cert_path, cert.pem()).map_err(|e| LoadgenError::io(&cert_path, e))?;
    }
    ca::fileca::load(&cert_path, &key_path, "").map_err(|e| LoadgenError::Crypto(e.to_string()))
}

/// The Fulcio extensions of an email identity (SAN + issuer), as the server renders them.
fn principal() -> Result<PrincipalExtensions, LoadgenError> {
    let identity = identity::CertificateIdentity {
        san: identity::SubjectAltName::Email("loadgen@example.com".into()),
        extensions: oidc::config::Extensions {
            issuer: "https://issuer.loadgen.example".into(),
            ..Default::default()
        },
    };
    PrincipalExtensions::render(&identity).map_err(|e| LoadgenError::Crypto(e.to_string()))
}

/// Makes `count` distinct precertificates on all cores and their request bodies.
async fn prepare_pool(key: IssuingKey, count: usize) -> Result<Pool, LoadgenError> {
    let issuer = key
        .chain()
        .first()
        .cloned()
        .ok_or_else(|| LoadgenError::Crypto("the CA chain is empty".into()))?;
    let ca = Arc::new(CertificateAuthority::new(key));
    let principal = Arc::new(principal()?);
    let subject = InMemorySigner::generate(KeyKind::EcdsaP256)
        .map_err(|e| LoadgenError::Crypto(e.to_string()))?;
    let subject = Arc::new(
        ClientPublicKey::parse(subject.public_key_der())
            .map_err(|e| LoadgenError::Crypto(e.to_string()))?,
    );
    let issuer_b64: Arc<str> = BASE64.encode(&issuer).into();
    let tasks = std::thread::available_parallelism().map_or(2, usize::from) * 4;
    let per_task = count.div_ceil(tasks.max(1));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let n = per_task.min(count.saturating_sub(t * per_task));
            let (ca, principal, subject, issuer_b64) = (
                ca.clone(),
                principal.clone(),
                subject.clone(),
                issuer_b64.clone(),
            );
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let pre = ca
                        .issue_precertificate_with(&principal, &subject)
                        .await
                        .map_err(|e| LoadgenError::Crypto(e.to_string()))?;
                    let der = pre.der.clone();
                    let body = format!(
                        r#"{{"chain":["{}","{}"]}}"#,
                        BASE64.encode(&der),
                        issuer_b64
                    );
                    out.push(Submission {
                        body: bytes::Bytes::from(body),
                        precert: der,
                    });
                }
                Ok::<_, LoadgenError>(out)
            })
        })
        .collect();
    let mut submissions = Vec::with_capacity(count);
    for handle in handles {
        submissions.extend(
            handle
                .await
                .map_err(|e| LoadgenError::Crypto(e.to_string()))??,
        );
    }
    Ok(Pool {
        submissions,
        issuer,
        next: AtomicUsize::new(0),
        exhausted: AtomicBool::new(false),
    })
}

/// What one worker saw.
#[derive(Default)]
struct WorkerStats {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    /// (pool index, answer) of the sampled submissions.
    sampled: Vec<(usize, AddChainResponse)>,
}

/// Sends one submission; the error is its kind.
async fn submit(
    client: &reqwest::Client,
    url: &str,
    body: bytes::Bytes,
) -> Result<AddChainResponse, String> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| transport_kind(&e))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(120).collect();
        return Err(format!("HTTP {}: {}", status.as_u16(), text.trim()));
    }
    response
        .json::<AddChainResponse>()
        .await
        .map_err(|e| format!("bad answer: {}", transport_kind(&e)))
}

/// Submits from the pool until `deadline` or the pool runs out; keeps the answers of pool
/// indices divisible by `stride` when `keep` is set.
async fn worker(
    client: reqwest::Client,
    url: Arc<str>,
    pool: Arc<Pool>,
    deadline: Instant,
    stride: usize,
    keep: bool,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    while Instant::now() < deadline {
        let Some(index) = pool.take() else { break };
        let body = pool.submissions[index].body.clone();
        let started = Instant::now();
        match submit(&client, &url, body).await {
            Ok(answer) => {
                stats
                    .latencies_us
                    .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                if keep && index % stride == 0 {
                    stats.sampled.push((index, answer));
                }
            }
            Err(kind) => *stats.errors.entry(kind).or_default() += 1,
        }
    }
    stats
}

/// Runs `concurrency` workers until `deadline` and merges what they saw.
async fn drive(
    client: &reqwest::Client,
    url: &Arc<str>,
    pool: &Arc<Pool>,
    concurrency: usize,
    deadline: Instant,
    stride: usize,
    keep: bool,
) -> WorkerStats {
    let handles: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(worker(
                client.clone(),
                url.clone(),
                pool.clone(),
                deadline,
                stride,
                keep,
            ))
        })
        .collect();
    let mut total = WorkerStats::default();
    for handle in handles {
        match handle.await {
            Ok(stats) => {
                total.latencies_us.extend(stats.latencies_us);
                for (kind, n) in stats.errors {
                    *total.errors.entry(kind).or_default() += n;
                }
                total.sampled.extend(stats.sampled);
            }
            Err(e) => *total.errors.entry(format!("worker: {e}")).or_default() += 1,
        }
    }
    total
}

/// Verifies each sampled SCT over the entry rebuilt from its precertificate (RFC 6962 §3.2).
fn verify_sample(
    pool: &Pool,
    key: &LogPublicKey,
    sampled: &[(usize, AddChainResponse)],
) -> Result<u64, LoadgenError> {
    let fail = |index: usize, what: String| {
        LoadgenError::Server(format!("SCT of submission {index} does not verify: {what}"))
    };
    for (index, answer) in sampled {
        let sct = SignedCertificateTimestamp::try_from(answer)
            .map_err(|e| fail(*index, e.to_string()))?;
        let entry = ct_core::certificate::precert_entry_from_precertificate(
            &pool.submissions[*index].precert,
            &pool.issuer,
        )
        .map_err(|e| fail(*index, e.to_string()))?;
        key.verify_sct(&sct, &SignedEntry::Precert(entry))
            .map_err(|e| fail(*index, e.to_string()))?;
    }
    Ok(sampled.len() as u64)
}

/// Waits until the log answers any HTTP request on `/ct/v1/get-sth`.
async fn wait_for_log(client: &reqwest::Client, base: &str) -> Result<(), LoadgenError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(format!("{base}/ct/v1/get-sth")).send().await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(LoadgenError::Server(format!(
                    "{base} unreachable for 30 s: {e}"
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Text table of the levels.
fn text(report: &SubmitReport) -> String {
    let opt = |v: Option<f64>, p: usize| v.map_or_else(|| "-".into(), |v| format!("{v:.p$}"));
    let mut out = format!(
        "{} cores, {}; pool of {} precertificates prepared in {:.1} s\n",
        report.machine.cores, report.machine.cpu_model, report.pool, report.pool_seconds
    );
    out.push_str(
        "conc   entries  errors  entries/s  p50 ms  p90 ms  p99 ms  max ms  log cpu s (usr/sys)  log µs/entry  log rss MiB  lg cpu s  scts ok\n",
    );
    for l in &report.levels {
        out.push_str(&format!(
            "{:>4} {:>9} {:>7} {:>10.0} {:>7.2} {:>7.2} {:>7.2} {:>7.1} {:>8} ({}/{}) {:>12} {:>12} {:>9} {:>8}{}\n",
            l.concurrency,
            l.entries,
            l.errors,
            l.entries_per_second,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            opt(l.server_cpu_seconds, 1),
            opt(l.server_user_cpu_seconds, 1),
            opt(l.server_system_cpu_seconds, 1),
            opt(l.server_cpu_micros_per_entry, 0),
            opt(l.server_peak_rss_mib, 1),
            opt(l.loadgen_cpu_seconds, 1),
            l.scts_verified,
            if l.pool_exhausted {
                "  (pool exhausted)"
            } else {
                ""
            },
        ));
        for (kind, n) in &l.error_kinds {
            out.push_str(&format!("     error {n} × {kind}\n"));
        }
    }
    out
}

/// `fulcio-loadgen ct-submit`.
pub async fn run(args: CtSubmitArgs) -> Result<(), LoadgenError> {
    let key = load_or_create_ca(&args.ca_dir)?;
    if args.init_only {
        println!("CA root: {}", args.ca_dir.join(CA_CERT_FILE).display());
        return Ok(());
    }
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        return Err(LoadgenError::Usage(
            "--concurrency must be at least 1".into(),
        ));
    }
    let log_key = match &args.log_public_key {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| LoadgenError::io(path, e))?;
            Some(
                LogPublicKey::from_pem(&pem)
                    .map_err(|e| LoadgenError::Usage(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    let started = Instant::now();
    let pool = Arc::new(prepare_pool(key, args.pool).await?);
    let pool_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "prepared {} precertificates in {pool_seconds:.1} s",
        pool.submissions.len()
    );
    let stride = (args.pool / args.verify.max(1)).max(1);

    let max_concurrency = args.concurrency.iter().copied().max().unwrap_or(1);
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(max_concurrency)
        .build()
        .map_err(|e| LoadgenError::Client(e.to_string()))?;
    let base = args.url.trim_end_matches('/').to_owned();
    wait_for_log(&client, &base).await?;
    let url: Arc<str> = format!("{base}/ct/v1/add-pre-chain").into();
    let ticks = proc_stats::clock_ticks();
    let pids: Vec<String> = args.server_pid.iter().map(u32::to_string).collect();

    let mut levels = Vec::new();
    for &concurrency in &args.concurrency {
        if !args.warmup.is_zero() {
            let warm = drive(
                &client,
                &url,
                &pool,
                concurrency,
                Instant::now() + args.warmup,
                stride,
                false,
            )
            .await;
            if warm.latencies_us.is_empty() && !warm.errors.is_empty() {
                let kind = warm.errors.keys().next().cloned().unwrap_or_default();
                return Err(LoadgenError::Server(format!(
                    "every warm-up submission failed, e.g. {kind}"
                )));
            }
        }
        let cpu_before = proc_stats::user_system_all(&pids, ticks);
        let self_before = proc_stats::sample("self", ticks);
        let sampling = Arc::new(AtomicBool::new(false));
        let sampler =
            (!pids.is_empty()).then(|| spawn_rss_sampler(pids.clone(), ticks, sampling.clone()));
        let level_start = Instant::now();
        let mut stats = drive(
            &client,
            &url,
            &pool,
            concurrency,
            level_start + args.duration,
            stride,
            true,
        )
        .await;
        let elapsed = level_start.elapsed();
        sampling.store(true, Ordering::Relaxed);
        let peak_rss = match sampler {
            Some(handle) => handle.await.ok(),
            None => None,
        };
        let cpu_after = proc_stats::user_system_all(&pids, ticks);
        let self_after = proc_stats::sample("self", ticks);
        let scts_verified = match &log_key {
            Some(key) => verify_sample(&pool, key, &stats.sampled)?,
            None => 0,
        };
        stats.latencies_us.sort_unstable();
        let ok = stats.latencies_us.len() as u64;
        let ms = |us: u64| us as f64 / 1000.0;
        let cpu = cpu_before
            .zip(cpu_after)
            .map(|((u0, s0), (u1, s1))| (u1 - u0, s1 - s0));
        levels.push(SubmitLevel {
            concurrency,
            seconds: elapsed.as_secs_f64(),
            entries: ok,
            errors: stats.errors.values().sum(),
            entries_per_second: ok as f64 / elapsed.as_secs_f64(),
            p50_ms: ms(percentile(&stats.latencies_us, 50.0)),
            p90_ms: ms(percentile(&stats.latencies_us, 90.0)),
            p99_ms: ms(percentile(&stats.latencies_us, 99.0)),
            max_ms: ms(stats.latencies_us.last().copied().unwrap_or(0)),
            error_kinds: stats.errors,
            server_cpu_seconds: cpu.map(|(u, s)| u + s),
            server_cpu_micros_per_entry: cpu
                .filter(|_| ok > 0)
                .map(|(u, s)| (u + s) * 1e6 / ok as f64),
            server_user_cpu_seconds: cpu.map(|(u, _)| u),
            server_system_cpu_seconds: cpu.map(|(_, s)| s),
            server_peak_rss_mib: peak_rss.map(|b| b as f64 / 1_048_576.0),
            loadgen_cpu_seconds: self_before
                .zip(self_after)
                .map(|(b, a): (ProcSample, ProcSample)| a.cpu.saturating_sub(b.cpu).as_secs_f64()),
            scts_verified,
            pool_exhausted: pool.exhausted.load(Ordering::Relaxed),
        });
    }
    let report = SubmitReport {
        machine: Machine::detect(),
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        url: base,
        pool: pool.submissions.len(),
        pool_seconds,
        levels,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .map_err(|e| LoadgenError::Usage(e.to_string()))?
        );
    } else {
        print!("{}", text(&report));
    }
    if report.levels.iter().all(|l| l.entries == 0) {
        return Err(LoadgenError::Server("no entry was accepted".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_precertificates_are_distinct_and_chain_to_the_ca() {
        let dir = std::env::temp_dir().join(format!("ct-submit-test-{}", std::process::id()));
        let key = load_or_create_ca(&dir).unwrap();
        // Loading again reads the same CA.
        let again = load_or_create_ca(&dir).unwrap();
        assert_eq!(key.chain(), again.chain());
        let pool = prepare_pool(key, 20).await.unwrap();
        assert_eq!(pool.submissions.len(), 20);
        let mut ders: Vec<_> = pool.submissions.iter().map(|s| &s.precert).collect();
        ders.sort();
        ders.dedup();
        assert_eq!(ders.len(), 20);
        for s in &pool.submissions {
            ct_core::certificate::precert_entry_from_precertificate(&s.precert, &pool.issuer)
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
            assert_eq!(body["chain"].as_array().unwrap().len(), 2);
        }
        assert!(pool.take().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
