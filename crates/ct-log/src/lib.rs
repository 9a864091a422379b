//! The Certificate Transparency log of fulcio-rs (RFC 6962 with the static-ct-api read path).
//!
//! This crate grows in layers: [`submission`] validates what `add-chain` and `add-pre-chain`
//! receive, [`storage`] keeps the log's objects and its small trusted state crash-safely; the
//! sequencer and the HTTP handlers build on both.

pub mod http;
pub mod log;
pub mod metrics;
mod sequencer;
pub mod storage;
pub mod submission;
