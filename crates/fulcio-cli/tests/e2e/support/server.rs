//! Runs the real `fulcio` binary (`fulcio serve`, CT disabled unless a test passes `--ct-log-*`
//! flags, the ephemeral CA unless a test names another) on loopback ports chosen by the OS, and
//! kills it when the test is done. [`CtlogServer`] runs `fulcio ctlog serve` the same way.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long `fulcio serve` may take to announce its ports. A hang guard only: it starts in well
/// under a second.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// The start of the line `fulcio serve` prints on stderr once it listens:
/// `fulcio: serving HTTP on 127.0.0.1:PORT, gRPC on 127.0.0.1:PORT, metrics on 127.0.0.1:PORT`,
/// followed by `, CT log on 127.0.0.1:PORT` with the embedded CT log.
const READY_PREFIX: &str = "fulcio: serving HTTP on ";

/// An OIDC issuer entry of the Fulcio config file (spec §3.1, JSON form).
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// `IssuerURL`, also the map key.
    pub url: String,
    /// `Type`, e.g. `email`.
    pub kind: String,
}

impl IssuerConfig {
    /// An `email` issuer with client ID `sigstore`.
    pub fn email(url: impl Into<String>) -> Self {
        IssuerConfig {
            url: url.into(),
            kind: "email".to_owned(),
        }
    }
}

/// How the HTTP and gRPC APIs are exposed (spec §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ports {
    /// Two listeners, as upstream deploys it (8080 HTTP, 8081 gRPC): HTTP on a port the OS
    /// picks, gRPC on a free port picked by the harness (distinct from HTTP's as written, or
    /// the server would go duplex).
    Split,
    /// One "duplex" listener for both: `--port 0 --grpc-port 0` on the same host.
    Duplex,
}

/// The CA backend flags (spec §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaBackend {
    /// `--ca ephemeralca`: an in-memory P-256 root, no intermediate.
    Ephemeral,
    /// `--ca fileca` with a PEM chain (issuing certificate first), its key and password.
    File {
        /// `--fileca-cert`.
        cert: PathBuf,
        /// `--fileca-key`.
        key: PathBuf,
        /// `--fileca-key-passwd`.
        password: String,
    },
    /// Any other backend, as its flags (e.g. `--ca pkcs11ca --hsm-caroot-id ID`).
    Args(Vec<String>),
}

impl CaBackend {
    fn args(&self) -> Vec<std::ffi::OsString> {
        match self {
            CaBackend::Ephemeral => vec!["--ca".into(), "ephemeralca".into()],
            CaBackend::File {
                cert,
                key,
                password,
            } => vec![
                "--ca".into(),
                "fileca".into(),
                "--fileca-cert".into(),
                cert.into(),
                "--fileca-key".into(),
                key.into(),
                "--fileca-key-passwd".into(),
                password.into(),
            ],
            CaBackend::Args(args) => args.iter().map(Into::into).collect(),
        }
    }
}

/// A free loopback port. Another process could take it before the server binds it; nothing
/// else on this machine races for ports in that window, and a clash fails loudly at startup.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// A running `fulcio serve`.
pub struct FulcioServer {
    child: Child,
    http: String,
    grpc: String,
    metrics: String,
    ct_log: Option<String>,
    stderr: Arc<Mutex<String>>,
    // Holds the config file for the server's lifetime.
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for FulcioServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FulcioServer")
            .field("http", &self.http)
            .field("grpc", &self.grpc)
            .finish_non_exhaustive()
    }
}

/// The path of the binary under test, built by Cargo for this test target.
pub fn fulcio_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fulcio"))
}

/// The Fulcio config file (JSON, PascalCase) naming `issuers`.
pub fn config_json(issuers: &[IssuerConfig]) -> Value {
    let mut map = serde_json::Map::new();
    for issuer in issuers {
        map.insert(
            issuer.url.clone(),
            json!({"IssuerURL": issuer.url, "ClientID": "sigstore", "Type": issuer.kind}),
        );
    }
    json!({ "OIDCIssuers": map })
}

/// Parses `HOST:PORT, gRPC on HOST:PORT, metrics on HOST:PORT[, CT log on HOST:PORT]` (after
/// [`READY_PREFIX`]).
fn parse_ready_line(rest: &str) -> Option<(String, String, String, Option<String>)> {
    // With --grpc-tls-* the gRPC part reads `gRPC (TLS) on`.
    let (http, rest) = rest
        .split_once(", gRPC on ")
        .or_else(|| rest.split_once(", gRPC (TLS) on "))?;
    let (grpc, rest) = rest.split_once(", metrics on ")?;
    let metrics = rest.split_whitespace().next()?;
    let ct_log = rest
        .split_once(", CT log on ")
        .and_then(|(_, ct)| ct.split_whitespace().next())
        .map(str::to_owned);
    Some((
        http.trim().to_owned(),
        grpc.trim().to_owned(),
        metrics.trim_end_matches(',').to_owned(),
        ct_log,
    ))
}

impl FulcioServer {
    /// Starts `fulcio serve` trusting `issuers`, with upstream's default algorithm registry.
    pub async fn start(issuers: &[IssuerConfig]) -> FulcioServer {
        FulcioServer::start_with_args(issuers, &[]).await
    }

    /// Starts `fulcio serve` (split ports) trusting `issuers`, with `extra` flags appended.
    pub async fn start_with_args(issuers: &[IssuerConfig], extra: &[&str]) -> FulcioServer {
        FulcioServer::start_full(issuers, Ports::Split, &CaBackend::Ephemeral, extra).await
    }

    /// Starts `fulcio serve` trusting `issuers` with the given port layout, CA and `extra`
    /// flags.
    pub async fn start_full(
        issuers: &[IssuerConfig],
        ports: Ports,
        ca: &CaBackend,
        extra: &[&str],
    ) -> FulcioServer {
        FulcioServer::start_in_env(issuers, ports, ca, extra, &[]).await
    }

    /// [`FulcioServer::start_full`] with `env` added to the server's environment (e.g.
    /// `SOFTHSM2_CONF` for a PKCS#11 CA). `FULCIO_PKCS11_PIN` is never inherited from the test
    /// process: a PKCS#11 CA takes its PIN from what the test configures.
    pub async fn start_in_env(
        issuers: &[IssuerConfig],
        ports: Ports,
        ca: &CaBackend,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> FulcioServer {
        let grpc_port = match ports {
            Ports::Split => free_port().to_string(),
            Ports::Duplex => "0".to_owned(),
        };
        let dir = tempfile::tempdir().expect("temp dir for the config");
        let config_path = dir.path().join("config.json");
        std::fs::write(&config_path, config_json(issuers).to_string()).expect("writing config");

        // CT is off unless the test configures it (embedded log or --ct-log-url).
        let ct_configured = extra.iter().any(|a| a.starts_with("--ct-log-"));
        let disable_ct: &[&str] = if ct_configured {
            &[]
        } else {
            &["--ct-log-url", ""]
        };
        let mut child = Command::new(fulcio_bin())
            .arg("serve")
            .args(ca.args())
            .args(disable_ct)
            .arg("--config-path")
            .arg(&config_path)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(["--grpc-host", "127.0.0.1", "--grpc-port", &grpc_port])
            .args(["--metrics-port", "0"])
            .args(extra)
            .envs(env.iter().copied())
            .env_remove("FULCIO_PKCS11_PIN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", fulcio_bin().display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        // The log (dev format) goes to stdout, the ready line and fatal errors to stderr; both
        // end up in `log()`.
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let ready = tokio::time::timeout(STARTUP_LIMIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                stderr.lock().unwrap().push_str(&line);
                stderr.lock().unwrap().push('\n');
                if let Some(rest) = line.strip_prefix(READY_PREFIX) {
                    return parse_ready_line(rest).ok_or(line);
                }
            }
            Err("stderr closed before the server said it was serving".to_owned())
        })
        .await;
        let (http, grpc, metrics, ct_log) = match ready {
            Ok(Ok(addrs)) => addrs,
            other => {
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                panic!(
                    "fulcio serve did not start ({other:?}; exit {status:?}); stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        // Keep collecting the log, both for failure messages and so the pipe never fills.
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        FulcioServer {
            child,
            http,
            grpc,
            metrics,
            ct_log,
            stderr,
            _dir: dir,
        }
    }

    /// Base URL of the embedded CT log's listener, if the server runs one.
    pub fn ct_log_url(&self) -> Option<String> {
        self.ct_log.as_ref().map(|a| format!("http://{a}"))
    }

    /// Kills the server and waits until it has exited (so its CT data directory is free).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Base URL of the HTTP API, e.g. `http://127.0.0.1:41234`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// URL of the gRPC endpoint, for tonic.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Base URL of the Prometheus endpoint.
    pub fn metrics_url(&self) -> String {
        format!("http://{}", self.metrics)
    }

    /// Whether the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Asserts the process is still alive and still answers HTTP and gRPC: after a rejected
    /// request, the server must not have crashed.
    pub async fn assert_serving(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("fulcio serve exited ({status}); log:\n{}", self.log());
        }
        let resp = reqwest::get(format!("{}/api/v2/trustBundle", self.http_url()))
            .await
            .unwrap_or_else(|e| panic!("HTTP after the request: {e}; log:\n{}", self.log()));
        assert_eq!(
            resp.status(),
            200,
            "trust bundle over HTTP after the request"
        );
        let mut grpc = super::api::grpc_client(self).await;
        grpc.get_trust_bundle(fulcio_proto::v2::GetTrustBundleRequest {})
            .await
            .unwrap_or_else(|e| panic!("gRPC after the request: {e}; log:\n{}", self.log()));
    }
}

/// A running `fulcio ctlog serve`.
pub struct CtlogServer {
    child: Child,
    addr: String,
    metrics_addr: Option<String>,
}

impl CtlogServer {
    /// Starts `fulcio ctlog serve` on 127.0.0.1 (port chosen by the OS) with `args`.
    pub async fn start(args: &[&std::ffi::OsStr]) -> CtlogServer {
        let mut child = Command::new(fulcio_bin())
            .args(["ctlog", "serve", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning fulcio ctlog serve");
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let mut log = String::new();
        let mut metrics_addr = None;
        let ready = tokio::time::timeout(STARTUP_LIMIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.push_str(&line);
                log.push('\n');
                // With --metrics-port, its line comes first.
                if let Some(addr) = line.strip_prefix("fulcio: serving metrics on ") {
                    metrics_addr = Some(addr.trim().to_owned());
                }
                if let Some(addr) = line.strip_prefix("fulcio: serving CT log on ") {
                    return Some(addr.trim().to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(addr)) = ready else {
            panic!("fulcio ctlog serve did not start; stderr:\n{log}");
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        CtlogServer {
            child,
            addr,
            metrics_addr,
        }
    }

    /// The metrics base URL, when started with `--metrics-port`.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr
            .as_ref()
            .map(|addr| format!("http://{addr}"))
    }

    /// The log's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the log and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ready_line;

    #[test]
    fn parses_the_ready_line() {
        let parsed =
            parse_ready_line("127.0.0.1:1, gRPC on 127.0.0.1:2, metrics on 127.0.0.1:3").unwrap();
        assert_eq!(
            parsed,
            (
                "127.0.0.1:1".into(),
                "127.0.0.1:2".into(),
                "127.0.0.1:3".into(),
                None
            ),
            "addresses in order"
        );
        let parsed = parse_ready_line(
            "127.0.0.1:1, gRPC on 127.0.0.1:2, metrics on 127.0.0.1:3, CT log on 127.0.0.1:4",
        )
        .unwrap();
        assert_eq!(parsed.2, "127.0.0.1:3");
        assert_eq!(parsed.3.as_deref(), Some("127.0.0.1:4"));
        assert!(
            parse_ready_line("127.0.0.1:1").is_none(),
            "incomplete line rejected"
        );
    }
}
