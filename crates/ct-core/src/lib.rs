//! Certificate Transparency primitives with no I/O: RFC 6962 TLS structures, SCTs and SCT lists,
//! the RFC 6962 JSON answers, and SCT verification. (Merkle proofs, checkpoints and tiles
//! follow with the log itself.)

pub mod sct;

pub use sct::{AddChainResponse, DigitallySigned, SignedCertificateTimestamp};
