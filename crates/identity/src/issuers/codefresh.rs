//! `codefresh-workflow` issuers (Fulcio spec §3.3, deprecated upstream in favour of
//! ci-provider): URLs under the token's `platform_url` (default `https://g.codefresh.io`).

use oidc::{Extensions, VerifiedToken};

use super::{IssuerPrincipal, identity, parse_url, require_all, subject};
use crate::claims::Claims;
use crate::{CertificateIdentity, IdentityError, SubjectAltName};

const DEFAULT_PLATFORM_URL: &str = "https://g.codefresh.io";

#[derive(Debug, Clone)]
pub(crate) struct CodefreshWorkflow {
    subject: String,
    issuer: String,
    account_id: String,
    account_name: String,
    pipeline_id: String,
    pipeline_name: String,
    workflow_id: String,
    scm_repo_url: String,
    scm_ref: String,
    runner_environment: String,
    platform_url: String,
}

impl CodefreshWorkflow {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let c = Claims::new(&token.claims);
        let account_id = c.string("account_id")?;
        let account_name = c.string("account_name")?;
        let pipeline_id = c.string("pipeline_id")?;
        let pipeline_name = c.string("pipeline_name")?;
        let workflow_id = c.string("workflow_id")?;
        // Decoded (and so type-checked) upstream although not used in the certificate.
        c.string("initiator")?;
        let scm_repo_url = c.string("scm_repo_url")?;
        c.string("scm_user_name")?;
        let scm_ref = c.string("scm_ref")?;
        c.string("scm_pull_request_target_branch")?;
        let runner_environment = c.string("runner_environment")?;
        let mut platform_url = c.string("platform_url")?;
        require_all(
            &[
                ("account_id", &account_id),
                ("pipeline_id", &pipeline_id),
                ("workflow_id", &workflow_id),
            ],
            |name| format!("missing {name} in token"),
        )?;
        if platform_url.is_empty() {
            DEFAULT_PLATFORM_URL.clone_into(&mut platform_url);
        }
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            account_id,
            account_name,
            pipeline_id,
            pipeline_name,
            workflow_id,
            scm_repo_url,
            scm_ref,
            runner_environment,
            platform_url,
        })
    }
}

impl IssuerPrincipal for CodefreshWorkflow {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let base = parse_url(&self.platform_url)?;
        let join = |elems: &[&str]| base.join_path(elems).to_go_string();
        // Names can change, ids cannot: the SAN carries both so that verifiers can match
        // either (`<platform>/<account>/<pipeline>:<account id>/<pipeline id>`).
        let pipeline = format!(
            "{}:{}/{}",
            self.pipeline_name, self.account_id, self.pipeline_id
        );
        let san = join(&[&self.account_name, &pipeline]);
        let build = join(&["build", &self.workflow_id]);
        let extensions = Extensions {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            build_signer_uri: build.clone(),
            runner_environment: self.runner_environment.clone(),
            source_repository_uri: self.scm_repo_url.clone(),
            source_repository_ref: self.scm_ref.clone(),
            build_config_uri: join(&["api", "pipelines", &self.pipeline_id]),
            run_invocation_uri: build,
            ..Extensions::default()
        };
        identity(SubjectAltName::Uri(san), extensions)
    }
}
