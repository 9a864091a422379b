//! Command-line interface.

use std::{path::PathBuf, time::Duration};

/// Load generator for a fulcio server (HTTP v2 `signingCert` or gRPC `CreateSigningCertificate`).
#[derive(Debug, clap::Parser)]
#[command(name = "fulcio-loadgen", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run a fake OIDC issuer until killed; write a Fulcio config that trusts it and a token.
    Issuer(IssuerArgs),
    /// Send load to a running server and report.
    Run(RunArgs),
    /// Only measure the crypto limit on this machine.
    Limit(LimitArgs),
    /// Run a stand-in RFC 6962 log (no storage) that signs SCTs, for loading the CT path.
    CtStub(CtStubArgs),
    /// Load a running CT log (`fulcio ctlog serve`) with `add-pre-chain` alone and report.
    CtSubmit(CtSubmitArgs),
}

/// `ct-submit` options.
#[derive(Debug, clap::Args)]
pub struct CtSubmitArgs {
    /// The log's base URL (submissions go to `<url>/ct/v1/add-pre-chain`).
    #[arg(long, default_value = "http://127.0.0.1:6962")]
    pub url: String,
    /// Directory of the CA that issues the precertificates (`ca.pem`, `ca-key.pem`), created
    /// on first use; give `ca.pem` to the log's `--roots`.
    #[arg(long)]
    pub ca_dir: PathBuf,
    /// Only create (or check) the CA in `--ca-dir`, then exit.
    #[arg(long)]
    pub init_only: bool,
    /// Distinct precertificates made before the measured phase; every submission (warm-up
    /// included) uses a new one, and a level ends early if they run out.
    #[arg(long, default_value_t = 200_000)]
    pub pool: usize,
    /// Concurrent clients; a comma-separated list runs one level after another.
    #[arg(long, default_value = "256", value_delimiter = ',')]
    pub concurrency: Vec<usize>,
    /// How long each level runs (after warm-up).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured load before each level.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The log's process ID(s), for CPU (user/system) and peak RSS from /proc.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// The log's public key (PEM, e.g. `log-public-key.pem` in its data dir): a sample of the
    /// returned SCTs is verified against it after each level; the run fails if one does not.
    #[arg(long)]
    pub log_public_key: Option<PathBuf>,
    /// About how many SCTs to verify per run (every pool/N-th submission).
    #[arg(long, default_value_t = 200)]
    pub verify: usize,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `ct-stub` options.
#[derive(Debug, clap::Args)]
pub struct CtStubArgs {
    /// Address to listen on; the log answers under any prefix (`<url>/ct/v1/add-pre-chain`).
    #[arg(long, default_value = "127.0.0.1:6962")]
    pub listen: std::net::SocketAddr,
    /// Where to write the log's public key (PEM), for `--ct-log-public-key-path`.
    #[arg(long)]
    pub write_public_key: Option<PathBuf>,
}

/// `issuer` options.
#[derive(Debug, clap::Args)]
pub struct IssuerArgs {
    /// Where to write the Fulcio config (JSON) naming this issuer as an `email` issuer.
    #[arg(long)]
    pub write_config: PathBuf,
    /// Where to write an ID token for `--email`.
    #[arg(long)]
    pub write_token: PathBuf,
    /// The token's `email` claim (the proof of possession signs it).
    #[arg(long, default_value = "loadgen@example.com")]
    pub email: String,
    /// JWS algorithm of the issuer's key: RS256, ES256, ES384, PS256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    pub alg: String,
    /// Token lifetime; the token is rewritten at half of it, so long runs keep a valid one.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub token_lifetime: Duration,
}

/// `run` options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The server's HTTP base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Send gRPC `CreateSigningCertificate` to this URL (the server's gRPC port, e.g.
    /// `http://127.0.0.1:8081`) instead of HTTP to `--url`; each client has its own connection.
    #[arg(long)]
    pub grpc: Option<String>,
    /// An OIDC ID token.
    #[arg(long, conflicts_with = "token_file")]
    pub token: Option<String>,
    /// A file holding an OIDC ID token (re-read before each concurrency level).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Send a PEM CSR instead of a public key and signed challenge.
    #[arg(long)]
    pub csr: bool,
    /// Concurrent clients; a comma-separated list runs one level after another.
    #[arg(long, default_value = "8", value_delimiter = ',')]
    pub concurrency: Vec<usize>,
    /// How long each level runs (after warm-up).
    #[arg(long, default_value = "20s", value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Duration,
    /// Stop each level after this many requests instead of after `--duration`.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Unmeasured load before each level (JWKS fetch, connection set-up, allocator warm-up).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The server's process ID, to report its CPU time and peak RSS from /proc. Several
    /// (comma-separated, e.g. the server and a stand-in CT log) are added up.
    #[arg(long, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// Skip measuring the crypto limit.
    #[arg(long)]
    pub no_limit: bool,
    /// How long the crypto limit is measured.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub limit_duration: Duration,
    /// The CA key the server signs with (for the limit): p256 or p384.
    #[arg(long, default_value = "p256")]
    pub ca_key: String,
    /// The CT log's public key (PEM): before each level, one certificate's embedded SCT is
    /// verified against it (RFC 6962 §5.2), and the run stops if it does not verify.
    #[arg(long)]
    pub ct_log_public_key: Option<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON report to this file (one entry per concurrency level under
    /// `levels`: concurrency, certs_per_second, p50/p90/p99/max_ms, errors, shed), for
    /// `bench/plot`.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
}

/// `limit` options.
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// The token's JWS algorithm.
    #[arg(long, default_value = "RS256")]
    pub token_alg: String,
    /// The CA key: p256 or p384.
    #[arg(long, default_value = "p256")]
    pub ca_key: String,
    /// How long to measure.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses `500ms`, `20s`, `2m`, `1h`, or bare seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with ms, s, m or h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("{s:?}: unknown unit {unit:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("2d").is_err());
        assert!(parse_duration("s").is_err());
    }
}
