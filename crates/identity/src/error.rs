//! Identity errors.

/// Why a token could not become a principal, or a principal could not be rendered.
///
/// The variants follow where upstream Fulcio fails (Fulcio spec §1.4): [`Claims`] is a token
/// error (HTTP 400 "There was an error processing the identity token", detail logged only),
/// [`Embed`] reaches the client with its own text (HTTP 400), [`Encoding`] is what upstream
/// hits inside the CA while signing (HTTP 500 "error communicating with CA backend").
///
/// [`Claims`]: IdentityError::Claims
/// [`Embed`]: IdentityError::Embed
/// [`Encoding`]: IdentityError::Encoding
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
    /// A value cannot be DER-encoded where the certificate needs it, e.g. a non-ASCII
    /// rfc822Name or URI (IA5String). Upstream fails here while signing, so callers should
    /// treat it as a CA failure rather than a client error.
    #[error("{0}")]
    Encoding(String),
    /// A ci-provider template or an `IssuerClaim` JSONPath of the configuration cannot be used
    /// (configuration validation, Fulcio spec §3.1).
    #[error("{0}")]
    Config(String),
}
