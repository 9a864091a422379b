//! `username` issuers (Fulcio spec §3.3): the SAN is an otherName `sub!SubjectDomain`; the
//! challenge is the bare `sub`.

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, subject};
use crate::email_syntax::is_email;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

#[derive(Debug, Clone)]
pub(crate) struct Username {
    username: String,
    issuer: String,
    /// `sub!SubjectDomain`.
    qualified: String,
}

impl Username {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let username = subject(token)?;
        if username.contains('!') {
            return Err(IdentityError::Claims(
                "username cannot contain ! character".to_owned(),
            ));
        }
        if is_email(&username) {
            return Err(IdentityError::Claims(
                "uri subject should not be an email address".to_owned(),
            ));
        }
        let qualified = format!("{username}!{}", token.config.subject_domain);
        Ok(Self {
            username,
            issuer: token.issuer.clone(),
            qualified,
        })
    }
}

impl IssuerPrincipal for Username {
    fn name(&self) -> &str {
        &self.username
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(
            SubjectAltName::Username(self.qualified.clone()),
            base_extensions(&self.issuer, &self.username),
        )
    }
}
