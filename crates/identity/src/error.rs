//! Identity errors.

/// Why a token could not become a principal, or a principal could not be rendered.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum IdentityError {
    /// The token lacks a claim the issuer type needs, or a claim has the wrong form.
    #[error("{0}")]
    Claims(String),
    /// Rendering the certificate identity failed (templates, URLs). The text goes to the client.
    #[error("{0}")]
    Embed(String),
    /// The issuer type has no implementation.
    #[error("unsupported issuer type {0:?}")]
    UnsupportedType(String),
}
