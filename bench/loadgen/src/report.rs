//! Results and their text rendering.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::limit::CryptoLimit;

/// The machine the run was made on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Machine {
    /// Available cores.
    pub cores: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// MemTotal from /proc/meminfo, GiB.
    pub memory_gib: f64,
}

impl Machine {
    /// Reads the machine's description from /proc.
    pub fn detect() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|kib| kib.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1048576.0);
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_gib,
        }
    }
}

/// One concurrency level.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LevelResult {
    /// Concurrent clients.
    pub concurrency: usize,
    /// Measured wall time.
    pub seconds: f64,
    /// Certificates issued.
    pub certificates: u64,
    /// Failed requests (shed ones included).
    pub errors: u64,
    /// Requests the server refused for overload (HTTP 503, gRPC `Unavailable`).
    pub shed: u64,
    /// Certificates per second.
    pub certs_per_second: f64,
    /// Latency percentiles of successful requests, ms.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Failures by kind (`shed`, `HTTP <status>: <message>`, `gRPC <code>: <message>` or
    /// `transport: <kind>`).
    pub error_kinds: BTreeMap<String, u64>,
    /// Answers with an embedded SCT.
    pub embedded_sct: u64,
    /// Answers with a detached (or no) SCT.
    pub detached_sct: u64,
    /// Server CPU time (user + system) during the level.
    pub server_cpu_seconds: Option<f64>,
    /// Highest server RSS sampled during the level (every 100 ms), MiB.
    pub server_peak_rss_mib: Option<f64>,
    /// The server's VmHWM after the level, MiB.
    pub server_lifetime_peak_rss_mib: Option<f64>,
    /// This load generator's own CPU time during the level (it shares the machine).
    pub loadgen_cpu_seconds: Option<f64>,
    /// certs/s ÷ crypto limit.
    pub ratio_to_limit: Option<f64>,
    /// Server CPU time per certificate, µs.
    pub server_cpu_micros_per_cert: Option<f64>,
    /// The crypto's CPU per certificate ÷ the server's: how much of the server's work is the
    /// unavoidable public-key operations. Unlike `ratio_to_limit`, other load on the machine
    /// does not lower it.
    pub crypto_share_of_server_cpu: Option<f64>,
}

/// A whole run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Where it ran.
    pub machine: Machine,
    /// When it finished.
    pub unix_time: u64,
    /// Server base URL (the gRPC URL with `--grpc`).
    pub url: String,
    /// `http` or `grpc`.
    pub transport: String,
    /// `public-key` or `csr`.
    pub mode: String,
    /// The token's JWS algorithm.
    pub token_alg: String,
    /// Whether the server embedded SCTs (CT on).
    pub ct_embedded: bool,
    /// Results per concurrency level.
    pub levels: Vec<LevelResult>,
    /// The crypto limit, if measured.
    pub limit: Option<CryptoLimit>,
}

fn opt(v: Option<f64>, precision: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.precision$}"))
}

/// The crypto limit as text.
pub fn limit_text(limit: &CryptoLimit) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "crypto limit ({} threads, aws-lc-rs; CPU time per op, so other load does not count):",
        limit.threads
    );
    for op in &limit.ops {
        let _ = writeln!(
            out,
            "  {:<24} {:>8.1} µs CPU/op  {:>9.0} ops/s on all cores  ({:.0}/s observed)",
            op.name, op.micros_per_op, op.per_second, op.wall_per_second
        );
    }
    let _ = writeln!(
        out,
        "  limit with CT (token + PoP + 2 CA sig + SCT sig): {:.0} certs/s",
        limit.certs_per_second_with_ct
    );
    let _ = writeln!(
        out,
        "  limit without CT (token + PoP + 1 CA sig):        {:.0} certs/s",
        limit.certs_per_second_without_ct
    );
    let _ = writeln!(
        out,
        "  crypto CPU per certificate: {:.0} µs with CT, {:.0} µs without",
        limit.cpu_micros_per_cert_with_ct, limit.cpu_micros_per_cert_without_ct
    );
    out
}

/// The whole report as text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "machine: {} cores, {}, {:.1} GiB; server {} ({}); {} requests, token {}, SCT {}",
        m.cores,
        m.cpu_model,
        m.memory_gib,
        report.url,
        report.transport,
        report.mode,
        report.token_alg,
        if report.ct_embedded {
            "embedded"
        } else {
            "detached/none"
        }
    );
    let _ = writeln!(
        out,
        "{:>5} {:>8} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>7} {:>7}",
        "conc",
        "certs",
        "errors",
        "secs",
        "certs/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "srv cpu",
        "srv MiB",
        "lg cpu",
        "srv µs/c",
        "÷limit",
        "crypto%"
    );
    for l in &report.levels {
        let _ = writeln!(
            out,
            "{:>5} {:>8} {:>8} {:>7.1} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8} {:>9} {:>8} {:>9} {:>7} {:>7}",
            l.concurrency,
            l.certificates,
            l.errors,
            l.seconds,
            l.certs_per_second,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms,
            opt(l.server_cpu_seconds, 1),
            opt(l.server_peak_rss_mib, 1),
            opt(l.loadgen_cpu_seconds, 1),
            opt(l.server_cpu_micros_per_cert, 0),
            opt(l.ratio_to_limit, 3),
            opt(l.crypto_share_of_server_cpu.map(|s| s * 100.0), 0),
        );
    }
    for l in &report.levels {
        for (kind, n) in &l.error_kinds {
            let _ = writeln!(out, "  c={}: {n} × {kind}", l.concurrency);
        }
    }
    if let Some(limit) = &report.limit {
        out.push_str(&limit_text(limit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_header_and_rows_have_the_same_columns() {
        let level = LevelResult {
            concurrency: 8,
            seconds: 20.0,
            certificates: 100,
            errors: 1,
            shed: 0,
            certs_per_second: 5.0,
            p50_ms: 1.0,
            p90_ms: 2.0,
            p99_ms: 3.0,
            max_ms: 4.0,
            error_kinds: BTreeMap::from([("HTTP 400: x".to_owned(), 1)]),
            embedded_sct: 100,
            detached_sct: 0,
            server_cpu_seconds: Some(1.0),
            server_peak_rss_mib: Some(20.0),
            server_lifetime_peak_rss_mib: Some(21.0),
            loadgen_cpu_seconds: Some(0.5),
            ratio_to_limit: Some(0.25),
            server_cpu_micros_per_cert: Some(250.0),
            crypto_share_of_server_cpu: Some(0.5),
        };
        let report = Report {
            machine: Machine::detect(),
            unix_time: 0,
            url: "http://127.0.0.1:8080".into(),
            transport: "http".into(),
            mode: "public-key".into(),
            token_alg: "RS256".into(),
            ct_embedded: true,
            levels: vec![level],
            limit: None,
        };
        let text = text(&report);
        let lines: Vec<&str> = text.lines().collect();
        // Headers with a space ("p50 ms") count double, so compare against the known layout.
        assert!(lines[1].trim_end().ends_with("srv µs/c  ÷limit crypto%"));
        assert_eq!(lines[2].split_whitespace().count(), 15);
        assert!(lines[2].trim_end().ends_with("250   0.250      50"));
        assert!(lines[3].contains("1 × HTTP 400: x"));
    }
}
