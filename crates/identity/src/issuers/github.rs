//! `github-workflow` issuers (Fulcio spec §3.3, deprecated upstream in favour of ci-provider
//! but still served): sixteen required claims, the SAN and URL extensions joined onto
//! `https://github.com/`.

use oidc::{Extensions, VerifiedToken};

use super::{IssuerPrincipal, identity, parse_url, require_all, subject};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

#[derive(Debug, Clone)]
pub(crate) struct GithubWorkflow {
    subject: String,
    issuer: String,
    sha: String,
    event_name: String,
    repository: String,
    workflow: String,
    git_ref: String,
    job_workflow_ref: String,
    job_workflow_sha: String,
    runner_environment: String,
    repository_id: String,
    repository_owner: String,
    repository_owner_id: String,
    repository_visibility: String,
    workflow_ref: String,
    workflow_sha: String,
    run_id: String,
    run_attempt: String,
}

impl GithubWorkflow {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let c = Claims::new(&token.claims);
        // Upstream decodes every claim first (a mistyped one fails the token), then checks
        // them for emptiness in this order.
        let job_workflow_ref = c.string("job_workflow_ref")?;
        let sha = c.string("sha")?;
        let event_name = c.string("event_name")?;
        let repository = c.string("repository")?;
        let workflow = c.string("workflow")?;
        let git_ref = c.string("ref")?;
        let job_workflow_sha = c.string("job_workflow_sha")?;
        let runner_environment = c.string("runner_environment")?;
        let repository_id = c.string("repository_id")?;
        let repository_owner = c.string("repository_owner")?;
        let repository_owner_id = c.string("repository_owner_id")?;
        let repository_visibility = c.string("repository_visibility")?;
        let workflow_ref = c.string("workflow_ref")?;
        let workflow_sha = c.string("workflow_sha")?;
        let run_id = c.string("run_id")?;
        let run_attempt = c.string("run_attempt")?;
        require_all(
            &[
                ("job_workflow_ref", &job_workflow_ref),
                ("sha", &sha),
                ("event_name", &event_name),
                ("repository", &repository),
                ("workflow", &workflow),
                ("ref", &git_ref),
                ("job_workflow_sha", &job_workflow_sha),
                ("runner_environment", &runner_environment),
                ("repository_id", &repository_id),
                ("repository_owner", &repository_owner),
                ("repository_owner_id", &repository_owner_id),
                ("repository_visibility", &repository_visibility),
                ("workflow_ref", &workflow_ref),
                ("workflow_sha", &workflow_sha),
                ("run_id", &run_id),
                ("run_attempt", &run_attempt),
            ],
            |name| format!("missing {name} claim in ID token"),
        )?;
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            sha,
            event_name,
            repository,
            workflow,
            git_ref,
            job_workflow_ref,
            job_workflow_sha,
            runner_environment,
            repository_id,
            repository_owner,
            repository_owner_id,
            repository_visibility,
            workflow_ref,
            workflow_sha,
            run_id,
            run_attempt,
        })
    }
}

impl IssuerPrincipal for GithubWorkflow {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let base = parse_url("https://github.com/")?;
        let join = |elems: &[&str]| base.join_path(elems).to_go_string();
        let signer = join(&[&self.job_workflow_ref]);
        let extensions = Extensions {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            github_workflow_trigger: self.event_name.clone(),
            github_workflow_sha: self.sha.clone(),
            github_workflow_name: self.workflow.clone(),
            github_workflow_repository: self.repository.clone(),
            github_workflow_ref: self.git_ref.clone(),
            build_signer_uri: signer.clone(),
            build_signer_digest: self.job_workflow_sha.clone(),
            runner_environment: self.runner_environment.clone(),
            source_repository_uri: join(&[&self.repository]),
            source_repository_digest: self.sha.clone(),
            source_repository_ref: self.git_ref.clone(),
            source_repository_identifier: self.repository_id.clone(),
            source_repository_owner_uri: join(&[&self.repository_owner]),
            source_repository_owner_identifier: self.repository_owner_id.clone(),
            build_config_uri: join(&[&self.workflow_ref]),
            build_config_digest: self.workflow_sha.clone(),
            build_trigger: self.event_name.clone(),
            run_invocation_uri: join(&[
                &self.repository,
                "actions/runs",
                &self.run_id,
                "attempts",
                &self.run_attempt,
            ]),
            source_repository_visibility_at_signing: self.repository_visibility.clone(),
            deployment_environment: String::new(),
        };
        identity(SubjectAltName::Uri(signer), extensions)
    }
}
