//! The load-time rules of Fulcio spec §3.1. Any failure is fatal at start-up.

use super::{FulcioConfig, IssuerMetadata, IssuerType, OidcIssuer};
use crate::error::{ConfigError, ConfigRule};
use crate::meta_issuer::meta_regex;

impl FulcioConfig {
    /// Checks the rules of Fulcio spec §3.1 (called by [`FulcioConfig::from_bytes`]):
    ///
    /// * every `CACert` holds at least one parsable PEM certificate;
    /// * `IssuerClaim` only on `email` issuers;
    /// * `spiffe` issuers have a valid `SPIFFETrustDomain`;
    /// * `uri` issuers: `SubjectDomain` with the issuer's scheme and the same host or the same
    ///   last two DNS labels; `username` issuers: a scheme-less `SubjectDomain` matching the
    ///   issuer's host the same way;
    /// * every issuer and meta-issuer has a challenge claim (explicit or by type);
    /// * meta-issuers are not `spiffe` and their patterns compile;
    /// * `ci-provider` issuers name an existing `CIIssuerMetadata` entry (upstream only finds
    ///   out when a token arrives; we refuse at start-up);
    /// * every CI template passes [`check_template_delimiters`]. The full Go text/template
    ///   parse is the template engine's job: run it with
    ///   [`FulcioConfig::validate_templates_with`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, issuer) in &self.oidc_issuers {
            validate_issuer(issuer).map_err(|rule| ConfigError::Rule {
                entry: key.clone(),
                rule,
            })?;
            self.validate_ci_provider(issuer)
                .map_err(|rule| ConfigError::Rule {
                    entry: key.clone(),
                    rule,
                })?;
        }
        for (pattern, issuer) in &self.meta_issuers {
            validate_meta_issuer(pattern, issuer).map_err(|rule| ConfigError::Rule {
                entry: pattern.clone(),
                rule,
            })?;
            self.validate_ci_provider(issuer)
                .map_err(|rule| ConfigError::Rule {
                    entry: pattern.clone(),
                    rule,
                })?;
        }
        self.validate_templates_with(check_template_delimiters)
    }

    /// Runs `check` over every CI provider template (each extension template, empty ones
    /// included as upstream does, and the SAN template); the first failure is returned as
    /// [`ConfigRule::Template`]. The identity crate passes its Go text/template parser here.
    pub fn validate_templates_with<F>(&self, check: F) -> Result<(), ConfigError>
    where
        F: Fn(&str) -> Result<(), String>,
    {
        for (provider, metadata) in &self.ci_issuer_metadata {
            validate_templates(metadata, &check).map_err(|rule| ConfigError::Rule {
                entry: provider.clone(),
                rule,
            })?;
        }
        Ok(())
    }

    fn validate_ci_provider(&self, issuer: &OidcIssuer) -> Result<(), ConfigRule> {
        if issuer.issuer_type == IssuerType::CiProvider
            && !self.ci_issuer_metadata.contains_key(&issuer.ci_provider)
        {
            return Err(ConfigRule::UnknownCiProvider(issuer.ci_provider.clone()));
        }
        Ok(())
    }
}

fn validate_issuer(issuer: &OidcIssuer) -> Result<(), ConfigRule> {
    if !issuer.ca_cert.is_empty() && !has_parsable_certificate(&issuer.ca_cert) {
        return Err(ConfigRule::CaCert);
    }
    if !issuer.issuer_claim.is_empty() && issuer.issuer_type != IssuerType::Email {
        return Err(ConfigRule::IssuerClaimNotEmail);
    }
    match issuer.issuer_type {
        IssuerType::Spiffe => {
            if issuer.spiffe_trust_domain.is_empty() {
                return Err(ConfigRule::SpiffeTrustDomainMissing);
            }
            if !is_valid_spiffe_trust_domain(&issuer.spiffe_trust_domain) {
                return Err(ConfigRule::SpiffeTrustDomainInvalid);
            }
        }
        IssuerType::Uri => validate_uri_issuer(issuer)?,
        IssuerType::Username => validate_username_issuer(issuer)?,
        _ => {}
    }
    if issuer.challenge_claim().is_empty() {
        return Err(ConfigRule::MissingChallengeClaim);
    }
    Ok(())
}

fn validate_meta_issuer(pattern: &str, issuer: &OidcIssuer) -> Result<(), ConfigRule> {
    if !issuer.ca_cert.is_empty() && !has_parsable_certificate(&issuer.ca_cert) {
        return Err(ConfigRule::CaCert);
    }
    // One pattern would stand for many OIDC issuers sharing a single trust domain.
    if issuer.issuer_type == IssuerType::Spiffe {
        return Err(ConfigRule::SpiffeMetaIssuer);
    }
    if issuer.challenge_claim().is_empty() {
        return Err(ConfigRule::MissingChallengeClaim);
    }
    meta_regex(pattern).map_err(|e| ConfigRule::MetaPattern(e.to_string()))?;
    Ok(())
}

fn validate_uri_issuer(issuer: &OidcIssuer) -> Result<(), ConfigRule> {
    if issuer.subject_domain.is_empty() {
        return Err(ConfigRule::SubjectDomainMissing("uri"));
    }
    let domain = GoUrl::parse(&issuer.subject_domain, "SubjectDomain")?;
    if domain.scheme.is_empty() {
        return Err(ConfigRule::UriSubjectDomainWithoutScheme);
    }
    let issuer_url = GoUrl::parse(&issuer.issuer_url, "IssuerURL")?;
    if issuer_url.scheme.is_empty() {
        return Err(ConfigRule::IssuerUrlWithoutScheme("uri"));
    }
    if domain.scheme != issuer_url.scheme {
        return Err(ConfigRule::SchemeMismatch {
            subject: domain.scheme,
            issuer: issuer_url.scheme,
        });
    }
    validate_allowed_domain(&domain.hostname, &issuer_url.hostname)
}

fn validate_username_issuer(issuer: &OidcIssuer) -> Result<(), ConfigRule> {
    if issuer.subject_domain.is_empty() {
        return Err(ConfigRule::SubjectDomainMissing("username"));
    }
    let domain = GoUrl::parse(&issuer.subject_domain, "SubjectDomain")?;
    if !domain.scheme.is_empty() {
        return Err(ConfigRule::UsernameSubjectDomainWithScheme);
    }
    let issuer_url = GoUrl::parse(&issuer.issuer_url, "IssuerURL")?;
    if issuer_url.scheme.is_empty() {
        return Err(ConfigRule::IssuerUrlWithoutScheme("username"));
    }
    // The whole SubjectDomain string is compared, as upstream does.
    validate_allowed_domain(&issuer.subject_domain, &issuer_url.hostname)
}

/// Ownership of the issuer is taken as ownership of its registrable domain, approximated (as
/// upstream does) by the last two DNS labels; identical hosts always pass.
fn validate_allowed_domain(subject_host: &str, issuer_host: &str) -> Result<(), ConfigRule> {
    if subject_host == issuer_host {
        return Ok(());
    }
    let subject_labels: Vec<&str> = subject_host.split('.').collect();
    let issuer_labels: Vec<&str> = issuer_host.split('.').collect();
    if subject_labels.len() < 2 {
        return Err(ConfigRule::HostnameTooShort(subject_host.to_owned()));
    }
    if issuer_labels.len() < 2 {
        return Err(ConfigRule::HostnameTooShort(issuer_host.to_owned()));
    }
    if subject_labels[subject_labels.len() - 2..] == issuer_labels[issuer_labels.len() - 2..] {
        return Ok(());
    }
    Err(ConfigRule::DomainMismatch {
        subject: subject_host.to_owned(),
        issuer: issuer_host.to_owned(),
    })
}

/// The two parts of a URL the domain rules look at, split the way Go's `net/url.Parse`
/// splits them (a WHATWG parser would reject or normalise inputs Go accepts, e.g. a
/// scheme-less `example.com`, and lower-case hosts Go keeps as written).
#[derive(Debug, PartialEq, Eq)]
struct GoUrl {
    /// Lower-cased, empty when there is none.
    scheme: String,
    /// Host without port or IPv6 brackets; empty when the URL has no authority.
    hostname: String,
}

impl GoUrl {
    fn parse(raw: &str, field: &'static str) -> Result<GoUrl, ConfigRule> {
        let bad = |detail: &str| ConfigRule::BadUrl {
            field,
            detail: detail.to_owned(),
        };
        if raw.chars().any(|c| c < ' ' || c == '\u{7f}') {
            return Err(bad("invalid control character in URL"));
        }
        let (scheme, rest) = split_go_scheme(raw).map_err(bad)?;
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let hostname = match rest.strip_prefix("//") {
            // Go only reads an authority after a scheme or at the start of the string.
            Some(after) => {
                let authority = after.split('/').next().unwrap_or_default();
                let host_port = authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host);
                go_hostname(host_port).map_err(bad)?
            }
            None => String::new(),
        };
        Ok(GoUrl {
            scheme: scheme.to_ascii_lowercase(),
            hostname,
        })
    }
}

/// Go's `getScheme`: letters, then letters, digits, `+`, `-` or `.`, up to a `:`.
fn split_go_scheme(raw: &str) -> Result<(&str, &str), &'static str> {
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("missing protocol scheme"),
            ':' => return Ok((&raw[..i], &raw[i + 1..])),
            // Anything else means there is no scheme: the whole string is a path.
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

/// Go's `URL.Hostname()` of an authority's `host[:port]`, rejecting a non-numeric port.
fn go_hostname(host_port: &str) -> Result<String, &'static str> {
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or("missing ']' in host")?;
        if !after.is_empty() && !is_valid_optional_port(after) {
            return Err("invalid port after host");
        }
        return Ok(host.to_owned());
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => {
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err("invalid port");
            }
            Ok(host.to_owned())
        }
        None => Ok(host_port.to_owned()),
    }
}

fn is_valid_optional_port(port: &str) -> bool {
    port.strip_prefix(':')
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A trust domain name (`[a-z0-9._-]+`) or a SPIFFE ID whose trust domain is taken, as
/// go-spiffe's `TrustDomainFromString` accepts (SPIFFE-ID standard §2.1).
fn is_valid_spiffe_trust_domain(value: &str) -> bool {
    let is_td_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b);
    if !value.contains(":/") {
        return !value.is_empty() && value.bytes().all(is_td_char);
    }
    let Some(rest) = value.strip_prefix("spiffe://") else {
        return false;
    };
    let (trust_domain, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if trust_domain.is_empty() || !trust_domain.bytes().all(is_td_char) {
        return false;
    }
    if path.is_empty() {
        return true;
    }
    // Each path segment: non-empty, not `.` or `..`, `[A-Za-z0-9._-]`.
    path[1..].split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// Go's `CertPool.AppendCertsFromPEM` succeeds when at least one `CERTIFICATE` block parses;
/// other blocks and unparsable certificates are skipped.
fn has_parsable_certificate(pem_text: &str) -> bool {
    x509_parser::pem::Pem::iter_from_buffer(pem_text.as_bytes())
        .filter_map(Result::ok)
        .filter(|pem| pem.label == "CERTIFICATE")
        .any(|pem| pem.parse_x509().is_ok())
}

fn validate_templates<F>(metadata: &IssuerMetadata, check: &F) -> Result<(), ConfigRule>
where
    F: Fn(&str) -> Result<(), String>,
{
    for (field, template) in metadata.extension_templates.fields() {
        check(template).map_err(|detail| ConfigRule::Template { field, detail })?;
    }
    check(&metadata.subject_alternative_name_template).map_err(|detail| ConfigRule::Template {
        field: "SubjectAlternativeNameTemplate",
        detail,
    })
}

/// The part of a Go text/template parse that needs no template engine: every `{{` is
/// closed (outside string literals), comments are closed, no action is empty, and
/// `if`/`range`/`with`/`block`/`define` are balanced by `end` with `else` only inside them.
/// Messages follow Go's. Anything that passes still has to pass the engine's own parse.
pub fn check_template_delimiters(template: &str) -> Result<(), String> {
    let mut open_blocks: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after_open = &rest[start + 2..];
        let (action, after_close) = split_action(after_open)?;
        rest = after_close;
        let Some(action) = action else {
            continue; // a comment
        };
        if action.is_empty() {
            return Err("missing value for command".to_owned());
        }
        let keyword_len = action
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
            .unwrap_or(action.len());
        let keyword = &action[..keyword_len];
        match keyword {
            "if" | "range" | "with" | "block" | "define" => open_blocks.push(keyword),
            "else" => match open_blocks.last() {
                Some(&("if" | "range" | "with")) => {}
                _ => return Err("unexpected {{else}}".to_owned()),
            },
            "end" if open_blocks.pop().is_none() => {
                return Err("unexpected {{end}}".to_owned());
            }
            _ => {}
        }
    }
    match open_blocks.last() {
        Some(block) => Err(format!(
            "unexpected EOF: {{{{{block}}}}} has no {{{{end}}}}"
        )),
        None => Ok(()),
    }
}

/// Splits the text after a `{{` into the action's content (trim markers and surrounding
/// blanks removed; `None` for a comment) and the text after its `}}`.
fn split_action(text: &str) -> Result<(Option<&str>, &str), String> {
    let body = strip_left_trim_marker(text);
    if let Some(comment) = body.strip_prefix("/*") {
        let end = comment
            .find("*/")
            .ok_or_else(|| "unclosed comment".to_owned())?;
        let after = comment[end + 2..].trim_start_matches([' ', '\t', '\r', '\n']);
        let after = after.strip_prefix('-').unwrap_or(after);
        let after = after
            .strip_prefix("}}")
            .ok_or_else(|| "comment ends before closing delimiter".to_owned())?;
        return Ok((None, after));
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                let content = strip_right_trim_marker(&body[..i]).trim();
                return Ok((Some(content), &body[i + 2..]));
            }
            b'{' => return Err("unexpected \"{\" in command".to_owned()),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err("unterminated quoted string".to_owned());
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err("unterminated raw quoted string".to_owned());
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err("unclosed action".to_owned())
}

/// `{{- ` trims preceding text; the dash must be followed by a blank to be a marker.
fn strip_left_trim_marker(text: &str) -> &str {
    match text.strip_prefix('-') {
        Some(after) if after.starts_with([' ', '\t', '\r', '\n']) => after,
        _ => text,
    }
}

/// ` -}}` trims following text; the dash must be preceded by a blank to be a marker.
fn strip_right_trim_marker(content: &str) -> &str {
    match content.strip_suffix('-') {
        Some(before) if before.ends_with([' ', '\t', '\r', '\n']) => before,
        _ => content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_url_splits_like_net_url() {
        let u = GoUrl::parse("HTTPS://user@Accounts.Example.com:8443/path?q#f", "f").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.hostname, "Accounts.Example.com");
        // No scheme: Go reads the whole string as a path.
        let u = GoUrl::parse("other.example.com", "f").unwrap();
        assert_eq!((u.scheme.as_str(), u.hostname.as_str()), ("", ""));
        // Go takes `example.com` as the scheme of `example.com:8080`.
        let u = GoUrl::parse("example.com:8080", "f").unwrap();
        assert_eq!(u.scheme, "example.com");
        assert_eq!(
            GoUrl::parse("https://[::1]:443/x", "f").unwrap().hostname,
            "::1"
        );
        assert!(GoUrl::parse(":foo", "f").is_err());
        assert!(GoUrl::parse("https://host:port/", "f").is_err());
        assert!(GoUrl::parse("https://exa\nmple.com", "f").is_err());
    }

    #[test]
    fn allowed_domain_compares_last_two_labels() {
        // Cases in the shape of upstream's Test_validateAllowedDomain.
        let ok = [
            ("example.com", "example.com"),
            ("accounts.example.com", "example.com"),
            ("example.com", "accounts.example.com"),
            ("users.example.com", "accounts.example.com"),
            ("localhost", "localhost"),
        ];
        for (subject, issuer) in ok {
            assert_eq!(
                validate_allowed_domain(subject, issuer),
                Ok(()),
                "{subject} {issuer}"
            );
        }
        assert_eq!(
            validate_allowed_domain("localhost", "example.com"),
            Err(ConfigRule::HostnameTooShort("localhost".into()))
        );
        assert_eq!(
            validate_allowed_domain("example.com", "localhost"),
            Err(ConfigRule::HostnameTooShort("localhost".into()))
        );
        assert!(matches!(
            validate_allowed_domain("example.org", "example.com"),
            Err(ConfigRule::DomainMismatch { .. })
        ));
        assert!(matches!(
            validate_allowed_domain("example.com", "other.com"),
            Err(ConfigRule::DomainMismatch { .. })
        ));
    }

    #[test]
    fn spiffe_trust_domains() {
        for good in [
            "example.com",
            "example_td-1.org",
            "spiffe://example.com",
            "spiffe://example.com/ns/prod/sa/x",
        ] {
            assert!(is_valid_spiffe_trust_domain(good), "{good}");
        }
        for bad in [
            "",
            "invalid#domain",
            "Example.com",
            "https://example.com",
            "spiffe://",
            "spiffe://example.com/",
            "spiffe://example.com//x",
            "spiffe://example.com/../x",
            "spiffe://exa mple.com",
        ] {
            assert!(!is_valid_spiffe_trust_domain(bad), "{bad}");
        }
    }

    #[test]
    fn template_delimiter_check_accepts_upstream_shapes() {
        for good in [
            "",
            "job_workflow_sha",
            "{{ .url }}/{{ .job_workflow_ref }}",
            "refs/{{if eq .ref_type \"branch\"}}heads/{{ else }}tags/{{end}}{{ .ref }}",
            "{{(index . \"oidc.circleci.com/pipeline-id\")}}/config",
            "{{if eq (index . \"a/b\") \"true\"}}x{{ else }}\"\"{{end}}",
            "{{- .x -}}",
            "{{/* a comment }} */}}{{ .x }}",
            "{{ \"}}\" }}",
            "{{ `raw }}` }}",
            "plain }} text",
            "{{range .xs}}{{.}}{{end}}",
        ] {
            assert_eq!(check_template_delimiters(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn template_delimiter_check_rejects_broken_templates() {
        for (bad, why) in [
            ("{{ .url }/x", "unclosed action"),
            ("{{ .url", "unclosed action"),
            ("{{}}", "missing value for command"),
            ("{{- -}}", "missing value for command"),
            ("{{ {{ .x }} }}", "unexpected \"{\" in command"),
            ("{{ \"x }}", "unterminated quoted string"),
            ("{{/* x }}", "unclosed comment"),
            ("{{end}}", "unexpected {{end}}"),
            ("{{else}}", "unexpected {{else}}"),
            ("{{if .x}}y", "unexpected EOF"),
        ] {
            let err = check_template_delimiters(bad).unwrap_err();
            assert!(err.starts_with(why), "{bad}: {err}");
        }
    }
}
