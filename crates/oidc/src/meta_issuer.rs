//! Issuer look-up by a token's `iss` (Fulcio spec §3.2.2): exact match against the concrete
//! issuers, then the wildcard patterns of the meta-issuers.

use std::collections::BTreeMap;

use regex::Regex;

use crate::config::{FulcioConfig, OidcIssuer};
use crate::error::{ConfigError, ConfigRule};

/// The regular expression of a meta-issuer pattern: everything quoted, each `*` standing for
/// one or more of `[-_a-zA-Z0-9]` (so never `.` or `/`), anchored at both ends. The anchors
/// are the fix for GHSA-59jp-pj84-45mr, where `http://attacker?x=https://…` matched.
pub fn meta_regex(pattern: &str) -> Result<Regex, regex::Error> {
    let quoted = regex::escape(pattern).replace(r"\*", "[-_a-zA-Z0-9]+");
    Regex::new(&format!("^{quoted}$"))
}

/// How an issuer was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerMatchKind {
    /// A key of `OIDCIssuers` equal to `iss`.
    Exact,
    /// The meta-issuer with this pattern.
    Meta(String),
}

/// The configuration that applies to a token's `iss`.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerMatch {
    /// The issuer's configuration; for a meta-issuer a copy with `issuer_url` set to `iss`.
    pub config: OidcIssuer,
    /// Which entry matched.
    pub kind: IssuerMatchKind,
}

/// The issuers of a configuration with meta-issuer patterns compiled once.
#[derive(Debug, Clone)]
pub struct IssuerIndex {
    exact: BTreeMap<String, OidcIssuer>,
    /// In pattern order, so the first match is deterministic (Go's map order is random).
    meta: Vec<(String, Regex, OidcIssuer)>,
}

impl IssuerIndex {
    /// Compiles the meta-issuer patterns of `config`.
    pub fn new(config: &FulcioConfig) -> Result<Self, ConfigError> {
        let meta = config
            .meta_issuers
            .iter()
            .map(|(pattern, issuer)| {
                let regex = meta_regex(pattern).map_err(|e| ConfigError::Rule {
                    entry: pattern.clone(),
                    rule: ConfigRule::MetaPattern(e.to_string()),
                })?;
                Ok((pattern.clone(), regex, issuer.clone()))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(IssuerIndex {
            exact: config.oidc_issuers.clone(),
            meta,
        })
    }

    /// Finds the configuration for `iss`: exact match first, then the meta-issuers.
    pub fn find(&self, iss: &str) -> Option<IssuerMatch> {
        if let Some(config) = self.exact.get(iss) {
            return Some(IssuerMatch {
                config: config.clone(),
                kind: IssuerMatchKind::Exact,
            });
        }
        let (pattern, _, config) = self.meta.iter().find(|(_, re, _)| re.is_match(iss))?;
        Some(IssuerMatch {
            config: OidcIssuer {
                issuer_url: iss.to_owned(),
                ..config.clone()
            },
            kind: IssuerMatchKind::Meta(pattern.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Patterns of the public-good configuration with hits and near misses, in the shape of
    /// upstream's TestMetaURLs (our own table).
    #[test]
    fn meta_patterns_match_and_miss() {
        struct Case {
            pattern: &'static str,
            matches: &'static [&'static str],
            misses: &'static [&'static str],
        }
        let cases = [
            Case {
                pattern: "https://oidc.eks.*.amazonaws.com/id/*",
                matches: &[
                    "https://oidc.eks.eu-central-1.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9",
                ],
                misses: &[
                    // A wildcard never spans a dot...
                    "https://oidc.eks.eu.central.1.amazonaws.com/id/0A1B2C3D4E5F6071",
                    // ...nor a slash.
                    "https://oidc.eks.eu-central/1.amazonaws.com/id/0A1B2C3D/4E5F6071",
                    // The wildcard needs at least one character.
                    "https://oidc.eks..amazonaws.com/id/0A1B",
                    // Unanchored matches inside another URL (GHSA-59jp-pj84-45mr).
                    "http://127.0.0.1:9999?iss=https://oidc.eks.eu-central-1.amazonaws.com/id/0A1B",
                    "http://127.0.0.1:9999/go/https://oidc.eks.eu-central-1.amazonaws.com/id/0A1B",
                    "https://oidc.eks.eu-central-1.amazonaws.com/id/0A1B?x=y",
                    "https://oidc.eks.eu-central-1.amazonaws.com/id/0A1B#frag",
                    // A quoted dot is a dot, not "any character".
                    "https://oidcXeks.eu-central-1.amazonaws.com/id/0A1B",
                ],
            },
            Case {
                pattern: "https://container.googleapis.com/v1/projects/*/locations/*/clusters/*",
                matches: &[
                    "https://container.googleapis.com/v1/projects/my-proj_1/locations/europe-west4-a/clusters/build",
                ],
                misses: &[
                    "https://container.googleapis.com/v1/projects/my-proj/locations/europe.west4.a/clusters/build",
                    "https://container.googleapis.com/v1/projects/my-proj/locations/europe-west4-a/clusters/build/",
                    "https://evil.example/?https://container.googleapis.com/v1/projects/p/locations/l/clusters/c",
                    "https://evil.example/https://container.googleapis.com/v1/projects/p/locations/l/clusters/c",
                ],
            },
            Case {
                pattern: "https://*.oic.prod-aks.azure.com/*/*",
                matches: &[
                    "https://westeurope.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000",
                ],
                misses: &[
                    // Trailing slash belongs to the other pattern.
                    "https://westeurope.oic.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000/",
                    "https://westeurope.oic.prod.aks.azure.com/11111111/66666666",
                    "https://westeurope/oic.prod-aks.azure.com/11111111/66666666",
                    "https://westeurope.oic.prod-aks.azure.com/11111111",
                    "http://127.0.0.1?iss=https://westeurope.oic.prod-aks.azure.com/11111111/66666666",
                ],
            },
            Case {
                pattern: "https://*.oic.prod-aks.azure.com/*/*/",
                matches: &[
                    "https://westeurope.oic.prod-aks.azure.com/11111111-2222/66666666-7777/",
                ],
                misses: &[
                    "https://westeurope.oic.prod-aks.azure.com/11111111-2222/66666666-7777",
                    "https://westeurope.oic.prod-aks.azure.com/11111111-2222/66666666-7777//",
                ],
            },
            Case {
                pattern: "https://oidc.prod-aks.azure.com/*",
                matches: &["https://oidc.prod-aks.azure.com/11111111-2222-3333-4444-555555555555"],
                misses: &[
                    "https://oidc.prod-aks.azure.com/11111111-2222-3333-4444-555555555555/",
                    "https://oidc.prod-aks.azure.com/11111111/extra",
                    "https://oidc.prod-aks.azure.com/",
                ],
            },
            Case {
                pattern: "https://oidc.circleci.com/org/*",
                matches: &[
                    "https://oidc.circleci.com/org/some-org",
                    "https://oidc.circleci.com/org/4242",
                ],
                misses: &[
                    "https://oidc.circleci.com/org/some-org/project",
                    "https://oidc.circleci.com/org/",
                    "http://127.0.0.1?issuer=https://oidc.circleci.com/org/some-org",
                ],
            },
            Case {
                pattern: "https://token.actions.githubusercontent.com/*",
                matches: &["https://token.actions.githubusercontent.com/acme-enterprise"],
                misses: &[
                    "https://token.actions.githubusercontent.com/acme-enterprise/more",
                    "https://token.actions.githubusercontent.com",
                    "https://token.actions.githubusercontent.com.evil.example/acme",
                    "https://token.actions.githubusercontent.com/acme enterprise",
                ],
            },
        ];
        for case in cases {
            let re = meta_regex(case.pattern).unwrap();
            for hit in case.matches {
                assert!(re.is_match(hit), "{} should match {hit}", case.pattern);
            }
            for miss in case.misses {
                assert!(
                    !re.is_match(miss),
                    "{} should not match {miss}",
                    case.pattern
                );
            }
        }
    }

    #[test]
    fn regex_metacharacters_in_patterns_are_literal() {
        let re = meta_regex("https://a.example/(x|y)+?/*").unwrap();
        assert!(re.is_match("https://a.example/(x|y)+?/z"));
        assert!(!re.is_match("https://a.example/xxx/z"));
    }

    #[test]
    fn exact_match_wins_over_meta() {
        let mut config = FulcioConfig::default();
        let exact = OidcIssuer {
            issuer_url: "https://token.actions.githubusercontent.com/special".into(),
            client_id: "exact".into(),
            ..OidcIssuer::default()
        };
        config
            .oidc_issuers
            .insert(exact.issuer_url.clone(), exact.clone());
        config.meta_issuers.insert(
            "https://token.actions.githubusercontent.com/*".into(),
            OidcIssuer {
                client_id: "meta".into(),
                ..OidcIssuer::default()
            },
        );
        let index = IssuerIndex::new(&config).unwrap();
        let found = index.find(&exact.issuer_url).unwrap();
        assert_eq!(found.kind, IssuerMatchKind::Exact);
        assert_eq!(found.config, exact);

        let found = index
            .find("https://token.actions.githubusercontent.com/other")
            .unwrap();
        assert_eq!(
            found.kind,
            IssuerMatchKind::Meta("https://token.actions.githubusercontent.com/*".into())
        );
        assert_eq!(found.config.client_id, "meta");
        assert_eq!(
            found.config.issuer_url,
            "https://token.actions.githubusercontent.com/other"
        );
        assert!(index.find("https://unknown.example").is_none());
        assert_eq!(
            config.find_issuer("https://token.actions.githubusercontent.com/other"),
            Some(found.config)
        );
    }
}
