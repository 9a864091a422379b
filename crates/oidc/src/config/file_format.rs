//! Reading the two spellings of the configuration file (Fulcio spec §3.1).
//!
//! Both formats go through one set of serde "wire" structs named in YAML's kebab-case. JSON
//! keys are first renamed to those names with Go `encoding/json`'s rules (exact or
//! case-insensitive match of the PascalCase name; keys naming no field are dropped), so both
//! formats end in the same place.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{EXTENSION_FIELDS, Extensions, FulcioConfig, IssuerMetadata, IssuerType, OidcIssuer};
use crate::error::ConfigError;

/// Parses `bytes` as JSON if it is JSON, else as YAML (no validation).
pub(super) fn parse(bytes: &[u8]) -> Result<FulcioConfig, ConfigError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => parse_json(value),
        Err(_) => parse_yaml(bytes),
    }
}

fn parse_json(value: Value) -> Result<FulcioConfig, ConfigError> {
    let wire = match value {
        // Go's json.Unmarshal of `null` into a struct succeeds and leaves it empty.
        Value::Null => WireConfig::default(),
        Value::Object(top) => {
            let normalized = rename_keys(top, TOP_LEVEL);
            serde_json::from_value(Value::Object(normalized))
                .map_err(|e| ConfigError::Parse(format!("JSON: {e}")))?
        }
        other => {
            return Err(ConfigError::Parse(format!(
                "JSON: expected an object at the top level, found {}",
                json_kind(&other)
            )));
        }
    };
    wire.into_config()
}

fn parse_yaml(bytes: &[u8]) -> Result<FulcioConfig, ConfigError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ConfigError::Parse(format!("neither JSON nor UTF-8 YAML: {e}")))?;
    let wire: Option<WireConfig> = parse_yaml_libyaml_compatible(text)?;
    wire.unwrap_or_default().into_config()
}

/// Upper bound on alias re-spellings, so a hostile file cannot make us loop for long.
const MAX_ALIAS_FIXES: usize = 1000;

/// Deserializes YAML, accepting aliases written directly before a `:` as Go's YAML library
/// (libyaml's scanner) does.
///
/// In libyaml an anchor or alias name is `[A-Za-z0-9_-]+`, so `*github-type:` is the alias
/// `github-type` used as a mapping key; upstream's public-good file relies on that. YAML 1.2,
/// which serde-saphyr follows, lets names contain `:`, so it reads an alias named
/// `github-type:` and reports an unknown anchor. We let the parser find exactly those
/// aliases: on an unknown-anchor error at `*name:`, a space is inserted before the `:` and the
/// text is parsed again. Valid YAML 1.2 input is never rewritten.
fn parse_yaml_libyaml_compatible<T>(text: &str) -> Result<T, ConfigError>
where
    T: for<'de> Deserialize<'de>,
{
    let mut text = std::borrow::Cow::Borrowed(text);
    let mut first_error = None;
    for _ in 0..MAX_ALIAS_FIXES {
        let options = serde_saphyr::options! { with_snippet: false };
        match serde_saphyr::from_str_with_options::<T>(&text, options) {
            Ok(value) => return Ok(value),
            Err(error) => {
                let fix = unresolved_alias_before_colon(&text, &error);
                let message = first_error.get_or_insert_with(|| error.to_string());
                match fix {
                    Some(offset) => text.to_mut().insert(offset, ' '),
                    None => return Err(ConfigError::Parse(format!("YAML: {message}"))),
                }
            }
        }
    }
    Err(ConfigError::Parse(format!(
        "YAML: {}",
        first_error.unwrap_or_default()
    )))
}

/// If `error` points at an alias spelled `*name:` with a libyaml-valid `name`, the byte offset
/// of that `:`. The parser reports such an alias either as an unknown anchor or, when it is a
/// key, as a simple key lacking its `:`; both point at the `*`.
fn unresolved_alias_before_colon(text: &str, error: &serde_saphyr::Error) -> Option<usize> {
    let location = error.location()?;
    let start = byte_offset(text, location.line(), location.column())?;
    let rest = text.get(start..)?.strip_prefix('*')?;
    let name_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .count();
    (name_len > 0 && rest[name_len..].starts_with(':')).then_some(start + 1 + name_len)
}

/// Byte offset of a 1-based (line, character column) position.
fn byte_offset(text: &str, line: u64, column: u64) -> Option<usize> {
    let line_index = usize::try_from(line.checked_sub(1)?).ok()?;
    let column_index = usize::try_from(column.checked_sub(1)?).ok()?;
    let mut line_start = 0;
    for _ in 0..line_index {
        line_start += text.get(line_start..)?.find('\n')? + 1;
    }
    let line_text = text.get(line_start..)?;
    let within = line_text.char_indices().nth(column_index).map(|(i, _)| i)?;
    Some(line_start + within)
}

/// How the value under a known key is shaped, to know where to keep renaming keys.
#[derive(Clone, Copy)]
enum Shape {
    /// A scalar, or a map whose keys are data (issuer URLs, template value names).
    Leaf,
    /// A map from data keys to issuer objects.
    IssuerMap,
    /// A map from provider names to metadata objects.
    MetadataMap,
    /// The extension templates object.
    Extensions,
}

/// `(JSON name, YAML name, shape)` of each field of a level.
type Fields = &'static [(&'static str, &'static str, Shape)];

const TOP_LEVEL: Fields = &[
    ("OIDCIssuers", "oidc-issuers", Shape::IssuerMap),
    ("MetaIssuers", "meta-issuers", Shape::IssuerMap),
    ("CIIssuerMetadata", "ci-issuer-metadata", Shape::MetadataMap),
];

const ISSUER: Fields = &[
    ("IssuerURL", "issuer-url", Shape::Leaf),
    ("ClientID", "client-id", Shape::Leaf),
    ("Type", "type", Shape::Leaf),
    ("CIProvider", "ci-provider", Shape::Leaf),
    ("IssuerClaim", "issuer-claim", Shape::Leaf),
    ("SubjectDomain", "subject-domain", Shape::Leaf),
    ("SPIFFETrustDomain", "spiffe-trust-domain", Shape::Leaf),
    ("ChallengeClaim", "challenge-claim", Shape::Leaf),
    ("Description", "description", Shape::Leaf),
    ("Contact", "contact", Shape::Leaf),
    ("Environment", "environment", Shape::Leaf),
    ("CACert", "ca-cert", Shape::Leaf),
    (
        "SkipEmailVerification",
        "skip-email-verification",
        Shape::Leaf,
    ),
];

const METADATA: Fields = &[
    (
        "DefaultTemplateValues",
        "default-template-values",
        Shape::Leaf,
    ),
    (
        "ExtensionTemplates",
        "extension-templates",
        Shape::Extensions,
    ),
    (
        "SubjectAlternativeNameTemplate",
        "subject-alternative-name-template",
        Shape::Leaf,
    ),
];

/// Renames the keys of one JSON object level to the YAML names, recursing into known
/// sub-objects. Keys that name no field are dropped (Go ignores them); when two keys name
/// the same field the later one wins, as in Go.
fn rename_keys(object: Map<String, Value>, fields: Fields) -> Map<String, Value> {
    let mut renamed = Map::new();
    for (key, value) in object {
        let Some(&(_, yaml, shape)) = fields
            .iter()
            .find(|(json, _, _)| go_json_key_matches(json, &key))
        else {
            continue;
        };
        renamed.insert(yaml.to_owned(), rename_value(value, shape));
    }
    renamed
}

fn rename_value(value: Value, shape: Shape) -> Value {
    let Value::Object(object) = value else {
        // Wrong types are left for serde to report.
        return value;
    };
    match shape {
        Shape::Leaf => Value::Object(object),
        Shape::IssuerMap => Value::Object(rename_entries(object, ISSUER)),
        Shape::MetadataMap => Value::Object(rename_entries(object, METADATA)),
        Shape::Extensions => {
            let mut renamed = Map::new();
            for (key, value) in object {
                if let Some(field) = EXTENSION_FIELDS
                    .iter()
                    .find(|f| go_json_key_matches(f.json, &key))
                {
                    renamed.insert(field.yaml.to_owned(), value);
                }
            }
            Value::Object(renamed)
        }
    }
}

/// A map whose keys are data and whose values are objects of `fields`.
fn rename_entries(map: Map<String, Value>, fields: Fields) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Object(object) => Value::Object(rename_keys(object, fields)),
                other => other,
            };
            (key, value)
        })
        .collect()
}

/// Go's `encoding/json` field matching: equal under Unicode simple case folding. Our field
/// names are ASCII, so besides ASCII case only U+212A KELVIN SIGN (folds to `k`) and
/// U+017F LATIN SMALL LETTER LONG S (folds to `s`) can match.
fn go_json_key_matches(field: &str, key: &str) -> bool {
    let fold = |c: char| match c {
        '\u{212A}' => 'k',
        '\u{017F}' => 's',
        c => c.to_ascii_lowercase(),
    };
    let mut key_chars = key.chars().map(fold);
    for expected in field.chars().map(fold) {
        if key_chars.next() != Some(expected) {
            return false;
        }
    }
    key_chars.next().is_none()
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// Wire structs. Every field is optional and `null` means absent, as Go leaves a field at its
// zero value for a missing key or a null.

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct WireConfig {
    oidc_issuers: Option<BTreeMap<String, Option<WireIssuer>>>,
    meta_issuers: Option<BTreeMap<String, Option<WireIssuer>>>,
    ci_issuer_metadata: Option<BTreeMap<String, Option<WireMetadata>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct WireIssuer {
    issuer_url: Option<String>,
    client_id: Option<String>,
    #[serde(rename = "type")]
    issuer_type: Option<String>,
    ci_provider: Option<String>,
    issuer_claim: Option<String>,
    subject_domain: Option<String>,
    spiffe_trust_domain: Option<String>,
    challenge_claim: Option<String>,
    description: Option<String>,
    contact: Option<String>,
    environment: Option<String>,
    ca_cert: Option<String>,
    skip_email_verification: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct WireMetadata {
    default_template_values: Option<BTreeMap<String, Option<String>>>,
    extension_templates: Option<BTreeMap<String, TemplateValue>>,
    subject_alternative_name_template: Option<String>,
}

/// A value in `extension-templates`: keys naming no extension are ignored whatever their
/// value, so anything is accepted here and checked once the key is known.
#[derive(Debug)]
enum TemplateValue {
    Text(String),
    Absent,
    NotAString(&'static str),
}

impl<'de> Deserialize<'de> for TemplateValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TemplateValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a template string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Text(v.to_owned()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Text(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Text(v.to_string()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Absent)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<TemplateValue, E> {
                Ok(TemplateValue::Absent)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<TemplateValue, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(TemplateValue::NotAString("a sequence"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TemplateValue, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(TemplateValue::NotAString("a mapping"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl WireConfig {
    fn into_config(self) -> Result<FulcioConfig, ConfigError> {
        let issuers = |map: Option<BTreeMap<String, Option<WireIssuer>>>| {
            map.unwrap_or_default()
                .into_iter()
                .map(|(key, issuer)| (key, issuer.unwrap_or_default().into_issuer()))
                .collect::<BTreeMap<_, _>>()
        };
        let mut ci_issuer_metadata = BTreeMap::new();
        for (name, metadata) in self.ci_issuer_metadata.unwrap_or_default() {
            let metadata = metadata.unwrap_or_default().into_metadata(&name)?;
            ci_issuer_metadata.insert(name, metadata);
        }
        Ok(FulcioConfig {
            oidc_issuers: issuers(self.oidc_issuers),
            meta_issuers: issuers(self.meta_issuers),
            ci_issuer_metadata,
        })
    }
}

impl WireIssuer {
    fn into_issuer(self) -> OidcIssuer {
        OidcIssuer {
            issuer_url: self.issuer_url.unwrap_or_default(),
            client_id: self.client_id.unwrap_or_default(),
            // A missing type is Go's empty string, which is no known type (not `email`).
            issuer_type: IssuerType::parse(self.issuer_type.as_deref().unwrap_or("")),
            ci_provider: self.ci_provider.unwrap_or_default(),
            issuer_claim: self.issuer_claim.unwrap_or_default(),
            subject_domain: self.subject_domain.unwrap_or_default(),
            spiffe_trust_domain: self.spiffe_trust_domain.unwrap_or_default(),
            challenge_claim: self.challenge_claim.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            contact: self.contact.unwrap_or_default(),
            environment: self.environment.unwrap_or_default(),
            ca_cert: self.ca_cert.unwrap_or_default(),
            skip_email_verification: self.skip_email_verification.unwrap_or_default(),
        }
    }
}

impl WireMetadata {
    fn into_metadata(self, provider: &str) -> Result<IssuerMetadata, ConfigError> {
        let mut extension_templates = Extensions::default();
        for (key, value) in self.extension_templates.unwrap_or_default() {
            let Some(field) = EXTENSION_FIELDS.iter().find(|f| f.yaml == key) else {
                continue;
            };
            match value {
                TemplateValue::Text(text) => *(field.get_mut)(&mut extension_templates) = text,
                TemplateValue::Absent => {}
                TemplateValue::NotAString(kind) => {
                    return Err(ConfigError::Parse(format!(
                        "ci-issuer-metadata {provider:?}: extension template {} is {kind}, \
                         not a string",
                        field.json
                    )));
                }
            }
        }
        Ok(IssuerMetadata {
            default_template_values: self
                .default_template_values
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
            extension_templates,
            subject_alternative_name_template: self
                .subject_alternative_name_template
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_matching_folds_case_and_the_two_special_letters() {
        assert!(go_json_key_matches("ClientID", "ClientID"));
        assert!(go_json_key_matches("ClientID", "clientid"));
        assert!(go_json_key_matches("CIProvider", "CiProvider"));
        assert!(go_json_key_matches(
            "SkipEmailVerification",
            "ſkipemailverification"
        ));
        assert!(go_json_key_matches("Type", "TYPE"));
        assert!(!go_json_key_matches("ClientID", "client-id"));
        assert!(!go_json_key_matches("ClientID", "ClientIDs"));
        assert!(!go_json_key_matches("ClientID", "Client"));
    }

    #[test]
    fn byte_offset_counts_characters_within_the_line() {
        let text = "a: 1\nbé: *x\n";
        assert_eq!(byte_offset(text, 1, 1), Some(0));
        assert_eq!(byte_offset(text, 2, 5), Some(5 + 5));
        assert_eq!(&text[byte_offset(text, 2, 5).unwrap_or(0)..], "*x\n");
        assert_eq!(byte_offset(text, 9, 1), None);
        assert_eq!(byte_offset(text, 0, 1), None);
    }

    #[test]
    fn alias_directly_before_colon_is_a_key_as_in_libyaml() {
        let text = "define:\n  - &gh x\n  - &gl y\nm:\n  *gh: 1\n  *gl: 2\n  k: *gh\n";
        let value: Value = parse_yaml_libyaml_compatible(text).unwrap();
        assert_eq!(value["m"], serde_json::json!({"x": 1, "y": 2, "k": "x"}));
    }

    #[test]
    fn genuinely_unknown_alias_is_still_an_error() {
        let err = parse_yaml_libyaml_compatible::<Value>("m:\n  *nope: 1\n").unwrap_err();
        assert!(matches!(err, ConfigError::Parse(m) if m.contains("line 2")));
    }

    #[test]
    fn quoted_text_that_looks_like_an_alias_is_untouched() {
        let text = "a: &gh x\nb: '*gh: y'\nc: \"*gh: z\"\n";
        let value: Value = parse_yaml_libyaml_compatible(text).unwrap();
        assert_eq!(value["b"], "*gh: y");
        assert_eq!(value["c"], "*gh: z");
    }
}
