//! Principals: one per issuer type (Fulcio spec §3.3).

use oidc::{Extensions, FulcioConfig, IssuerType, VerifiedToken};

use crate::IdentityError;
use crate::issuers::{
    IssuerPrincipal, buildkite::BuildkiteJob, chainguard::ChainguardIdentity,
    ci_provider::CiProvider, codefresh::CodefreshWorkflow, email::Email, github::GithubWorkflow,
    gitlab::GitlabPipeline, kubernetes::Kubernetes, spiffe::Spiffe, uri::Uri, username::Username,
};

/// The single Subject Alternative Name of a Fulcio certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectAltName {
    /// rfc822Name (email issuers).
    Email(String),
    /// uniformResourceIdentifier, already in the form upstream prints it (Go's `URL.String()`).
    Uri(String),
    /// otherName with type-id 1.3.6.1.4.1.57264.1.7 and a UTF8String value `sub!domain`
    /// (username issuers).
    Username(String),
}

/// What a principal puts into a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// The SAN (always one entry, always critical: the subject is empty).
    pub san: SubjectAltName,
    /// The Sigstore extension values; empty fields are omitted.
    pub extensions: Extensions,
}

/// A verified identity of one of the issuer types of Fulcio spec §3.3.
#[derive(Debug, Clone)]
pub struct Principal {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Email(Email),
    Spiffe(Spiffe),
    Kubernetes(Kubernetes),
    Uri(Uri),
    Username(Username),
    GithubWorkflow(GithubWorkflow),
    GitlabPipeline(GitlabPipeline),
    BuildkiteJob(BuildkiteJob),
    CodefreshWorkflow(CodefreshWorkflow),
    ChainguardIdentity(ChainguardIdentity),
    // Boxed: it carries the provider's templates, several times the size of the others.
    CiProvider(Box<CiProvider>),
}

impl Principal {
    /// Runs the claim checks of the token's issuer type (Fulcio spec §3.3).
    ///
    /// Failures are [`IdentityError::Claims`] (the server answers "There was an error
    /// processing the identity token"), or [`IdentityError::UnsupportedType`] for an issuer
    /// type without an implementation. `config` supplies the ci-provider templates.
    pub fn from_token(token: &VerifiedToken, config: &FulcioConfig) -> Result<Self, IdentityError> {
        let kind = match &token.config.issuer_type {
            IssuerType::Email => Kind::Email(Email::from_token(token)?),
            IssuerType::Spiffe => Kind::Spiffe(Spiffe::from_token(token)?),
            IssuerType::Kubernetes => Kind::Kubernetes(Kubernetes::from_token(token)?),
            IssuerType::Uri => Kind::Uri(Uri::from_token(token)?),
            IssuerType::Username => Kind::Username(Username::from_token(token)?),
            IssuerType::GithubWorkflow => Kind::GithubWorkflow(GithubWorkflow::from_token(token)?),
            IssuerType::GitlabPipeline => Kind::GitlabPipeline(GitlabPipeline::from_token(token)?),
            IssuerType::BuildkiteJob => Kind::BuildkiteJob(BuildkiteJob::from_token(token)?),
            IssuerType::CodefreshWorkflow => {
                Kind::CodefreshWorkflow(CodefreshWorkflow::from_token(token)?)
            }
            IssuerType::ChainguardIdentity => {
                Kind::ChainguardIdentity(ChainguardIdentity::from_token(token)?)
            }
            IssuerType::CiProvider => {
                Kind::CiProvider(Box::new(CiProvider::from_token(token, config)?))
            }
            IssuerType::Other(name) => return Err(IdentityError::UnsupportedType(name.clone())),
        };
        Ok(Self { kind })
    }

    /// The value the client must have signed (Fulcio spec §2.1): the `email` claim for email
    /// issuers; for chainguard-identity the email if present, else `sub`; the bare `sub` for
    /// every other type.
    pub fn name(&self) -> &str {
        self.issuer_principal().name()
    }

    /// Renders the SAN and the extension values (Fulcio spec §3.3, §4.3).
    ///
    /// Failures are [`IdentityError::Embed`] and reach the client with their text (e.g. a
    /// ci-provider template naming a missing claim, or an unparsable URL).
    pub fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        self.issuer_principal().embed()
    }

    fn issuer_principal(&self) -> &dyn IssuerPrincipal {
        match &self.kind {
            Kind::Email(p) => p,
            Kind::Spiffe(p) => p,
            Kind::Kubernetes(p) => p,
            Kind::Uri(p) => p,
            Kind::Username(p) => p,
            Kind::GithubWorkflow(p) => p,
            Kind::GitlabPipeline(p) => p,
            Kind::BuildkiteJob(p) => p,
            Kind::CodefreshWorkflow(p) => p,
            Kind::ChainguardIdentity(p) => p,
            Kind::CiProvider(p) => p.as_ref(),
        }
    }
}
