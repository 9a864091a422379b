//! CA errors: the client's (HTTP 400, with upstream's exact messages) and the server's (500).

/// A problem with the key or proof the client sent. `Display` is the exact client message of
/// Fulcio spec §1.4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRequestError {
    /// The CSR is not a PEM `CERTIFICATE REQUEST` that parses.
    #[error("The certificate signing request could not be parsed")]
    CsrUnparseable,
    /// The public key is missing or is neither PEM nor DER PKIX/PKCS#1.
    #[error("The public key supplied in the request could not be parsed")]
    KeyUnparseable,
    /// The key fails the strength policy (§2.2).
    #[error("The public key supplied in the request is insecure")]
    InsecureKey,
    /// The proof of possession or CSR self-signature does not verify.
    #[error("The signature supplied in the request could not be verified")]
    SignatureInvalid,
    /// The CSR's signature algorithm is not one Fulcio knows.
    #[error("unrecognized signature algorithm: {0}")]
    UnrecognizedSignatureAlgorithm(String),
    /// Key and hash are not in `--client-signing-algorithms` (§2.4). The fields are Go's
    /// names, e.g. `*ecdsa.PublicKey` and `SHA-384`.
    #[error("signing algorithm not permitted: {key_type}, {hash}")]
    AlgorithmNotPermitted {
        /// Go type name of the key.
        key_type: String,
        /// Go name of the hash.
        hash: String,
    },
}

/// A failure of the CA itself (HTTP 500 "error communicating with CA backend").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The signer failed.
    #[error("signing: {0}")]
    Signer(#[from] crate::SignerError),
    /// Building or encoding a certificate failed.
    #[error("encoding certificate: {0}")]
    Encoding(String),
    /// The certificate chain or key pair is unusable (at load time).
    #[error("invalid CA: {0}")]
    InvalidCa(String),
    /// Reading CA files failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A private key file could not be decoded or decrypted.
    #[error("private key: {0}")]
    KeyFile(String),
    /// The principal's SAN or Sigstore extensions could not be rendered (e.g. an empty issuer).
    /// Unlike every other variant this is the client's problem: upstream answers HTTP 400 with
    /// exactly this text (Fulcio spec §1.4, step 4), not 500.
    #[error("{0}")]
    Identity(identity::IdentityError),
}

impl From<identity::IdentityError> for CaError {
    /// Rendering failures are the client's ([`CaError::Identity`], HTTP 400), except a value
    /// that cannot be DER-encoded: upstream only meets that inside `x509.CreateCertificate`,
    /// so it is a CA failure ([`CaError::Encoding`], HTTP 500).
    fn from(error: identity::IdentityError) -> Self {
        match error {
            identity::IdentityError::Encoding(message) => CaError::Encoding(message),
            other => CaError::Identity(other),
        }
    }
}
