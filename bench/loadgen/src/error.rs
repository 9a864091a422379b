//! The load generator's error type.

use std::path::PathBuf;

/// Why a loadgen command could not run (request failures during a run are counted, not
/// returned).
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The token is not a JWT with an `email` or `sub` claim.
    #[error("token: {0}")]
    Token(String),
    /// Neither `--token` nor `--token-file` was given.
    #[error("no token: pass --token or --token-file (see `fulcio-loadgen issuer`)")]
    NoToken,
    /// A key operation failed inside aws-lc or rcgen.
    #[error("crypto: {0}")]
    Crypto(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The server never answered `/healthz`, or every request failed.
    #[error("server: {0}")]
    Server(String),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
}

impl LoadgenError {
    /// Wraps an I/O error with its path.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
