//! `fulcio dev`: a whole keyless signing stack on loopback in one process, for trying Fulcio —
//! the CA (a P-256 root generated on the first start and kept in the directory, or a file CA),
//! its embedded CT log, and a local OpenID provider that mints tokens on request ([`provider`]).
//! It writes the trust files clients need and prints commands that get a certificate.
//!
//! Everything lives in `--dir` (default `./fulcio-dev`) and survives restarts: the CA key and
//! root (`ca/`), the CT log and its key (`ctlog/`), the provider key. `state.json` holds the
//! URLs of the running instance; `fulcio dev token` reads it to ask the provider for a token.
//!
//! It only listens on loopback: the provider hands a token for any identity to anyone who can
//! reach it, so `--host` must be a loopback address.

mod files;
mod provider;
mod state;

use std::{
    io::{IsTerminal as _, Write as _},
    net::IpAddr,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use ca::{AlgorithmRegistry, CertificateAuthority, IssuingKey};
use clap::{Args, Subcommand};
use fulcio_server::{
    Issuance, ListenAddress, Listeners, Server,
    ct::CtLog,
    ct_embedded::{
        DEFAULT_ORIGIN, EmbeddedCtLog, bind_log_listener, open_directory_log, roots_from_der,
        serve_log,
    },
};
use oidc::{FulcioConfig, TokenVerifier, VerifierOptions};

use self::{
    provider::{ProviderKey, ProviderUrls},
    state::{DevState, shell_quote},
};

/// The email `fulcio dev token` asks for when given neither `--email` nor `--subject`.
pub const DEFAULT_EMAIL: &str = "dev@fulcio.local";

/// The flags of `fulcio dev`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DevArgs {
    /// `fulcio dev token`; none: run the instance.
    #[command(subcommand)]
    command: Option<DevCommand>,
    #[command(flatten)]
    run: RunArgs,
}

/// `fulcio dev …`.
#[derive(Debug, Clone, Subcommand)]
enum DevCommand {
    /// Print an ID token from the running `fulcio dev`'s identity provider (and nothing else)
    Token(TokenArgs),
}

/// The flags of `fulcio dev` itself.
#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// The directory holding the CA, the CT log, the provider key and the trust files (created
    /// when missing; kept across restarts)
    #[arg(long, default_value = "./fulcio-dev")]
    dir: PathBuf,
    /// The host every listener binds: a loopback address (127.0.0.1, ::1) or localhost
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The CA's HTTP port (0: chosen by the OS; equal to --grpc-port: one port for both)
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The CA's gRPC port (0: chosen by the OS)
    #[arg(long, default_value_t = 8081)]
    grpc_port: u16,
    /// The CT log's port (0: chosen by the OS)
    #[arg(long, default_value_t = 6962)]
    ct_log_port: u16,
    /// The identity provider's port (0: chosen by the OS)
    #[arg(long, default_value_t = 5556)]
    oidc_port: u16,
    /// Issue under this CA certificate chain (PEM, issuing certificate first) instead of the
    /// generated root; needs --fileca-key
    #[arg(long, requires = "fileca_key")]
    fileca_cert: Option<PathBuf>,
    /// The file CA's private key (PEM, possibly encrypted)
    #[arg(long, requires = "fileca_cert")]
    fileca_key: Option<PathBuf>,
    /// The password of --fileca-key
    #[arg(long, requires = "fileca_key", hide_env_values = true)]
    fileca_key_passwd: Option<String>,
}

/// The flags of `fulcio dev token`.
#[derive(Debug, Clone, Args)]
struct TokenArgs {
    /// The identity: an email address (the default, dev@fulcio.local)
    #[arg(long, conflicts_with = "subject")]
    email: Option<String>,
    /// The identity: a subject without email (certificate SAN `SUBJECT!HOST`)
    #[arg(long)]
    subject: Option<String>,
    /// The directory of the running `fulcio dev`
    #[arg(long, default_value = "./fulcio-dev")]
    dir: PathBuf,
}

/// Why `fulcio dev` failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// A bad flag or state.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA could not be created or loaded.
    #[error("CA: {0}")]
    Ca(String),
    /// The CT log could not be opened or served.
    #[error("{0}")]
    CtLog(String),
    /// The identity provider could not start.
    #[error("identity provider: {0}")]
    Provider(String),
    /// The identity configuration was refused.
    #[error("identity configuration: {0}")]
    Config(String),
    /// The trust files could not be built.
    #[error("{0}")]
    Trust(String),
    /// The CA's listeners could not be bound.
    #[error("{0}")]
    Serve(#[from] fulcio_server::ServeError),
    /// `fulcio dev token` got no token.
    #[error("{0}")]
    Token(String),
}

/// Runs `fulcio dev` (or `fulcio dev token`).
pub fn main(args: DevArgs) -> ExitCode {
    match args.command {
        Some(DevCommand::Token(token)) => crate::run_async("fulcio dev token", print_token(token)),
        None => {
            init_logging();
            crate::run_async("fulcio dev", run(args.run))
        }
    }
}

/// Logs go to stderr (stdout carries the instructions), at `info` unless `RUST_LOG` says
/// otherwise.
fn init_logging() {
    use tracing_subscriber::{EnvFilter, layer::SubscriberExt as _, util::SubscriberInitExt as _};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false),
        )
        .try_init();
}

/// `--host` must be loopback; `localhost` is read as 127.0.0.1 so every listener (and every
/// URL) agrees on one address.
fn loopback_host(host: &str) -> Result<String, DevError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok("127.0.0.1".to_owned());
    }
    match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(bare.to_owned()),
        _ => Err(DevError::Usage(format!(
            "--host {host:?} is not a loopback address: fulcio dev's identity provider mints a \
             token for any identity to whoever asks, so it only listens on loopback (127.0.0.1, \
             ::1, localhost); run `fulcio serve` with a real identity provider instead"
        ))),
    }
}

/// The CA: a file CA when the flags name one, else the directory's generated root.
fn issuing_key(dir: &Path, args: &RunArgs) -> Result<IssuingKey, DevError> {
    match (&args.fileca_cert, &args.fileca_key) {
        (Some(cert), Some(key)) => {
            let password = args.fileca_key_passwd.as_deref().unwrap_or_default();
            ca::fileca::load(cert, key, password).map_err(|e| DevError::Ca(e.to_string()))
        }
        _ => state::generated_ca(dir),
    }
}

/// Takes `DIR/.lock` for the life of the process, so a second `fulcio dev` on the same
/// directory stops before touching anything.
fn lock_directory(dir: &Path) -> Result<std::fs::File, DevError> {
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DevError::Io {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DevError::Usage(format!(
            "{} is in use by another fulcio dev",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(source)) => Err(DevError::Io { path, source }),
    }
}

async fn run(args: RunArgs) -> Result<(), DevError> {
    let host = loopback_host(&args.host)?;
    std::fs::create_dir_all(&args.dir).map_err(|source| DevError::Io {
        path: args.dir.clone(),
        source,
    })?;
    let dir = std::fs::canonicalize(&args.dir).map_err(|source| DevError::Io {
        path: args.dir.clone(),
        source,
    })?;
    let _lock = lock_directory(&dir)?;

    let authority = Arc::new(CertificateAuthority::new(issuing_key(&dir, &args)?));
    let chain = authority.current().chain().to_vec();
    let root = chain
        .last()
        .cloned()
        .ok_or_else(|| DevError::Ca("the CA has an empty chain".to_owned()))?;
    let ct_err = |e: &dyn std::fmt::Display| DevError::CtLog(e.to_string());
    let log_options = crate::ctlog::directory_log_options(
        &dir.join("ctlog"),
        None,
        DEFAULT_ORIGIN.to_owned(),
        512,
        Duration::from_millis(25),
        true,
    );
    let log = open_directory_log(
        &log_options,
        roots_from_der(vec![root]).map_err(|e| ct_err(&e))?,
    )
    .await
    .map_err(|e| ct_err(&e))?;
    let served = serve(&args, &host, &dir, authority, chain, log.clone()).await;
    // Whatever happened, drain the log's sequencer so the data directory is left clean.
    log.shutdown().await;
    tracing::info!("CT log stopped");
    served
}

/// Binds everything, writes the files, prints the instructions and serves until Ctrl-C.
async fn serve(
    args: &RunArgs,
    host: &str,
    dir: &Path,
    authority: Arc<CertificateAuthority>,
    chain: Vec<Vec<u8>>,
    log: Arc<ct_log::log::Log>,
) -> Result<(), DevError> {
    let (ct_listener, ct_addr) = bind_log_listener(host, args.ct_log_port)
        .await
        .map_err(|e| {
            DevError::CtLog(format!("CT log listener {host}:{}: {e}", args.ct_log_port))
        })?;
    let oidc_listener = tokio::net::TcpListener::bind((host, args.oidc_port))
        .await
        .map_err(|e| DevError::Provider(format!("listening on {host}:{}: {e}", args.oidc_port)))?;
    let oidc_addr = oidc_listener
        .local_addr()
        .map_err(|e| DevError::Provider(e.to_string()))?;
    let urls = ProviderUrls::for_address(oidc_addr);
    let provider_key = ProviderKey::load_or_generate(&dir.join(provider::KEY_FILE))?;

    // The CA trusts the provider, and nothing else.
    let config_json = urls.fulcio_config_json();
    let config_text =
        serde_json::to_string_pretty(&config_json).map_err(|e| DevError::Config(e.to_string()))?;
    let config = FulcioConfig::from_bytes(config_text.as_bytes())
        .map_err(|e| DevError::Config(e.to_string()))?;
    identity::validate_config(&config).map_err(|e| DevError::Config(e.to_string()))?;
    state::write_file(
        &dir.join(files::IDENTITY_CONFIG_FILE),
        format!("{config_text}\n").as_bytes(),
        0o644,
    )?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let provider_task = tokio::spawn(
        axum::serve(oidc_listener, provider::router(provider_key, urls.clone()))
            .with_graceful_shutdown(stopped(stop_rx.clone()))
            .into_future(),
    );

    let verifier = TokenVerifier::new(Arc::new(config), VerifierOptions::default())
        .map_err(|e| DevError::Config(e.to_string()))?;
    let algorithms = AlgorithmRegistry::from_names(AlgorithmRegistry::DEFAULT_NAMES)
        .map_err(|e| DevError::Config(format!("client signing algorithms: {e}")))?;
    let ct_log: Arc<dyn CtLog> = Arc::new(EmbeddedCtLog::new(log.clone()));
    let issuance = Arc::new(Issuance::new(
        Arc::new(verifier),
        authority,
        algorithms,
        Some(ct_log),
    ));
    let running = Server::builder(issuance)
        .listeners(Listeners::from_flags(
            ListenAddress::new(host, args.port),
            ListenAddress::new(host, args.grpc_port),
        ))
        .metrics(None)
        .bind()
        .await?;

    let log_spki = log.public_key().spki_der().to_vec();
    let state = DevState {
        dir: dir.to_path_buf(),
        pid: std::process::id(),
        fulcio_url: format!("http://{}", running.http_addr),
        grpc_url: format!("http://{}", running.grpc_addr),
        ct_log_url: format!("http://{ct_addr}"),
        oidc_issuer: urls.base.clone(),
        oidc_subject_issuer: urls.subject_issuer.clone(),
        token_endpoint: urls.token_endpoint(),
    };
    files::write_trust_files(
        dir,
        &files::Instance {
            fulcio_url: &state.fulcio_url,
            oidc_url: &state.oidc_issuer,
            chain: &chain,
            ct_log_url: &state.ct_log_url,
            ct_log_spki: &log_spki,
        },
    )?;
    files::write_python_script(dir)?;
    state.store()?;

    let log_task = tokio::spawn(serve_log(ct_listener, log, stopped(stop_rx)));
    eprintln!(
        "fulcio dev: WARNING: the identity provider at {} mints a token for ANY email or subject \
         to whoever asks; the CA trusts it. For trying things on this machine only.",
        urls.base
    );
    tracing::info!(
        http = %running.http_addr,
        grpc = %running.grpc_addr,
        ct_log = %ct_addr,
        oidc = %oidc_addr,
        dir = %dir.display(),
        "fulcio dev listening"
    );
    let banner = instructions(&state);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes());
    let _ = stdout.flush();
    drop(stdout);

    running.run_until(crate::serve::shutdown_signal()).await;
    let _ = stop_tx.send(true);
    for (what, task) in [
        ("identity provider", provider_task),
        ("CT log listener", log_task),
    ] {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "the {what} failed"),
            Err(err) => tracing::error!(error = %err, "the {what} task failed"),
        }
    }
    Ok(())
}

/// How the user runs this binary: `fulcio` when that name on PATH is this executable, else its
/// absolute path, so the printed commands work as printed.
fn invocation() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "fulcio".to_owned();
    };
    let this = std::fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("fulcio"))
            .find(|candidate| candidate.is_file())
            .and_then(|candidate| std::fs::canonicalize(candidate).ok())
            .is_some_and(|found| found == this)
    });
    if on_path {
        "fulcio".to_owned()
    } else {
        shell_quote(&this.to_string_lossy())
    }
}

/// What `fulcio dev` prints on stdout once everything listens: where things are, the copy-paste
/// commands, and a last line `fulcio dev: ready (Ctrl-C to stop)`.
fn instructions(state: &DevState) -> String {
    let fulcio = invocation();
    let dir = &state.dir;
    let file = |name: &str| shell_quote(&dir.join(name).to_string_lossy());
    let dir_arg = shell_quote(&dir.to_string_lossy());
    let token = |who: &str| format!("\"$({fulcio} dev token --dir {dir_arg} {who})\"");
    let email = "--email you@example.com";
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    line(String::new());
    line("fulcio dev: a CA, its CT log and an identity provider, on loopback".to_owned());
    line(format!("  CA (HTTP)           {}", state.fulcio_url));
    line(format!("  CA (gRPC)           {}", state.grpc_url));
    line(format!("  CT log              {}", state.ct_log_url));
    let form = if state.oidc_subject_issuer.is_some() {
        "email=… or subject=…"
    } else {
        "email=…"
    };
    line(format!(
        "  identity provider   {}  (email tokens; POST {} with {form})",
        state.oidc_issuer, state.token_endpoint
    ));
    if let Some(subject_issuer) = &state.oidc_subject_issuer {
        line(format!(
            "                      {subject_issuer}  (subject-only tokens: SAN SUBJECT!HOST)"
        ));
    }
    line(format!("  directory           {}", dir.display()));
    line(format!(
        "  trust files         {TRUSTED}, {SIGNING}, {BOTH} (sigstore-python --trust-config), {CHAIN}, {CTKEY}",
        TRUSTED = files::TRUSTED_ROOT_FILE,
        SIGNING = files::SIGNING_CONFIG_FILE,
        BOTH = files::TRUST_CONFIG_FILE,
        CHAIN = files::CA_CHAIN_FILE,
        CTKEY = files::CT_LOG_KEY_FILE,
    ));
    line(String::new());
    line(
        "# A certificate with fulcio (checked against the trusted root before it is written):"
            .to_owned(),
    );
    line(format!(
        "  {fulcio} request --fulcio-url {} --trusted-root {} --identity-token {} --output-certificate cert.pem --output-key key.pem",
        state.fulcio_url,
        file(files::TRUSTED_ROOT_FILE),
        token(email)
    ));
    if state.oidc_subject_issuer.is_some() {
        line("# The same for a subject instead of an email:".to_owned());
        line(format!(
            "  {fulcio} request --fulcio-url {} --trusted-root {} --identity-token {} --output-certificate cert.pem --output-key key.pem",
            state.fulcio_url,
            file(files::TRUSTED_ROOT_FILE),
            token("--subject alice")
        ));
    }
    line(String::new());
    line("# With sigstore-python (`sigstore sign` always uploads to Rekor, which fulcio dev does not".to_owned());
    line(
        "# run; this script uses sigstore-python's Fulcio client and SCT check instead; it needs"
            .to_owned(),
    );
    line("# `pip install sigstore`, version 4):".to_owned());
    line(format!(
        "  python3 {} {}",
        file(files::PYTHON_SCRIPT_FILE),
        token(email)
    ));
    line(String::new());
    line(
        "# With cosign (not yet covered by fulcio-rs's tests: cosign is not installable there)."
            .to_owned(),
    );
    line(
        "# cosign 3.x, from the signing config (it names no Rekor, so nothing is uploaded):"
            .to_owned(),
    );
    line(format!(
        "  cosign sign-blob --yes --signing-config {} --trusted-root {} --identity-token {} --bundle artifact.sigstore.json ARTIFACT",
        file(files::SIGNING_CONFIG_FILE),
        file(files::TRUSTED_ROOT_FILE),
        token(email)
    ));
    line("# cosign 2.x (the variables make it trust this CA and CT log):".to_owned());
    line(format!(
        "  SIGSTORE_ROOT_FILE={} SIGSTORE_CT_LOG_PUBLIC_KEY_FILE={} cosign sign-blob --yes --fulcio-url {} --identity-token {} --tlog-upload=false --output-certificate cert.pem --output-signature artifact.sig ARTIFACT",
        file(files::CA_CHAIN_FILE),
        file(files::CT_LOG_KEY_FILE),
        state.fulcio_url,
        token(email)
    ));
    line(String::new());
    line("fulcio dev: ready (Ctrl-C to stop)".to_owned());
    text
}

/// `fulcio dev token`: asks the running provider for a token and prints it.
async fn print_token(args: TokenArgs) -> Result<(), DevError> {
    let state = DevState::load(&args.dir)?;
    let form: [(&str, &str); 1] = match (&args.email, &args.subject) {
        (_, Some(subject)) => [("subject", subject)],
        (Some(email), None) => [("email", email)],
        (None, None) => [("email", DEFAULT_EMAIL)],
    };
    let failed = |detail: String| {
        DevError::Token(format!(
            "asking {} for a token: {detail}",
            state.token_endpoint
        ))
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let response = client
        .post(&state.token_endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            failed(format!(
                "{e} (is `fulcio dev --dir {}` running?)",
                args.dir.display()
            ))
        })?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| failed(format!("{status}, and the answer is not JSON: {e}")))?;
    if !status.is_success() {
        let description = body["error_description"]
            .as_str()
            .or_else(|| body["error"].as_str())
            .unwrap_or("no detail");
        return Err(failed(format!("{status}: {description}")));
    }
    let token = body["id_token"]
        .as_str()
        .ok_or_else(|| failed("the answer has no id_token".to_owned()))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(format!("{token}\n").as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| DevError::Io {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn only_loopback_hosts() {
        assert_eq!(loopback_host("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(loopback_host("127.0.0.2").unwrap(), "127.0.0.2");
        assert_eq!(loopback_host("::1").unwrap(), "::1");
        assert_eq!(loopback_host("[::1]").unwrap(), "::1");
        assert_eq!(loopback_host("localhost").unwrap(), "127.0.0.1");
        for refused in ["0.0.0.0", "::", "192.168.1.10", "example.com", ""] {
            assert!(loopback_host(refused).is_err(), "{refused}");
        }
    }
}
