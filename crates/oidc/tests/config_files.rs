//! Loading whole configuration files (Fulcio spec §3.1, §3.4) from `testdata/`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use oidc::{FulcioConfig, IssuerMatchKind, IssuerType, OidcIssuer};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

#[test]
fn public_good_shape_loads_with_anchors_aliases_and_merges() {
    let config = FulcioConfig::load(&testdata("public-good-shape.yaml")).unwrap();

    // `define:` is not a configuration key and adds nothing.
    assert_eq!(config.oidc_issuers.len(), 9);
    assert_eq!(config.meta_issuers.len(), 9);
    let providers: Vec<&str> = config
        .ci_issuer_metadata
        .keys()
        .map(String::as_str)
        .collect();
    // Keys written as aliases (`*gh:`) resolve to the anchored strings.
    assert_eq!(
        providers,
        [
            "buildkite-job",
            "circleci-job",
            "github-workflow",
            "gitlab-pipeline"
        ]
    );

    let dex = &config.oidc_issuers["https://oauth2.sigstore.dev/auth"];
    assert_eq!(dex.issuer_type, IssuerType::Email);
    assert_eq!(dex.issuer_claim, "$.federated_claims.connector_id");
    assert_eq!(dex.environment, "production");
    assert_eq!(dex.challenge_claim(), "email");

    let enterprise = &config.oidc_issuers["https://login.example-enterprise.com"];
    assert!(enterprise.skip_email_verification);

    let chainguard = &config.oidc_issuers["https://issuer.enforce.dev"];
    assert_eq!(chainguard.issuer_type, IssuerType::ChainguardIdentity);
    assert_eq!(chainguard.challenge_claim(), "sub");

    let github = &config.oidc_issuers["https://token.actions.githubusercontent.com"];
    assert_eq!(github.issuer_type, IssuerType::CiProvider);
    // An alias as a value.
    assert_eq!(github.ci_provider, "github-workflow");
    assert_eq!(
        config.oidc_issuers["https://gitlab.example.org"].ci_provider,
        "gitlab-pipeline"
    );

    // Meta-issuers built with `<<: *kube`.
    let aks = &config.meta_issuers["https://*.oic.prod-aks.azure.com/*/*/"];
    assert_eq!(aks.issuer_type, IssuerType::Kubernetes);
    assert_eq!(aks.client_id, "sigstore");
    for pattern in [
        "https://*.oic.prod-aks.azure.com/*/*",
        "https://oidc.prod-aks.azure.com/*",
        "https://oidc.prod-aks.azure.com/*/",
        "https://oidc.prod-aks.azure.com/*/*",
        "https://container.googleapis.com/v1/projects/*/locations/*/clusters/*",
        "https://oidc.eks.*.amazonaws.com/id/*",
    ] {
        assert_eq!(
            config.meta_issuers[pattern].issuer_type,
            IssuerType::Kubernetes,
            "{pattern}"
        );
    }

    let gh = &config.ci_issuer_metadata["github-workflow"];
    // Merged default plus an explicit one.
    assert_eq!(gh.default_template_values["url"], "https://github.com");
    assert_eq!(gh.default_template_values["environment"], "");
    let t = &gh.extension_templates;
    assert_eq!(t.github_workflow_trigger, "event_name");
    assert_eq!(t.github_workflow_sha, "sha");
    assert_eq!(t.github_workflow_name, "workflow");
    assert_eq!(t.github_workflow_repository, "repository");
    assert_eq!(t.github_workflow_ref, "ref");
    assert_eq!(t.build_signer_uri, "{{ .url }}/{{ .job_workflow_ref }}");
    assert_eq!(t.build_signer_digest, "job_workflow_sha");
    assert_eq!(t.runner_environment, "runner_environment");
    assert_eq!(t.source_repository_uri, "{{ .url }}/{{ .repository }}");
    assert_eq!(t.source_repository_digest, "sha");
    assert_eq!(t.source_repository_ref, "ref");
    assert_eq!(t.source_repository_identifier, "repository_id");
    assert_eq!(
        t.source_repository_owner_uri,
        "{{ .url }}/{{ .repository_owner }}"
    );
    assert_eq!(t.source_repository_owner_identifier, "repository_owner_id");
    assert_eq!(t.build_config_uri, "{{ .url }}/{{ .workflow_ref }}");
    assert_eq!(t.build_config_digest, "workflow_sha");
    assert_eq!(t.build_trigger, "event_name");
    assert_eq!(
        t.run_invocation_uri,
        "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}"
    );
    assert_eq!(
        t.source_repository_visibility_at_signing,
        "repository_visibility"
    );
    assert_eq!(t.deployment_environment, "environment");
    assert_eq!(t.issuer, "");
    assert_eq!(t.subject, "");
    assert_eq!(
        gh.subject_alternative_name_template,
        "{{ .url }}/{{ .job_workflow_ref }}"
    );

    let gl = &config.ci_issuer_metadata["gitlab-pipeline"];
    assert_eq!(gl.default_template_values["url"], "https://gitlab.com");
    assert_eq!(
        gl.extension_templates.source_repository_ref,
        r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#
    );
    assert_eq!(
        gl.extension_templates.run_invocation_uri,
        "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}"
    );
    assert_eq!(
        gl.subject_alternative_name_template,
        "https://{{ .ci_config_ref_uri }}"
    );

    let cc = &config.ci_issuer_metadata["circleci-job"];
    assert_eq!(
        cc.extension_templates.source_repository_uri,
        r#"{{index . "oidc.circleci.com/vcs-origin"}}"#
    );
}

#[test]
fn public_good_shape_resolves_issuers() {
    let config = FulcioConfig::load(&testdata("public-good-shape.yaml")).unwrap();
    let index = oidc::IssuerIndex::new(&config).unwrap();

    let eks = "https://oidc.eks.us-east-2.amazonaws.com/id/ABCDEF0123456789";
    let found = index.find(eks).unwrap();
    assert_eq!(
        found.kind,
        IssuerMatchKind::Meta("https://oidc.eks.*.amazonaws.com/id/*".into())
    );
    assert_eq!(found.config.issuer_url, eks);
    assert_eq!(found.config.issuer_type, IssuerType::Kubernetes);

    let ghe = "https://token.actions.githubusercontent.com/acme";
    let found = index.find(ghe).unwrap();
    assert_eq!(found.config.ci_provider, "github-workflow");
    assert_eq!(found.config.issuer_url, ghe);

    let exact = index
        .find("https://token.actions.githubusercontent.com")
        .unwrap();
    assert_eq!(exact.kind, IssuerMatchKind::Exact);

    assert!(
        index
            .find("https://token.actions.githubusercontent.com/a/b")
            .is_none()
    );
    assert!(
        index
            .find("https://evil.example/?https://gitlab.com")
            .is_none()
    );
}

fn sample_expectations(config: &FulcioConfig) {
    assert_eq!(
        config.oidc_issuers.len(),
        5,
        "{:?}",
        config.oidc_issuers.keys()
    );
    let accounts = &config.oidc_issuers["https://accounts.example.com"];
    assert_eq!(
        accounts,
        &OidcIssuer {
            issuer_url: "https://accounts.example.com".into(),
            client_id: "sigstore".into(),
            issuer_type: IssuerType::Email,
            issuer_claim: "$.federated_claims.connector_id".into(),
            skip_email_verification: true,
            contact: "ops@example.com".into(),
            description: "mixed-case keys below are matched like Go's encoding/json".into(),
            environment: "staging".into(),
            ..OidcIssuer::default()
        }
    );
    let ci = &config.oidc_issuers["https://ci.example.com"];
    assert_eq!(ci.issuer_url, "https://ci.example.com");
    assert_eq!(ci.ci_provider, "example-ci");
    assert_eq!(ci.challenge_claim(), "job");
    assert_eq!(
        config.oidc_issuers["https://spiffe.example.com"].spiffe_trust_domain,
        "example.com"
    );
    assert_eq!(
        config.oidc_issuers["https://users.example.com"].subject_domain,
        "example.com"
    );
    assert_eq!(
        config.oidc_issuers["https://id.example.com"].subject_domain,
        "https://services.example.com"
    );
    let meta = &config.meta_issuers["https://k8s.*.example.com/clusters/*"];
    assert_eq!(meta.issuer_type, IssuerType::Kubernetes);
    let found = config
        .find_issuer("https://k8s.eu-1.example.com/clusters/prod")
        .unwrap();
    // The pattern's IssuerURL is ignored: the concrete `iss` replaces it.
    assert_eq!(
        found.issuer_url,
        "https://k8s.eu-1.example.com/clusters/prod"
    );
    let metadata = &config.ci_issuer_metadata["example-ci"];
    assert_eq!(
        metadata.default_template_values["url"],
        "https://ci.example.com"
    );
    assert_eq!(
        metadata.extension_templates.build_signer_uri,
        "{{ .url }}/{{ .pipeline }}"
    );
    assert_eq!(metadata.extension_templates.runner_environment, "runner");
    assert_eq!(
        metadata.subject_alternative_name_template,
        "{{ .url }}/{{ .pipeline }}"
    );
}

#[test]
fn json_sample_loads() {
    let config = FulcioConfig::load(&testdata("sample.json")).unwrap();
    sample_expectations(&config);
}

#[test]
fn yaml_sample_loads() {
    let config = FulcioConfig::load(&testdata("sample.yaml")).unwrap();
    sample_expectations(&config);
}

#[test]
fn json_and_yaml_samples_are_the_same_configuration() {
    let json = FulcioConfig::load(&testdata("sample.json")).unwrap();
    let yaml = FulcioConfig::load(&testdata("sample.yaml")).unwrap();
    assert_eq!(json, yaml);
}
