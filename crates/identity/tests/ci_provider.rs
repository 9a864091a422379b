//! `ci-provider` issuers (Fulcio spec §3.3): the shipped provider templates rendered into full
//! extension sets, template semantics (claim copy, `{{ .x }}`, `index`, if/eq/else, defaults
//! overlaid by claims, missing keys), claim stringification, and the client-facing errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

mod fixtures;

use std::collections::BTreeMap;

use fixtures::{San, decode, token_with};
use identity::{IdentityError, Principal};
use oidc::{Extensions, FulcioConfig, IssuerMetadata, IssuerType, OidcIssuer};
use serde_json::{Value, json};

fn defaults(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The GitHub Actions entry of upstream's shipped `ci-issuer-metadata`.
fn github_metadata() -> IssuerMetadata {
    IssuerMetadata {
        default_template_values: defaults(&[("url", "https://github.com"), ("environment", "")]),
        extension_templates: Extensions {
            github_workflow_trigger: "event_name".into(),
            github_workflow_sha: "sha".into(),
            github_workflow_name: "workflow".into(),
            github_workflow_repository: "repository".into(),
            github_workflow_ref: "ref".into(),
            build_signer_uri: "{{ .url }}/{{ .job_workflow_ref }}".into(),
            build_signer_digest: "job_workflow_sha".into(),
            runner_environment: "runner_environment".into(),
            source_repository_uri: "{{ .url }}/{{ .repository }}".into(),
            source_repository_digest: "sha".into(),
            source_repository_ref: "ref".into(),
            source_repository_identifier: "repository_id".into(),
            source_repository_owner_uri: "{{ .url }}/{{ .repository_owner }}".into(),
            source_repository_owner_identifier: "repository_owner_id".into(),
            build_config_uri: "{{ .url }}/{{ .workflow_ref }}".into(),
            build_config_digest: "workflow_sha".into(),
            build_trigger: "event_name".into(),
            run_invocation_uri: "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}".into(),
            source_repository_visibility_at_signing: "repository_visibility".into(),
            deployment_environment: "environment".into(),
            ..Extensions::default()
        },
        subject_alternative_name_template: "{{ .url }}/{{ .job_workflow_ref }}".into(),
    }
}

/// The GitLab entry of upstream's shipped `ci-issuer-metadata`.
fn gitlab_metadata() -> IssuerMetadata {
    IssuerMetadata {
        default_template_values: defaults(&[("url", "https://gitlab.com"), ("environment", "")]),
        extension_templates: Extensions {
            build_signer_uri: "https://{{ .ci_config_ref_uri }}".into(),
            build_signer_digest: "ci_config_sha".into(),
            runner_environment: "runner_environment".into(),
            source_repository_uri: "{{ .url }}/{{ .project_path }}".into(),
            source_repository_digest: "sha".into(),
            source_repository_ref:
                r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#.into(),
            source_repository_identifier: "project_id".into(),
            source_repository_owner_uri: "{{ .url }}/{{ .namespace_path }}".into(),
            source_repository_owner_identifier: "namespace_id".into(),
            build_config_uri: "https://{{ .ci_config_ref_uri }}".into(),
            build_config_digest: "ci_config_sha".into(),
            build_trigger: "pipeline_source".into(),
            run_invocation_uri: "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}".into(),
            source_repository_visibility_at_signing: "project_visibility".into(),
            deployment_environment: "environment".into(),
            ..Extensions::default()
        },
        subject_alternative_name_template: "https://{{ .ci_config_ref_uri }}".into(),
    }
}

/// The CircleCI entry of upstream's shipped `ci-issuer-metadata`.
fn circleci_metadata() -> IssuerMetadata {
    IssuerMetadata {
        default_template_values: defaults(&[
            ("api_url", "https://circleci.com/api/v2"),
            ("platform_url", "https://app.circleci.com/"),
        ]),
        extension_templates: Extensions {
            build_config_uri: r#"{{.api_url}}/pipeline/{{(index . "oidc.circleci.com/pipeline-id")}}/config"#.into(),
            build_signer_uri: r#"{{.api_url}}/projects/{{(index . "oidc.circleci.com/project-id")}}/pipeline-definitions/{{(index . "oidc.circleci.com/pipeline-definition-id")}}"#.into(),
            run_invocation_uri: r#"{{.platform_url}}/workflow/{{(index . "oidc.circleci.com/workflow-id")}}/job/{{(index . "oidc.circleci.com/job-id")}}"#.into(),
            runner_environment: r#"{{if eq (index . "oidc.circleci.com/ssh-rerun") "true"}}ssh-rerun{{ else }}""{{end}}"#.into(),
            source_repository_ref: r#"{{index . "oidc.circleci.com/vcs-ref"}}"#.into(),
            source_repository_uri: r#"{{index . "oidc.circleci.com/vcs-origin"}}"#.into(),
            ..Extensions::default()
        },
        subject_alternative_name_template: r#"{{.api_url}}/projects/{{(index . "oidc.circleci.com/project-id")}}/pipeline-definitions/{{(index . "oidc.circleci.com/pipeline-definition-id")}}"#.into(),
    }
}

fn config(provider: &str, metadata: IssuerMetadata) -> FulcioConfig {
    let mut config = FulcioConfig::default();
    config
        .ci_issuer_metadata
        .insert(provider.to_owned(), metadata);
    config
}

fn ci_token(provider: &str, claims: Value) -> oidc::VerifiedToken {
    let issuer = OidcIssuer {
        issuer_type: IssuerType::CiProvider,
        ci_provider: provider.to_owned(),
        ..OidcIssuer::default()
    };
    token_with(issuer, claims)
}

fn principal(provider: &str, metadata: IssuerMetadata, claims: Value) -> Principal {
    Principal::from_token(&ci_token(provider, claims), &config(provider, metadata)).unwrap()
}

fn owned(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
    pairs.iter().map(|(a, v)| (*a, (*v).to_owned())).collect()
}

/// Upstream's ci-provider embed vector.
fn github_claims() -> Value {
    json!({
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
        "environment": "production",
    })
}

#[test]
fn github_template_renders_every_extension() {
    let p = principal("github-workflow", github_metadata(), github_claims());
    assert_eq!(p.name(), "repo:sigstore/fulcio:ref:refs/heads/main");
    let d = decode(&p.embed().unwrap());
    assert_eq!(d.san, San::Uri("https://github.com/jobWorkflowRef".into()));
    let issuer = "https://token.actions.githubusercontent.com";
    assert_eq!(
        d.extensions,
        owned(&[
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
                "https://github.com/repository/actions/runs/runID/attempts/runAttempt"
            ),
            (22, "public"),
            (23, "production"),
            (24, "repo:sigstore/fulcio:ref:refs/heads/main"),
        ])
    );
}

#[test]
fn github_template_without_environment_claim_omits_1_23() {
    let mut claims = github_claims();
    claims.as_object_mut().unwrap().remove("environment");
    let d = decode(
        &principal("github-workflow", github_metadata(), claims)
            .embed()
            .unwrap(),
    );
    assert_eq!(d.get(23), None);
    assert_eq!(d.get(22), Some("public"));
}

fn gitlab_claims(ref_type: &str, git_ref: &str) -> Value {
    json!({
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
        "ref": git_ref,
        "ref_type": ref_type,
        "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "runner_id": 1,
        "runner_environment": "gitlab-hosted",
        "project_visibility": "public",
    })
}

#[test]
fn gitlab_template_renders_every_extension() {
    let p = principal(
        "gitlab-pipeline",
        gitlab_metadata(),
        gitlab_claims("branch", "main"),
    );
    let d = decode(&p.embed().unwrap());
    let config_uri = "https://gitlab.com/cpanto/testing-cosign//.gitlab-ci.yml@refs/head/main";
    let sha = "714a629c0b401fdce83e847fc9589983fc6f46bc";
    assert_eq!(d.san, San::Uri(config_uri.into()));
    assert_eq!(
        d.extensions,
        owned(&[
            (1, "https://gitlab.com"),
            (8, "https://gitlab.com"),
            (9, config_uri),
            (10, sha),
            (11, "gitlab-hosted"),
            (12, "https://gitlab.com/cpanato/testing-cosign"),
            (13, sha),
            (14, "refs/heads/main"),
            (15, "42831435"),
            (16, "https://gitlab.com/cpanato"),
            (17, "1730270"),
            (18, config_uri),
            (19, sha),
            (20, "push"),
            (
                21,
                "https://gitlab.com/cpanato/testing-cosign/-/jobs/3659681386"
            ),
            (22, "public"),
            (
                24,
                "project_path:cpanato/testing-cosign:ref_type:branch:ref:main"
            ),
        ])
    );
    let tag = principal(
        "gitlab-pipeline",
        gitlab_metadata(),
        gitlab_claims("tag", "v1.0.0"),
    );
    assert_eq!(
        decode(&tag.embed().unwrap()).get(14),
        Some("refs/tags/v1.0.0")
    );
}

#[test]
fn gitlab_template_on_a_self_hosted_instance_uses_its_url_default_unless_claimed() {
    let mut metadata = gitlab_metadata();
    metadata
        .default_template_values
        .insert("url".into(), "https://gitlab.example.com".into());
    let d = decode(
        &principal("gitlab-pipeline", metadata, gitlab_claims("branch", "main"))
            .embed()
            .unwrap(),
    );
    assert_eq!(
        d.get(12),
        Some("https://gitlab.example.com/cpanato/testing-cosign")
    );
    // A claim of the same name wins over the default.
    let mut claims = gitlab_claims("branch", "main");
    claims["url"] = json!("https://claimed.example.com");
    let d = decode(
        &principal("gitlab-pipeline", gitlab_metadata(), claims)
            .embed()
            .unwrap(),
    );
    assert_eq!(
        d.get(12),
        Some("https://claimed.example.com/cpanato/testing-cosign")
    );
}

fn circleci_claims(ssh_rerun: Option<&str>) -> Value {
    let mut claims = json!({
        "iss": "https://oidc.circleci.com/org/01234567-89ab-cdef-0123-456789abcdef",
        "sub": "org/01234567-89ab-cdef-0123-456789abcdef/project/p/user/u",
        "oidc.circleci.com/project-id": "p-1",
        "oidc.circleci.com/pipeline-definition-id": "pd-2",
        "oidc.circleci.com/pipeline-id": "pl-3",
        "oidc.circleci.com/workflow-id": "wf-4",
        "oidc.circleci.com/job-id": "job-5",
        "oidc.circleci.com/vcs-ref": "refs/heads/main",
        "oidc.circleci.com/vcs-origin": "github.com/org/repo",
    });
    if let Some(v) = ssh_rerun {
        claims["oidc.circleci.com/ssh-rerun"] = json!(v);
    }
    claims
}

#[test]
fn circleci_template_with_index_and_ssh_rerun_switch() {
    let p = principal(
        "circleci",
        circleci_metadata(),
        circleci_claims(Some("true")),
    );
    let d = decode(&p.embed().unwrap());
    assert_eq!(
        d.san,
        San::Uri("https://circleci.com/api/v2/projects/p-1/pipeline-definitions/pd-2".into())
    );
    assert_eq!(
        d.get(9),
        Some("https://circleci.com/api/v2/projects/p-1/pipeline-definitions/pd-2")
    );
    assert_eq!(d.get(11), Some("ssh-rerun"));
    assert_eq!(d.get(12), Some("github.com/org/repo"));
    assert_eq!(d.get(14), Some("refs/heads/main"));
    assert_eq!(
        d.get(18),
        Some("https://circleci.com/api/v2/pipeline/pl-3/config")
    );
    // The default platform URL ends in a slash; the template adds another (upstream output).
    assert_eq!(
        d.get(21),
        Some("https://app.circleci.com//workflow/wf-4/job/job-5")
    );

    // Not a rerun, or no claim at all (index yields ""): the else branch's literal `""`.
    for claim in [Some("false"), None] {
        let d = decode(
            &principal("circleci", circleci_metadata(), circleci_claims(claim))
                .embed()
                .unwrap(),
        );
        assert_eq!(d.get(11), Some("\"\""), "{claim:?}");
    }
}

/// The Buildkite entry of upstream's shipped `ci-issuer-metadata`.
fn buildkite_metadata() -> IssuerMetadata {
    IssuerMetadata {
        default_template_values: defaults(&[("url", "https://buildkite.com")]),
        extension_templates: Extensions {
            run_invocation_uri: "{{.url}}/{{.organization_slug}}/{{.pipeline_slug}}/builds/{{.build_number}}#{{.job_id}}".into(),
            runner_environment: "runner_environment".into(),
            source_repository_digest: "build_commit".into(),
            build_trigger: "build_source".into(),
            ..Extensions::default()
        },
        subject_alternative_name_template: "{{.url}}/{{.organization_slug}}/{{.pipeline_slug}}".into(),
    }
}

#[test]
fn buildkite_template_with_numeric_build_number() {
    let claims = json!({
        "iss": "https://agent.buildkite.com",
        "sub": "organization:acme-inc:pipeline:bash-example:ref:refs/heads/main:commit:abc:step:build",
        "organization_slug": "acme-inc",
        "pipeline_slug": "bash-example",
        "build_number": 1234,
        "job_id": "0190-job",
        "build_commit": "abc",
        "build_source": "webhook",
        "runner_environment": "buildkite-hosted",
    });
    let d = decode(
        &principal("buildkite-job", buildkite_metadata(), claims)
            .embed()
            .unwrap(),
    );
    assert_eq!(
        d.san,
        San::Uri("https://buildkite.com/acme-inc/bash-example".into())
    );
    assert_eq!(
        d.extensions,
        owned(&[
            (1, "https://agent.buildkite.com"),
            (8, "https://agent.buildkite.com"),
            (11, "buildkite-hosted"),
            (13, "abc"),
            (20, "webhook"),
            (
                21,
                "https://buildkite.com/acme-inc/bash-example/builds/1234#0190-job"
            ),
            (
                24,
                "organization:acme-inc:pipeline:bash-example:ref:refs/heads/main:commit:abc:step:build"
            ),
        ])
    );
}

#[test]
fn claims_are_stringified_like_upstream() {
    let metadata = IssuerMetadata {
        subject_alternative_name_template: "https://ci.example.com/{{ .run }}".into(),
        extension_templates: Extensions {
            build_signer_digest: "{{ .int }}|{{ .float }}|{{ .million }}|{{ .ts }}|{{ .bool }}"
                .into(),
            build_trigger: "aud".into(),
            runner_environment: "nested".into(),
            run_invocation_uri: "nothing".into(),
            ..Extensions::default()
        },
        ..IssuerMetadata::default()
    };
    let claims = json!({
        "iss": "https://ci.example.com",
        "sub": "s",
        "run": 42,
        "int": 1,
        "float": 1.4,
        "million": 1e6,
        "ts": 1753000000.0,
        "bool": true,
        "aud": ["sigstore", "other"],
        "nested": {"b": 1e6, "a": [true, null]},
        "nothing": null,
    });
    let d = decode(&principal("p", metadata, claims).embed().unwrap());
    assert_eq!(d.san, San::Uri("https://ci.example.com/42".into()));
    assert_eq!(d.get(10), Some("1|1.4|1000000|1753000000|true"));
    assert_eq!(d.get(20), Some("[sigstore other]"));
    assert_eq!(d.get(11), Some("map[a:[true <nil>] b:1e+06]"));
    assert_eq!(d.get(21), Some("<nil>"));
}

#[test]
fn issuer_and_subject_templates_are_ignored_and_blank_templates_skipped() {
    let metadata = IssuerMetadata {
        // Without `{{` a template names a claim, so the SAN template needs an action.
        subject_alternative_name_template: "{{ .iss }}/x".into(),
        extension_templates: Extensions {
            issuer: "{{ .forged }}".into(),
            subject: "forged".into(),
            build_trigger: "   ".into(),
            runner_environment: "empty".into(),
            ..Extensions::default()
        },
        default_template_values: defaults(&[("empty", "")]),
    };
    let claims =
        json!({"iss": "https://ci.example.com", "sub": "real-sub", "forged": "https://evil"});
    let d = decode(&principal("p", metadata, claims).embed().unwrap());
    assert_eq!(
        d.extensions,
        owned(&[
            (1, "https://ci.example.com"),
            (8, "https://ci.example.com"),
            (24, "real-sub")
        ])
    );
}

#[test]
fn render_errors_reach_the_client_with_upstream_text() {
    let base = || IssuerMetadata {
        subject_alternative_name_template: "https://ci.example.com/{{ .sub }}".into(),
        ..IssuerMetadata::default()
    };
    let claims = json!({"iss": "https://ci.example.com", "sub": "s"});
    let embed_error = |metadata: IssuerMetadata| {
        principal("p", metadata, claims.clone())
            .embed()
            .unwrap_err()
    };

    let mut missing_key = base();
    missing_key.extension_templates.build_signer_uri = "{{ .url }}/{{ .missing }}".into();
    missing_key.default_template_values = defaults(&[("url", "https://u")]);
    assert_eq!(
        embed_error(missing_key),
        IdentityError::Embed(
            r#"template: :1:14: executing "" at <.missing>: map has no entry for key "missing""#
                .into()
        )
    );

    let mut missing_claim = base();
    missing_claim.extension_templates.run_invocation_uri = "run_url".into();
    assert_eq!(
        embed_error(missing_claim),
        IdentityError::Embed(
            "value <run_url> not present in either claims or defaults. {\n\t\"ExtensionName\": \"RunInvocationURI\",\n\t\"Issuer\": \"https://ci.example.com\"\n}"
                .into()
        )
    );

    let mut missing_san_claim = base();
    missing_san_claim.subject_alternative_name_template = "san_claim".into();
    assert!(
        matches!(embed_error(missing_san_claim), IdentityError::Embed(m) if m.contains("\"ExtensionName\": \"SubjectAlternativeName\""))
    );

    let mut empty_san = base();
    empty_san.subject_alternative_name_template = "  ".into();
    assert_eq!(
        embed_error(empty_san),
        IdentityError::Embed(
            "SubjectAlternativeNameTemplate should not be empty. Issuer: https://ci.example.com"
                .into()
        )
    );

    let mut bad_san = base();
    bad_san.subject_alternative_name_template = "https://bad host/{{ .sub }}".into();
    assert_eq!(
        embed_error(bad_san),
        IdentityError::Embed(
            "parse \"https://bad host/s\": invalid character \" \" in host name".into()
        )
    );
}

#[test]
fn unknown_provider_is_a_token_error() {
    let t = ci_token("nope", json!({"iss": "https://ci.example.com", "sub": "s"}));
    assert_eq!(
        Principal::from_token(&t, &config("github-workflow", github_metadata())).unwrap_err(),
        IdentityError::Claims(
            "metadata not found for ci provider nope, issuer: https://ci.example.com".into()
        )
    );
}

#[test]
fn shipped_templates_validate() {
    for metadata in [github_metadata(), gitlab_metadata(), circleci_metadata()] {
        identity::validate_template(&metadata.subject_alternative_name_template).unwrap();
        let e = &metadata.extension_templates;
        for t in [
            &e.build_signer_uri,
            &e.source_repository_ref,
            &e.runner_environment,
            &e.run_invocation_uri,
        ] {
            identity::validate_template(t).unwrap();
        }
    }
    assert!(matches!(
        identity::validate_template("{{ .x | printf \"%s\" }}"),
        Err(IdentityError::Config(_))
    ));
}
