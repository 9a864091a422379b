//! `uri` issuers (Fulcio spec §3.3): `sub` is a URI whose scheme and hostname equal those of
//! the configured `SubjectDomain`; it becomes the URI SAN.

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, subject, uri_san};
use crate::email_syntax::is_email;
use crate::go_url::GoUrl;
use crate::{CertificateIdentity, IdentityError};

#[derive(Debug, Clone)]
pub(crate) struct Uri {
    uri: String,
    issuer: String,
}

impl Uri {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let uri = subject(token)?;
        if is_email(&uri) {
            return Err(IdentityError::Claims(
                "uri subject should not be an email address".to_owned(),
            ));
        }
        let subject_url = GoUrl::parse(&uri).map_err(|e| IdentityError::Claims(e.to_string()))?;
        let domain_url = GoUrl::parse(&token.config.subject_domain)
            .map_err(|e| IdentityError::Claims(e.to_string()))?;
        if subject_url.scheme() != domain_url.scheme() {
            return Err(IdentityError::Claims(format!(
                "subject URI scheme ({}) must match expected domain URI scheme ({})",
                subject_url.scheme(),
                domain_url.scheme()
            )));
        }
        if subject_url.hostname() != domain_url.hostname() {
            return Err(IdentityError::Claims(format!(
                "subject hostname ({}) must match expected domain ({})",
                String::from_utf8_lossy(subject_url.hostname()),
                String::from_utf8_lossy(domain_url.hostname())
            )));
        }
        Ok(Self {
            uri,
            issuer: token.issuer.clone(),
        })
    }
}

impl IssuerPrincipal for Uri {
    fn name(&self) -> &str {
        &self.uri
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(
            uri_san(&self.uri)?,
            base_extensions(&self.issuer, &self.uri),
        )
    }
}
