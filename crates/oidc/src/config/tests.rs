use super::*;
use crate::error::ConfigRule;

fn issuer(url: &str, issuer_type: IssuerType) -> OidcIssuer {
    OidcIssuer {
        issuer_url: url.to_owned(),
        client_id: "sigstore".to_owned(),
        issuer_type,
        ..OidcIssuer::default()
    }
}

fn with_issuer(issuer: OidcIssuer) -> FulcioConfig {
    let mut config = FulcioConfig::default();
    config
        .oidc_issuers
        .insert(issuer.issuer_url.clone(), issuer);
    config
}

fn with_meta(pattern: &str, issuer: OidcIssuer) -> FulcioConfig {
    let mut config = FulcioConfig::default();
    config.meta_issuers.insert(pattern.to_owned(), issuer);
    config
}

fn rule_of(config: &FulcioConfig) -> Option<ConfigRule> {
    match config.validate() {
        Ok(()) => None,
        Err(ConfigError::Rule { rule, .. }) => Some(rule),
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

fn self_signed_pem() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    rcgen::CertificateParams::new(vec!["ca.example.com".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .pem()
}

#[test]
fn validation_matrix() {
    let spiffe = |td: &str| OidcIssuer {
        spiffe_trust_domain: td.to_owned(),
        ..issuer("https://issuer.example.com", IssuerType::Spiffe)
    };
    let uri = |url: &str, domain: &str| OidcIssuer {
        subject_domain: domain.to_owned(),
        ..issuer(url, IssuerType::Uri)
    };
    let username = |url: &str, domain: &str| OidcIssuer {
        subject_domain: domain.to_owned(),
        ..issuer(url, IssuerType::Username)
    };
    let cases: Vec<(&str, FulcioConfig, Option<ConfigRule>)> = vec![
        ("empty config", FulcioConfig::default(), None),
        ("built-in default", FulcioConfig::builtin_default(), None),
        ("spiffe ok", with_issuer(spiffe("example.com")), None),
        (
            "spiffe with a SPIFFE ID as trust domain",
            with_issuer(spiffe("spiffe://example.com")),
            None,
        ),
        (
            "spiffe needs a trust domain",
            with_issuer(spiffe("")),
            Some(ConfigRule::SpiffeTrustDomainMissing),
        ),
        (
            "spiffe trust domain must be valid",
            with_issuer(spiffe("bad#domain")),
            Some(ConfigRule::SpiffeTrustDomainInvalid),
        ),
        (
            "spiffe cannot be a meta issuer",
            with_meta("https://*.example.com", spiffe("example.com")),
            Some(ConfigRule::SpiffeMetaIssuer),
        ),
        (
            "uri ok with sibling subdomain",
            with_issuer(uri(
                "https://issuer.example.com",
                "https://other.example.com",
            )),
            None,
        ),
        (
            "uri ok with identical host",
            with_issuer(uri("https://example.com", "https://example.com")),
            None,
        ),
        (
            "uri needs a subject domain",
            with_issuer(uri("https://issuer.example.com", "")),
            Some(ConfigRule::SubjectDomainMissing("uri")),
        ),
        (
            "uri subject domain needs a scheme",
            with_issuer(uri("https://issuer.example.com", "other.example.com")),
            Some(ConfigRule::UriSubjectDomainWithoutScheme),
        ),
        (
            "uri issuer url needs a scheme",
            with_issuer(uri("issuer.example.com", "https://other.example.com")),
            Some(ConfigRule::IssuerUrlWithoutScheme("uri")),
        ),
        (
            "uri domains must share the last two labels",
            with_issuer(uri("https://issuer.example.com", "https://different.com")),
            Some(ConfigRule::DomainMismatch {
                subject: "different.com".into(),
                issuer: "issuer.example.com".into(),
            }),
        ),
        (
            "uri schemes must match",
            with_issuer(uri("https://example.com", "http://example.com")),
            Some(ConfigRule::SchemeMismatch {
                subject: "http".into(),
                issuer: "https".into(),
            }),
        ),
        (
            "username ok",
            with_issuer(username("https://issuer.example.com", "other.example.com")),
            None,
        ),
        (
            "username needs a subject domain",
            with_issuer(username("https://issuer.example.com", "")),
            Some(ConfigRule::SubjectDomainMissing("username")),
        ),
        (
            "username subject domain has no scheme",
            with_issuer(username(
                "https://issuer.example.com",
                "https://other.example.com",
            )),
            Some(ConfigRule::UsernameSubjectDomainWithScheme),
        ),
        (
            "username issuer url needs a scheme",
            with_issuer(username("issuer.example.com", "other.example.com")),
            Some(ConfigRule::IssuerUrlWithoutScheme("username")),
        ),
        (
            "username domains must share the last two labels",
            with_issuer(username("https://issuer.example.com", "different.com")),
            Some(ConfigRule::DomainMismatch {
                subject: "different.com".into(),
                issuer: "issuer.example.com".into(),
            }),
        ),
        (
            "username subject domain too short",
            with_issuer(username("https://issuer.example.com", "localhost")),
            Some(ConfigRule::HostnameTooShort("localhost".into())),
        ),
        (
            "issuer claim only on email",
            with_issuer(OidcIssuer {
                issuer_claim: "$.foo.bar".into(),
                ..spiffe("example.com")
            }),
            Some(ConfigRule::IssuerClaimNotEmail),
        ),
        (
            "issuer claim on email ok",
            with_issuer(OidcIssuer {
                issuer_claim: "$.federated_claims.connector_id".into(),
                ..issuer("https://dex.example.com", IssuerType::Email)
            }),
            None,
        ),
        (
            "unknown type without challenge claim",
            with_issuer(issuer(
                "https://issuer.example.com",
                IssuerType::Other("invalid".into()),
            )),
            Some(ConfigRule::MissingChallengeClaim),
        ),
        (
            "missing type without challenge claim",
            with_issuer(issuer(
                "https://issuer.example.com",
                IssuerType::Other(String::new()),
            )),
            Some(ConfigRule::MissingChallengeClaim),
        ),
        (
            "unknown type with challenge claim passes",
            with_issuer(OidcIssuer {
                challenge_claim: "custom".into(),
                ..issuer(
                    "https://issuer.example.com",
                    IssuerType::Other("invalid".into()),
                )
            }),
            None,
        ),
        (
            "meta issuer without challenge claim",
            with_meta(
                "https://*.example.com",
                issuer("", IssuerType::Other("x".into())),
            ),
            Some(ConfigRule::MissingChallengeClaim),
        ),
        (
            "ca cert must parse",
            with_issuer(OidcIssuer {
                ca_cert: "not a certificate".into(),
                ..issuer("https://issuer.example.com", IssuerType::Email)
            }),
            Some(ConfigRule::CaCert),
        ),
        (
            "meta ca cert must parse",
            with_meta(
                "https://*.example.com",
                OidcIssuer {
                    ca_cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                        .into(),
                    ..issuer("", IssuerType::Kubernetes)
                },
            ),
            Some(ConfigRule::CaCert),
        ),
        (
            "ca cert ok",
            with_issuer(OidcIssuer {
                ca_cert: self_signed_pem(),
                ..issuer("https://issuer.example.com", IssuerType::Email)
            }),
            None,
        ),
        (
            "ci-provider needs its metadata",
            with_issuer(OidcIssuer {
                ci_provider: "nowhere".into(),
                ..issuer("https://ci.example.com", IssuerType::CiProvider)
            }),
            Some(ConfigRule::UnknownCiProvider("nowhere".into())),
        ),
        (
            "meta ci-provider needs its metadata",
            with_meta(
                "https://ci.example.com/*",
                OidcIssuer {
                    ci_provider: "nowhere".into(),
                    ..issuer("", IssuerType::CiProvider)
                },
            ),
            Some(ConfigRule::UnknownCiProvider("nowhere".into())),
        ),
    ];
    for (name, config, expected) in cases {
        assert_eq!(rule_of(&config), expected, "{name}");
    }
}

#[test]
fn broken_template_is_reported_with_its_field() {
    let mut config = with_issuer(OidcIssuer {
        ci_provider: "ci".into(),
        ..issuer("https://ci.example.com", IssuerType::CiProvider)
    });
    let mut metadata = IssuerMetadata::default();
    metadata.extension_templates.build_config_uri = "{{ .url }/x".into();
    config.ci_issuer_metadata.insert("ci".into(), metadata);
    match config.validate() {
        Err(ConfigError::Rule {
            entry,
            rule: ConfigRule::Template { field, .. },
        }) => {
            assert_eq!(entry, "ci");
            assert_eq!(field, "BuildConfigURI");
        }
        other => panic!("expected a template error, got {other:?}"),
    }

    let metadata = IssuerMetadata {
        subject_alternative_name_template: "{{ if .x }}".into(),
        ..IssuerMetadata::default()
    };
    config.ci_issuer_metadata.insert("ci".into(), metadata);
    assert!(matches!(
        rule_of(&config),
        Some(ConfigRule::Template {
            field: "SubjectAlternativeNameTemplate",
            ..
        })
    ));
}

#[test]
fn template_hook_sees_every_template_and_its_errors_surface() {
    let mut config = FulcioConfig::default();
    let mut metadata = IssuerMetadata::default();
    metadata.extension_templates.runner_environment = "runner".into();
    metadata.subject_alternative_name_template = "san".into();
    config.ci_issuer_metadata.insert("ci".into(), metadata);

    let seen = std::cell::RefCell::new(Vec::new());
    config
        .validate_templates_with(|t| {
            seen.borrow_mut().push(t.to_owned());
            Ok(())
        })
        .unwrap();
    // 22 extension fields (empty ones included, as upstream parses them all) + the SAN.
    assert_eq!(seen.borrow().len(), 23);
    assert!(seen.borrow().contains(&"runner".to_owned()));
    assert_eq!(seen.borrow().last().map(String::as_str), Some("san"));

    let err = config
        .validate_templates_with(|t| {
            if t == "runner" {
                Err("engine says no".into())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Rule { rule: ConfigRule::Template { field: "RunnerEnvironment", detail }, .. }
            if detail == "engine says no"
    ));
}

#[test]
fn default_challenge_claims() {
    let cases = [
        (IssuerType::Email, "email"),
        (IssuerType::Spiffe, "sub"),
        (IssuerType::Kubernetes, "sub"),
        (IssuerType::Uri, "sub"),
        (IssuerType::Username, "sub"),
        (IssuerType::GithubWorkflow, "sub"),
        (IssuerType::GitlabPipeline, "sub"),
        (IssuerType::BuildkiteJob, "sub"),
        (IssuerType::CodefreshWorkflow, "sub"),
        (IssuerType::ChainguardIdentity, "sub"),
        (IssuerType::CiProvider, "sub"),
        (IssuerType::Other("custom".into()), ""),
    ];
    for (issuer_type, claim) in cases {
        let mut config = issuer("https://x.example.com", issuer_type.clone());
        assert_eq!(config.challenge_claim(), claim, "{issuer_type}");
        config.challenge_claim = "explicit".into();
        assert_eq!(config.challenge_claim(), "explicit", "{issuer_type}");
    }
}

#[test]
fn issuer_type_strings_round_trip() {
    for name in [
        "email",
        "spiffe",
        "kubernetes",
        "uri",
        "username",
        "github-workflow",
        "gitlab-pipeline",
        "buildkite-job",
        "codefresh-workflow",
        "chainguard-identity",
        "ci-provider",
    ] {
        let parsed = IssuerType::parse(name);
        assert!(!matches!(parsed, IssuerType::Other(_)), "{name}");
        assert_eq!(parsed.to_string(), name);
        assert_eq!(name.parse::<IssuerType>(), Ok(parsed));
    }
    // Upstream compares type strings exactly.
    assert_eq!(
        IssuerType::parse("Email"),
        IssuerType::Other("Email".into())
    );
    assert_eq!(IssuerType::parse("").as_str(), "");
}

#[test]
fn builtin_default_has_the_three_issuers() {
    let config = FulcioConfig::builtin_default();
    assert_eq!(config.oidc_issuers.len(), 3);
    let dex = &config.oidc_issuers["https://oauth2.sigstore.dev/auth"];
    assert_eq!(dex.issuer_type, IssuerType::Email);
    assert_eq!(dex.issuer_claim, "$.federated_claims.connector_id");
    assert_eq!(dex.client_id, "sigstore");
    let google = &config.oidc_issuers["https://accounts.google.com"];
    assert_eq!(google.issuer_type, IssuerType::Email);
    assert_eq!(google.issuer_claim, "");
    let github = &config.oidc_issuers["https://token.actions.githubusercontent.com"];
    assert_eq!(github.issuer_type, IssuerType::GithubWorkflow);
    for (url, issuer) in &config.oidc_issuers {
        assert_eq!(&issuer.issuer_url, url);
        assert_eq!(issuer.client_id, "sigstore");
    }
    assert!(config.meta_issuers.is_empty());
}

#[test]
fn json_matches_keys_like_go_and_ignores_yaml_spelling() {
    let config = FulcioConfig::from_bytes(
        br#"{"oidcissuers": {"https://a.example.com": {
                "ISSUERURL": "https://a.example.com", "clientID": "x", "type": "email",
                "ClientId": "y", "challenge-claim": "ignored"}},
             "oidc-issuers": {"https://b.example.com": {}}}"#,
    )
    .unwrap();
    assert_eq!(config.oidc_issuers.len(), 1);
    let a = &config.oidc_issuers["https://a.example.com"];
    assert_eq!(a.issuer_url, "https://a.example.com");
    // Two keys naming one field: the later wins, as in Go.
    assert_eq!(a.client_id, "y");
    assert_eq!(a.challenge_claim, "");
}

#[test]
fn json_type_errors_are_reported_not_swallowed() {
    let err = FulcioConfig::from_bytes(br#"{"OIDCIssuers": {"https://a": {"ClientID": 5}}}"#)
        .unwrap_err();
    assert!(
        matches!(err, ConfigError::Parse(ref m) if m.starts_with("JSON")),
        "{err}"
    );
    let err = FulcioConfig::from_bytes(b"[1, 2]").unwrap_err();
    assert!(matches!(err, ConfigError::Parse(_)), "{err}");
}

#[test]
fn empty_documents_are_empty_configurations() {
    for input in [&b""[..], b"null", b"{}", b"---\n", b"# only a comment\n"] {
        let config = FulcioConfig::from_bytes(input).unwrap();
        assert_eq!(config, FulcioConfig::default(), "{input:?}");
    }
}

#[test]
fn yaml_scalars_and_nulls_become_strings_like_yaml_v3() {
    let config = FulcioConfig::from_bytes(
        b"oidc-issuers:\n  https://a.example.com:\n    issuer-url: https://a.example.com\n    \
          client-id: 0123\n    type: email\n    description:\n    skip-email-verification: true\n\
          ci-issuer-metadata:\n  p:\n    default-template-values:\n      n: 12\n      e:\n",
    )
    .unwrap();
    let a = &config.oidc_issuers["https://a.example.com"];
    assert_eq!(a.client_id, "0123");
    assert_eq!(a.description, "");
    assert!(a.skip_email_verification);
    let defaults = &config.ci_issuer_metadata["p"].default_template_values;
    assert_eq!(defaults["n"], "12");
    assert_eq!(defaults["e"], "");
}

#[test]
fn yaml_syntax_errors_are_parse_errors() {
    let err = FulcioConfig::from_bytes(b"oidc-issuers:\n  - [unclosed\n").unwrap_err();
    assert!(
        matches!(err, ConfigError::Parse(ref m) if m.starts_with("YAML")),
        "{err}"
    );
    let err = FulcioConfig::from_bytes(b"oidc-issuers:\n  a:\n    client-id: [1]\n").unwrap_err();
    assert!(matches!(err, ConfigError::Parse(_)), "{err}");
    let err = FulcioConfig::from_bytes(
        b"ci-issuer-metadata:\n  p:\n    extension-templates:\n      build-trigger: {a: 1}\n",
    )
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::Parse(ref m) if m.contains("BuildTrigger")),
        "{err}"
    );
}

#[test]
fn extension_fields_cover_every_field_once() {
    let mut ext = Extensions::default();
    let names: Vec<&str> = ext.fields().map(|(name, _)| name).collect();
    assert_eq!(names.len(), 22);
    for (i, name) in names.iter().enumerate() {
        *ext.field_mut(name).unwrap() = i.to_string();
    }
    // Each name reaches a distinct field.
    let values: Vec<String> = ext.fields().map(|(_, v)| v.to_owned()).collect();
    let expected: Vec<String> = (0..22).map(|i| i.to_string()).collect();
    assert_eq!(values, expected);
    assert_eq!(ext.build_signer_uri, "6");
    assert_eq!(ext.subject, "21");
    assert!(ext.field_mut("NoSuchField").is_none());
}

mod loading {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const YAML: &str = "oidc-issuers:\n  https://y.example.com:\n    issuer-url: https://y.example.com\n    client-id: sigstore\n    type: email\n";
    const JSON: &str = r#"{"OIDCIssuers": {"https://j.example.com": {"IssuerURL": "https://j.example.com", "ClientID": "sigstore", "Type": "email"}}}"#;

    #[test]
    fn default_yaml_path_is_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = write(dir.path(), "config.yaml", YAML);
        let json = write(dir.path(), "config.json", JSON);
        let (config, source) = load_with_fallbacks(&yaml, &yaml, &json).unwrap();
        assert_eq!(source, ConfigSource::File(yaml));
        assert!(config.oidc_issuers.contains_key("https://y.example.com"));
    }

    #[test]
    fn missing_default_yaml_falls_back_to_json() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("config.yaml");
        let json = write(dir.path(), "config.json", JSON);
        let (config, source) = load_with_fallbacks(&yaml, &yaml, &json).unwrap();
        assert_eq!(source, ConfigSource::File(json));
        assert!(config.oidc_issuers.contains_key("https://j.example.com"));
    }

    #[test]
    fn neither_file_gives_the_builtin_default() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("config.yaml");
        let json = dir.path().join("config.json");
        let (config, source) = load_with_fallbacks(&yaml, &yaml, &json).unwrap();
        assert_eq!(source, ConfigSource::BuiltinDefault);
        assert_eq!(config, FulcioConfig::builtin_default());
    }

    #[test]
    fn explicit_path_does_not_try_json_but_missing_means_default() {
        let dir = tempfile::tempdir().unwrap();
        let default_yaml = dir.path().join("config.yaml");
        let json = write(dir.path(), "config.json", JSON);
        let custom = dir.path().join("custom.yaml");
        let (config, source) = load_with_fallbacks(&custom, &default_yaml, &json).unwrap();
        // Upstream's config.Load: a missing file means the built-in issuers, whatever path.
        assert_eq!(source, ConfigSource::BuiltinDefault);
        assert_eq!(config, FulcioConfig::builtin_default());
    }

    #[test]
    fn an_invalid_file_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = write(
            dir.path(),
            "config.yaml",
            "oidc-issuers:\n  https://x:\n    type: nonsense\n",
        );
        let json = dir.path().join("config.json");
        let err = load_with_fallbacks(&yaml, &yaml, &json).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Rule {
                rule: ConfigRule::MissingChallengeClaim,
                ..
            }
        ));
    }

    #[test]
    fn load_reports_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = FulcioConfig::load(&dir.path().join("absent.yaml")).unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }));
    }
}
