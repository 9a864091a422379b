//! What `add-chain` and `add-pre-chain` receive, and whether the log accepts it (RFC 6962 §4.1,
//! §4.2; c2sp.org/static-ct-api "Submission").
//!
//! The path a submission takes, top to bottom:
//!
//! 1. [`decode_chain_request`]: the JSON body `{"chain": ["<base64 DER>", …]}` becomes a list of
//!    DER certificates, bounded by [`RequestLimits`].
//! 2. [`validate`]: every certificate parses as strict DER, each one is signed by the next, the
//!    chain ends at one of the log's [`Roots`], intermediates are CAs, the extended key usages
//!    match the [`ValidationPolicy`] (codeSigning by default, for Fulcio), and the first
//!    certificate is a precertificate exactly when the endpoint is `add-pre-chain`.
//! 3. The result, a [`ValidatedSubmission`], carries everything the sequencer needs: the
//!    `signed_entry` (a certificate, or a precertificate's `PreCert` with the poison removed),
//!    the issuer chain with its SHA-256 fingerprints (static-ct-api data tiles and `issuer/`
//!    objects), and a deduplication key.
//!
//! Every refusal is a [`SubmissionError`] whose message names the certificate and the reason,
//! and which maps to an HTTP status with [`SubmissionError::http_status`].

mod certificate;
mod error;
mod policy;
mod request;
mod roots;
mod signature;
mod validate;

pub use error::{CertPosition, RootsError, SubmissionError};
pub use policy::{AcceptedEkus, NotAfterWindow, ValidationPolicy, eku};
pub use request::{RequestLimits, decode_chain_request};
pub use roots::{GetRootsResponse, Roots};
pub use validate::{SubmissionKind, ValidatedSubmission, validate, validate_own};
