//! Signed tree heads (RFC 6962 §3.5) and the JSON answer of `get-sth` (RFC 6962 §4.3).
//!
//! The log signs `TreeHeadSignature { version v1; signature_type tree_hash; uint64 timestamp;
//! uint64 tree_size; opaque sha256_root_hash[32]; }` with its key; the same signature also
//! travels in the static-ct-api checkpoint (see [`crate::checkpoint`]).

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};

use crate::{
    CtError,
    log_key::{LogPublicKey, LogSigningKey},
    merkle::{Hash, hash_from_slice},
    sct::DigitallySigned,
};

/// `Version` v1.
const VERSION_V1: u8 = 0;
/// `SignatureType` tree_hash (RFC 6962 §3.2 enum; certificate_timestamp is 0).
const SIGNATURE_TYPE_TREE_HASH: u8 = 1;

/// What a tree head states: size, time and root (the fields of RFC 6962 §3.5
/// `TreeHeadSignature` that vary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TreeHead {
    /// Number of entries in the tree.
    pub tree_size: u64,
    /// Milliseconds since the Unix epoch when the head was produced.
    pub timestamp: u64,
    /// Merkle Tree Hash of the tree (RFC 6962 §2.1).
    pub root_hash: Hash,
}

impl TreeHead {
    /// The length of [`TreeHead::signed_data`].
    pub const SIGNED_DATA_LEN: usize = 50;

    /// The bytes the log signs (RFC 6962 §3.5 `TreeHeadSignature`): version 0, signature type
    /// tree_hash (1), timestamp, tree size, root hash.
    pub fn signed_data(&self) -> [u8; Self::SIGNED_DATA_LEN] {
        let mut out = [0u8; Self::SIGNED_DATA_LEN];
        out[0] = VERSION_V1;
        out[1] = SIGNATURE_TYPE_TREE_HASH;
        out[2..10].copy_from_slice(&self.timestamp.to_be_bytes());
        out[10..18].copy_from_slice(&self.tree_size.to_be_bytes());
        out[18..].copy_from_slice(&self.root_hash);
        out
    }
}

/// A tree head with the log's signature over it (RFC 6962 §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    /// The signed fields.
    pub tree_head: TreeHead,
    /// `tree_head_signature`: the TLS `DigitallySigned` over [`TreeHead::signed_data`].
    pub signature: DigitallySigned,
}

impl SignedTreeHead {
    /// Signs `tree_head` with the log's key.
    pub fn sign(tree_head: TreeHead, key: &LogSigningKey) -> Result<Self, CtError> {
        Ok(Self {
            signature: key.sign(&tree_head.signed_data())?,
            tree_head,
        })
    }

    /// Verifies the signature with the log's public key: SHA-256 with the key's algorithm over
    /// the RFC 6962 §3.5 `TreeHeadSignature`.
    pub fn verify(&self, key: &LogPublicKey) -> Result<(), CtError> {
        key.verify_digitally_signed(&self.tree_head.signed_data(), &self.signature)
            .map_err(|e| match e {
                CtError::BadSignature => CtError::BadTreeHeadSignature,
                other => other,
            })
    }
}

/// The JSON answer of `get-sth` (RFC 6962 §4.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GetSthResponse {
    /// `tree_size`.
    pub tree_size: u64,
    /// `timestamp` in ms.
    pub timestamp: u64,
    /// `sha256_root_hash`: base64 of the 32-byte root.
    pub sha256_root_hash: String,
    /// `tree_head_signature`: base64 of the TLS `DigitallySigned`.
    pub tree_head_signature: String,
}

impl TryFrom<&SignedTreeHead> for GetSthResponse {
    type Error = CtError;

    /// The §4.3 JSON form; fails only if the signature exceeds its 16-bit length prefix.
    fn try_from(sth: &SignedTreeHead) -> Result<Self, CtError> {
        Ok(Self {
            tree_size: sth.tree_head.tree_size,
            timestamp: sth.tree_head.timestamp,
            sha256_root_hash: BASE64.encode(sth.tree_head.root_hash),
            tree_head_signature: BASE64.encode(sth.signature.to_bytes()?),
        })
    }
}

impl TryFrom<&GetSthResponse> for SignedTreeHead {
    type Error = CtError;

    /// Decodes a log's answer strictly: a 32-byte root and exactly one `DigitallySigned`. The
    /// signature is not checked here; call [`SignedTreeHead::verify`].
    fn try_from(resp: &GetSthResponse) -> Result<Self, CtError> {
        let decode = |field: &'static str, value: &str| {
            BASE64
                .decode(value)
                .map_err(|source| CtError::Base64 { field, source })
        };
        let root_hash = hash_from_slice(&decode("sha256_root_hash", &resp.sha256_root_hash)?)?;
        let signature = DigitallySigned::from_bytes(&decode(
            "tree_head_signature",
            &resp.tree_head_signature,
        )?)?;
        Ok(Self {
            tree_head: TreeHead {
                tree_size: resp.tree_size,
                timestamp: resp.timestamp,
                root_hash,
            },
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_data_layout() {
        let head = TreeHead {
            tree_size: 0x0102,
            timestamp: 0x0a0b,
            root_hash: [0xee; 32],
        };
        let mut expected = vec![0, 1, 0, 0, 0, 0, 0, 0, 0x0a, 0x0b, 0, 0, 0, 0, 0, 0, 1, 2];
        expected.extend_from_slice(&[0xee; 32]);
        assert_eq!(head.signed_data().as_slice(), expected);
    }
}
