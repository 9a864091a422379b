//! `kubernetes` issuers (Fulcio spec §3.3): the URI SAN is built from the service account in
//! the `kubernetes.io` claim; no emptiness checks, as upstream.

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, subject, uri_san};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError};

#[derive(Debug, Clone)]
pub(crate) struct Kubernetes {
    subject: String,
    issuer: String,
    uri: String,
}

impl Kubernetes {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        // Upstream decodes the whole `kubernetes.io` structure; a mistyped member fails.
        let k8s = Claims::new(&token.claims).object("kubernetes.io")?;
        let namespace = k8s.string("namespace")?;
        let pod = k8s.object("pod")?;
        pod.string("name")?;
        pod.string("uid")?;
        let account = k8s.object("serviceaccount")?;
        let account_name = account.string("name")?;
        account.string("uid")?;
        let uri =
            format!("https://kubernetes.io/namespaces/{namespace}/serviceaccounts/{account_name}");
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            uri,
        })
    }
}

impl IssuerPrincipal for Kubernetes {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(
            uri_san(&self.uri)?,
            base_extensions(&self.issuer, &self.subject),
        )
    }
}
