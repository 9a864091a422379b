//! Signed certificate timestamps (RFC 6962 §3.2) and their list encoding (§3.3).

/// RFC 6962 `DigitallySigned`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitallySigned {
    /// TLS HashAlgorithm (sha256 = 4).
    pub hash_algorithm: u8,
    /// TLS SignatureAlgorithm (rsa = 1, ecdsa = 3).
    pub signature_algorithm: u8,
    /// The signature (DER for ECDSA).
    pub signature: Vec<u8>,
}

/// RFC 6962 `SignedCertificateTimestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCertificateTimestamp {
    /// `sct_version` (v1 = 0).
    pub version: u8,
    /// SHA-256 of the log's DER SubjectPublicKeyInfo.
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `CtExtensions` bytes (static-ct-api logs put the leaf index here).
    pub extensions: Vec<u8>,
    /// The log's signature.
    pub signature: DigitallySigned,
}

/// The JSON answer of `add-chain` / `add-pre-chain` (RFC 6962 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddChainResponse {
    /// `sct_version`.
    pub sct_version: u8,
    /// `id`: base64 log ID.
    pub id: String,
    /// `timestamp` in ms.
    pub timestamp: u64,
    /// `extensions`: base64.
    pub extensions: String,
    /// `signature`: base64 TLS `DigitallySigned`.
    pub signature: String,
}

impl SignedCertificateTimestamp {
    /// The RFC 6962 §3.2 serialization.
    pub fn to_bytes(&self) -> Vec<u8> {
        unimplemented!("ct helper")
    }
}

/// The TLS `SignedCertificateTimestampList` (RFC 6962 §3.3) of `scts`: the bytes that go, wrapped
/// in a DER OCTET STRING, into extension 1.3.6.1.4.1.11129.2.4.2.
pub fn encode_sct_list(scts: &[SignedCertificateTimestamp]) -> Vec<u8> {
    let _ = scts;
    unimplemented!("ct helper")
}

impl From<&SignedCertificateTimestamp> for AddChainResponse {
    fn from(sct: &SignedCertificateTimestamp) -> Self {
        let _ = sct;
        unimplemented!("ct helper")
    }
}
