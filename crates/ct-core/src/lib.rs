//! Certificate Transparency primitives with no I/O (RFC 6962, c2sp.org/static-ct-api): TLS
//! codec helpers, the entries a log signs and hashes, SCTs and SCT lists, the `add-chain` JSON
//! answer, log keys, SCT signing and verification, precertificate handling, Merkle trees and
//! proofs, tiles, data tiles, signed tree heads and checkpoints.
//!
//! Layout: [`tls`] is the wire codec; [`entry`] what is signed and hashed; [`sct`] the SCT and
//! its encodings; [`log_key`] the log's keys; [`certificate`] the X.509 side (poison, SCT list
//! extension, precert TBS).
//!
//! The log's tree: [`merkle`] hashes, verifies proofs and builds them from stored hashes;
//! [`tile`] groups stored hashes into tlog-tiles tiles and names them; [`leaf_index`] is the
//! static-ct-api SCT extension; [`tile_leaf`] the data tiles' entries; [`sth`] the signed tree
//! head and `get-sth`; [`note`] the signed-note envelope; [`checkpoint`] the static-ct-api
//! checkpoint and its conversion to and from a signed tree head.

#![forbid(unsafe_code)]

pub mod certificate;
pub mod checkpoint;
pub mod entry;
mod error;
pub mod leaf_index;
pub mod log_key;
pub mod merkle;
pub mod note;
pub mod sct;
pub mod sth;
pub mod tile;
pub mod tile_leaf;
pub mod tls;

pub use entry::{LogEntryType, MerkleTreeLeaf, PreCert, SignedEntry, TimestampedEntry};
pub use error::CtError;
pub use log_key::{LogPublicKey, LogSigningKey};
pub use sct::{
    AddChainResponse, DigitallySigned, SignedCertificateTimestamp, decode_sct_list,
    encode_sct_list, sign_sct, verify_sct,
};
