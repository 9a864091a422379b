//! The Fulcio identity configuration file (Fulcio spec §3.1): JSON with PascalCase keys or YAML
//! with kebab-case keys, holding concrete issuers, wildcard meta-issuers and CI provider
//! templates.

use std::collections::BTreeMap;

/// The whole identity configuration (`--config-path`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FulcioConfig {
    /// Concrete issuers, keyed by issuer URL (`OIDCIssuers` / `oidc-issuers`).
    pub oidc_issuers: BTreeMap<String, OidcIssuer>,
    /// Wildcard issuers, keyed by URL pattern (`MetaIssuers` / `meta-issuers`).
    pub meta_issuers: BTreeMap<String, OidcIssuer>,
    /// Templates for `ci-provider` issuers, keyed by provider name
    /// (`CIIssuerMetadata` / `ci-issuer-metadata`).
    pub ci_issuer_metadata: BTreeMap<String, IssuerMetadata>,
}

/// One issuer's settings (`OIDCIssuer` in upstream's config).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OidcIssuer {
    /// `IssuerURL` / `issuer-url`. For a meta issuer the map key is the pattern; after a match
    /// the verifier hands out a copy with this set to the concrete `iss`.
    pub issuer_url: String,
    /// `ClientID` / `client-id`: the audience a token must carry.
    pub client_id: String,
    /// `Type` / `type`.
    pub issuer_type: IssuerType,
    /// `CIProvider` / `ci-provider`: key into [`FulcioConfig::ci_issuer_metadata`].
    pub ci_provider: String,
    /// `IssuerClaim` / `issuer-claim`: JSONPath (e.g. `$.federated_claims.connector_id`) whose
    /// value replaces `iss` in the certificate; email issuers only.
    pub issuer_claim: String,
    /// `SubjectDomain` / `subject-domain` (uri and username types).
    pub subject_domain: String,
    /// `SPIFFETrustDomain` / `spiffe-trust-domain`.
    pub spiffe_trust_domain: String,
    /// `ChallengeClaim` / `challenge-claim`; defaulted per type when empty.
    pub challenge_claim: String,
    /// `Description` / `description` (metadata only).
    pub description: String,
    /// `Contact` / `contact` (metadata only).
    pub contact: String,
    /// `Environment` / `environment` (metadata only).
    pub environment: String,
    /// `CACert` / `ca-cert`: PEM roots added for discovery and JWKS TLS.
    pub ca_cert: String,
    /// `SkipEmailVerification` / `skip-email-verification`.
    pub skip_email_verification: bool,
}

/// The identity type of an issuer (Fulcio spec §3.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum IssuerType {
    /// `email`
    #[default]
    Email,
    /// `spiffe`
    Spiffe,
    /// `kubernetes`
    Kubernetes,
    /// `uri`
    Uri,
    /// `username`
    Username,
    /// `github-workflow`
    GithubWorkflow,
    /// `gitlab-pipeline`
    GitlabPipeline,
    /// `buildkite-job`
    BuildkiteJob,
    /// `codefresh-workflow`
    CodefreshWorkflow,
    /// `chainguard-identity`
    ChainguardIdentity,
    /// `ci-provider`
    CiProvider,
    /// Any other string: passes validation only with an explicit challenge claim, and is not
    /// usable for issuance.
    Other(String),
}

/// Templates for one `ci-provider` (`IssuerMetadata`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssuerMetadata {
    /// `DefaultTemplateValues` / `default-template-values`: overlaid by the token's claims.
    pub default_template_values: BTreeMap<String, String>,
    /// `ExtensionTemplates` / `extension-templates`.
    pub extension_templates: Extensions,
    /// `SubjectAlternativeNameTemplate` / `subject-alternative-name-template`.
    pub subject_alternative_name_template: String,
}

/// The Sigstore certificate extension fields (Fulcio spec §4.3, arc 1.3.6.1.4.1.57264.1).
///
/// The same shape holds ci-provider *templates* in the configuration and rendered *values* in a
/// certificate, as upstream does. An empty field is omitted from the certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// 1.1 (raw) and 1.8 (UTF8String): the issuer. Always set from the token.
    pub issuer: String,
    /// 1.2 GitHub Workflow Trigger (deprecated, raw).
    pub github_workflow_trigger: String,
    /// 1.3 GitHub Workflow SHA (deprecated, raw).
    pub github_workflow_sha: String,
    /// 1.4 GitHub Workflow Name (deprecated, raw).
    pub github_workflow_name: String,
    /// 1.5 GitHub Workflow Repository (deprecated, raw).
    pub github_workflow_repository: String,
    /// 1.6 GitHub Workflow Ref (deprecated, raw).
    pub github_workflow_ref: String,
    /// 1.9 Build Signer URI.
    pub build_signer_uri: String,
    /// 1.10 Build Signer Digest.
    pub build_signer_digest: String,
    /// 1.11 Runner Environment.
    pub runner_environment: String,
    /// 1.12 Source Repository URI.
    pub source_repository_uri: String,
    /// 1.13 Source Repository Digest.
    pub source_repository_digest: String,
    /// 1.14 Source Repository Ref.
    pub source_repository_ref: String,
    /// 1.15 Source Repository Identifier.
    pub source_repository_identifier: String,
    /// 1.16 Source Repository Owner URI.
    pub source_repository_owner_uri: String,
    /// 1.17 Source Repository Owner Identifier.
    pub source_repository_owner_identifier: String,
    /// 1.18 Build Config URI.
    pub build_config_uri: String,
    /// 1.19 Build Config Digest.
    pub build_config_digest: String,
    /// 1.20 Build Trigger.
    pub build_trigger: String,
    /// 1.21 Run Invocation URI.
    pub run_invocation_uri: String,
    /// 1.22 Source Repository Visibility At Signing.
    pub source_repository_visibility_at_signing: String,
    /// 1.23 Deployment Environment.
    pub deployment_environment: String,
    /// 1.24 Token Subject: the raw `sub` claim. Always set from the token.
    pub subject: String,
}
