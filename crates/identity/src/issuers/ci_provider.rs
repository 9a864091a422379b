//! `ci-provider` issuers (Fulcio spec §3.3): the SAN and extension values come from the
//! provider's templates in `CIIssuerMetadata`, rendered at certificate time over the token's
//! claims (stringified as upstream does) laid over the provider's default values.
//!
//! Rendering errors reach the client, so their texts follow upstream's.

use std::collections::BTreeMap;

use oidc::{Extensions, FulcioConfig, IssuerMetadata, VerifiedToken};
use serde_json::{Map, Value};

use super::{IssuerPrincipal, identity, parse_url, subject};
use crate::claims::Claims;
use crate::extensions::FIELDS;
use crate::template::Template;
use crate::{CertificateIdentity, IdentityError, SubjectAltName, go_fmt};

#[derive(Debug, Clone)]
pub(crate) struct CiProvider {
    subject: String,
    issuer: String,
    /// The template data (defaults overlaid by the stringified claims), built once from the
    /// token's claims rather than cloning the whole claim map.
    data: BTreeMap<String, String>,
    metadata: IssuerMetadata,
}

impl CiProvider {
    pub(crate) fn from_token(
        token: &VerifiedToken,
        config: &FulcioConfig,
    ) -> Result<Self, IdentityError> {
        let subject = subject(token)?;
        let provider = &token.config.ci_provider;
        let Some(metadata) = config.ci_issuer_metadata.get(provider) else {
            return Err(IdentityError::Claims(format!(
                "metadata not found for ci provider {provider}, issuer: {}",
                token.issuer
            )));
        };
        Ok(Self {
            subject,
            issuer: token.issuer.clone(),
            data: template_data(&metadata.default_template_values, &token.claims),
            metadata: metadata.clone(),
        })
    }

    /// Renders one template (or copies one claim) with upstream's error texts.
    fn render(
        &self,
        template: &str,
        data: &BTreeMap<String, String>,
        field: &str,
    ) -> Result<String, IdentityError> {
        if template.contains("{{") {
            return Template::parse(template)
                .and_then(|t| t.execute(data))
                .map_err(IdentityError::Embed);
        }
        match data.get(template) {
            Some(value) => Ok(value.clone()),
            None => Err(IdentityError::Embed(format!(
                "value <{template}> not present in either claims or defaults. {}",
                error_context(field, &self.issuer)
            ))),
        }
    }
}

impl IssuerPrincipal for CiProvider {
    fn name(&self) -> &str {
        &self.subject
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        let data = &self.data;
        let san_template = &self.metadata.subject_alternative_name_template;
        if san_template.trim().is_empty() {
            return Err(IdentityError::Embed(format!(
                "SubjectAlternativeNameTemplate should not be empty. Issuer: {}",
                self.issuer
            )));
        }
        let san = self.render(san_template, data, "SubjectAlternativeName")?;
        let san = parse_url(&san)?.to_go_string();

        let templates = &self.metadata.extension_templates;
        let mut values = Extensions::default();
        // `Issuer` and `Subject` always come from the token, whatever the templates say.
        for field in FIELDS
            .iter()
            .filter(|f| !matches!(f.go_name, "Issuer" | "Subject"))
        {
            let template = (field.get)(templates);
            if template.trim().is_empty() {
                continue;
            }
            *(field.get_mut)(&mut values) = self.render(template, data, field.go_name)?;
        }
        values.issuer.clone_from(&self.issuer);
        values.subject.clone_from(&self.subject);
        identity(SubjectAltName::Uri(san), values)
    }
}

/// Template data: the provider's defaults, overlaid by every claim stringified (claims win).
fn template_data(
    defaults: &BTreeMap<String, String>,
    claims: &Map<String, Value>,
) -> BTreeMap<String, String> {
    let mut data = defaults.clone();
    for (name, value) in Claims::new(claims).entries() {
        data.insert(name.clone(), go_fmt::claim_string(value));
    }
    data
}

/// The JSON object upstream appends to "value not present" errors, indented with tabs and
/// with Go's HTML-safe string escaping.
fn error_context(field: &str, issuer: &str) -> String {
    format!(
        "{{\n\t\"ExtensionName\": {},\n\t\"Issuer\": {}\n}}",
        go_json_string(field),
        go_json_string(issuer)
    )
}

/// A JSON string as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028, U+2029 escaped).
fn go_json_string(s: &str) -> String {
    let plain = Value::String(s.to_owned()).to_string();
    let mut out = String::with_capacity(plain.len());
    for c in plain.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Upstream's `applyTemplateOrReplace` vectors: claims and defaults as in its unit test.
    fn principal() -> CiProvider {
        let claims = json!({
            "aud": "sigstore",
            "event_name": "push",
            "exp": "0",
            "iss": "https://token.actions.githubusercontent.com",
            "job_workflow_ref": "sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main",
            "repository": "sigstore/fulcio",
            "run_attempt": "1",
            "run_id": "42",
            "sub": "repo:sigstore/fulcio:ref:refs/heads/main",
            "ref_type": "branch",
            "ref_gitlab": "main",
            "ref_type_tag": "tag",
            "ref_tag": "1.0.0",
            "html_claim": "<alert()/>",
            "claim_foo": "bar",
            "with.dot.and/slash": "cat",
        });
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        let defaults = [
            ("url", "https://github.com"),
            ("claim_foo", "default"),
            ("default_foo", "default_bar"),
            ("empty_value", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        CiProvider {
            subject: "repo:sigstore/fulcio:ref:refs/heads/main".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            data: template_data(&defaults, &claims),
            metadata: IssuerMetadata {
                default_template_values: defaults,
                ..IssuerMetadata::default()
            },
        }
    }

    #[test]
    fn apply_template_or_replace() {
        let p = principal();
        let data = &p.data;
        let ok = [
            (
                "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}",
                "https://github.com/sigstore/fulcio/actions/runs/42/attempts/1",
            ),
            ("{{ .html_claim }}", "<alert()/>"),
            (
                "job_workflow_ref",
                "sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main",
            ),
            (
                r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref_gitlab }}"#,
                "refs/heads/main",
            ),
            (
                r#"refs/{{if eq .ref_type_tag "branch"}}heads/{{ else }}tags/{{end}}{{ .ref_tag }}"#,
                "refs/tags/1.0.0",
            ),
            (
                r#"{{ .aud }}/{{(index . "with.dot.and/slash")}}"#,
                "sigstore/cat",
            ),
            ("default_foo", "default_bar"),
            ("claim_foo", "bar"),
            ("empty_value", ""),
            ("{{ .empty_value }}", ""),
            ("{{ .empty_value }}/123", "/123"),
        ];
        for (template, want) in ok {
            assert_eq!(
                p.render(template, data, "BuildSignerURI").as_deref(),
                Ok(want),
                "{template}"
            );
        }
        for template in [
            "{{}}",
            "{{ .foo }}",
            "",
            "bar",
            r#"{{if eq . ""}}foo{{else}}bar{{end}}"#,
        ] {
            assert!(
                matches!(
                    p.render(template, data, "BuildSignerURI"),
                    Err(IdentityError::Embed(_))
                ),
                "{template}"
            );
        }
    }

    #[test]
    fn missing_claim_error_names_the_field_and_issuer() {
        let p = principal();
        let data = &p.data;
        assert_eq!(
            p.render("bar", data, "BuildSignerURI"),
            Err(IdentityError::Embed(
                "value <bar> not present in either claims or defaults. {\n\t\"ExtensionName\": \"BuildSignerURI\",\n\t\"Issuer\": \"https://token.actions.githubusercontent.com\"\n}"
                    .into()
            ))
        );
        assert_eq!(go_json_string("a<b>&c\"d"), r#""a\u003cb\u003e\u0026c\"d""#);
    }
}
