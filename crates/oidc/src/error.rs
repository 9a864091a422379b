//! Errors of configuration loading and token verification.

/// The configuration file could not be read, parsed or validated (fatal at start-up).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither JSON nor YAML parsing succeeded.
    #[error("parsing configuration: {0}")]
    Parse(String),
    /// The configuration parsed but breaks a rule of Fulcio spec §3.1.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Why an identity token was refused. Every variant maps to the same client message
/// ("There was an error processing the identity token"); the detail is for the server log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Not three base64url parts, or the payload is not a JSON object with a string `iss`.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// No configured issuer or meta-issuer matches `iss`.
    #[error("unknown issuer {0:?}")]
    UnknownIssuer(String),
    /// Discovery or JWKS could not be fetched or parsed.
    #[error("issuer {issuer}: {detail}")]
    Discovery {
        /// The issuer URL.
        issuer: String,
        /// What went wrong.
        detail: String,
    },
    /// The signature, algorithm or key id did not check out.
    #[error("signature: {0}")]
    Signature(String),
    /// A registered claim (`iss`, `aud`, `exp`, `nbf`) failed its check.
    #[error("claims: {0}")]
    Claims(String),
}
