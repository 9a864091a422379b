//! ci-provider templates: the subset of Go's `text/template` that Fulcio's configurations use
//! (Fulcio spec §3.3), executed with `missingkey=error` over string data.
//!
//! Supported: `{{ .claim }}`, field chains, `{{ index . "claim.with/dots" }}`, parenthesised
//! commands, `{{ if … }}…{{ else if … }}…{{ else }}…{{ end }}`, the functions `eq`, `ne`,
//! `not`, `and`, `or`, `index`, string/number/bool literals, trim markers and comments. Other
//! Go template features are rejected when the template is parsed, with a message naming them.

mod exec;
mod parse;

use std::collections::BTreeMap;

use crate::IdentityError;

/// Checks that `template` parses in the supported Go `text/template` subset (Fulcio spec
/// §3.1: every ci-provider template must parse at configuration load).
///
/// A string without `{{` always parses (it is used as a claim name).
pub fn validate_template(template: &str) -> Result<(), IdentityError> {
    parse::parse(template)
        .map(|_| ())
        .map_err(IdentityError::Config)
}

/// A parsed template, ready to execute.
#[derive(Debug, Clone)]
pub(crate) struct Template<'s> {
    src: &'s str,
    tree: parse::Tree,
}

impl<'s> Template<'s> {
    /// Parses `src`; the error text reads like Go's (`template: :1: …`).
    pub(crate) fn parse(src: &'s str) -> Result<Self, String> {
        Ok(Self {
            src,
            tree: parse::parse(src)?,
        })
    }

    /// Renders the template; a field naming a missing key fails like Go's
    /// `missingkey=error` (`template: :1:3: executing "" at <.foo>: map has no entry for key "foo"`).
    pub(crate) fn execute(&self, data: &BTreeMap<String, String>) -> Result<String, String> {
        exec::execute(self.src, &self.tree, data)
    }
}

/// Go's `ErrorContext` location: 1-based line, 0-based byte column within that line.
fn error_location(src: &str, pos: usize) -> (usize, usize) {
    let before = src.get(..pos).unwrap_or(src);
    let line = 1 + before.matches('\n').count();
    let col = before.rfind('\n').map_or(pos, |nl| pos - nl - 1);
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, String> {
        [
            ("url", "https://github.com"),
            ("repository", "sigstore/fulcio"),
            ("run_id", "42"),
            ("ref_type", "branch"),
            ("ref", "main"),
            ("oidc.circleci.com/ssh-rerun", "true"),
            ("with.dot.and/slash", "cat"),
            ("aud", "sigstore"),
            ("empty", ""),
            ("html", "<alert()/>"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn render(src: &str) -> Result<String, String> {
        Template::parse(src)?.execute(&data())
    }

    #[test]
    fn renders_supported_constructs() {
        let cases = [
            (
                "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}",
                "https://github.com/sigstore/fulcio/actions/runs/42",
            ),
            (
                "{{.url}}/{{.repository}}",
                "https://github.com/sigstore/fulcio",
            ),
            (
                r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#,
                "refs/heads/main",
            ),
            (
                r#"refs/{{if eq .ref_type "tag"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#,
                "refs/tags/main",
            ),
            (
                r#"{{ .aud }}/{{(index . "with.dot.and/slash")}}"#,
                "sigstore/cat",
            ),
            (r#"{{index . "with.dot.and/slash"}}"#, "cat"),
            (
                r#"{{if eq (index . "oidc.circleci.com/ssh-rerun") "true"}}ssh-rerun{{ else }}""{{end}}"#,
                "ssh-rerun",
            ),
            (
                r#"{{if eq (index . "missing") "true"}}ssh-rerun{{ else }}""{{end}}"#,
                "\"\"",
            ),
            (r#"{{ index . "missing" }}|"#, "|"),
            ("{{ .html }}", "<alert()/>"),
            ("{{ .empty }}/123", "/123"),
            (
                r#"{{if ne .ref "main"}}a{{else if eq .ref "main"}}b{{else}}c{{end}}"#,
                "b",
            ),
            (r#"{{if not .empty}}yes{{end}}"#, "yes"),
            (
                r#"{{ and .ref .url }} {{ or .empty .ref }} {{ and .empty .ref }}"#,
                "https://github.com main ",
            ),
            (r#"{{ eq .ref "x" "main" }}"#, "true"),
            ("{{ 7 }} {{ 1.5 }} {{ true }} {{ `raw` }}", "7 1.5 true raw"),
            ("a {{- /* comment */ -}} b", "ab"),
            ("no actions at all", "no actions at all"),
        ];
        for (src, want) in cases {
            assert_eq!(render(src).as_deref(), Ok(want), "template {src:?}");
        }
    }

    #[test]
    fn dot_prints_the_map_like_fmt() {
        let mut d = BTreeMap::new();
        d.insert("b".to_owned(), "2".to_owned());
        d.insert("a".to_owned(), "1".to_owned());
        assert_eq!(
            Template::parse("{{ . }}").unwrap().execute(&d).unwrap(),
            "map[a:1 b:2]"
        );
    }

    #[test]
    fn execution_errors_read_like_go() {
        let cases = [
            (
                "{{ .foo }}",
                r#"template: :1:3: executing "" at <.foo>: map has no entry for key "foo""#,
            ),
            (
                "x\n  {{.nope}}",
                r#"template: :2:4: executing "" at <.nope>: map has no entry for key "nope""#,
            ),
            (
                r#"refs/{{if eq .missing "branch"}}heads/{{end}}"#,
                r#"template: :1:13: executing "" at <.missing>: map has no entry for key "missing""#,
            ),
            (
                r#"{{if eq . ""}}foo{{else}}bar{{end}}"#,
                r#"template: :1:5: executing "" at <eq . "">: error calling eq: incompatible types for comparison"#,
            ),
            (
                r#"{{ eq .ref 1 }}"#,
                r#"template: :1:3: executing "" at <eq .ref 1>: error calling eq: incompatible types for comparison"#,
            ),
            (
                r#"{{ eq .ref }}"#,
                r#"template: :1:3: executing "" at <eq .ref>: error calling eq: missing argument for comparison"#,
            ),
            (
                r#"{{ ne .ref }}"#,
                r#"template: :1:3: executing "" at <ne>: wrong number of args for ne: want 2 got 1"#,
            ),
            (
                r#"{{ .ref.x }}"#,
                r#"template: :1:3: executing "" at <.ref.x>: can't evaluate field x in type string"#,
            ),
            (
                r#"{{ .ref "x" }}"#,
                r#"template: :1:3: executing "" at <.ref>: ref is not a method but has arguments"#,
            ),
            (
                r#"{{ "a" "b" }}"#,
                r#"template: :1:3: executing "" at <"a" "b">: can't give argument to non-function "a""#,
            ),
            (
                r#"{{ index .ref "x" }}"#,
                r#"template: :1:3: executing "" at <index .ref "x">: error calling index: can't index item of type string"#,
            ),
            (
                r#"{{ index . 1 }}"#,
                r#"template: :1:3: executing "" at <index . 1>: error calling index: value has type int; should be string"#,
            ),
        ];
        for (src, want) in cases {
            assert_eq!(render(src).unwrap_err(), want, "template {src:?}");
        }
    }

    #[test]
    fn validate_template_reports_parse_errors() {
        assert_eq!(validate_template("{{ .x }}/{{ index . \"a.b\" }}"), Ok(()));
        assert_eq!(validate_template("plain_claim_name"), Ok(()));
        assert_eq!(validate_template(""), Ok(()));
        assert_eq!(
            validate_template("{{}}"),
            Err(IdentityError::Config(
                "template: :1: missing value for command".to_owned()
            ))
        );
    }
}
