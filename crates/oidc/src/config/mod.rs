//! The Fulcio identity configuration file (Fulcio spec §3.1): JSON with PascalCase keys or YAML
//! with kebab-case keys, holding concrete issuers, wildcard meta-issuers and CI provider
//! templates.
//!
//! [`FulcioConfig::from_bytes`] parses (JSON first, then YAML, as upstream does) and validates;
//! [`FulcioConfig::load_config_path`] adds the `--config-path` fallbacks of `fulcio serve`.

mod file_format;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::meta_issuer::IssuerIndex;

pub use validate::check_template_delimiters;

/// The default of `fulcio serve --config-path` (Fulcio spec §3.1, §7).
pub const DEFAULT_CONFIG_PATH: &str = "/etc/fulcio-config/config.yaml";

/// Tried instead of [`DEFAULT_CONFIG_PATH`] when the flag was left at its default and that
/// file does not exist (Fulcio spec §3.1).
pub const DEFAULT_JSON_CONFIG_PATH: &str = "/etc/fulcio-config/config.json";

/// Where a configuration came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Read from this file.
    File(PathBuf),
    /// No file existed; [`FulcioConfig::builtin_default`] is in use.
    BuiltinDefault,
}

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

impl FulcioConfig {
    /// Parses a configuration file's bytes and validates it (Fulcio spec §3.1).
    ///
    /// JSON is tried first (PascalCase keys matched case-insensitively, as Go's
    /// `encoding/json` does); input that is not JSON is read as YAML (kebab-case keys, anchors,
    /// aliases and `<<` merge keys). Unknown keys are ignored in both.
    ///
    /// One deliberate difference from upstream: a document that *is* JSON but has a value of
    /// the wrong type is reported as an error, where Go would silently fall back to YAML and
    /// end up with an empty configuration.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config = file_format::parse(bytes)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses the file at `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// Loads the configuration named by `fulcio serve --config-path` with upstream's fallbacks
    /// (Fulcio spec §3.1): when `path` is [`DEFAULT_CONFIG_PATH`] and does not exist,
    /// [`DEFAULT_JSON_CONFIG_PATH`] is tried; when the resulting file does not exist (for any
    /// path, as upstream's `config.Load`), [`FulcioConfig::builtin_default`] is used.
    pub fn load_config_path(path: &Path) -> Result<(Self, ConfigSource), ConfigError> {
        load_with_fallbacks(
            path,
            Path::new(DEFAULT_CONFIG_PATH),
            Path::new(DEFAULT_JSON_CONFIG_PATH),
        )
    }

    /// [`FulcioConfig::load_config_path`] for the flag's default, [`DEFAULT_CONFIG_PATH`].
    pub fn load_default_path() -> Result<(Self, ConfigSource), ConfigError> {
        Self::load_config_path(Path::new(DEFAULT_CONFIG_PATH))
    }

    /// The configuration used when no file exists (Fulcio spec §3.1): Sigstore's Dex
    /// (`email`, issuer claim `$.federated_claims.connector_id`), Google (`email`) and GitHub
    /// Actions (`github-workflow`), all with client ID `sigstore`.
    pub fn builtin_default() -> Self {
        let issuer = |url: &str, issuer_type: IssuerType, issuer_claim: &str| {
            (
                url.to_owned(),
                OidcIssuer {
                    issuer_url: url.to_owned(),
                    client_id: "sigstore".to_owned(),
                    issuer_type,
                    issuer_claim: issuer_claim.to_owned(),
                    ..OidcIssuer::default()
                },
            )
        };
        FulcioConfig {
            oidc_issuers: BTreeMap::from([
                issuer(
                    "https://oauth2.sigstore.dev/auth",
                    IssuerType::Email,
                    "$.federated_claims.connector_id",
                ),
                issuer("https://accounts.google.com", IssuerType::Email, ""),
                issuer(
                    "https://token.actions.githubusercontent.com",
                    IssuerType::GithubWorkflow,
                    "",
                ),
            ]),
            meta_issuers: BTreeMap::new(),
            ci_issuer_metadata: BTreeMap::new(),
        }
    }

    /// The configuration for a token's `iss` (Fulcio spec §3.2.2): the concrete issuer with
    /// exactly that URL, else the first meta-issuer (in pattern order) whose pattern matches,
    /// returned as a copy with `issuer_url` set to `iss`.
    ///
    /// This compiles the meta-issuer patterns on every call; for repeated look-ups build an
    /// [`IssuerIndex`] once (the verifier does).
    pub fn find_issuer(&self, iss: &str) -> Option<OidcIssuer> {
        if let Some(issuer) = self.oidc_issuers.get(iss) {
            return Some(issuer.clone());
        }
        IssuerIndex::new(self)
            .ok()?
            .find(iss)
            .map(|found| found.config)
    }
}

fn load_with_fallbacks(
    path: &Path,
    default_path: &Path,
    default_json_path: &Path,
) -> Result<(FulcioConfig, ConfigSource), ConfigError> {
    let mut chosen = path.to_path_buf();
    if path == default_path && !exists(path)? {
        chosen = default_json_path.to_path_buf();
    }
    if !exists(&chosen)? {
        return Ok((
            FulcioConfig::builtin_default(),
            ConfigSource::BuiltinDefault,
        ));
    }
    let config = FulcioConfig::load(&chosen)?;
    Ok((config, ConfigSource::File(chosen)))
}

/// Only "not found" counts as absent, as with Go's `os.IsNotExist`; other errors (permissions)
/// surface instead of silently selecting the built-in issuers.
fn exists(path: &Path) -> Result<bool, ConfigError> {
    match std::fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(ConfigError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

impl OidcIssuer {
    /// The claim whose value the client signs as proof of possession (Fulcio spec §2.1, §3.1):
    /// `ChallengeClaim` when set, else `email` for `email` issuers and `sub` for every other
    /// known type. Empty for an unknown type without an explicit claim (such a configuration
    /// does not validate).
    pub fn challenge_claim(&self) -> &str {
        if !self.challenge_claim.is_empty() {
            return &self.challenge_claim;
        }
        self.issuer_type.default_challenge_claim().unwrap_or("")
    }
}

impl IssuerType {
    /// Parses upstream's type string; unknown strings (including the empty one) become
    /// [`IssuerType::Other`].
    pub fn parse(s: &str) -> IssuerType {
        match s {
            "email" => IssuerType::Email,
            "spiffe" => IssuerType::Spiffe,
            "kubernetes" => IssuerType::Kubernetes,
            "uri" => IssuerType::Uri,
            "username" => IssuerType::Username,
            "github-workflow" => IssuerType::GithubWorkflow,
            "gitlab-pipeline" => IssuerType::GitlabPipeline,
            "buildkite-job" => IssuerType::BuildkiteJob,
            "codefresh-workflow" => IssuerType::CodefreshWorkflow,
            "chainguard-identity" => IssuerType::ChainguardIdentity,
            "ci-provider" => IssuerType::CiProvider,
            other => IssuerType::Other(other.to_owned()),
        }
    }

    /// Upstream's string for this type (as reported by `GetConfiguration`).
    pub fn as_str(&self) -> &str {
        match self {
            IssuerType::Email => "email",
            IssuerType::Spiffe => "spiffe",
            IssuerType::Kubernetes => "kubernetes",
            IssuerType::Uri => "uri",
            IssuerType::Username => "username",
            IssuerType::GithubWorkflow => "github-workflow",
            IssuerType::GitlabPipeline => "gitlab-pipeline",
            IssuerType::BuildkiteJob => "buildkite-job",
            IssuerType::CodefreshWorkflow => "codefresh-workflow",
            IssuerType::ChainguardIdentity => "chainguard-identity",
            IssuerType::CiProvider => "ci-provider",
            IssuerType::Other(other) => other,
        }
    }

    /// The challenge claim of a known type when the configuration sets none (upstream's
    /// `issuerToChallengeClaim`): `email` for `email`, `sub` for the rest, `None` for
    /// [`IssuerType::Other`].
    pub fn default_challenge_claim(&self) -> Option<&'static str> {
        match self {
            IssuerType::Email => Some("email"),
            IssuerType::Other(_) => None,
            IssuerType::Spiffe
            | IssuerType::Kubernetes
            | IssuerType::Uri
            | IssuerType::Username
            | IssuerType::GithubWorkflow
            | IssuerType::GitlabPipeline
            | IssuerType::BuildkiteJob
            | IssuerType::CodefreshWorkflow
            | IssuerType::ChainguardIdentity
            | IssuerType::CiProvider => Some("sub"),
        }
    }
}

impl std::str::FromStr for IssuerType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(IssuerType::parse(s))
    }
}

impl std::fmt::Display for IssuerType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field of [`Extensions`] with its spellings in the two file formats.
struct ExtensionField {
    /// JSON key (Go field name or `json` tag).
    json: &'static str,
    /// YAML key (`yaml` tag, or the lower-cased Go field name).
    yaml: &'static str,
    get: fn(&Extensions) -> &String,
    get_mut: fn(&mut Extensions) -> &mut String,
}

macro_rules! extension_fields {
    ($($field:ident: $json:literal, $yaml:literal;)*) => {
        /// Every extension field in OID order (upstream's `certificate.Extensions`).
        const EXTENSION_FIELDS: &[ExtensionField] = &[$(
            ExtensionField {
                json: $json,
                yaml: $yaml,
                get: |e| &e.$field,
                get_mut: |e| &mut e.$field,
            },
        )*];
    };
}

extension_fields! {
    issuer: "Issuer", "issuer";
    github_workflow_trigger: "GithubWorkflowTrigger", "github-workflow-trigger";
    github_workflow_sha: "GithubWorkflowSHA", "github-workflow-sha";
    github_workflow_name: "GithubWorkflowName", "github-workflow-name";
    github_workflow_repository: "GithubWorkflowRepository", "github-workflow-repository";
    github_workflow_ref: "GithubWorkflowRef", "github-workflow-ref";
    build_signer_uri: "BuildSignerURI", "build-signer-uri";
    build_signer_digest: "BuildSignerDigest", "build-signer-digest";
    runner_environment: "RunnerEnvironment", "runner-environment";
    source_repository_uri: "SourceRepositoryURI", "source-repository-uri";
    source_repository_digest: "SourceRepositoryDigest", "source-repository-digest";
    source_repository_ref: "SourceRepositoryRef", "source-repository-ref";
    source_repository_identifier: "SourceRepositoryIdentifier", "source-repository-identifier";
    source_repository_owner_uri: "SourceRepositoryOwnerURI", "source-repository-owner-uri";
    source_repository_owner_identifier: "SourceRepositoryOwnerIdentifier", "source-repository-owner-identifier";
    build_config_uri: "BuildConfigURI", "build-config-uri";
    build_config_digest: "BuildConfigDigest", "build-config-digest";
    build_trigger: "BuildTrigger", "build-trigger";
    run_invocation_uri: "RunInvocationURI", "run-invocation-uri";
    source_repository_visibility_at_signing: "SourceRepositoryVisibilityAtSigning", "source-repository-visibility-at-signing";
    deployment_environment: "DeploymentEnvironment", "deployment-environment";
    subject: "Subject", "subject";
}

impl Extensions {
    /// Every field as `(JSON name, value)`, in OID order, empty ones included (e.g.
    /// `("BuildSignerURI", "{{ .url }}/{{ .job_workflow_ref }}")` for a template).
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        EXTENSION_FIELDS
            .iter()
            .map(move |f| (f.json, (f.get)(self).as_str()))
    }

    /// The field with this JSON name (exact spelling, e.g. `BuildSignerURI`).
    pub fn field_mut(&mut self, json_name: &str) -> Option<&mut String> {
        let field = EXTENSION_FIELDS.iter().find(|f| f.json == json_name)?;
        Some((field.get_mut)(self))
    }
}

#[cfg(test)]
mod tests;
