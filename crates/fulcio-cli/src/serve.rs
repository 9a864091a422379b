//! `fulcio serve` (Fulcio spec §7): upstream's flags, defaults and environment variables
//! (`FULCIO_SERVE_<FLAG>`, dashes and dots as underscores), wired to the server library.

use std::{path::PathBuf, sync::Arc, time::Duration};

use ca::{AlgorithmRegistry, CertificateAuthority, KeyKind};
use clap::{Args, ValueEnum};
use fulcio_server::{
    Issuance, ListenAddress, Listeners, Server,
    ct::{CtLog, HttpCtLog, HttpCtLogOptions},
    ct_embedded::{
        DEFAULT_ORIGIN, EmbeddedCtLog, bind_log_listener, open_directory_log, roots_from_der,
        serve_log,
    },
};
use oidc::{FulcioConfig, TokenVerifier, VerifierOptions};

use crate::{go_duration, logging::LogType};

/// Upstream's `--legacy-unix-domain-socket` default.
const LEGACY_UNIX_DOMAIN_SOCKET: &str = "@fulcio-legacy-grpc-socket";

/// Upstream's CT HTTP client timeout.
const CT_LOG_TIMEOUT: Duration = Duration::from_secs(30);

/// `--ca` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaKind {
    /// GCP Certificate Authority Service (not supported yet).
    Googleca,
    /// Tink keyset encrypted by a KMS key (not supported yet).
    Tinkca,
    /// A key in a PKCS#11 token (HSM).
    Pkcs11ca,
    /// CA certificate chain and encrypted key from files.
    Fileca,
    /// A cloud KMS key (not supported yet).
    Kmsca,
    /// A new in-memory root at every start, for testing.
    Ephemeralca,
}

/// `--ephemeralca-key-type` (ours): the key of the ephemeral root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EphemeralKeyType {
    /// ECDSA P-256 (upstream's only choice).
    P256,
    /// ECDSA P-384.
    P384,
    /// ECDSA P-521.
    P521,
    /// Ed25519.
    Ed25519,
    /// RSA 2048.
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
    /// RSA 4096.
    Rsa4096,
}

impl From<EphemeralKeyType> for KeyKind {
    fn from(kind: EphemeralKeyType) -> Self {
        match kind {
            EphemeralKeyType::P256 => KeyKind::EcdsaP256,
            EphemeralKeyType::P384 => KeyKind::EcdsaP384,
            EphemeralKeyType::P521 => KeyKind::EcdsaP521,
            EphemeralKeyType::Ed25519 => KeyKind::Ed25519,
            EphemeralKeyType::Rsa2048 => KeyKind::Rsa2048,
            EphemeralKeyType::Rsa3072 => KeyKind::Rsa3072,
            EphemeralKeyType::Rsa4096 => KeyKind::Rsa4096,
        }
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    go_duration::parse(text)
}

/// The flags of `fulcio serve`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "start http server with configured api",
    long_about = "Starts a http server and serves the configured api"
)]
pub struct ServeArgs {
    /// Config file containing all settings (YAML or JSON; keys are flag names).
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,

    /// logger type to use (dev/prod)
    #[arg(
        long = "log_type",
        env = "FULCIO_SERVE_LOG_TYPE",
        value_enum,
        default_value = "dev"
    )]
    pub log_type: LogType,

    /// googleca | tinkca | pkcs11ca | fileca | kmsca | ephemeralca (for testing)
    #[arg(long = "ca", env = "FULCIO_SERVE_CA", value_enum)]
    pub ca: Option<CaKind>,

    /// Path to the OIDC issuer configuration (YAML or JSON)
    #[arg(long = "config-path", env = "FULCIO_SERVE_CONFIG_PATH", default_value = oidc::config::DEFAULT_CONFIG_PATH)]
    pub config_path: PathBuf,

    /// The host on which to serve requests for HTTP; --http-host is alias
    #[arg(
        long = "host",
        visible_alias = "http-host",
        env = "FULCIO_SERVE_HOST",
        default_value = "0.0.0.0"
    )]
    pub host: String,

    /// The port on which to serve requests for HTTP; --http-port is alias
    #[arg(
        long = "port",
        visible_alias = "http-port",
        env = "FULCIO_SERVE_PORT",
        default_value_t = 8080
    )]
    pub port: u16,

    /// The host on which to serve requests for GRPC
    #[arg(
        long = "grpc-host",
        env = "FULCIO_SERVE_GRPC_HOST",
        default_value = "0.0.0.0"
    )]
    pub grpc_host: String,

    /// The port on which to serve requests for GRPC
    #[arg(
        long = "grpc-port",
        env = "FULCIO_SERVE_GRPC_PORT",
        default_value_t = 8081
    )]
    pub grpc_port: u16,

    /// The port on which to serve prometheus metrics endpoint
    #[arg(
        long = "metrics-port",
        env = "FULCIO_SERVE_METRICS_PORT",
        default_value_t = 2112
    )]
    pub metrics_port: u16,

    /// The host the metrics endpoint listens on (upstream: all interfaces, not configurable)
    #[arg(
        long = "metrics-host",
        env = "FULCIO_SERVE_METRICS_HOST",
        default_value = "0.0.0.0"
    )]
    pub metrics_host: String,

    /// Accepted for compatibility; unused: the HTTP API calls the legacy service in-process,
    /// so no Unix socket is opened.
    #[arg(long = "legacy-unix-domain-socket", env = "FULCIO_SERVE_LEGACY_UNIX_DOMAIN_SOCKET", default_value = LEGACY_UNIX_DOMAIN_SOCKET)]
    pub legacy_unix_domain_socket: String,

    /// The time allowed to read the headers of the requests (metrics server), e.g. 10s
    #[arg(long = "read-header-timeout", env = "FULCIO_SERVE_READ_HEADER_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub read_header_timeout: Duration,

    /// The time allowed for connections (HTTP or gRPC) to go idle before being closed by the server
    #[arg(long = "idle-connection-timeout", env = "FULCIO_SERVE_IDLE_CONNECTION_TIMEOUT", default_value = "30s", value_parser = duration)]
    pub idle_connection_timeout: Duration,

    /// ours: how many certificate requests (HTTP and gRPC together) may be in progress at
    /// once; more are refused at once with HTTP 503 + Retry-After or gRPC UNAVAILABLE
    #[arg(long = "max-in-flight-requests", env = "FULCIO_SERVE_MAX_IN_FLIGHT_REQUESTS", default_value_t = fulcio_server::DEFAULT_MAX_IN_FLIGHT_REQUESTS)]
    pub max_in_flight_requests: usize,

    /// the list of allowed client signing algorithms
    #[arg(
        long = "client-signing-algorithms",
        env = "FULCIO_SERVE_CLIENT_SIGNING_ALGORITHMS",
        value_delimiter = ',',
        default_values_t = AlgorithmRegistry::DEFAULT_NAMES.iter().map(|s| (*s).to_owned())
    )]
    pub client_signing_algorithms: Vec<String>,

    /// host and path (with log prefix at the end) to an external ct log; empty disables CT;
    /// unset (ours) runs the embedded CT log in-process (see the --ct-log-* flags below)
    #[arg(long = "ct-log-url", env = "FULCIO_SERVE_CT_LOG_URL")]
    pub ct_log_url: Option<String>,

    /// With --ct-log-url: the Host header to send to the external log, if different from the
    /// URL (upstream). With the embedded log: the log's checkpoint origin (default
    /// "fulcio-rs-ct-log"; keep it stable, it names the log in every checkpoint)
    #[arg(
        long = "ct-log-origin",
        env = "FULCIO_SERVE_CT_LOG_ORIGIN",
        default_value = ""
    )]
    pub ct_log_origin: String,

    /// Embedded CT log: its signing key (PEM PKCS#8 or SEC1, ECDSA P-256); generated (mode
    /// 0600) when the file does not exist. Default: log-key.pem in --ct-log-data-dir
    #[arg(long = "ct-log-key", env = "FULCIO_SERVE_CT_LOG_KEY")]
    pub ct_log_key: Option<PathBuf>,

    /// Embedded CT log: its data directory (tiles, checkpoint, state; locked while in use).
    /// Its public key is written there as log-public-key.pem
    #[arg(
        long = "ct-log-data-dir",
        env = "FULCIO_SERVE_CT_LOG_DATA_DIR",
        default_value = "./fulcio-data/ctlog"
    )]
    pub ct_log_data_dir: PathBuf,

    /// Embedded CT log: the host its RFC 6962 / static-ct-api listener binds
    #[arg(
        long = "ct-log-host",
        env = "FULCIO_SERVE_CT_LOG_HOST",
        default_value = "0.0.0.0"
    )]
    pub ct_log_host: String,

    /// Embedded CT log: the port of its listener (0: chosen by the OS)
    #[arg(
        long = "ct-log-port",
        env = "FULCIO_SERVE_CT_LOG_PORT",
        default_value_t = 6962
    )]
    pub ct_log_port: u16,

    /// Embedded CT log: the most entries one sequencing pass commits
    #[arg(
        long = "ct-log-batch-max-entries",
        env = "FULCIO_SERVE_CT_LOG_BATCH_MAX_ENTRIES",
        default_value_t = 512
    )]
    pub ct_log_batch_max_entries: usize,

    /// Embedded CT log: the longest a sequencing pass waits after its first entry for more, e.g.
    /// 25ms; the pass closes earlier once no entry arrived for a sixteenth of this
    #[arg(long = "ct-log-batch-max-delay", env = "FULCIO_SERVE_CT_LOG_BATCH_MAX_DELAY", default_value = "25ms", value_parser = duration)]
    pub ct_log_batch_max_delay: Duration,

    /// Path to a PEM-encoded public key of the CT log, used to verify SCTs
    #[arg(
        long = "ct-log-public-key-path",
        env = "FULCIO_SERVE_CT_LOG_PUBLIC_KEY_PATH",
        default_value = ""
    )]
    pub ct_log_public_key_path: String,

    /// Path to TLS CA certificate used to connect to ct-log
    #[arg(
        long = "ct-log.tls-ca-cert",
        env = "FULCIO_SERVE_CT_LOG_TLS_CA_CERT",
        default_value = ""
    )]
    pub ct_log_tls_ca_cert: String,

    /// Path to CA certificate
    #[arg(long = "fileca-cert", env = "FULCIO_SERVE_FILECA_CERT")]
    pub fileca_cert: Option<PathBuf>,

    /// Path to CA encrypted private key
    #[arg(long = "fileca-key", env = "FULCIO_SERVE_FILECA_KEY")]
    pub fileca_key: Option<PathBuf>,

    /// Password to decrypt CA private key
    #[arg(
        long = "fileca-key-passwd",
        env = "FULCIO_SERVE_FILECA_KEY_PASSWD",
        hide_env_values = true
    )]
    pub fileca_key_passwd: Option<String>,

    /// Watch filesystem for updates
    #[arg(
        long = "fileca-watch",
        env = "FULCIO_SERVE_FILECA_WATCH",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub fileca_watch: bool,

    /// Key type of the ephemeral CA's root (ours; upstream always uses P-256)
    #[arg(
        long = "ephemeralca-key-type",
        env = "FULCIO_SERVE_EPHEMERALCA_KEY_TYPE",
        value_enum,
        default_value = "p256"
    )]
    pub ephemeralca_key_type: EphemeralKeyType,

    /// the certificate file to use for secure connections - only applies to grpc-port (PEM chain; TLS 1.3; reloaded when the file changes)
    #[arg(
        long = "grpc-tls-certificate",
        env = "FULCIO_SERVE_GRPC_TLS_CERTIFICATE"
    )]
    pub grpc_tls_certificate: Option<PathBuf>,

    /// the private key file to use for secure connections (without passphrase) - only applies to grpc-port (reloaded when the file changes)
    #[arg(long = "grpc-tls-key", env = "FULCIO_SERVE_GRPC_TLS_KEY")]
    pub grpc_tls_key: Option<PathBuf>,

    /// Path to root CA on disk (only used with AWS HSM)
    #[arg(
        long = "aws-hsm-root-ca-path",
        env = "FULCIO_SERVE_AWS_HSM_ROOT_CA_PATH"
    )]
    pub aws_hsm_root_ca_path: Option<PathBuf>,

    /// private ca parent: projects/<project>/locations/<location>/caPools/<caPool> (googleca; not supported yet)
    #[arg(
        long = "gcp_private_ca_parent",
        env = "FULCIO_SERVE_GCP_PRIVATE_CA_PARENT"
    )]
    pub gcp_private_ca_parent: Option<String>,

    /// Deprecated and ignored, as upstream
    #[arg(
        long = "gcp_private_ca_version",
        env = "FULCIO_SERVE_GCP_PRIVATE_CA_VERSION",
        hide = true
    )]
    pub gcp_private_ca_version: Option<String>,

    /// HSM ID for Root CA
    #[arg(long = "hsm-caroot-id", env = "FULCIO_SERVE_HSM_CAROOT_ID")]
    pub hsm_caroot_id: Option<String>,

    /// HSM key label for PKCS11 CA
    #[arg(
        long = "hsm-key-label",
        env = "FULCIO_SERVE_HSM_KEY_LABEL",
        default_value = "PKCS11CA"
    )]
    pub hsm_key_label: String,

    /// path to fulcio pkcs11 config file
    #[arg(
        long = "pkcs11-config-path",
        env = "FULCIO_SERVE_PKCS11_CONFIG_PATH",
        default_value = "config/crypto11.conf"
    )]
    pub pkcs11_config_path: PathBuf,

    /// file holding the PKCS#11 user PIN, used when the pkcs11 config has no Pin (ours; else the FULCIO_PKCS11_PIN environment variable)
    #[arg(long = "pkcs11-pin-file", env = "FULCIO_SERVE_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,

    /// KMS key resource path (kmsca; not supported yet)
    #[arg(long = "kms-resource", env = "FULCIO_SERVE_KMS_RESOURCE")]
    pub kms_resource: Option<String>,

    /// Path to PEM-encoded CA certificate chain for KMS-backed CA (not supported yet)
    #[arg(long = "kms-cert-chain-path", env = "FULCIO_SERVE_KMS_CERT_CHAIN_PATH")]
    pub kms_cert_chain_path: Option<PathBuf>,

    /// Number of retries for GCP KMS requests (not supported yet)
    #[arg(
        long = "gcp-kms-retries",
        env = "FULCIO_SERVE_GCP_KMS_RETRIES",
        default_value_t = 0
    )]
    pub gcp_kms_retries: u32,

    /// RPC timeout per call for GCP KMS requests in seconds (not supported yet)
    #[arg(
        long = "gcp-kms-timeout",
        env = "FULCIO_SERVE_GCP_KMS_TIMEOUT",
        default_value_t = 0
    )]
    pub gcp_kms_timeout: u32,

    /// KMS key resource path for encrypted Tink keyset (tinkca; not supported yet)
    #[arg(long = "tink-kms-resource", env = "FULCIO_SERVE_TINK_KMS_RESOURCE")]
    pub tink_kms_resource: Option<String>,

    /// Path to PEM-encoded CA certificate chain for Tink-backed CA (not supported yet)
    #[arg(
        long = "tink-cert-chain-path",
        env = "FULCIO_SERVE_TINK_CERT_CHAIN_PATH"
    )]
    pub tink_cert_chain_path: Option<PathBuf>,

    /// Path to KMS-encrypted keyset for Tink-backed CA (not supported yet)
    #[arg(long = "tink-keyset-path", env = "FULCIO_SERVE_TINK_KEYSET_PATH")]
    pub tink_keyset_path: Option<PathBuf>,
}

/// Why `fulcio serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeCommandError {
    /// A required setting is missing or settings contradict each other (upstream's wording).
    #[error("{0}")]
    Usage(String),
    /// A CA backend this build does not have yet.
    #[error(
        "--ca={0} is not supported yet by this implementation; use fileca, pkcs11ca or ephemeralca"
    )]
    UnsupportedCa(&'static str),
    /// `--client-signing-algorithms` names something unknown.
    #[error("error loading --client-signing-algorithms={names}: {reason}")]
    Algorithms {
        /// The flag value.
        names: String,
        /// Why.
        reason: String,
    },
    /// The identity configuration did not load.
    #[error("error loading --config-path={path}: {source}")]
    Config {
        /// The path.
        path: String,
        /// Why.
        source: oidc::ConfigError,
    },
    /// The CA did not load.
    #[error("{0}")]
    Ca(#[from] ca::CaError),
    /// A CT log setting is unusable.
    #[error("{0}")]
    CtLog(String),
    /// Listening failed.
    #[error("{0}")]
    Serve(#[from] fulcio_server::ServeError),
}

impl ServeArgs {
    /// Upstream's checks of `--ca` and the flags each backend needs, with its messages.
    fn check_ca(&self) -> Result<CaKind, ServeCommandError> {
        let usage = |m: &str| Err(ServeCommandError::Usage(m.to_owned()));
        let Some(kind) = self.ca else {
            return usage("required flag \"ca\" not set");
        };
        match kind {
            CaKind::Pkcs11ca if self.hsm_caroot_id.is_none() => {
                usage("hsm-caroot-id must be set when using pkcs11ca")
            }
            CaKind::Googleca if self.gcp_private_ca_parent.is_none() => {
                usage("gcp_private_ca_parent must be set when using googleca")
            }
            CaKind::Fileca if self.fileca_cert.is_none() => {
                usage("fileca-cert must be set to certificate path when using fileca")
            }
            CaKind::Fileca if self.fileca_key.is_none() => {
                usage("fileca-key must be set to private key path when using fileca")
            }
            CaKind::Fileca if self.fileca_key_passwd.is_none() => usage(
                "fileca-key-passwd must be set to encryption password for private key file when using fileca",
            ),
            CaKind::Kmsca if self.kms_resource.is_none() => {
                usage("kms-resource must be set when using kmsca")
            }
            CaKind::Kmsca if self.kms_cert_chain_path.is_none() => {
                usage("kms-cert-chain-path must be set when using kmsca")
            }
            CaKind::Tinkca if self.tink_kms_resource.is_none() => {
                usage("tink-kms-resource must be set when using tinkca")
            }
            CaKind::Tinkca if self.tink_cert_chain_path.is_none() => {
                usage("tink-cert-chain-path must be set when using tinkca")
            }
            CaKind::Tinkca if self.tink_keyset_path.is_none() => {
                usage("tink-keyset-path must be set when using tinkca")
            }
            CaKind::Googleca => Err(ServeCommandError::UnsupportedCa("googleca")),
            CaKind::Tinkca => Err(ServeCommandError::UnsupportedCa("tinkca")),
            CaKind::Kmsca => Err(ServeCommandError::UnsupportedCa("kmsca")),
            CaKind::Fileca | CaKind::Ephemeralca | CaKind::Pkcs11ca => Ok(kind),
        }
    }
}

/// Runs `fulcio serve` until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<(), ServeCommandError> {
    let kind = args.check_ca()?;
    // Upstream serves cleartext unless both are set; one without the other is surely a mistake.
    let grpc_tls = match (&args.grpc_tls_certificate, &args.grpc_tls_key) {
        (Some(certificate), Some(key)) => Some((certificate.clone(), key.clone())),
        (None, None) => None,
        _ => {
            return Err(ServeCommandError::Usage(
                "--grpc-tls-certificate and --grpc-tls-key must be given together".to_owned(),
            ));
        }
    };
    if args.gcp_private_ca_version.is_some() {
        tracing::warn!(
            "gcp_private_ca_version is deprecated and will soon be removed; please remove it"
        );
    }

    let algorithms =
        AlgorithmRegistry::from_names(&args.client_signing_algorithms).map_err(|reason| {
            ServeCommandError::Algorithms {
                names: args.client_signing_algorithms.join(","),
                reason,
            }
        })?;

    let (config, source) = FulcioConfig::load_config_path(&args.config_path).map_err(|source| {
        ServeCommandError::Config {
            path: args.config_path.display().to_string(),
            source,
        }
    })?;
    identity::validate_config(&config).map_err(|source| ServeCommandError::Config {
        path: args.config_path.display().to_string(),
        source,
    })?;
    tracing::info!(source = ?source, "loaded identity configuration");

    let (authority, _watcher) = certificate_authority(kind, &args)?;
    let (ct_log, embedded) = match &args.ct_log_url {
        None => {
            if !args.ct_log_public_key_path.is_empty() || !args.ct_log_tls_ca_cert.is_empty() {
                // Both only concern an external log; the embedded one signs with its own key.
                tracing::warn!(
                    "--ct-log-public-key-path and --ct-log.tls-ca-cert are ignored without --ct-log-url"
                );
            }
            let embedded = embedded_ct_log(&args, &authority).await?;
            let client: Arc<dyn CtLog> = Arc::new(EmbeddedCtLog::new(embedded.log.clone()));
            (Some(client), Some(embedded))
        }
        Some(url) => (http_ct_log(&args, url)?, None),
    };
    if ct_log.is_none() {
        tracing::warn!(
            "--ct-log-url is empty: certificates are issued without Certificate Transparency"
        );
    }

    let verifier = Arc::new(
        TokenVerifier::new(Arc::new(config), VerifierOptions::default()).map_err(|source| {
            ServeCommandError::Config {
                path: args.config_path.display().to_string(),
                source,
            }
        })?,
    );
    // Like upstream, fetch the issuers' keys at start-up without letting an unreachable
    // provider block or fail the start; failures are logged and retried on demand.
    let prefetch = verifier.clone();
    tokio::spawn(async move { prefetch.prefetch().await });

    let issuance = Arc::new(Issuance::new(verifier, authority, algorithms, ct_log));
    let listeners = Listeners::from_flags(
        ListenAddress::new(args.host.clone(), args.port),
        ListenAddress::new(args.grpc_host.clone(), args.grpc_port),
    );
    let mut builder = Server::builder(issuance).listeners(listeners);
    if let Some((certificate, key)) = grpc_tls {
        builder = builder.grpc_tls_files(certificate, key);
    }
    let running = builder
        .metrics(Some(ListenAddress::new(
            args.metrics_host.clone(),
            args.metrics_port,
        )))
        .idle_connection_timeout(args.idle_connection_timeout)
        .max_in_flight_requests(args.max_in_flight_requests)
        .metrics_read_header_timeout(args.read_header_timeout)
        .bind()
        .await?;
    // The documented start-up line (see `RunningServer::startup_line`), printed as is so that
    // scripts can read the bound ports whatever the log format; with the embedded CT log it
    // ends with `, CT log on <addr>`.
    let Some(embedded) = embedded else {
        eprintln!("{}", running.startup_line());
        tracing::info!(
            http = %running.http_addr,
            grpc = %running.grpc_addr,
            duplex = running.is_duplex(),
            "listening"
        );
        running.run_until(shutdown_signal()).await;
        return Ok(());
    };
    eprintln!("{}, CT log on {}", running.startup_line(), embedded.addr);
    tracing::info!(
        http = %running.http_addr,
        grpc = %running.grpc_addr,
        ct_log = %embedded.addr,
        duplex = running.is_duplex(),
        "listening"
    );
    let (stop_log_tx, stop_log_rx) = tokio::sync::oneshot::channel::<()>();
    let log_server = tokio::spawn(serve_log(embedded.listener, embedded.log.clone(), async {
        let _ = stop_log_rx.await;
    }));
    running.run_until(shutdown_signal()).await;
    // The CA has stopped issuing: stop the log's listener, then drain and stop its sequencer
    // (pending submissions are still committed) so the data directory is left clean.
    let _ = stop_log_tx.send(());
    match log_server.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(error = %err, "the CT log listener failed"),
        Err(err) => tracing::error!(error = %err, "the CT log listener task failed"),
    }
    embedded.log.shutdown().await;
    tracing::info!("CT log stopped");
    Ok(())
}

/// The embedded CT log, opened and with its listener bound.
struct EmbeddedLog {
    log: Arc<ct_log::log::Log>,
    listener: tokio::net::TcpListener,
    addr: std::net::SocketAddr,
}

/// Opens the embedded CT log (accepting chains to the CA's root) and binds its listener.
///
/// The accepted root is the last certificate of the CA's chain at start-up. A file CA reload
/// (`--fileca-watch`) normally keeps the same root (a new intermediate or key under it); a new
/// root needs a restart for the log to accept its chains.
async fn embedded_ct_log(
    args: &ServeArgs,
    authority: &CertificateAuthority,
) -> Result<EmbeddedLog, ServeCommandError> {
    let ct_err = |e: &dyn std::fmt::Display| ServeCommandError::CtLog(e.to_string());
    let current = authority.current();
    let root = current
        .chain()
        .last()
        .cloned()
        .ok_or_else(|| ServeCommandError::CtLog("the CA has an empty chain".to_owned()))?;
    let roots = roots_from_der(vec![root]).map_err(|e| ct_err(&e))?;
    let origin = if args.ct_log_origin.is_empty() {
        DEFAULT_ORIGIN.to_owned()
    } else {
        args.ct_log_origin.clone()
    };
    let options = crate::ctlog::directory_log_options(
        &args.ct_log_data_dir,
        args.ct_log_key.as_deref(),
        origin,
        args.ct_log_batch_max_entries,
        args.ct_log_batch_max_delay,
        true,
    );
    let log = open_directory_log(&options, roots)
        .await
        .map_err(|e| ct_err(&e))?;
    let (listener, addr) = bind_log_listener(&args.ct_log_host, args.ct_log_port)
        .await
        .map_err(|e| {
            ServeCommandError::CtLog(format!(
                "CT log listener {}:{}: {e}",
                args.ct_log_host, args.ct_log_port
            ))
        })?;
    tracing::info!(
        data_dir = %options.data_dir.display(),
        origin = %options.origin,
        log_id = %hex_log_id(&log),
        "embedded CT log open"
    );
    Ok(EmbeddedLog {
        log,
        listener,
        addr,
    })
}

/// The log ID (SHA-256 of the key's SPKI) in hex, for the server log.
pub(crate) fn hex_log_id(log: &ct_log::log::Log) -> String {
    use std::fmt::Write as _;
    log.public_key()
        .log_id()
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The CA, and the file watcher to keep alive for `--fileca-watch`.
fn certificate_authority(
    kind: CaKind,
    args: &ServeArgs,
) -> Result<(Arc<CertificateAuthority>, Option<ca::fileca::FileWatcher>), ServeCommandError> {
    match kind {
        CaKind::Ephemeralca => {
            let key = ca::ephemeral::generate(args.ephemeralca_key_type.into())?;
            Ok((Arc::new(CertificateAuthority::new(key)), None))
        }
        CaKind::Fileca => {
            let (Some(cert), Some(key), Some(password)) =
                (&args.fileca_cert, &args.fileca_key, &args.fileca_key_passwd)
            else {
                return Err(ServeCommandError::Usage(
                    "fileca needs --fileca-cert, --fileca-key and --fileca-key-passwd".into(),
                ));
            };
            let authority = Arc::new(CertificateAuthority::new(ca::fileca::load(
                cert, key, password,
            )?));
            let watcher = if args.fileca_watch {
                Some(ca::fileca::watch(authority.clone(), cert, key, password)?)
            } else {
                None
            };
            Ok((authority, watcher))
        }
        CaKind::Googleca => Err(ServeCommandError::UnsupportedCa("googleca")),
        CaKind::Tinkca => Err(ServeCommandError::UnsupportedCa("tinkca")),
        CaKind::Pkcs11ca => {
            let Some(caroot_id) = &args.hsm_caroot_id else {
                return Err(ServeCommandError::Usage(
                    "hsm-caroot-id must be set when using pkcs11ca".into(),
                ));
            };
            let config = ca::pkcs11::Pkcs11Config::load(
                &args.pkcs11_config_path,
                args.pkcs11_pin_file.as_deref(),
            )?;
            // Upstream hands crypto11 the flag's bytes as the CKA_ID.
            let key = ca::pkcs11::load_ca(
                &config,
                &args.hsm_key_label,
                caroot_id.as_bytes(),
                args.aws_hsm_root_ca_path.as_deref(),
            )?;
            Ok((Arc::new(CertificateAuthority::new(key)), None))
        }
        CaKind::Kmsca => Err(ServeCommandError::UnsupportedCa("kmsca")),
    }
}

/// The external CT log client, or `None` when `--ct-log-url` is empty.
fn http_ct_log(args: &ServeArgs, url: &str) -> Result<Option<Arc<dyn CtLog>>, ServeCommandError> {
    if url.is_empty() {
        return Ok(None);
    }
    let read = |flag: &str, path: &str| -> Result<Option<Vec<u8>>, ServeCommandError> {
        if path.is_empty() {
            return Ok(None);
        }
        std::fs::read(path)
            .map(Some)
            .map_err(|e| ServeCommandError::CtLog(format!("{flag} {path}: {e}")))
    };
    let options = HttpCtLogOptions {
        public_key_pem: read("--ct-log-public-key-path", &args.ct_log_public_key_path)?,
        origin: Some(args.ct_log_origin.clone()).filter(|o| !o.is_empty()),
        tls_ca_cert_pem: read("--ct-log.tls-ca-cert", &args.ct_log_tls_ca_cert)?,
        timeout: Some(CT_LOG_TIMEOUT),
    };
    let log = HttpCtLog::new(url, options).map_err(|e| ServeCommandError::CtLog(e.to_string()))?;
    Ok(Some(Arc::new(log)))
}

/// Completes on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM; only SIGINT stops the server");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
