//! `IssuerClaim`: a JSONPath into the token payload whose value replaces `iss` in the
//! certificate of an email identity (Fulcio spec §3.1, §3.3; Dex federation uses
//! `$.federated_claims.connector_id`).
//!
//! Upstream evaluates a full JSONPath implementation; configurations only ever use a path of
//! member names from the root. This subset accepts `$`, `.name`, `["name"]`, `['name']` and
//! `[index]`, and rejects everything else (wildcards, recursive descent, filters, slices,
//! unions) with a message saying so.

use serde_json::{Map, Value};

use crate::{IdentityError, go_fmt};

/// A parsed `IssuerClaim` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimPath {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(i64),
}

/// Checks that an `IssuerClaim` JSONPath is in the supported subset (Fulcio spec §3.1), so a
/// configuration using anything else fails at load time rather than on every token.
pub fn validate_issuer_claim(path: &str) -> Result<(), IdentityError> {
    ClaimPath::parse(path)
        .map(|_| ())
        .map_err(IdentityError::Config)
}

impl ClaimPath {
    pub(crate) fn parse(path: &str) -> Result<Self, String> {
        let unsupported = |what: &str| {
            format!(
                "issuer claim {}: {what} is not supported",
                go_fmt::quote(path)
            )
        };
        let Some(mut rest) = path.strip_prefix('$') else {
            return Err(unsupported("a path not starting at the root ($)"));
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if rest.starts_with("..") {
                return Err(unsupported("recursive descent (..)"));
            } else if let Some(after) = rest.strip_prefix('.') {
                let len = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let name = &after[..len];
                if name.is_empty() {
                    return Err(if after.starts_with('*') {
                        unsupported("the wildcard (*)")
                    } else {
                        unsupported("an empty or non-identifier member name after '.'")
                    });
                }
                if name.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(unsupported("a member name starting with a digit after '.'"));
                }
                steps.push(Step::Member(name.to_owned()));
                rest = &after[len..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(close) = after.find(']') else {
                    return Err(unsupported("an unclosed '['"));
                };
                let inner = after[..close].trim();
                let quoted = inner
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
                if let Some(name) = quoted {
                    if name.contains(['"', '\'', '\\']) {
                        return Err(unsupported("quotes or escapes inside a bracketed name"));
                    }
                    steps.push(Step::Member(name.to_owned()));
                } else if let Ok(index) = inner.parse::<i64>() {
                    steps.push(Step::Index(index));
                } else {
                    return Err(unsupported(&format!("the selector [{inner}]")));
                }
                rest = &after[close + 1..];
            } else {
                return Err(unsupported(&format!("the text {}", go_fmt::quote(rest))));
            }
        }
        Ok(Self { steps })
    }

    /// The value selected in the token's claims, printed with Go's `%v` (upstream formats the
    /// result that way).
    pub(crate) fn select_in(&self, claims: &Map<String, Value>) -> Result<String, String> {
        let Some((first, rest)) = self.steps.split_first() else {
            return Ok(go_fmt::verb_v(&Value::Object(claims.clone())));
        };
        let mut value = match first {
            Step::Member(name) => claims
                .get(name)
                .ok_or_else(|| format!("unknown key {name}"))?,
            Step::Index(i) => {
                return Err(format!(
                    "unsupported value type object for select, expected array (index {i})"
                ));
            }
        };
        for step in rest {
            value = step.apply(value)?;
        }
        Ok(go_fmt::verb_v(value))
    }
}

impl Step {
    fn apply<'v>(&self, value: &'v Value) -> Result<&'v Value, String> {
        match (self, value) {
            (Step::Member(name), Value::Object(map)) => {
                map.get(name).ok_or_else(|| format!("unknown key {name}"))
            }
            (Step::Index(i), Value::Array(items)) => {
                // Negative indices count from the end.
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = if *i < 0 {
                    len.checked_add(*i)
                } else {
                    Some(*i)
                };
                at.and_then(|at| usize::try_from(at).ok())
                    .and_then(|at| items.get(at))
                    .ok_or_else(|| format!("index {i} out of bounds"))
            }
            (Step::Member(name), other) => Err(format!(
                "unsupported value type {} for select, expected object (key {name})",
                json_kind(other)
            )),
            (Step::Index(i), other) => Err(format!(
                "unsupported value type {} for select, expected array (index {i})",
                json_kind(other)
            )),
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn select(path: &str, v: &Value) -> Result<String, String> {
        let Value::Object(claims) = v else {
            return Err("not an object".into());
        };
        ClaimPath::parse(path)?.select_in(claims)
    }

    #[test]
    fn selects_members_and_indices() {
        let claims = json!({
            "iss": "https://dex",
            "federated_claims": {"connector_id": "https://github.com/login/oauth", "user_id": "1"},
            "federated": {"issuer": "https://example.com"},
            "list": ["a", "b"],
            "weird.key": {"x": 1e6},
        });
        assert_eq!(
            select("$.federated_claims.connector_id", &claims).unwrap(),
            "https://github.com/login/oauth"
        );
        assert_eq!(
            select("$.federated.issuer", &claims).unwrap(),
            "https://example.com"
        );
        assert_eq!(
            select("$['federated'][\"issuer\"]", &claims).unwrap(),
            "https://example.com"
        );
        assert_eq!(select("$.list[1]", &claims).unwrap(), "b");
        assert_eq!(select("$.list[-1]", &claims).unwrap(), "b");
        assert_eq!(select("$[\"weird.key\"].x", &claims).unwrap(), "1e+06");
        assert_eq!(
            select("$.federated", &claims).unwrap(),
            "map[issuer:https://example.com]"
        );
    }

    #[test]
    fn missing_values_are_errors() {
        let claims = json!({"iss": "x", "list": [], "s": "str"});
        assert_eq!(
            select("$.federated.issuer", &claims).unwrap_err(),
            "unknown key federated"
        );
        assert!(
            select("$.list[0]", &claims)
                .unwrap_err()
                .contains("out of bounds")
        );
        assert!(
            select("$.s.x", &claims)
                .unwrap_err()
                .contains("unsupported value type string")
        );
    }

    #[test]
    fn unsupported_syntax_is_rejected_clearly() {
        for (path, what) in [
            ("federated.issuer", "not starting at the root"),
            ("$..issuer", "recursive descent"),
            ("$.*", "wildcard"),
            ("$.a[*]", "selector [*]"),
            ("$.a[?(@.x)]", "selector"),
            ("$.a[0:2]", "selector [0:2]"),
            ("$.a-b", "the text \"-b\""),
            ("$.a[0", "unclosed"),
        ] {
            let err = validate_issuer_claim(path).unwrap_err();
            assert!(
                matches!(&err, IdentityError::Config(m) if m.contains(what) && m.contains("not supported")),
                "{path}: {err:?}"
            );
        }
        assert_eq!(
            validate_issuer_claim("$.federated_claims.connector_id"),
            Ok(())
        );
    }
}
