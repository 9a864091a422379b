//! The dedicated CI issuer types (github-workflow, gitlab-pipeline, buildkite-job,
//! codefresh-workflow; Fulcio spec §3.3): claims → challenge, SAN and every extension value,
//! with upstream's vectors, and each type's failure cases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

mod fixtures;

use fixtures::{San, embed_and_decode, principal, token};
use identity::IdentityError;
use oidc::IssuerType;
use serde_json::{Value, json};

fn claims_error_mentions(r: Result<identity::Principal, IdentityError>, fragment: &str) {
    assert!(
        matches!(&r, Err(IdentityError::Claims(m)) if m.contains(fragment)),
        "want Claims error with {fragment:?}, got {r:?}"
    );
}

/// Upstream's embed vector for GitHub, given as claims.
fn github_claims() -> Value {
    json!({
        "aud": "sigstore",
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:sigstore/fulcio:ref:refs/heads/main",
        "event_name": "trigger",
        "sha": "sha",
        "workflow": "workflowname",
        "repository": "repository",
        "ref": "ref",
        "job_workflow_sha": "jobWorkflowSha",
        "job_workflow_ref": "jobWorkflowRef",
        "runner_environment": "runnerEnv",
        "repository_id": "repoID",
        "repository_owner": "repoOwner",
        "repository_owner_id": "repoOwnerID",
        "workflow_ref": "workflowRef",
        "workflow_sha": "workflowSHA",
        "run_id": "runID",
        "run_attempt": "runAttempt",
        "repository_visibility": "public",
    })
}

#[test]
fn github_workflow_extensions() {
    let p = principal(&token(IssuerType::GithubWorkflow, github_claims())).unwrap();
    assert_eq!(p.name(), "repo:sigstore/fulcio:ref:refs/heads/main");
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Uri("https://github.com/jobWorkflowRef".into()));
    let issuer = "https://token.actions.githubusercontent.com";
    let want: Vec<(u64, String)> = [
        (1, issuer),
        (2, "trigger"),
        (3, "sha"),
        (4, "workflowname"),
        (5, "repository"),
        (6, "ref"),
        (8, issuer),
        (9, "https://github.com/jobWorkflowRef"),
        (10, "jobWorkflowSha"),
        (11, "runnerEnv"),
        (12, "https://github.com/repository"),
        (13, "sha"),
        (14, "ref"),
        (15, "repoID"),
        (16, "https://github.com/repoOwner"),
        (17, "repoOwnerID"),
        (18, "https://github.com/workflowRef"),
        (19, "workflowSHA"),
        (20, "trigger"),
        (
            21,
            "https://github.com/repository/actions/runs/runID/attempts/runAttempt",
        ),
        (22, "public"),
        (24, "repo:sigstore/fulcio:ref:refs/heads/main"),
    ]
    .into_iter()
    .map(|(a, v)| (a, v.to_owned()))
    .collect();
    assert_eq!(d.extensions, want);
}

#[test]
fn github_workflow_real_shaped_token() {
    let mut claims = github_claims();
    claims["job_workflow_ref"] =
        json!("sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main");
    claims["repository"] = json!("sigstore/fulcio");
    claims["run_id"] = json!("42");
    claims["run_attempt"] = json!("1");
    let d = embed_and_decode(&principal(&token(IssuerType::GithubWorkflow, claims)).unwrap());
    assert_eq!(
        d.san,
        San::Uri(
            "https://github.com/sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main".into()
        )
    );
    assert_eq!(
        d.get(21),
        Some("https://github.com/sigstore/fulcio/actions/runs/42/attempts/1")
    );
}

#[test]
fn github_workflow_urls_are_joined_like_go() {
    // JoinPath cleans dot segments and escapes what a path cannot hold.
    let mut claims = github_claims();
    claims["job_workflow_ref"] = json!("org/repo/../other/.github/workflows/x.yml@refs/heads/a b?");
    let d = embed_and_decode(&principal(&token(IssuerType::GithubWorkflow, claims)).unwrap());
    assert_eq!(
        d.san,
        San::Uri("https://github.com/org/other/.github/workflows/x.yml@refs/heads/a%20b%3F".into())
    );
    assert_eq!(
        d.get(9),
        Some("https://github.com/org/other/.github/workflows/x.yml@refs/heads/a%20b%3F")
    );
}

#[test]
fn github_workflow_requires_every_claim() {
    for claim in [
        "job_workflow_ref",
        "sha",
        "event_name",
        "repository",
        "workflow",
        "ref",
        "job_workflow_sha",
        "runner_environment",
        "repository_id",
        "repository_owner",
        "repository_owner_id",
        "repository_visibility",
        "workflow_ref",
        "workflow_sha",
        "run_id",
        "run_attempt",
    ] {
        let mut claims = github_claims();
        claims.as_object_mut().unwrap().remove(claim);
        claims_error_mentions(
            principal(&token(IssuerType::GithubWorkflow, claims)),
            &format!("missing {claim} claim in ID token"),
        );
        let mut claims = github_claims();
        claims[claim] = json!("");
        claims_error_mentions(principal(&token(IssuerType::GithubWorkflow, claims)), claim);
    }
    // A number where upstream decodes a string fails the token.
    let mut claims = github_claims();
    claims["run_id"] = json!(42);
    claims_error_mentions(
        principal(&token(IssuerType::GithubWorkflow, claims)),
        "cannot unmarshal number",
    );
}

fn gitlab_claims() -> Value {
    json!({
        "aud": "sigstore",
        "exp": 0,
        "iss": "https://gitlab.com",
        "sub": "project_path:cpanato/testing-cosign:ref_type:branch:ref:main",
        "project_id": "42831435",
        "project_path": "cpanato/testing-cosign",
        "namespace_path": "cpanato",
        "namespace_id": "1730270",
        "pipeline_id": "757451528",
        "pipeline_source": "push",
        "ci_config_ref_uri": "gitlab.com/cpanto/testing-cosign//.gitlab-ci.yml@refs/head/main",
        "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "job_id": "3659681386",
        "ref": "main",
        "ref_type": "branch",
        "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "runner_id": 1,
        "runner_environment": "gitlab-hosted",
        "project_visibility": "public",
    })
}

#[test]
fn gitlab_pipeline_extensions() {
    let p = principal(&token(IssuerType::GitlabPipeline, gitlab_claims())).unwrap();
    assert_eq!(
        p.name(),
        "project_path:cpanato/testing-cosign:ref_type:branch:ref:main"
    );
    let d = embed_and_decode(&p);
    let config = "https://gitlab.com/cpanto/testing-cosign//.gitlab-ci.yml@refs/head/main";
    assert_eq!(d.san, San::Uri(config.into()));
    let sha = "714a629c0b401fdce83e847fc9589983fc6f46bc";
    let want: Vec<(u64, String)> = [
        (1, "https://gitlab.com"),
        (8, "https://gitlab.com"),
        (9, config),
        (10, sha),
        (11, "gitlab-hosted"),
        (12, "https://gitlab.com/cpanato/testing-cosign"),
        (13, sha),
        (14, "refs/heads/main"),
        (15, "42831435"),
        (16, "https://gitlab.com/cpanato"),
        (17, "1730270"),
        (18, config),
        (19, sha),
        (20, "push"),
        (
            21,
            "https://gitlab.com/cpanato/testing-cosign/-/jobs/3659681386",
        ),
        (22, "public"),
        (
            24,
            "project_path:cpanato/testing-cosign:ref_type:branch:ref:main",
        ),
    ]
    .into_iter()
    .map(|(a, v)| (a, v.to_owned()))
    .collect();
    assert_eq!(d.extensions, want);
}

#[test]
fn gitlab_pipeline_variants() {
    let mut tag = gitlab_claims();
    tag["ref_type"] = json!("tag");
    tag["ref"] = json!("v1.0.0");
    let d = embed_and_decode(&principal(&token(IssuerType::GitlabPipeline, tag)).unwrap());
    assert_eq!(d.get(14), Some("refs/tags/v1.0.0"));

    // Optional claims: ci_config_sha and project_visibility may be absent.
    let mut optional = gitlab_claims();
    optional.as_object_mut().unwrap().remove("ci_config_sha");
    optional
        .as_object_mut()
        .unwrap()
        .remove("project_visibility");
    optional["ci_config_ref_uri"] = json!("example.com/ci/config.yml");
    let d = embed_and_decode(&principal(&token(IssuerType::GitlabPipeline, optional)).unwrap());
    assert_eq!(d.san, San::Uri("https://example.com/ci/config.yml".into()));
    assert_eq!(
        d.arcs(),
        vec![1, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 24]
    );
}

#[test]
fn gitlab_pipeline_failures() {
    for claim in [
        "project_path",
        "pipeline_source",
        "pipeline_id",
        "ci_config_ref_uri",
        "job_id",
        "ref",
        "ref_type",
        "namespace_path",
        "namespace_id",
        "project_id",
        "sha",
        "runner_environment",
        "runner_id",
    ] {
        let mut claims = gitlab_claims();
        claims.as_object_mut().unwrap().remove(claim);
        claims_error_mentions(
            principal(&token(IssuerType::GitlabPipeline, claims)),
            &format!("missing {claim} claim in ID token"),
        );
    }
    let mut zero_runner = gitlab_claims();
    zero_runner["runner_id"] = json!(0);
    claims_error_mentions(
        principal(&token(IssuerType::GitlabPipeline, zero_runner)),
        "missing runner_id claim in ID token",
    );
    let mut fractional_runner = gitlab_claims();
    fractional_runner["runner_id"] = json!(1.5);
    claims_error_mentions(
        principal(&token(IssuerType::GitlabPipeline, fractional_runner)),
        "runner_id",
    );
    let mut string_runner = gitlab_claims();
    string_runner["runner_id"] = json!("1");
    claims_error_mentions(
        principal(&token(IssuerType::GitlabPipeline, string_runner)),
        "runner_id",
    );
    let mut bad_ref_type = gitlab_claims();
    bad_ref_type["ref_type"] = json!("commit");
    assert_eq!(
        principal(&token(IssuerType::GitlabPipeline, bad_ref_type)).unwrap_err(),
        IdentityError::Claims("unexpected ref_type: commit".into())
    );
    // An unparsable config URI fails at embed time, and the client sees why.
    let mut bad_uri = gitlab_claims();
    bad_uri["ci_config_ref_uri"] = json!("gitlab.com/%zz");
    let p = principal(&token(IssuerType::GitlabPipeline, bad_uri)).unwrap();
    assert_eq!(
        p.embed().unwrap_err(),
        IdentityError::Embed("parse \"gitlab.com/%zz\": invalid URL escape \"%zz\"".into())
    );
}

#[test]
fn buildkite_job() {
    let claims = json!({
        "aud": "sigstore",
        "iss": "https://agent.buildkite.com",
        "organization_slug": "acme-inc",
        "pipeline_slug": "bash-example",
        "sub": "organization:acme-inc:pipeline:bash-example:ref:refs/heads/main:commit:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:step:build",
    });
    let p = principal(&token(IssuerType::BuildkiteJob, claims.clone())).unwrap();
    assert_eq!(p.name(), claims["sub"].as_str().unwrap());
    let d = embed_and_decode(&p);
    assert_eq!(
        d.san,
        San::Uri("https://buildkite.com/acme-inc/bash-example".into())
    );
    assert_eq!(
        d.extensions,
        vec![
            (1, "https://agent.buildkite.com".into()),
            (8, "https://agent.buildkite.com".into()),
            (24, claims["sub"].as_str().unwrap().to_owned())
        ]
    );
    for claim in ["organization_slug", "pipeline_slug"] {
        let mut missing = claims.clone();
        missing.as_object_mut().unwrap().remove(claim);
        claims_error_mentions(principal(&token(IssuerType::BuildkiteJob, missing)), claim);
    }
}

fn codefresh_claims() -> Value {
    json!({
        "sub": "account:628a80b693a15c0f9c13ab75:pipeline:65e5a53e52853dc51a5b0cc1:initiator:codefresh-user:scm_repo_url:https://github.com/codefresh-user/fulcio:scm_user_name:git-user-name:scm_ref:main",
        "account_id": "628a80b693a15c0f9c13ab75",
        "account_name": "codefresh-account",
        "pipeline_id": "65e5a53e52853dc51a5b0cc1",
        "pipeline_name": "oidc-test/get-token",
        "workflow_id": "65e6bcf7c2af1f228fa97f80",
        "initiator": "codefresh-user",
        "scm_user_name": "git-user-name",
        "scm_repo_url": "https://github.com/codefresh-io/fulcio-oidc",
        "scm_ref": "main",
        "runner_environment": "hybrid",
        "aud": "sigstore",
        "iss": "https://oidc.codefresh.io",
    })
}

#[test]
fn codefresh_workflow_extensions() {
    let claims = codefresh_claims();
    let p = principal(&token(IssuerType::CodefreshWorkflow, claims.clone())).unwrap();
    assert_eq!(p.name(), claims["sub"].as_str().unwrap());
    let d = embed_and_decode(&p);
    assert_eq!(
        d.san,
        San::Uri("https://g.codefresh.io/codefresh-account/oidc-test/get-token:628a80b693a15c0f9c13ab75/65e5a53e52853dc51a5b0cc1".into())
    );
    let want: Vec<(u64, String)> = [
        (1, "https://oidc.codefresh.io"),
        (8, "https://oidc.codefresh.io"),
        (9, "https://g.codefresh.io/build/65e6bcf7c2af1f228fa97f80"),
        (11, "hybrid"),
        (12, "https://github.com/codefresh-io/fulcio-oidc"),
        (14, "main"),
        (
            18,
            "https://g.codefresh.io/api/pipelines/65e5a53e52853dc51a5b0cc1",
        ),
        (21, "https://g.codefresh.io/build/65e6bcf7c2af1f228fa97f80"),
        (24, claims["sub"].as_str().unwrap()),
    ]
    .into_iter()
    .map(|(a, v)| (a, v.to_owned()))
    .collect();
    assert_eq!(d.extensions, want);
}

#[test]
fn codefresh_platform_url_claim_overrides_default() {
    let mut claims = codefresh_claims();
    claims["platform_url"] = json!("https://pre-prod.codefresh.io");
    let d = embed_and_decode(&principal(&token(IssuerType::CodefreshWorkflow, claims)).unwrap());
    assert_eq!(
        d.get(9),
        Some("https://pre-prod.codefresh.io/build/65e6bcf7c2af1f228fa97f80")
    );
    let mut bad = codefresh_claims();
    bad["platform_url"] = json!("https://bad host");
    let p = principal(&token(IssuerType::CodefreshWorkflow, bad)).unwrap();
    assert!(
        matches!(p.embed(), Err(IdentityError::Embed(m)) if m.contains("invalid character \" \" in host name"))
    );
}

#[test]
fn codefresh_workflow_failures() {
    for claim in ["workflow_id", "account_id", "pipeline_id"] {
        let mut claims = codefresh_claims();
        claims.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            principal(&token(IssuerType::CodefreshWorkflow, claims)).unwrap_err(),
            IdentityError::Claims(format!("missing {claim} in token"))
        );
    }
}
