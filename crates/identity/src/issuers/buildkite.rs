//! `buildkite-job` issuers (Fulcio spec §3.3, deprecated upstream in favour of ci-provider):
//! the SAN is the pipeline URL; only the base extensions.

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, require_all, subject, uri_san};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError};

#[derive(Debug, Clone)]
pub(crate) struct BuildkiteJob {
    subject: String,
    issuer: String,
    url: String,
}

impl BuildkiteJob {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let c = Claims::new(&token.claims);
        let organization = c.string("organization_slug")?;
        let pipeline = c.string("pipeline_slug")?;
        require_all(
            &[
                ("organization_slug", &organization),
                ("pipeline_slug", &pipeline),
            ],
            |name| format!("missing {name} claim in ID token"),
        )?;
        let url = format!("https://buildkite.com/{organization}/{pipeline}");
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            url,
        })
    }
}

impl IssuerPrincipal for BuildkiteJob {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(
            uri_san(&self.url)?,
            base_extensions(&self.issuer, &self.subject),
        )
    }
}
