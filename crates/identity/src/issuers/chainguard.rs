//! `chainguard-identity` issuers (Fulcio spec §2.1, §3.3): the SAN is `<iss>/<sub>`; the
//! challenge is what cosign signs (sigstore's `SubjectFromToken`): the email if the token has
//! one (then it must be verified), else `sub`.

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, parse_url, subject};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

#[derive(Debug, Clone)]
pub(crate) struct ChainguardIdentity {
    issuer: String,
    subject: String,
    challenge: String,
}

impl ChainguardIdentity {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let c = Claims::new(&token.claims);
        // Upstream decodes the actor and the internal service principal; mistyped ones fail.
        c.check_string_map("act")?;
        c.object("internal")?.string("service-principal")?;
        let email = c.string("email")?;
        let verified = c.string_as_bool("email_verified")?;
        let challenge = if !email.is_empty() {
            if !verified {
                return Err(IdentityError::Claims(
                    "not verified by identity provider".to_owned(),
                ));
            }
            email
        } else if subject.is_empty() {
            return Err(IdentityError::Claims(
                "no subject found in claims".to_owned(),
            ));
        } else {
            subject.clone()
        };
        Ok(Self {
            issuer: token.issuer.clone(),
            subject,
            challenge,
        })
    }
}

impl IssuerPrincipal for ChainguardIdentity {
    fn name(&self) -> &str {
        &self.challenge
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let san = parse_url(&self.issuer)?
            .join_path(&[&self.subject])
            .to_go_string();
        identity(
            SubjectAltName::Uri(san),
            base_extensions(&self.issuer, &self.subject),
        )
    }
}
