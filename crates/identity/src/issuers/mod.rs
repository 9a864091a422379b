//! One module per issuer type of Fulcio spec §3.3. Each turns a verified token into a
//! principal (claim checks, [`IdentityError::Claims`] on failure) and renders its SAN and
//! extension values on demand ([`IdentityError::Embed`] on failure), at the same points where
//! upstream checks and fails.

pub(crate) mod buildkite;
pub(crate) mod chainguard;
pub(crate) mod ci_provider;
pub(crate) mod codefresh;
pub(crate) mod email;
pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod kubernetes;
pub(crate) mod spiffe;
pub(crate) mod uri;
pub(crate) mod username;

use oidc::{Extensions, VerifiedToken};

use crate::claims::Claims;
use crate::extensions::check_issuer;
use crate::go_url::GoUrl;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

/// What every issuer type provides once its claims have been checked.
pub(crate) trait IssuerPrincipal {
    /// The challenge the client signed (Fulcio spec §2.1).
    fn name(&self) -> &str;
    /// The certificate identity (Fulcio spec §3.3).
    fn embed(&self) -> Result<CertificateIdentity, IdentityError>;
}

/// The token's `sub`, decoded as upstream's OIDC library does (a non-string is refused).
fn subject(token: &VerifiedToken) -> Result<String, IdentityError> {
    Claims::new(&token.claims).string("sub")
}

/// Upstream decodes all claims of a type first, then refuses the first empty required one, in
/// a fixed order, with a per-type message.
fn require_all(
    claims: &[(&str, &str)],
    message: impl Fn(&str) -> String,
) -> Result<(), IdentityError> {
    match claims.iter().find(|(_, value)| value.is_empty()) {
        Some((name, _)) => Err(IdentityError::Claims(message(name))),
        None => Ok(()),
    }
}

/// The base extensions of every certificate: issuer (1.1 and 1.8) and token subject (1.24).
fn base_extensions(issuer: &str, subject: &str) -> Extensions {
    Extensions {
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        ..Extensions::default()
    }
}

/// Parses a URL the way upstream does at embed time; a failure reaches the client.
fn parse_url(raw: &str) -> Result<GoUrl, IdentityError> {
    GoUrl::parse(raw).map_err(|e| IdentityError::Embed(e.to_string()))
}

/// A URI SAN from a string: parsed and printed back with Go's `net/url`, as upstream's x509
/// encoder does.
fn uri_san(raw: &str) -> Result<SubjectAltName, IdentityError> {
    Ok(SubjectAltName::Uri(parse_url(raw)?.to_go_string()))
}

/// The rendered identity, refused like upstream's extension rendering if the issuer is empty.
fn identity(
    san: SubjectAltName,
    extensions: Extensions,
) -> Result<CertificateIdentity, IdentityError> {
    check_issuer(&extensions)?;
    Ok(CertificateIdentity { san, extensions })
}
