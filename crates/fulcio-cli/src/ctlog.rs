//! `fulcio ctlog serve`: the CT log that `fulcio serve` embeds, alone on its listener
//! (DESIGN.md "CT log"), for deployments that run the log as its own service. Environment
//! variables follow `fulcio serve`'s scheme: `FULCIO_CTLOG_SERVE_<FLAG>`.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{Args, Subcommand};
use ct_log::{log::BatchConfig, storage::DirectoryStore};
use fulcio_server::ct_embedded::{
    DEFAULT_ORIGIN, DirectoryLogOptions, SIGNING_KEY_FILE, bind_log_listener, open_directory_log,
    roots_from_pem_file, serve_log,
};

use crate::{go_duration, logging::LogType, serve::shutdown_signal};

/// `fulcio ctlog …`.
#[derive(Debug, Clone, Subcommand)]
pub enum CtlogCommand {
    /// Serve a CT log (RFC 6962 and static-ct-api) over a data directory
    Serve(CtlogServeArgs),
}

fn duration(text: &str) -> Result<Duration, String> {
    go_duration::parse(text)
}

/// The flags of `fulcio ctlog serve`.
#[derive(Debug, Clone, Args)]
pub struct CtlogServeArgs {
    /// logger type to use (dev/prod)
    #[arg(
        long = "log_type",
        env = "FULCIO_CTLOG_SERVE_LOG_TYPE",
        value_enum,
        default_value = "dev"
    )]
    pub log_type: LogType,

    /// PEM file of the root certificates whose chains the log accepts (e.g. Fulcio's root)
    #[arg(long = "roots", env = "FULCIO_CTLOG_SERVE_ROOTS")]
    pub roots: PathBuf,

    /// The log's signing key (PEM PKCS#8 or SEC1, ECDSA P-256); generated (mode 0600) when the
    /// file does not exist. Default: log-key.pem in --data-dir
    #[arg(long = "key", env = "FULCIO_CTLOG_SERVE_KEY")]
    pub key: Option<PathBuf>,

    /// The data directory (tiles, checkpoint, state; locked while in use). The public key is
    /// written there as log-public-key.pem
    #[arg(
        long = "data-dir",
        env = "FULCIO_CTLOG_SERVE_DATA_DIR",
        default_value = "./fulcio-data/ctlog"
    )]
    pub data_dir: PathBuf,

    /// The host to listen on
    #[arg(
        long = "host",
        env = "FULCIO_CTLOG_SERVE_HOST",
        default_value = "0.0.0.0"
    )]
    pub host: String,

    /// The port to listen on (0: chosen by the OS)
    #[arg(long = "port", env = "FULCIO_CTLOG_SERVE_PORT", default_value_t = 6962)]
    pub port: u16,

    /// The checkpoint origin (names the log in every checkpoint; keep it stable)
    #[arg(long = "origin", env = "FULCIO_CTLOG_SERVE_ORIGIN", default_value = DEFAULT_ORIGIN)]
    pub origin: String,

    /// The most entries one sequencing pass commits
    #[arg(
        long = "batch-max-entries",
        env = "FULCIO_CTLOG_SERVE_BATCH_MAX_ENTRIES",
        default_value_t = 512
    )]
    pub batch_max_entries: usize,

    /// The longest a sequencing pass waits after its first entry for more, e.g. 25ms; the pass
    /// closes earlier once no entry arrived for a sixteenth of this
    #[arg(long = "batch-max-delay", env = "FULCIO_CTLOG_SERVE_BATCH_MAX_DELAY", default_value = "25ms", value_parser = duration)]
    pub batch_max_delay: Duration,

    /// Serve Prometheus metrics at /metrics on this port (the log's ct_log_* series and the
    /// process's); off unless given (0: chosen by the OS)
    #[arg(long = "metrics-port", env = "FULCIO_CTLOG_SERVE_METRICS_PORT")]
    pub metrics_port: Option<u16>,

    /// The host the metrics port listens on
    #[arg(
        long = "metrics-host",
        env = "FULCIO_CTLOG_SERVE_METRICS_HOST",
        default_value = "0.0.0.0"
    )]
    pub metrics_host: String,
}

/// Why `fulcio ctlog serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum CtlogCommandError {
    /// The log could not be opened.
    #[error("{0}")]
    Log(#[from] fulcio_server::ct_embedded::EmbeddedLogError),
    /// The metrics recorder could not be installed.
    #[error("{0}")]
    Metrics(#[from] fulcio_server::metrics::MetricsError),
    /// The listener could not be bound or failed.
    #[error("CT log listener {address}: {source}")]
    Listen {
        /// `host:port`.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The options of a directory-backed log, for `fulcio ctlog serve` and the log `fulcio serve`
/// embeds: the signing key defaults to [`SIGNING_KEY_FILE`] in the data directory, a pass
/// commits at least one entry, and the trusted state's cache is sized for the role.
pub(crate) fn directory_log_options(
    data_dir: &Path,
    key: Option<&Path>,
    origin: String,
    batch_max_entries: usize,
    batch_max_delay: Duration,
    embedded: bool,
) -> DirectoryLogOptions {
    DirectoryLogOptions {
        data_dir: data_dir.to_path_buf(),
        key_path: key.map_or_else(|| data_dir.join(SIGNING_KEY_FILE), Path::to_path_buf),
        origin,
        batch: BatchConfig {
            max_entries: batch_max_entries.max(1),
            max_delay: batch_max_delay,
            ..BatchConfig::default()
        },
        state_cache_bytes: if embedded {
            DirectoryStore::EMBEDDED_CACHE_BYTES
        } else {
            DirectoryStore::DEFAULT_CACHE_BYTES
        },
    }
}

/// Serves `/metrics` on `host:port` for the rest of the process's life, after printing
/// `fulcio: serving metrics on <address>` (before the log's own start-up line).
async fn serve_metrics(host: &str, port: u16) -> Result<(), CtlogCommandError> {
    let handle = fulcio_server::metrics::install_for_ct_log()?;
    let address = format!("{host}:{port}");
    let (listener, addr) =
        bind_log_listener(host, port)
            .await
            .map_err(|source| CtlogCommandError::Listen {
                address: address.clone(),
                source,
            })?;
    eprintln!("fulcio: serving metrics on {addr}");
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { fulcio_server::metrics::render(&handle) }
        }),
    );
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, %address, "the metrics listener failed");
        }
    });
    Ok(())
}

/// Runs `fulcio ctlog serve` until SIGINT or SIGTERM.
pub async fn serve(args: CtlogServeArgs) -> Result<(), CtlogCommandError> {
    let roots = roots_from_pem_file(&args.roots)?;
    let options = directory_log_options(
        &args.data_dir,
        args.key.as_deref(),
        args.origin.clone(),
        args.batch_max_entries,
        args.batch_max_delay,
        false,
    );
    let log = open_directory_log(&options, roots).await?;
    if let Some(port) = args.metrics_port {
        serve_metrics(&args.metrics_host, port).await?;
    }
    let address = format!("{}:{}", args.host, args.port);
    let (listener, addr) = bind_log_listener(&args.host, args.port)
        .await
        .map_err(|source| CtlogCommandError::Listen {
            address: address.clone(),
            source,
        })?;
    // The documented start-up line, printed as is so that scripts can read the bound port.
    eprintln!("fulcio: serving CT log on {addr}");
    tracing::info!(
        %addr,
        origin = %options.origin,
        data_dir = %options.data_dir.display(),
        log_id = %crate::serve::hex_log_id(&log),
        "CT log listening"
    );
    let served = serve_log(listener, log.clone(), shutdown_signal()).await;
    // Drain the sequencer (pending submissions are committed) before the store is released.
    log.shutdown().await;
    tracing::info!("CT log stopped");
    served.map_err(|source| CtlogCommandError::Listen { address, source })
}
