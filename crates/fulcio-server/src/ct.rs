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
