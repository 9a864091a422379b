//! `spiffe` issuers (Fulcio spec §3.3): `sub` must be a SPIFFE ID in the configured trust
//! domain; it becomes the URI SAN.
//!
//! The ID grammar is go-spiffe's (`spiffeid.FromString`, default character set).

use oidc::VerifiedToken;

use super::{IssuerPrincipal, base_extensions, identity, subject, uri_san};
use crate::{CertificateIdentity, IdentityError};

#[derive(Debug, Clone)]
pub(crate) struct Spiffe {
    id: String,
    issuer: String,
}

impl Spiffe {
    pub(crate) fn from_token(token: &VerifiedToken) -> Result<Self, IdentityError> {
        let id = subject(token)?;
        check_id(&id, &token.config.spiffe_trust_domain).map_err(IdentityError::Claims)?;
        Ok(Self {
            id,
            issuer: token.issuer.clone(),
        })
    }
}

impl IssuerPrincipal for Spiffe {
    fn name(&self) -> &str {
        &self.id
    }

    fn embed(&self) -> Result<CertificateIdentity, IdentityError> {
        identity(uri_san(&self.id)?, base_extensions(&self.issuer, &self.id))
    }
}

const SCHEME: &str = "spiffe://";

/// `sub` parses as a SPIFFE ID whose trust domain equals the configured one.
fn check_id(id: &str, configured: &str) -> Result<(), String> {
    let trust_domain = parse_trust_domain(configured).map_err(|e| {
        format!("unable to parse trust domain from configuration {configured}: {e}")
    })?;
    let id_domain = parse_id(id).map_err(|_| format!("invalid spiffe ID provided: {id}"))?;
    if id_domain != trust_domain {
        return Err(format!(
            "spiffe ID trust domain {id_domain} doesn't match configured trust domain {configured}"
        ));
    }
    Ok(())
}

/// A trust domain name, or a SPIFFE ID whose trust domain is taken.
fn parse_trust_domain(s: &str) -> Result<&str, &'static str> {
    if s.is_empty() {
        return Err("trust domain is missing");
    }
    if s.contains(":/") {
        return parse_id(s);
    }
    if !s.bytes().all(is_trust_domain_char) {
        return Err(BAD_TRUST_DOMAIN_CHAR);
    }
    Ok(s)
}

const BAD_TRUST_DOMAIN_CHAR: &str = "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores";

/// Parses `spiffe://<trust-domain>[/path]` and returns the trust domain.
fn parse_id(id: &str) -> Result<&str, &'static str> {
    if id.is_empty() {
        return Err("cannot be empty");
    }
    let Some(rest) = id.strip_prefix(SCHEME) else {
        return Err("scheme is missing or invalid");
    };
    let domain_len = rest.find('/').unwrap_or(rest.len());
    let (domain, path) = rest.split_at(domain_len);
    if !domain.bytes().all(is_trust_domain_char) {
        return Err(BAD_TRUST_DOMAIN_CHAR);
    }
    if domain.is_empty() {
        return Err("trust domain is missing");
    }
    check_path(path)?;
    Ok(domain)
}

/// Segments of letters, digits, `.`, `-`, `_`; no empty, `.` or `..` segments, no trailing
/// slash.
fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Ok(());
    }
    for segment in path.split('/').skip(1) {
        match segment {
            "" => return Err("path cannot contain empty segments"),
            "." | ".." => return Err("path cannot contain dot segments"),
            s if !s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_')) =>
            {
                return Err(
                    "path segment characters are limited to letters, numbers, dots, dashes, and underscores",
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_trust_domain_char(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_trust_domains() {
        let cases = [
            ("spiffe://foo.com/bar", "foo.com", Ok(())),
            ("spiffe://foo.com", "foo.com", Ok(())),
            ("spiffe://foo.com/bar", "spiffe://foo.com", Ok(())),
            (
                "spiffe://foo.com/bar",
                "not#a#trust#domain",
                Err("unable to parse trust domain"),
            ),
            (
                "spiffe://foo.com/bar",
                "bar.com",
                Err("doesn't match configured trust domain bar.com"),
            ),
            (
                "not#a#spiffe#id",
                "bar.com",
                Err("invalid spiffe ID provided"),
            ),
            ("spiffe://Foo.com/bar", "foo.com", Err("invalid spiffe ID")),
            ("spiffe://foo.com/bar/", "foo.com", Err("invalid spiffe ID")),
            ("spiffe://foo.com//bar", "foo.com", Err("invalid spiffe ID")),
            (
                "spiffe://foo.com/./bar",
                "foo.com",
                Err("invalid spiffe ID"),
            ),
            ("spiffe://foo.com/b@r", "foo.com", Err("invalid spiffe ID")),
            ("spiffe:///bar", "foo.com", Err("invalid spiffe ID")),
            (
                "spiffe://foo.com/bar",
                "",
                Err("unable to parse trust domain"),
            ),
        ];
        for (id, td, want) in cases {
            let got = check_id(id, td);
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{id} in {td}"),
                Err(fragment) => {
                    assert!(
                        got.as_ref().is_err_and(|e| e.contains(fragment)),
                        "{id} in {td}: {got:?}"
                    )
                }
            }
        }
    }
}
