//! `fulcio-loadgen run`: concurrent clients against `/api/v2/signingCert` (or gRPC
//! `CreateSigningCertificate` with `--grpc`), one concurrency level after another, with server
//! CPU/RSS from /proc and the crypto limit at the end. Requests the server sheds (HTTP 503,
//! gRPC `Unavailable`) are counted under their own error kind, `shed`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    cli::RunArgs,
    error::LoadgenError,
    limit::measure_limit,
    proc_stats::{self, ProcSample},
    report::{self, LevelResult, Machine, Report},
    request::{signing_cert_body, signing_cert_message, transport_kind},
    token::TokenInfo,
};
use fulcio_proto::v2::ca_client::CaClient;
use tonic::transport::{Channel, Endpoint};

/// How a level ends: at a time, or after a number of requests.
#[derive(Clone)]
enum Stop {
    At(Instant),
    After(Arc<AtomicU64>),
}

impl Stop {
    /// Claims the next request, or says the level is over.
    fn next(&self) -> bool {
        match self {
            Self::At(deadline) => Instant::now() < *deadline,
            Self::After(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// What one worker saw.
#[derive(Default)]
struct WorkerStats {
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    embedded: u64,
    detached: u64,
}

fn read_token(args: &RunArgs) -> Result<TokenInfo, LoadgenError> {
    match (&args.token, &args.token_file) {
        (Some(token), _) => TokenInfo::parse(token),
        (None, Some(path)) => {
            let raw = std::fs::read_to_string(path).map_err(|e| LoadgenError::io(path, e))?;
            TokenInfo::parse(&raw)
        }
        (None, None) => Err(LoadgenError::NoToken),
    }
}

/// Where requests go: HTTP `POST /api/v2/signingCert`, or gRPC `CreateSigningCertificate`.
#[derive(Clone)]
enum Transport {
    /// One pooled HTTP client shared by the workers.
    Http {
        client: reqwest::Client,
        base: String,
        url: Arc<str>,
    },
    /// A gRPC endpoint; each worker opens its own connection (as HTTP/1.1 clients each hold
    /// one), rather than multiplexing every client over one HTTP/2 connection.
    Grpc { endpoint: Box<Endpoint> },
}

/// One worker's client.
enum Client {
    Http {
        client: reqwest::Client,
        url: Arc<str>,
    },
    Grpc(CaClient<Channel>),
}

/// A successful answer: whether the SCT was embedded, and the chain (PEM, leaf first).
struct Issued {
    embedded: bool,
    chain: Vec<String>,
}

/// The error kind of a request the server refused for overload.
const SHED: &str = "shed";

impl Transport {
    fn client(&self) -> Client {
        match self {
            Self::Http { client, url, .. } => Client::Http {
                client: client.clone(),
                url: url.clone(),
            },
            Self::Grpc { endpoint } => Client::Grpc(CaClient::new(endpoint.connect_lazy())),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Http { .. } => "http",
            Self::Grpc { .. } => "grpc",
        }
    }

    /// Waits until the server answers: anything on `/healthz`, or a gRPC connection.
    async fn wait_for_server(&self) -> Result<(), LoadgenError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (result, what) = match self {
                Self::Http { client, base, .. } => (
                    client
                        .get(format!("{base}/healthz"))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    format!("{base}/healthz"),
                ),
                Self::Grpc { endpoint } => (
                    endpoint
                        .connect()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    endpoint.uri().to_string(),
                ),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    return Err(LoadgenError::Server(format!(
                        "{what} unreachable for 30 s: {e}"
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Client {
    /// Sends one request and classifies the answer; the error is the failure's kind.
    async fn issue(&mut self, token: &TokenInfo, csr: bool) -> Result<Issued, String> {
        match self {
            Self::Http { client, url } => http_issue(client, url, token, csr).await,
            Self::Grpc(client) => grpc_issue(client, token, csr).await,
        }
    }
}

async fn http_issue(
    client: &reqwest::Client,
    url: &str,
    token: &TokenInfo,
    csr: bool,
) -> Result<Issued, String> {
    let body = signing_cert_body(token, csr).map_err(|e| e.to_string())?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| transport_kind(&e))?;
    let status = response.status();
    if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return Err(SHED.into());
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|_| format!("HTTP {}: body read failed", status.as_u16()))?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    if status != reqwest::StatusCode::OK {
        let message = json
            .as_ref()
            .and_then(|j| j["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(100).collect());
        return Err(format!("HTTP {}: {message}", status.as_u16()));
    }
    let chain = |form: &str| {
        json.as_ref()
            .and_then(|j| j[form]["chain"]["certificates"].as_array())
            .map(|certs| {
                certs
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .filter(|certs| !certs.is_empty())
    };
    if let Some(chain) = chain("signedCertificateEmbeddedSct") {
        Ok(Issued {
            embedded: true,
            chain,
        })
    } else if let Some(chain) = chain("signedCertificateDetachedSct") {
        Ok(Issued {
            embedded: false,
            chain,
        })
    } else {
        Err("HTTP 200: no certificate chain in the answer".into())
    }
}

async fn grpc_issue(
    client: &mut CaClient<Channel>,
    token: &TokenInfo,
    csr: bool,
) -> Result<Issued, String> {
    use fulcio_proto::v2::signing_certificate::Certificate;
    let message = signing_cert_message(token, csr).map_err(|e| e.to_string())?;
    let answer = match client.create_signing_certificate(message).await {
        Ok(answer) => answer.into_inner(),
        // A status with a source is the client's own (connect, timeout, broken stream); one
        // without came from the server.
        Err(status) if std::error::Error::source(&status).is_some() => {
            return Err(format!("transport: {:?}", status.code()));
        }
        Err(status) if status.code() == tonic::Code::Unavailable => return Err(SHED.into()),
        Err(status) => return Err(format!("gRPC {:?}: {}", status.code(), status.message())),
    };
    let (embedded, chain) = match answer.certificate {
        Some(Certificate::SignedCertificateEmbeddedSct(c)) => (true, c.chain),
        Some(Certificate::SignedCertificateDetachedSct(c)) => (false, c.chain),
        None => (false, None),
    };
    match chain.map(|c| c.certificates).filter(|c| !c.is_empty()) {
        Some(chain) => Ok(Issued { embedded, chain }),
        None => Err("gRPC OK: no certificate chain in the answer".into()),
    }
}

async fn worker(transport: Transport, token: Arc<TokenInfo>, csr: bool, stop: Stop) -> WorkerStats {
    let mut client = transport.client();
    let mut stats = WorkerStats::default();
    while stop.next() {
        let started = Instant::now();
        match client.issue(&token, csr).await {
            Ok(issued) => {
                stats
                    .latencies_us
                    .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                if issued.embedded {
                    stats.embedded += 1;
                } else {
                    stats.detached += 1;
                }
            }
            Err(kind) => *stats.errors.entry(kind).or_default() += 1,
        }
    }
    stats
}

/// Runs `concurrency` workers until `stop` and merges what they saw.
async fn drive(
    transport: &Transport,
    token: &Arc<TokenInfo>,
    csr: bool,
    concurrency: usize,
    stop: Stop,
) -> WorkerStats {
    let handles: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(transport.clone(), token.clone(), csr, stop.clone())))
        .collect();
    let mut total = WorkerStats::default();
    for handle in handles {
        match handle.await {
            Ok(stats) => {
                total.latencies_us.extend(stats.latencies_us);
                for (kind, n) in stats.errors {
                    *total.errors.entry(kind).or_default() += n;
                }
                total.embedded += stats.embedded;
                total.detached += stats.detached;
            }
            Err(e) => *total.errors.entry(format!("worker: {e}")).or_default() += 1,
        }
    }
    total
}

/// Issues one certificate and verifies its embedded SCT against the log key: the issuer is
/// `chain[1]`, and the signed entry is the leaf's TBS without the SCT list (RFC 6962 §3.3).
async fn check_embedded_sct(
    transport: &Transport,
    token: &TokenInfo,
    csr: bool,
    key: &ct_core::LogPublicKey,
) -> Result<(), LoadgenError> {
    let fail = |what: String| LoadgenError::Server(format!("embedded SCT check: {what}"));
    let issued = transport.client().issue(token, csr).await.map_err(fail)?;
    if !issued.embedded {
        return Err(fail("the answer has no embedded SCT".into()));
    }
    let certs = issued
        .chain
        .iter()
        .map(|c| {
            pem::parse(c)
                .map(pem::Pem::into_contents)
                .map_err(|_| fail("a certificate is not PEM".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let [leaf, issuer, ..] = certs.as_slice() else {
        return Err(fail("chain has no issuer".into()));
    };
    let entry = ct_core::certificate::precert_entry_from_certificate(leaf, issuer)
        .map_err(|e| fail(e.to_string()))?;
    let scts = ct_core::certificate::embedded_scts(leaf).map_err(|e| fail(e.to_string()))?;
    if scts.len() != 1 {
        return Err(fail(format!("{} SCTs embedded, expected 1", scts.len())));
    }
    key.verify_sct(&scts[0], &ct_core::SignedEntry::Precert(entry))
        .map_err(|e| fail(e.to_string()))
}

/// Samples the server(s) every 100 ms until told to stop, keeping the highest RSS seen.
pub(crate) fn spawn_rss_sampler(
    pids: Vec<String>,
    ticks: u64,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Some(s) = proc_stats::sample_all(&pids, ticks) {
                peak = peak.max(s.rss_bytes);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `fulcio-loadgen run`.
pub async fn run(args: RunArgs) -> Result<(), LoadgenError> {
    let base = args.url.trim_end_matches('/').to_owned();
    let max_concurrency = args.concurrency.iter().copied().max().unwrap_or(1);
    if args.concurrency.contains(&0) {
        return Err(LoadgenError::Usage(
            "--concurrency must be at least 1".into(),
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .pool_max_idle_per_host(max_concurrency)
        .build()
        .map_err(|e| LoadgenError::Client(e.to_string()))?;
    let (transport, base) = match &args.grpc {
        None => (
            Transport::Http {
                url: format!("{base}/api/v2/signingCert").into(),
                client,
                base: base.clone(),
            },
            base,
        ),
        Some(grpc) => {
            let endpoint = Endpoint::from_shared(grpc.clone())
                .map_err(|e| LoadgenError::Usage(format!("--grpc {grpc}: {e}")))?
                .timeout(args.timeout)
                .connect_timeout(args.timeout);
            (
                Transport::Grpc {
                    endpoint: Box::new(endpoint),
                },
                grpc.trim_end_matches('/').to_owned(),
            )
        }
    };
    // Fail on a missing or malformed token or key before waiting for the server.
    read_token(&args)?;
    let ct_key = match &args.ct_log_public_key {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| LoadgenError::io(path, e))?;
            Some(
                ct_core::LogPublicKey::from_pem(&pem)
                    .map_err(|e| LoadgenError::Usage(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    transport.wait_for_server().await?;

    let ticks = proc_stats::clock_ticks();
    let server_pids: Vec<String> = args.server_pid.iter().map(u32::to_string).collect();
    let mut levels = Vec::new();
    let mut token_alg = String::from("RS256");
    let mut embedded_seen = false;
    for &concurrency in &args.concurrency {
        let token = Arc::new(read_token(&args)?);
        token_alg.clone_from(&token.alg);
        if let Some(key) = &ct_key {
            check_embedded_sct(&transport, &token, args.csr, key).await?;
        }
        if !args.warmup.is_zero() {
            let warm = drive(
                &transport,
                &token,
                args.csr,
                concurrency,
                Stop::At(Instant::now() + args.warmup),
            )
            .await;
            if warm.latencies_us.is_empty() && !warm.errors.is_empty() {
                let kind = warm
                    .errors
                    .iter()
                    .max_by_key(|(_, n)| **n)
                    .map(|(kind, _)| kind.clone())
                    .unwrap_or_default();
                return Err(LoadgenError::Server(format!(
                    "every warm-up request failed, e.g. {kind}"
                )));
            }
        }

        let server_before = proc_stats::sample_all(&server_pids, ticks);
        let self_before = proc_stats::sample("self", ticks);
        let sampling = Arc::new(AtomicBool::new(false));
        let sampler = (!server_pids.is_empty())
            .then(|| spawn_rss_sampler(server_pids.clone(), ticks, sampling.clone()));
        let started = Instant::now();
        let stop = match args.requests {
            Some(n) => Stop::After(Arc::new(AtomicU64::new(n))),
            None => Stop::At(started + args.duration),
        };
        let mut stats = drive(&transport, &token, args.csr, concurrency, stop).await;
        let elapsed = started.elapsed();
        sampling.store(true, Ordering::Relaxed);
        let peak_rss = match sampler {
            Some(handle) => handle.await.ok(),
            None => None,
        };
        let server_after = proc_stats::sample_all(&server_pids, ticks);
        let self_after = proc_stats::sample("self", ticks);

        stats.latencies_us.sort_unstable();
        embedded_seen |= stats.embedded > 0;
        let cpu_delta = |before: Option<ProcSample>, after: Option<ProcSample>| {
            before
                .zip(after)
                .map(|(b, a)| a.cpu.saturating_sub(b.cpu).as_secs_f64())
        };
        let ok = stats.latencies_us.len() as u64;
        let ms = |us: u64| us as f64 / 1000.0;
        levels.push(LevelResult {
            concurrency,
            seconds: elapsed.as_secs_f64(),
            certificates: ok,
            errors: stats.errors.values().sum(),
            shed: stats.errors.get(SHED).copied().unwrap_or(0),
            certs_per_second: ok as f64 / elapsed.as_secs_f64(),
            p50_ms: ms(percentile(&stats.latencies_us, 50.0)),
            p90_ms: ms(percentile(&stats.latencies_us, 90.0)),
            p99_ms: ms(percentile(&stats.latencies_us, 99.0)),
            max_ms: ms(stats.latencies_us.last().copied().unwrap_or(0)),
            error_kinds: stats.errors,
            embedded_sct: stats.embedded,
            detached_sct: stats.detached,
            server_cpu_seconds: cpu_delta(server_before, server_after),
            server_peak_rss_mib: peak_rss
                .map(|b| b.max(server_after.map_or(0, |s| s.rss_bytes)) as f64 / 1048576.0),
            server_lifetime_peak_rss_mib: server_after.map(|s| s.peak_rss_bytes as f64 / 1048576.0),
            loadgen_cpu_seconds: cpu_delta(self_before, self_after),
            ratio_to_limit: None,
            server_cpu_micros_per_cert: cpu_delta(server_before, server_after)
                .filter(|_| ok > 0)
                .map(|cpu| cpu * 1e6 / ok as f64),
            crypto_share_of_server_cpu: None,
        });
    }

    let limit = if args.no_limit {
        None
    } else {
        let (alg, ca, duration) = (token_alg.clone(), args.ca_key.clone(), args.limit_duration);
        Some(
            tokio::task::spawn_blocking(move || measure_limit(&alg, &ca, duration))
                .await
                .map_err(|e| LoadgenError::Crypto(e.to_string()))??,
        )
    };
    if let Some(limit) = &limit {
        // The server's answers say whether it logged to CT, and so which limit applies.
        let (reference, crypto_micros) = if embedded_seen {
            (
                limit.certs_per_second_with_ct,
                limit.cpu_micros_per_cert_with_ct,
            )
        } else {
            (
                limit.certs_per_second_without_ct,
                limit.cpu_micros_per_cert_without_ct,
            )
        };
        for level in &mut levels {
            level.ratio_to_limit = Some(level.certs_per_second / reference);
            level.crypto_share_of_server_cpu = level
                .server_cpu_micros_per_cert
                .map(|server| crypto_micros / server);
        }
    }
    let report = Report {
        machine: Machine::detect(),
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        url: base,
        transport: transport.name().into(),
        mode: if args.csr { "csr" } else { "public-key" }.into(),
        token_alg,
        ct_embedded: embedded_seen,
        levels,
        limit,
    };
    let json =
        || serde_json::to_string_pretty(&report).map_err(|e| LoadgenError::Usage(e.to_string()));
    if let Some(path) = &args.json_out {
        std::fs::write(path, json()? + "\n").map_err(|e| LoadgenError::io(path, e))?;
    }
    if args.json {
        println!("{}", json()?);
    } else {
        print!("{}", report::text(&report));
    }
    if report.levels.iter().all(|l| l.certificates == 0) {
        return Err(LoadgenError::Server("no certificate was issued".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 50.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn request_budget_is_exact() {
        let stop = Stop::After(Arc::new(AtomicU64::new(3)));
        assert_eq!((0..10).filter(|_| stop.next()).count(), 3);
    }
}
