//! Submitting (pre)certificates to a Certificate Transparency log (Fulcio spec §5).

use std::{future::Future, pin::Pin};

use ct_core::SignedCertificateTimestamp;

/// The future a [`CtLog`] returns.
pub type CtFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SignedCertificateTimestamp, CtError>> + Send + 'a>>;

/// A CT log that certificates are submitted to: an RFC 6962 log over HTTP, or (later) the
/// embedded log in-process.
pub trait CtLog: Send + Sync + std::fmt::Debug {
    /// `add-pre-chain`: `chain[0]` is the precertificate, then the CA chain including the root.
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_>;
    /// `add-chain`: `chain[0]` is the final certificate, then the CA chain including the root.
    fn add_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_>;
}

/// A submission failed; the detail is logged, the client sees "Error entering certificate in CTL".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CtError(pub String);

/// Options of an RFC 6962 log reached over HTTP (`--ct-log-*`).
#[derive(Debug, Clone, Default)]
pub struct HttpCtLogOptions {
    /// `--ct-log-public-key-path` contents (PEM): when set, every returned SCT is verified.
    pub public_key_pem: Option<Vec<u8>>,
    /// `--ct-log-origin`: the `Host` header to send instead of the URL's host.
    pub origin: Option<String>,
    /// `--ct-log.tls-ca-cert` contents (PEM): extra roots for the log's TLS.
    pub tls_ca_cert_pem: Option<Vec<u8>>,
    /// Per-request timeout (upstream: 30 s).
    pub timeout: Option<std::time::Duration>,
}

/// An RFC 6962 log at `base_url` (e.g. `http://localhost:6962/test`).
#[derive(Debug)]
pub struct HttpCtLog {
    _private: (),
}

impl HttpCtLog {
    /// A client for the log at `base_url`.
    pub fn new(base_url: &str, options: HttpCtLogOptions) -> Result<Self, CtError> {
        let _ = (base_url, options);
        unimplemented!("ct helper")
    }
}
