//! TLS for the gRPC listener (Fulcio spec §7, `--grpc-tls-certificate` and `--grpc-tls-key`).
//!
//! As upstream: TLS 1.3 only, a PEM certificate chain (leaf first) and an unencrypted PEM
//! private key (PKCS#8, SEC1 or PKCS#1), and the pair is read again whenever either file
//! changes. [`TlsCertificate`] holds the pair in use and hands it to every handshake;
//! [`TlsCertificate::watch`] reloads it on change. A replacement that does not load, or whose
//! key does not belong to its certificate, is logged and ignored: the server keeps presenting
//! the previous pair, so a half-finished rotation never takes the port down.
//!
//! The watching is [`ca::file_watch`]'s: it observes the files' directories rather than the
//! files themselves, so that replacements by rename (`mv`, editors, `cert-manager`) and
//! Kubernetes secret volumes (whose updates swap the `..data` symlink) are seen as well as
//! writes in place, and reloads once the files have been quiet for a moment.
//!
//! Most callers want [`GrpcTls::from_files`] (load and watch) and
//! [`crate::ServerBuilder::grpc_tls`], or simply [`crate::ServerBuilder::grpc_tls_files`].

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use arc_swap::ArcSwap;
pub use ca::file_watch::ReloadCounts;
use ca::file_watch::{self, FileWatcher};
use der::Decode as _;
use rustls::{
    ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use zeroize::Zeroizing;

/// ALPN for a gRPC-only port: HTTP/2.
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];

/// ALPN for a port serving gRPC and the HTTP API: HTTP/2 preferred, HTTP/1.1 accepted.
pub const ALPN_GRPC_AND_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

/// A TLS certificate or key that could not be used, or a watch that could not start.
/// Every message names the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("reading TLS {what} {path}: {source}")]
    Read {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file was read but holds nothing usable.
    #[error("TLS {what} {path}: {reason}")]
    Invalid {
        /// `certificate` or `private key`.
        what: &'static str,
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key is not the one the leaf certificate was issued for.
    #[error("TLS private key {key} does not belong to the certificate in {certificate}")]
    KeyMismatch {
        /// The certificate file.
        certificate: String,
        /// The key file.
        key: String,
    },
    /// The files could not be watched for changes.
    #[error("watching {path} for TLS certificate changes: {reason}")]
    Watch {
        /// The file or directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration (not expected with the built-in provider).
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// The certificate chain and key presented by the TLS listener, replaceable while serving.
/// It is the listener's [`ResolvesServerCert`]: each handshake takes the pair in use at that
/// moment, so connections already open keep theirs and new ones get the replacement.
pub struct TlsCertificate {
    certificate_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: ArcSwap<CertifiedKey>,
    succeeded: AtomicU64,
    failed: AtomicU64,
}

impl fmt::Debug for TlsCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsCertificate")
            .field("certificate_path", &self.certificate_path)
            .field("key_path", &self.key_path)
            .field("reloads", &self.reload_counts())
            .finish_non_exhaustive()
    }
}

impl TlsCertificate {
    /// Loads the pair: `certificate_path` holds one or more PEM `CERTIFICATE` blocks, leaf
    /// first; `key_path` an unencrypted `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1) or
    /// `RSA PRIVATE KEY` (PKCS#1) matching the leaf.
    pub fn load(certificate_path: &Path, key_path: &Path) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pair = load_pair(&provider, certificate_path, key_path)?;
        Ok(Arc::new(Self {
            certificate_path: certificate_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            provider,
            current: ArcSwap::from_pointee(pair),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }))
    }

    /// The certificate file.
    pub fn certificate_path(&self) -> &Path {
        &self.certificate_path
    }

    /// The key file.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The chain (leaf first) presented to new connections.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current.load().cert.clone()
    }

    /// Reads both files again and, if they load and match, presents them from now on. On
    /// failure the pair in use is kept and the error returned.
    pub fn reload(&self) -> Result<(), TlsError> {
        match load_pair(&self.provider, &self.certificate_path, &self.key_path) {
            Ok(pair) => {
                self.current.store(Arc::new(pair));
                self.succeeded.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Err(err) => {
                self.failed.fetch_add(1, Ordering::SeqCst);
                Err(err)
            }
        }
    }

    /// Reloads attempted so far, by outcome.
    pub fn reload_counts(&self) -> ReloadCounts {
        ReloadCounts {
            succeeded: self.succeeded.load(Ordering::SeqCst),
            failed: self.failed.load(Ordering::SeqCst),
        }
    }

    /// A server configuration presenting this certificate: TLS 1.3 only, no client
    /// certificates, the given ALPN protocols ([`ALPN_GRPC`] or [`ALPN_GRPC_AND_HTTP`]).
    pub fn server_config(self: &Arc<Self>, alpn: &[&[u8]]) -> Result<ServerConfig, TlsError> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// Starts reloading the pair whenever either file changes (see the module docs). Runs on
    /// its own threads, so it may be called inside or outside an async runtime; dropping the
    /// returned watcher stops it.
    pub fn watch(self: &Arc<Self>) -> Result<CertificateWatcher, TlsError> {
        let certificate = Arc::clone(self);
        // The certificate counts its reloads itself ([`Self::reload_counts`]), so manual
        // reloads are counted too; the watcher's own counts are not needed.
        let reload = move || match certificate.reload() {
            Ok(()) => {
                tracing::info!(
                    certificate = %certificate.certificate_path.display(),
                    key = %certificate.key_path.display(),
                    "gRPC TLS: reloaded certificate and key"
                );
                Ok(())
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    "gRPC TLS: certificate files changed but do not load; still serving the previous certificate"
                );
                Err(err)
            }
        };
        let paths: [&Path; 2] = [&self.certificate_path, &self.key_path];
        let watcher =
            file_watch::watch(&paths, "grpc-tls-watch", reload).map_err(|e| TlsError::Watch {
                path: e.path.display().to_string(),
                reason: e.source.to_string(),
            })?;
        Ok(CertificateWatcher { _watcher: watcher })
    }
}

impl ResolvesServerCert for TlsCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The certificate of a TLS listener together with the watcher that keeps it current: what
/// [`crate::ServerBuilder::grpc_tls`] takes.
#[derive(Debug)]
pub struct GrpcTls {
    certificate: Arc<TlsCertificate>,
    watcher: Option<CertificateWatcher>,
}

impl GrpcTls {
    /// Loads the pair and watches both files, reloading on change (upstream's behaviour).
    pub fn from_files(certificate_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let certificate = TlsCertificate::load(certificate_path, key_path)?;
        let watcher = certificate.watch()?;
        Ok(Self {
            certificate,
            watcher: Some(watcher),
        })
    }

    /// A certificate that is not watched (reload it with [`TlsCertificate::reload`]).
    pub fn fixed(certificate: Arc<TlsCertificate>) -> Self {
        Self {
            certificate,
            watcher: None,
        }
    }

    /// The certificate in use, e.g. to read [`TlsCertificate::reload_counts`].
    pub fn certificate(&self) -> &Arc<TlsCertificate> {
        &self.certificate
    }

    /// Whether the files are watched.
    pub fn is_watched(&self) -> bool {
        self.watcher.is_some()
    }
}

/// Reloads a [`TlsCertificate`] when its files change; dropping it stops watching (and waits
/// for a reload in progress).
#[derive(Debug)]
pub struct CertificateWatcher {
    /// Kept only to be dropped with the `CertificateWatcher`.
    _watcher: FileWatcher,
}

/// Reads, parses and checks a certificate chain and key.
fn load_pair(
    provider: &CryptoProvider,
    certificate_path: &Path,
    key_path: &Path,
) -> Result<CertifiedKey, TlsError> {
    const CERT: &str = "certificate";
    const KEY: &str = "private key";
    let invalid = |what: &'static str, path: &Path, reason: String| TlsError::Invalid {
        what,
        path: path.display().to_string(),
        reason,
    };

    let chain_pem = read(CERT, certificate_path)?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(CERT, certificate_path, format!("not valid PEM: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(
            CERT,
            certificate_path,
            "holds no PEM CERTIFICATE block".to_owned(),
        ));
    }
    for (index, der) in chain.iter().enumerate() {
        x509_cert::Certificate::from_der(der).map_err(|e| {
            invalid(
                CERT,
                certificate_path,
                format!(
                    "certificate {} of {} is not an X.509 certificate: {e}",
                    index + 1,
                    chain.len()
                ),
            )
        })?;
    }

    let key_pem = read(KEY, key_path)?;
    let key = match PrivateKeyDer::from_pem_slice(&key_pem) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            let text = String::from_utf8_lossy(&key_pem);
            // PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's `Proc-Type: 4,ENCRYPTED` header.
            let reason = if text.contains("ENCRYPTED") {
                "is encrypted; the TLS key must be unencrypted (no passphrase)"
            } else {
                "holds no PEM PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block"
            };
            return Err(invalid(KEY, key_path, reason.to_owned()));
        }
        Err(e) => return Err(invalid(KEY, key_path, format!("not valid PEM: {e}"))),
    };
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| invalid(KEY, key_path, format!("unusable key: {e}")))?;

    let pair = CertifiedKey::new(chain, signing_key);
    match pair.keys_match() {
        // Unknown: the key type cannot report its public key; the handshake will tell.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(pair)
        }
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(TlsError::KeyMismatch {
                certificate: certificate_path.display().to_string(),
                key: key_path.display().to_string(),
            })
        }
        Err(e) => Err(invalid(
            CERT,
            certificate_path,
            format!("leaf certificate not usable: {e}"),
        )),
    }
}

fn read(what: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, TlsError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| TlsError::Read {
            what,
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    #[test]
    fn loads_a_matching_pair_and_refuses_a_mismatched_one() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_a, key_a) = pair(dir.path(), "a");
        let (_, key_b) = pair(dir.path(), "b");
        let loaded = TlsCertificate::load(&cert_a, &key_a).unwrap();
        assert_eq!(loaded.chain().len(), 1);
        let err = TlsCertificate::load(&cert_a, &key_b).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&*key_b.to_string_lossy()), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        let missing = dir.path().join("missing.crt");
        let err = TlsCertificate::load(&missing, &key).unwrap_err();
        assert!(matches!(err, TlsError::Read { .. }));
        assert!(err.to_string().contains("missing.crt"), "{err}");

        let garbled = dir.path().join("garbled.crt");
        std::fs::write(&garbled, "hello").unwrap();
        let err = TlsCertificate::load(&garbled, &key).unwrap_err();
        assert!(err.to_string().contains("garbled.crt"), "{err}");
        assert!(err.to_string().contains("no PEM CERTIFICATE"), "{err}");

        let not_x509 = dir.path().join("notx509.crt");
        std::fs::write(
            &not_x509,
            pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3])),
        )
        .unwrap();
        let err = TlsCertificate::load(&not_x509, &key).unwrap_err();
        assert!(
            err.to_string().contains("not an X.509 certificate"),
            "{err}"
        );

        let encrypted = dir.path().join("enc.key");
        std::fs::write(
            &encrypted,
            pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", vec![1, 2, 3])),
        )
        .unwrap();
        let err = TlsCertificate::load(&cert, &encrypted).unwrap_err();
        assert!(err.to_string().contains("enc.key"), "{err}");
        assert!(err.to_string().contains("encrypted"), "{err}");

        // A certificate given as the key.
        let err = TlsCertificate::load(&cert, &cert).unwrap_err();
        assert!(err.to_string().contains("no PEM PRIVATE KEY"), "{err}");
    }

    #[test]
    fn failed_reload_keeps_the_pair_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(dir.path(), "a");
        let loaded = TlsCertificate::load(&cert, &key).unwrap();
        let before = loaded.chain();
        std::fs::write(&cert, "broken").unwrap();
        assert!(loaded.reload().is_err());
        assert_eq!(loaded.chain(), before);
        assert_eq!(
            loaded.reload_counts(),
            ReloadCounts {
                succeeded: 0,
                failed: 1
            }
        );
    }
}
