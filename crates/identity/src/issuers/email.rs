//! `email` issuers (Fulcio spec §3.3): the SAN is the verified `email` claim, which is also
//! the challenge; the issuer may come from an `IssuerClaim` JSONPath (Dex federation).

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, subject};
use crate::claim_path::ClaimPath;
use crate::claims::Claims;
use crate::email_syntax::is_email;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

#[derive(Debug, Clone)]
pub(crate) struct Email {
    address: String,
    issuer: String,
    subject: String,
}

impl Email {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let claims = Claims::new(&token.claims);
        let address = claims.string("email")?;
        let verified = claims.string_as_bool("email_verified")?;
        if address.is_empty() {
            return Err(IdentityError::Claims(
                "token missing email claim".to_owned(),
            ));
        }
        if !token.config.skip_email_verification && !verified {
            return Err(IdentityError::Claims(
                "email_verified claim was false".to_owned(),
            ));
        }
        if !is_email(&address) {
            return Err(IdentityError::Claims(
                "email address is not valid".to_owned(),
            ));
        }
        Ok(Self {
            address,
            issuer: issuer(token)?,
            subject,
        })
    }
}

/// The certificate issuer: `iss`, or the value at the configured `IssuerClaim` JSONPath.
fn issuer(token: &VerifiedToken) -> Result<String, IdentityError> {
    let path = &token.config.issuer_claim;
    if path.is_empty() {
        return Ok(token.issuer.clone());
    }
    ClaimPath::parse(path)
        .and_then(|p| p.select_in(&token.claims))
        .map_err(IdentityError::Claims)
}

impl IssuerPrincipal for Email {
    fn name(&self) -> &str {
        &self.address
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(
            SubjectAltName::Email(self.address.clone()),
            base_extensions(&self.issuer, &self.subject),
        )
    }
}
