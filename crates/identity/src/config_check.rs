//! The checks of an identity configuration that need this crate's parsers (Fulcio spec §3.1):
//! every ci-provider template must parse, and every `IssuerClaim` must be a JSONPath of the
//! supported subset. `oidc` validates the rest at load time; it cannot call these itself
//! because this crate depends on it.

use oidc::{ConfigError, FulcioConfig};

use crate::{validate_issuer_claim, validate_template};

/// Runs the template and `IssuerClaim` checks over `config`; the first failure is returned
/// naming the entry, so a bad configuration stops the server at start-up rather than failing
/// every token of that issuer.
pub fn validate_config(config: &FulcioConfig) -> Result<(), ConfigError> {
    config.validate_templates_with(|template| {
        validate_template(template).map_err(|err| err.to_string())
    })?;
    let issuers = config.oidc_issuers.iter().chain(config.meta_issuers.iter());
    for (url, issuer) in issuers {
        if issuer.issuer_claim.is_empty() {
            continue;
        }
        validate_issuer_claim(&issuer.issuer_claim).map_err(|err| {
            ConfigError::Invalid(format!(
                "issuer {url:?}: IssuerClaim {:?}: {err}",
                issuer.issuer_claim
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use oidc::{IssuerMetadata, IssuerType, OidcIssuer};

    use super::*;

    fn email_issuer(claim: &str) -> OidcIssuer {
        OidcIssuer {
            issuer_url: "https://issuer.example.com".into(),
            client_id: "sigstore".into(),
            issuer_type: IssuerType::Email,
            issuer_claim: claim.into(),
            ..OidcIssuer::default()
        }
    }

    #[test]
    fn accepts_supported_issuer_claim_and_templates() {
        let mut config = FulcioConfig::default();
        config.oidc_issuers.insert(
            "https://issuer.example.com".into(),
            email_issuer("$.federated_claims.connector_id"),
        );
        let metadata = IssuerMetadata {
            subject_alternative_name_template: "{{ .url }}/{{ .repository }}".into(),
            ..IssuerMetadata::default()
        };
        config
            .ci_issuer_metadata
            .insert("github-workflow".into(), metadata);
        validate_config(&config).expect("valid configuration");
    }

    #[test]
    fn refuses_unsupported_issuer_claim() {
        let mut config = FulcioConfig::default();
        config.oidc_issuers.insert(
            "https://issuer.example.com".into(),
            email_issuer("$..connector_id"),
        );
        let err = validate_config(&config).expect_err("recursive descent is unsupported");
        assert!(err.to_string().contains("IssuerClaim"), "{err}");
    }

    #[test]
    fn refuses_template_that_does_not_parse() {
        let mut config = FulcioConfig::default();
        let metadata = IssuerMetadata {
            extension_templates: oidc::Extensions {
                build_signer_uri: "{{ .url | printf }}".into(),
                ..oidc::Extensions::default()
            },
            ..IssuerMetadata::default()
        };
        config.ci_issuer_metadata.insert("broken".into(), metadata);
        let err = validate_config(&config).expect_err("pipes are unsupported");
        assert!(err.to_string().contains("broken"), "{err}");
    }
}
