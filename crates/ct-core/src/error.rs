//! The one error type of this crate.

/// Everything that can go wrong while decoding, encoding, signing or verifying CT structures.
///
/// Decoding errors name the structure (`what`) so a server log says which field of which
/// message was malformed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CtError {
    /// The input ended inside a structure.
    #[error("{what}: truncated: needed {needed} more bytes, {available} left")]
    Truncated {
        /// The structure being decoded.
        what: &'static str,
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes were left after a structure that must fill its input exactly.
    #[error("{what}: {count} trailing bytes")]
    TrailingBytes {
        /// The structure being decoded.
        what: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// A variable-length field is longer than its TLS length prefix can express.
    #[error("{what}: length {len} exceeds the maximum {max}")]
    TooLong {
        /// The field being encoded.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The largest length its prefix allows.
        max: usize,
    },
    /// A variable-length field is shorter than RFC 6962 allows (e.g. an empty SCT list).
    #[error("{what}: empty")]
    Empty {
        /// The field.
        what: &'static str,
    },
    /// An SCT or leaf version other than v1 (0) (RFC 6962 §3.2).
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// The structure.
        what: &'static str,
        /// The version found.
        version: u8,
    },
    /// An enum value RFC 6962 does not define (entry type, leaf type, signature type).
    #[error("{what}: unknown value {value}")]
    UnknownValue {
        /// The enum.
        what: &'static str,
        /// The value found.
        value: u16,
    },
    /// A TLS `SignatureAndHashAlgorithm` other than ECDSA or RSA with SHA-256.
    #[error("unsupported signature algorithm: hash {hash}, signature {signature}")]
    UnsupportedSignatureAlgorithm {
        /// TLS HashAlgorithm.
        hash: u8,
        /// TLS SignatureAlgorithm.
        signature: u8,
    },
    /// A base64 field of an `add-chain` answer does not decode.
    #[error("{field}: invalid base64")]
    Base64 {
        /// The JSON field.
        field: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// A log ID that is not 32 bytes.
    #[error("log ID must be 32 bytes, got {0}")]
    InvalidLogIdLength(usize),
    /// The SCT names another log than the key it is checked against (RFC 6962 §3.2: LogID is
    /// the SHA-256 of the log's SubjectPublicKeyInfo).
    #[error("SCT log ID {sct} does not match the log key's ID {key}")]
    LogIdMismatch {
        /// Base64 log ID in the SCT.
        sct: String,
        /// Base64 SHA-256 of the key's SPKI.
        key: String,
    },
    /// The log key is neither ECDSA P-256 nor RSA, or does not parse.
    #[error("unsupported or malformed log key: {0}")]
    UnsupportedKey(&'static str),
    /// The SCT claims a signature algorithm that the log key cannot make.
    #[error(
        "SCT signature algorithm (hash {hash}, signature {signature}) does not match the log key"
    )]
    KeyAlgorithmMismatch {
        /// TLS HashAlgorithm in the SCT.
        hash: u8,
        /// TLS SignatureAlgorithm in the SCT.
        signature: u8,
    },
    /// The signature does not verify over the reconstructed signed data.
    #[error("SCT signature does not verify")]
    BadSignature,
    /// The private key was rejected, or signing failed inside aws-lc.
    #[error("log signing key: {0}")]
    SigningKey(&'static str),
    /// A certificate or extension is not valid DER.
    #[error("certificate DER: {0}")]
    Der(#[from] der::Error),
    /// A certificate lacks the extension the operation needs (poison or SCT list).
    #[error("certificate has no {0} extension")]
    MissingExtension(&'static str),
    /// A certificate carries an extension more than once.
    #[error("certificate has more than one {0} extension")]
    DuplicateExtension(&'static str),
    /// A certificate carries an extension it must not (e.g. the poison in a final certificate).
    #[error("certificate unexpectedly has a {0} extension")]
    UnexpectedExtension(&'static str),
    /// The precertificate poison is not marked critical (RFC 6962 §3.1).
    #[error("precertificate poison extension is not critical")]
    PoisonNotCritical,
    /// The precertificate poison's value is not ASN.1 NULL (RFC 6962 §3.1).
    #[error("precertificate poison extension's value is not ASN.1 NULL")]
    PoisonNotNull,
    /// The issuer is a Precertificate Signing Certificate (EKU 1.3.6.1.4.1.11129.2.4.4), whose
    /// TBS rewrite (RFC 6962 §3.1) is not supported: Fulcio never uses one.
    #[error("precertificate signing certificates are not supported")]
    PrecertSigningCertificate,
    /// A Merkle proof or tree computation failed (RFC 6962 §2.1, RFC 9162 §2.1.3-2.1.4).
    #[error(transparent)]
    Merkle(#[from] crate::merkle::MerkleError),
    /// A tile, tile path or tile read was invalid (c2sp.org/tlog-tiles).
    #[error(transparent)]
    Tile(#[from] crate::tile::TileError),
    /// A leaf index beyond static-ct-api's 40 bits.
    #[error("leaf index {0} does not fit the 40-bit leaf_index extension")]
    LeafIndexOutOfRange(u64),
    /// `CtExtensions` that are not exactly one static-ct-api `leaf_index` extension.
    #[error("malformed leaf_index extension: {0}")]
    MalformedLeafIndexExtension(&'static str),
    /// A static-ct-api `TileLeaf` that is inconsistent with itself.
    #[error("invalid TileLeaf: {0}")]
    InvalidTileLeaf(&'static str),
    /// A data tile with another number of entries than its width (1-256).
    #[error("data tile has {actual} entries, expected {expected}")]
    DataTileEntryCount {
        /// Entries the tile must have (the maximum, 256, when the count is out of range).
        expected: usize,
        /// Entries found or given.
        actual: usize,
    },
    /// A tree head signature that does not verify (RFC 6962 §3.5).
    #[error("tree head signature does not verify")]
    BadTreeHeadSignature,
    /// A checkpoint or its signed-note envelope was refused (c2sp.org/tlog-checkpoint,
    /// c2sp.org/signed-note, c2sp.org/static-ct-api).
    #[error(transparent)]
    Checkpoint(#[from] crate::checkpoint::CheckpointError),
}
