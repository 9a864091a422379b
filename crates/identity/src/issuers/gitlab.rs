//! `gitlab-pipeline` issuers (Fulcio spec §3.3, deprecated upstream in favour of ci-provider):
//! required claims, a non-zero `runner_id`, `ref_type` of `branch` or `tag`; repository URLs
//! are joined onto `https://gitlab.com/`, the SAN is `ci_config_ref_uri` with a scheme.

use oidc::{Extensions, VerifiedToken};

use super::{IssuerPrincipal, identity, parse_url, require_all, subject};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

/// Repository URLs always use gitlab.com, whatever the token's issuer (upstream behaviour).
const BASE_URL: &str = "https://gitlab.com/";

#[derive(Debug, Clone)]
pub(crate) struct GitlabPipeline {
    subject: String,
    issuer: String,
    pipeline_source: String,
    ci_config_ref_uri: String,
    ci_config_sha: String,
    project_path: String,
    project_id: String,
    namespace_path: String,
    namespace_id: String,
    job_id: String,
    /// `refs/heads/<ref>` or `refs/tags/<ref>`.
    git_ref: String,
    sha: String,
    runner_environment: String,
    project_visibility: String,
}

impl GitlabPipeline {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let c = Claims::new(&token.claims);
        let project_path = c.string("project_path")?;
        let project_id = c.string("project_id")?;
        let pipeline_source = c.string("pipeline_source")?;
        let pipeline_id = c.string("pipeline_id")?;
        let ci_config_ref_uri = c.string("ci_config_ref_uri")?;
        let ci_config_sha = c.string("ci_config_sha")?;
        let namespace_path = c.string("namespace_path")?;
        let namespace_id = c.string("namespace_id")?;
        let job_id = c.string("job_id")?;
        let git_ref = c.string("ref")?;
        let ref_type = c.string("ref_type")?;
        let sha = c.string("sha")?;
        let runner_environment = c.string("runner_environment")?;
        let runner_id = c.int64("runner_id")?;
        let project_visibility = c.string("project_visibility")?;
        require_all(
            &[
                ("project_path", &project_path),
                ("pipeline_source", &pipeline_source),
                ("pipeline_id", &pipeline_id),
                ("ci_config_ref_uri", &ci_config_ref_uri),
                ("job_id", &job_id),
                ("ref", &git_ref),
                ("ref_type", &ref_type),
                ("namespace_path", &namespace_path),
                ("namespace_id", &namespace_id),
                ("project_id", &project_id),
                ("sha", &sha),
                ("runner_environment", &runner_environment),
            ],
            |name| format!("missing {name} claim in ID token"),
        )?;
        if runner_id == 0 {
            return Err(IdentityError::Claims(
                "missing runner_id claim in ID token".to_owned(),
            ));
        }
        let git_ref = match ref_type.as_str() {
            "branch" => format!("refs/heads/{git_ref}"),
            "tag" => format!("refs/tags/{git_ref}"),
            other => {
                return Err(IdentityError::Claims(format!(
                    "unexpected ref_type: {other}"
                )));
            }
        };
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            pipeline_source,
            ci_config_ref_uri,
            ci_config_sha,
            project_path,
            project_id,
            namespace_path,
            namespace_id,
            job_id,
            git_ref,
            sha,
            runner_environment,
            project_visibility,
        })
    }
}

impl IssuerPrincipal for GitlabPipeline {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let base = parse_url(BASE_URL)?;
        // `ci_config_ref_uri` has no scheme: https, or gitlab.com's scheme for its own host.
        let mut config_url = parse_url(&self.ci_config_ref_uri)?;
        config_url.set_scheme("https");
        if base.host() == config_url.host() {
            config_url.set_scheme(base.scheme());
        }
        let config_uri = config_url.to_go_string();
        let join = |elems: &[&str]| base.join_path(elems).to_go_string();
        let extensions = Extensions {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            build_config_uri: config_uri.clone(),
            build_config_digest: self.ci_config_sha.clone(),
            build_signer_uri: config_uri.clone(),
            build_signer_digest: self.ci_config_sha.clone(),
            runner_environment: self.runner_environment.clone(),
            source_repository_uri: join(&[&self.project_path]),
            source_repository_digest: self.sha.clone(),
            source_repository_ref: self.git_ref.clone(),
            source_repository_identifier: self.project_id.clone(),
            source_repository_owner_uri: join(&[&self.namespace_path]),
            source_repository_owner_identifier: self.namespace_id.clone(),
            build_trigger: self.pipeline_source.clone(),
            run_invocation_uri: join(&[&self.project_path, "/-/jobs/", &self.job_id]),
            source_repository_visibility_at_signing: self.project_visibility.clone(),
            ..Extensions::default()
        };
        identity(SubjectAltName::Uri(config_uri), extensions)
    }
}
