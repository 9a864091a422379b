//! Why a submission or a root set was refused.

use std::fmt;

/// Which certificate of a chain an error is about.
///
/// Submitted certificates are named by their index in the request's `chain` array, as the client
/// sent them. When the submitter omitted the root, the log appends its own copy (RFC 6962 §4.1:
/// the chain may end at a certificate that chains to a known root); that one is
/// [`CertPosition::AcceptedRoot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertPosition {
    /// `chain[index]` of the request.
    Submitted(usize),
    /// The accepted root the log appended to a chain submitted without it.
    AcceptedRoot,
}

impl fmt::Display for CertPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Submitted(index) => write!(f, "chain[{index}]"),
            Self::AcceptedRoot => f.write_str("the accepted root"),
        }
    }
}

/// A refused `add-chain` or `add-pre-chain` submission (RFC 6962 §4.1, §4.2).
///
/// Messages are written for the submitter: they name the certificate ([`CertPosition`]) and what
/// is wrong with it. Everything except [`SubmissionError::Internal`] is the client's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmissionError {
    // --- The request body ---
    /// The body is not JSON, or not a JSON object with a `chain` array.
    #[error("request body is not a valid add-chain request: {0}")]
    InvalidJson(String),
    /// The body has no `chain` field, or it is `null`.
    #[error("request body has no \"chain\" field")]
    MissingChain,
    /// `chain` is an empty array (RFC 6962 §4.1: the chain starts with the leaf).
    #[error("\"chain\" is empty: it must hold the certificate, then its issuers")]
    EmptyChain,
    /// More certificates than [`crate::submission::RequestLimits::max_certificates`].
    #[error("\"chain\" has {count} certificates; this log accepts at most {max}")]
    TooManyCertificates {
        /// Certificates submitted.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More DER than [`crate::submission::RequestLimits::max_chain_bytes`].
    #[error("\"chain\" holds {size} bytes of certificates; this log accepts at most {max}")]
    ChainTooLarge {
        /// Total DER bytes submitted (so far, when decoding stopped early).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A `chain` element is not a JSON string.
    #[error("chain[{index}] is not a string")]
    NotAString {
        /// Index in `chain`.
        index: usize,
    },
    /// A `chain` element is not standard, padded base64 (RFC 4648 §4), as RFC 6962 §4 requires
    /// for binary values.
    #[error("chain[{index}] is not valid base64 (standard alphabet, with padding): {reason}")]
    InvalidBase64 {
        /// Index in `chain`.
        index: usize,
        /// The decoder's complaint.
        reason: String,
    },
    /// A `chain` element decodes to zero bytes.
    #[error("chain[{index}] is empty")]
    EmptyCertificate {
        /// Index in `chain`.
        index: usize,
    },

    // --- Certificates ---
    /// Not a DER X.509 certificate, or one of its extensions the log reads is malformed.
    #[error("{position} is not a valid DER X.509 certificate: {reason}")]
    MalformedCertificate {
        /// The certificate.
        position: CertPosition,
        /// What the parser found.
        reason: String,
    },
    /// The certificate's `signatureAlgorithm` differs from the `signature` field inside its TBS
    /// (RFC 5280 §4.1.1.2 requires them to be equal).
    #[error("{position}: signatureAlgorithm differs from the TBSCertificate's signature field")]
    SignatureAlgorithmMismatch {
        /// The certificate.
        position: CertPosition,
    },
    /// A signature algorithm or issuer key the log cannot verify (it supports ECDSA P-256/384/521
    /// with SHA-256/384/512, RSA PKCS#1 v1.5 with SHA-256/384/512, and Ed25519).
    #[error("{position}: cannot verify its signature: {reason}")]
    UnsupportedSignature {
        /// The signed certificate.
        position: CertPosition,
        /// Which algorithm or key was not supported.
        reason: String,
    },
    /// The signature does not verify under the next certificate's key.
    #[error("{position}: signature does not verify with the public key of {issuer}")]
    BadSignature {
        /// The signed certificate.
        position: CertPosition,
        /// The certificate whose key was used.
        issuer: CertPosition,
    },
    /// The certificate's issuer name is not the next certificate's subject name.
    #[error(
        "{position}: issuer name differs from the subject name of {issuer}, the next certificate"
    )]
    IssuerMismatch {
        /// The issued certificate.
        position: CertPosition,
        /// The certificate expected to have issued it.
        issuer: CertPosition,
    },
    /// An issuing certificate without basicConstraints `cA` true (RFC 5280 §4.2.1.9).
    #[error("{position} issues a certificate but is not a CA (basicConstraints cA is not true)")]
    NotCa {
        /// The issuing certificate.
        position: CertPosition,
    },
    /// An issuing certificate whose keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3).
    #[error("{position} issues a certificate but its keyUsage does not include keyCertSign")]
    NoCertSign {
        /// The issuing certificate.
        position: CertPosition,
    },
    /// More intermediate CAs below a certificate than its pathLenConstraint allows
    /// (RFC 5280 §4.2.1.9).
    #[error("{position} allows {max} intermediate CAs below it; the chain has {found}")]
    PathLengthExceeded {
        /// The constraining certificate.
        position: CertPosition,
        /// Its pathLenConstraint.
        max: u64,
        /// Intermediate CAs below it in this chain.
        found: usize,
    },
    /// The chain ends neither at a configured root nor at a certificate issued by one.
    #[error(
        "the chain does not end at a root this log accepts (the last certificate's issuer is \"{issuer}\"); get-roots lists the accepted roots"
    )]
    UnknownRoot {
        /// The last certificate's issuer name (RFC 4514 text).
        issuer: String,
    },
    /// The last certificate has the key of a configured root but is not byte-identical to it.
    #[error(
        "{position} has the public key of an accepted root but is not byte-identical to it; submit the root exactly as get-roots returns it, or omit it"
    )]
    RootNotIdentical {
        /// The submitted root look-alike.
        position: CertPosition,
    },
    /// Certificates follow a configured root (RFC 6962 §4.1: the root, if present, is last).
    #[error(
        "{position} is an accepted root, but more certificates follow it; the root must be last"
    )]
    CertificatesAfterRoot {
        /// The root's index.
        position: CertPosition,
    },
    /// The last submitted certificate names a configured root as issuer, but no configured root
    /// of that name verifies its signature.
    #[error(
        "{position}: signature does not verify with the key of any accepted root named \"{issuer}\""
    )]
    BadRootSignature {
        /// The certificate signed by the root.
        position: CertPosition,
        /// The root's name (RFC 4514 text).
        issuer: String,
    },

    // --- Certificate or precertificate ---
    /// `add-chain` received a precertificate (RFC 6962 §4.1 takes final certificates only).
    #[error(
        "add-chain received a precertificate (chain[0] has the poison extension 1.3.6.1.4.1.11129.2.4.3); submit precertificates with add-pre-chain"
    )]
    PrecertificateToAddChain,
    /// `add-pre-chain` received a certificate without the poison extension (RFC 6962 §4.2).
    #[error(
        "add-pre-chain received a certificate without the precertificate poison extension 1.3.6.1.4.1.11129.2.4.3; submit final certificates with add-chain"
    )]
    NotAPrecertificate,
    /// The poison extension is there but not as RFC 6962 §3.1 defines it: exactly once,
    /// critical, value ASN.1 NULL.
    #[error("chain[0]: malformed precertificate poison extension: {0}")]
    MalformedPoison(&'static str),
    /// A Precertificate Signing Certificate (EKU 1.3.6.1.4.1.11129.2.4.4, RFC 6962 §3.1) in the
    /// chain. static-ct-api lets logs refuse them, and CA/B Forum ballot SC-092 retired them;
    /// Fulcio never uses one.
    #[error(
        "{position} is a Precertificate Signing Certificate (extended key usage 1.3.6.1.4.1.11129.2.4.4); this log does not accept them: the CA must sign precertificates with the key that signs the final certificate"
    )]
    PrecertSigningCertificate {
        /// The precertificate signing certificate.
        position: CertPosition,
    },

    // --- Policy ---
    /// `chain[0]` has no extended key usage the log accepts.
    #[error("chain[0] has no extended key usage this log accepts ({accepted})")]
    LeafEkuNotAccepted {
        /// The accepted usages, for the message.
        accepted: String,
    },
    /// An issuer's extended key usages exclude every usage the leaf may have been accepted for
    /// (EKU chaining, as Go's `x509.Verify` applies it).
    #[error(
        "{position} restricts its extended key usages to none this log accepts ({accepted}) (EKU chaining)"
    )]
    EkuChaining {
        /// The restricting issuer.
        position: CertPosition,
        /// The accepted usages, for the message.
        accepted: String,
    },
    /// `chain[0]`'s notAfter is outside the log's accepted window (static-ct-api temporal
    /// sharding: start inclusive, limit exclusive).
    #[error(
        "chain[0] expires at {not_after}, outside this log's notAfter window [{start}, {limit})"
    )]
    NotAfterOutsideWindow {
        /// `chain[0]`'s notAfter (RFC 3339).
        not_after: String,
        /// The window's start, or `-∞` (RFC 3339).
        start: String,
        /// The window's limit, or `+∞` (RFC 3339).
        limit: String,
    },

    // --- The log's own fault ---
    /// Building the log entry failed after the chain was accepted.
    #[error("internal error while building the log entry: {0}")]
    Internal(String),
}

impl SubmissionError {
    /// The HTTP status to answer with: 400 for everything the submitter can fix (RFC 6962 §4
    /// leaves the codes open; ct-go and Sunlight answer 400), 500 for the log's own failures.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    /// Whether the submitter caused the error (any 4xx).
    pub fn is_client_error(&self) -> bool {
        self.http_status() < 500
    }
}

/// A root certificate set that cannot be loaded (operator configuration, not a submission).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    /// The PEM text does not parse.
    #[error("roots: invalid PEM: {0}")]
    Pem(String),
    /// A root is not a DER X.509 certificate.
    #[error("roots: certificate {index} is not a valid DER X.509 certificate: {reason}")]
    Malformed {
        /// Index in the configured list (PEM `CERTIFICATE` blocks counted from 0).
        index: usize,
        /// What the parser found.
        reason: String,
    },
    /// No root certificate at all: such a log could accept nothing.
    #[error("roots: no certificates")]
    Empty,
}
