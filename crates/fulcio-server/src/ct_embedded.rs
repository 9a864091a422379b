//! The embedded CT log (DESIGN.md "CT log"): `fulcio serve` runs a [`ct_log::log::Log`] in its
//! own process and submits to it directly, without an HTTP hop; the same log is also served on
//! its own listener (RFC 6962 and static-ct-api) for monitors and clients.
//!
//! - [`EmbeddedCtLog`] is the [`CtLog`] over an in-process `Arc<Log>`; it submits with
//!   [`Log::add_own`], which trusts the CA's own signatures instead of re-verifying them.
//! - [`open_directory_log`] opens a log over a [`DirectoryStore`] with its signing key loaded
//!   from (or generated into) a PEM file; `fulcio serve` and `fulcio ctlog serve` share it.
//! - [`serve_log`] serves the log's full router on a bound listener until a shutdown signal.

use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use ct_core::LogSigningKey;
use ct_log::{
    log::{BatchConfig, Log, LogConfig, LogError},
    storage::{DirectoryStore, StorageError},
    submission::{Roots, SubmissionKind, ValidationPolicy},
};
use tokio::net::TcpListener;

use crate::ct::{CtError, CtFuture, CtLog};

/// The checkpoint origin of the embedded log when none is configured. It names the log in
/// every checkpoint, so it must stay the same across restarts (hence not derived from the
/// listener's port, which may be chosen by the OS).
pub const DEFAULT_ORIGIN: &str = "fulcio-rs-ct-log";

/// The name of the public key file written next to the log's data (PEM SPKI), for clients
/// that verify SCTs (`--ct-log-public-key-path`, sigstore clients' trusted root).
pub const PUBLIC_KEY_FILE: &str = "log-public-key.pem";

/// The trusted-state cache of the log `fulcio serve` embeds
/// ([`DirectoryStore::EMBEDDED_CACHE_BYTES`]).
pub const EMBEDDED_STATE_CACHE_BYTES: usize = DirectoryStore::EMBEDDED_CACHE_BYTES;

/// The default name of the signing key file inside the data directory.
pub const SIGNING_KEY_FILE: &str = "log-key.pem";

/// [`CtLog`] over an in-process log: submissions call [`Log::add_own`] directly.
#[derive(Clone)]
pub struct EmbeddedCtLog {
    log: Arc<Log>,
}

impl std::fmt::Debug for EmbeddedCtLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCtLog")
            .field("origin", &self.log.origin())
            .finish_non_exhaustive()
    }
}

impl EmbeddedCtLog {
    /// Submits to `log`.
    pub fn new(log: Arc<Log>) -> Self {
        Self { log }
    }

    /// The log submitted to.
    pub fn log(&self) -> &Arc<Log> {
        &self.log
    }

    async fn submit(
        &self,
        kind: SubmissionKind,
        chain: Vec<Vec<u8>>,
    ) -> Result<ct_core::SignedCertificateTimestamp, CtError> {
        // Every AddError is the server's problem, not the client's: the issuance pipeline
        // logs the detail and answers "Error entering certificate in CTL" as upstream does.
        // The chain is the one our CA has just signed, so the log may skip re-verifying its
        // signatures and the dedup lookup (`Log::add_own`).
        self.log
            .add_own(kind, chain)
            .await
            .map(|added| added.sct)
            .map_err(|err| CtError(format!("embedded CT log, {}: {err}", kind_name(kind))))
    }
}

fn kind_name(kind: SubmissionKind) -> &'static str {
    match kind {
        SubmissionKind::PreChain => "add-pre-chain",
        _ => "add-chain",
    }
}

impl CtLog for EmbeddedCtLog {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(self.submit(SubmissionKind::PreChain, chain))
    }

    fn add_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(self.submit(SubmissionKind::Chain, chain))
    }
}

/// Why the embedded log could not start. Messages name the file or directory involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedLogError {
    /// The data directory could not be opened (or is in use by another process).
    #[error("CT log data directory {dir}: {source}")]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// Why (boxed: storage errors are large, and this is a start-up path).
        #[source]
        source: Box<StorageError>,
    },
    /// The signing key file could not be read or written.
    #[error("CT log key {path}: {source}")]
    KeyIo {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The signing key file holds no usable key.
    #[error("CT log key {path}: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The accepted roots are unusable.
    #[error("CT log roots: {0}")]
    Roots(String),
    /// The log could not be opened or recovered.
    #[error("CT log: {0}")]
    Open(#[source] Box<LogError>),
}

/// What [`open_directory_log`] needs.
#[derive(Debug, Clone)]
pub struct DirectoryLogOptions {
    /// The data directory ([`DirectoryStore`]).
    pub data_dir: PathBuf,
    /// The signing key (PEM); generated (P-256, mode 0600) when the file does not exist.
    pub key_path: PathBuf,
    /// The checkpoint origin.
    pub origin: String,
    /// Group commit limits.
    pub batch: BatchConfig,
    /// The trusted-state database's page cache ([`DirectoryStore::DEFAULT_CACHE_BYTES`] for a
    /// standalone log, [`DirectoryStore::EMBEDDED_CACHE_BYTES`] for the one `fulcio serve`
    /// embeds).
    pub state_cache_bytes: usize,
}

/// Opens (or creates) a log in `options.data_dir` accepting chains to `roots`, and writes its
/// public key to [`PUBLIC_KEY_FILE`] in the data directory.
pub async fn open_directory_log(
    options: &DirectoryLogOptions,
    roots: Roots,
) -> Result<Arc<Log>, EmbeddedLogError> {
    // The store first: it takes the directory's lock, so a second process fails here instead
    // of racing this one to generate the key.
    let store = DirectoryStore::open_with_cache(&options.data_dir, options.state_cache_bytes)
        .await
        .map_err(|source| EmbeddedLogError::DataDir {
            dir: options.data_dir.clone(),
            source: Box::new(source),
        })?;
    let signing_key = load_or_generate_key(&options.key_path)?;
    let public_pem = pem::encode(&pem::Pem::new(
        "PUBLIC KEY",
        signing_key.public_key().spki_der().to_vec(),
    ));
    write_file_atomically(
        &options.data_dir.join(PUBLIC_KEY_FILE),
        public_pem.as_bytes(),
        0o644,
    )?;
    let store = Arc::new(store);
    let config = LogConfig {
        origin: options.origin.clone(),
        signing_key,
        roots,
        policy: ValidationPolicy::default(),
        batch: options.batch,
    };
    let log = Log::open(config, store.clone(), store)
        .await
        .map_err(|e| EmbeddedLogError::Open(Box::new(e)))?;
    Ok(Arc::new(log))
}

/// Roots from DER certificates (e.g. the CA's root, the last certificate of its chain).
pub fn roots_from_der(certificates: Vec<Vec<u8>>) -> Result<Roots, EmbeddedLogError> {
    Roots::from_der(certificates).map_err(|e| EmbeddedLogError::Roots(e.to_string()))
}

/// Roots from a PEM file of `CERTIFICATE` blocks.
pub fn roots_from_pem_file(path: &Path) -> Result<Roots, EmbeddedLogError> {
    let text = std::fs::read(path)
        .map_err(|e| EmbeddedLogError::Roots(format!("{}: {e}", path.display())))?;
    Roots::from_pem(&text).map_err(|e| EmbeddedLogError::Roots(format!("{}: {e}", path.display())))
}

/// Loads the log's signing key from `path` (PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY`
/// (SEC1) on P-256), or generates a P-256 key and writes it there (PKCS#8, mode 0600) when the
/// file does not exist.
pub fn load_or_generate_key(path: &Path) -> Result<LogSigningKey, EmbeddedLogError> {
    let key_err = |reason: String| EmbeddedLogError::Key {
        path: path.to_owned(),
        reason,
    };
    match std::fs::read(path) {
        Ok(text) => parse_signing_key(&text).map_err(key_err),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = LogSigningKey::generate_p256().map_err(|e| key_err(e.to_string()))?;
            let der = key.to_pkcs8_der().map_err(|e| key_err(e.to_string()))?;
            let text = pem::encode(&pem::Pem::new("PRIVATE KEY", der));
            write_file_atomically(path, text.as_bytes(), 0o600)?;
            tracing::info!(path = %path.display(), "generated a new CT log signing key");
            Ok(key)
        }
        Err(source) => Err(EmbeddedLogError::KeyIo {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Parses a PEM P-256 private key, PKCS#8 or SEC1.
fn parse_signing_key(text: &[u8]) -> Result<LogSigningKey, String> {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

    let block = pem::parse_many(text)
        .map_err(|e| format!("not PEM: {e}"))?
        .into_iter()
        .find(|b| b.tag() == "PRIVATE KEY" || b.tag() == "EC PRIVATE KEY")
        .ok_or_else(|| "no PRIVATE KEY or EC PRIVATE KEY block".to_owned())?;
    let pkcs8 = if block.tag() == "EC PRIVATE KEY" {
        let pair =
            EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, block.contents())
                .map_err(|e| format!("the EC PRIVATE KEY is not a usable P-256 key: {e}"))?;
        pair.to_pkcs8v1()
            .map_err(|e| format!("re-encoding the EC key failed: {e}"))?
            .as_ref()
            .to_vec()
    } else {
        block.contents().to_vec()
    };
    let key = LogSigningKey::from_pkcs8_der(&pkcs8).map_err(|e| e.to_string())?;
    // Sigstore clients only accept ECDSA P-256 CT logs.
    if key.public_key().algorithm() != ct_core::log_key::LogKeyAlgorithm::EcdsaP256Sha256 {
        return Err("the key is not an ECDSA P-256 key".to_owned());
    }
    Ok(key)
}

/// [`crate::files::write_atomically`], naming the key file in the error.
fn write_file_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), EmbeddedLogError> {
    crate::files::write_atomically(path, contents, mode).map_err(|source| EmbeddedLogError::KeyIo {
        path: path.to_owned(),
        source,
    })
}

/// Serves the log's full router (RFC 6962 write and read endpoints, static-ct-api tiles) on
/// `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve_log(
    listener: TcpListener,
    log: Arc<Log>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, ct_log::http::router(log))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the log's listener on `host:port`.
pub async fn bind_log_listener(
    host: &str,
    port: u16,
) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn generated_key_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("key.pem");
        let first = load_or_generate_key(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "key file mode");
        }
        let again = load_or_generate_key(&path).unwrap();
        assert_eq!(first.log_id(), again.log_id(), "same key after reload");
    }

    #[test]
    fn refuses_garbage_and_other_curves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_or_generate_key(&path),
            Err(EmbeddedLogError::Key { .. })
        ));
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        std::fs::write(&path, p384.serialize_pem()).unwrap();
        let err = load_or_generate_key(&path).unwrap_err().to_string();
        assert!(err.contains("key.pem"), "{err}");
    }

    #[test]
    fn accepts_sec1_p256() {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let sec1: aws_lc_rs::encoding::EcPrivateKeyRfc5915Der<'_> =
            pair.private_key().as_der().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(
            &path,
            pem::encode(&pem::Pem::new("EC PRIVATE KEY", sec1.as_ref().to_vec())),
        )
        .unwrap();
        load_or_generate_key(&path).unwrap();
    }
}
