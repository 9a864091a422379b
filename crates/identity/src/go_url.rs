//! URL parsing, path joining and printing with the semantics of Go's `net/url`.
//!
//! Upstream builds every URI SAN and every URL-valued Sigstore extension with `url.Parse`,
//! `URL.JoinPath` and `URL.String` (Fulcio spec §3.3): the certificate carries Go's
//! re-serialisation, not the claim text (scheme lower-cased, spaces and `?` escaped in paths,
//! `..` segments cleaned by `JoinPath`). Signers match these strings exactly
//! (`cosign verify --certificate-identity`), so we reproduce that behaviour instead of using a
//! WHATWG parser. Go strings are byte strings; decoded components are kept as bytes.

use std::fmt;

use crate::go_fmt;

/// A URL as Go's `url.URL` holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoUrl {
    scheme: String,
    opaque: String,
    user: Option<UserInfo>,
    host: Vec<u8>,
    path: Vec<u8>,
    raw_path: String,
    omit_host: bool,
    force_query: bool,
    raw_query: String,
    fragment: Vec<u8>,
    raw_fragment: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct UserInfo {
    username: Vec<u8>,
    password: Option<Vec<u8>>,
}

/// A parse failure, printed like Go's `*url.Error`: `parse "<url>": <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlError {
    url: String,
    reason: String,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse {}: {}", go_fmt::quote(&self.url), self.reason)
    }
}

/// Which part of a URL is being escaped; each allows a different set of bytes unescaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

impl GoUrl {
    /// `url.Parse`.
    pub(crate) fn parse(raw: &str) -> Result<Self, UrlError> {
        let (without_fragment, fragment) = match raw.split_once('#') {
            Some((u, f)) => (u, f),
            None => (raw, ""),
        };
        let mut url = parse_without_fragment(without_fragment).map_err(|reason| UrlError {
            url: without_fragment.to_owned(),
            reason,
        })?;
        if fragment.is_empty() {
            return Ok(url);
        }
        url.set_fragment(fragment).map_err(|reason| UrlError {
            url: raw.to_owned(),
            reason,
        })?;
        Ok(url)
    }

    /// `URL.Scheme`.
    pub(crate) fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Overrides the scheme, as upstream's GitLab principal does.
    pub(crate) fn set_scheme(&mut self, scheme: &str) {
        scheme.clone_into(&mut self.scheme);
    }

    /// `URL.Host` (host and optional port, unescaped).
    pub(crate) fn host(&self) -> &[u8] {
        &self.host
    }

    /// `URL.Hostname()`: the host without a valid port and without IPv6 brackets.
    pub(crate) fn hostname(&self) -> &[u8] {
        let mut host: &[u8] = &self.host;
        if let Some(colon) = host.iter().rposition(|&b| b == b':')
            && valid_optional_port(&host[colon..])
        {
            host = &host[..colon];
        }
        if host.len() >= 2 && host.first() == Some(&b'[') && host.last() == Some(&b']') {
            host = &host[1..host.len() - 1];
        }
        host
    }

    /// `URL.JoinPath`: appends path elements to the escaped path and cleans the result with
    /// `path.Join` (removing `.`/`..` segments and doubled slashes), keeping one trailing slash
    /// if the last element had one. Like Go, an invalid escape in the joined path leaves the
    /// path unchanged.
    pub(crate) fn join_path(&self, elems: &[&str]) -> GoUrl {
        let first = self.escaped_path();
        // A relative base stays relative, but is rooted while joining so that `..` cannot
        // climb above it.
        let relative = !first.starts_with('/');
        let first = if relative { format!("/{first}") } else { first };
        let mut all: Vec<&str> = Vec::with_capacity(elems.len() + 1);
        all.push(&first);
        all.extend_from_slice(elems);
        let cleaned = path_join(&all);
        let mut joined = if relative {
            cleaned.get(1..).unwrap_or_default().to_owned()
        } else {
            cleaned
        };
        let last_has_slash = all.last().is_some_and(|e| e.ends_with('/'));
        if last_has_slash && !joined.ends_with('/') {
            joined.push('/');
        }
        let mut url = self.clone();
        // Go ignores this error and keeps the base path.
        let _ = url.set_path(&joined);
        url
    }

    /// `URL.String()`.
    pub(crate) fn to_go_string(&self) -> String {
        let mut buf = String::new();
        if !self.scheme.is_empty() {
            buf.push_str(&self.scheme);
            buf.push(':');
        }
        if !self.opaque.is_empty() {
            buf.push_str(&self.opaque);
        } else {
            let has_authority =
                !self.scheme.is_empty() || !self.host.is_empty() || self.user.is_some();
            // `scheme:/path` parsed without `//` prints back without it.
            let omitted = self.omit_host && self.host.is_empty() && self.user.is_none();
            if has_authority && !omitted {
                if !self.host.is_empty() || !self.path.is_empty() || self.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(user) = &self.user {
                    buf.push_str(&escape(&user.username, Part::UserPassword));
                    if let Some(password) = &user.password {
                        buf.push(':');
                        buf.push_str(&escape(password, Part::UserPassword));
                    }
                    buf.push('@');
                }
                if !self.host.is_empty() {
                    buf.push_str(&escape(&self.host, Part::Host));
                }
            }
            let path = self.escaped_path();
            if !path.is_empty() && !path.starts_with('/') && !self.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() {
                // A first segment with a colon would read as a scheme (RFC 3986 §4.2).
                let first_segment = path.split('/').next().unwrap_or_default();
                if first_segment.contains(':') {
                    buf.push_str("./");
                }
            }
            buf.push_str(&path);
        }
        if self.force_query || !self.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&self.raw_query);
        }
        if !self.fragment.is_empty() {
            buf.push('#');
            buf.push_str(&self.escaped_fragment());
        }
        buf
    }

    /// `URL.EscapedPath()`: the original escaping if it is a valid one, else Go's own.
    fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded(&self.raw_path, Part::Path)
            && unescape(&self.raw_path, Part::Path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == b"*" {
            return "*".to_owned();
        }
        escape(&self.path, Part::Path)
    }

    fn escaped_fragment(&self) -> String {
        if !self.raw_fragment.is_empty()
            && valid_encoded(&self.raw_fragment, Part::Fragment)
            && unescape(&self.raw_fragment, Part::Fragment).is_ok_and(|f| f == self.fragment)
        {
            return self.raw_fragment.clone();
        }
        escape(&self.fragment, Part::Fragment)
    }

    /// `URL.setPath`: stores the decoded path and remembers the given escaping only when it
    /// differs from Go's default one.
    fn set_path(&mut self, escaped: &str) -> Result<(), String> {
        let path = unescape(escaped, Part::Path)?;
        self.raw_path = if escape(&path, Part::Path) == escaped {
            String::new()
        } else {
            escaped.to_owned()
        };
        self.path = path;
        Ok(())
    }

    fn set_fragment(&mut self, escaped: &str) -> Result<(), String> {
        let fragment = unescape(escaped, Part::Fragment)?;
        self.raw_fragment = if escape(&fragment, Part::Fragment) == escaped {
            String::new()
        } else {
            escaped.to_owned()
        };
        self.fragment = fragment;
        Ok(())
    }
}

/// Go's `parse(rawURL, viaRequest=false)`.
fn parse_without_fragment(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = b"*".to_vec();
        return Ok(url);
    }
    let (scheme, mut rest) = split_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();

    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest = &rest[..rest.len() - 1];
    } else if let Some((before, query)) = rest.split_once('?') {
        url.raw_query = query.to_owned();
        rest = before;
    }

    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            // Rootless paths after a scheme are opaque (RFC 3986).
            url.opaque = rest.to_owned();
            return Ok(url);
        }
        let first_segment = rest.split('/').next().unwrap_or_default();
        if first_segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_owned());
        }
    }

    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let (user, host) = parse_authority(authority)?;
        url.user = user;
        url.host = host;
        rest = path;
    } else if !url.scheme.is_empty() && rest.starts_with('/') {
        url.omit_host = true;
    }
    url.set_path(rest)?;
    Ok(url)
}

/// Go's `getScheme`: a leading `[a-zA-Z][a-zA-Z0-9+.-]*:`, if any.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".to_owned());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<(Option<UserInfo>, Vec<u8>), String> {
    let Some(at) = authority.rfind('@') else {
        return Ok((None, parse_host(authority)?));
    };
    let host = parse_host(&authority[at + 1..])?;
    let userinfo = &authority[..at];
    if !valid_userinfo(userinfo) {
        return Err("net/url: invalid userinfo".to_owned());
    }
    let user = match userinfo.split_once(':') {
        None => UserInfo {
            username: unescape(userinfo, Part::UserPassword)?,
            password: None,
        },
        Some((name, password)) => UserInfo {
            username: unescape(name, Part::UserPassword)?,
            password: Some(unescape(password, Part::UserPassword)?),
        },
    };
    Ok((Some(user), host))
}

/// Go's `parseHost`: `host[:port]`, or a bracketed IPv6 literal with an optional zone.
fn parse_host(host: &str) -> Result<Vec<u8>, String> {
    if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".to_owned());
        };
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port.as_bytes()) {
            return Err(format!(
                "invalid port {} after host",
                go_fmt::quote(colon_port)
            ));
        }
        if let Some(zone) = host[..close].find("%25") {
            let mut out = unescape(&host[..zone], Part::Host)?;
            out.extend(unescape(&host[zone..close], Part::Zone)?);
            out.extend(unescape(&host[close..], Part::Host)?);
            return Ok(out);
        }
        // Current Go accepts only IPv6 addresses between brackets.
        let literal = &host[1..close];
        if literal.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "invalid host: ParseAddr({}): invalid IP-literal",
                go_fmt::quote(literal)
            ));
        }
    } else if let Some(colon) = host.rfind(':') {
        let colon_port = &host[colon..];
        if !valid_optional_port(colon_port.as_bytes()) {
            return Err(format!(
                "invalid port {} after host",
                go_fmt::quote(colon_port)
            ));
        }
    }
    unescape(host, Part::Host)
}

/// `""` or `:` followed by digits.
fn valid_optional_port(port: &[u8]) -> bool {
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// RFC 3986 userinfo characters (Go also accepts `@`, the last one separates the host).
fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

/// Go's `shouldEscape`.
fn should_escape(c: u8, part: Part) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(part, Part::Host | Part::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => {
            return match part {
                Part::Path => c == b'?',
                Part::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Part::Fragment => false,
                Part::Host | Part::Zone => true,
            };
        }
        _ => {}
    }
    if part == Part::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `escape` for the non-query parts: `%XX` with upper-case hex.
fn escape(s: &[u8], part: Part) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &c in s {
        if should_escape(c, part) {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push(char::from(c));
        }
    }
    out
}

/// Go's `unescape` for the non-query parts. Hosts may only escape non-ASCII bytes (and `%25`).
fn unescape(s: &str, part: Part) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' {
            let (Some(&h), Some(&l)) = (bytes.get(i + 1), bytes.get(i + 2)) else {
                return Err(escape_error(&bytes[i..]));
            };
            let (Some(hi), Some(lo)) = (hex_value(h), hex_value(l)) else {
                return Err(escape_error(&bytes[i..]));
            };
            let seq = &bytes[i..i + 3];
            if part == Part::Host && hi < 8 && seq != b"%25" {
                return Err(escape_error(seq));
            }
            let v = (hi << 4) | lo;
            if part == Part::Zone && seq != b"%25" && v != b' ' && should_escape(v, Part::Host) {
                return Err(escape_error(seq));
            }
            out.push(v);
            i += 3;
        } else {
            if matches!(part, Part::Host | Part::Zone) && c < 0x80 && should_escape(c, part) {
                return Err(format!(
                    "invalid character {} in host name",
                    go_fmt::quote_bytes(&[c])
                ));
            }
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

fn escape_error(rest: &[u8]) -> String {
    let shown = &rest[..rest.len().min(3)];
    format!("invalid URL escape {}", go_fmt::quote_bytes(shown))
}

fn hex_value(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Go's `validEncoded`: no byte that would need escaping, sub-delims and `%` allowed.
fn valid_encoded(s: &str, part: Part) -> bool {
    s.bytes().all(|c| {
        matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'['
                | b']'
                | b'%'
        ) || !should_escape(c, part)
    })
}

/// Go's `path.Join`: non-empty elements joined by `/`, then cleaned.
fn path_join(elems: &[&str]) -> String {
    let parts: Vec<&str> = elems.iter().copied().filter(|e| !e.is_empty()).collect();
    if parts.is_empty() {
        return String::new();
    }
    path_clean(&parts.join("/"))
}

/// Go's `path.Clean`: collapse `//`, drop `.`, resolve `..` lexically; `"."` if empty.
fn path_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut segments: Vec<&str> = Vec::new();
    // Leading `..` of a relative path cannot be resolved and are kept.
    let mut kept_parents = 0;
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.len() > kept_parents {
                    segments.pop();
                } else if !rooted {
                    segments.push("..");
                    kept_parents += 1;
                }
            }
            s => segments.push(s),
        }
    }
    let body = segments.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> String {
        match GoUrl::parse(s) {
            Ok(u) => u.to_go_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn parse_and_print_like_go() {
        let cases = [
            ("https://example.com/users/1", "https://example.com/users/1"),
            ("HTTPS://Example.com/a b", "https://Example.com/a%20b"),
            (
                "spiffe://example.com/foo/bar",
                "spiffe://example.com/foo/bar",
            ),
            (
                "https://kubernetes.io/namespaces/foo/serviceaccounts/baz",
                "https://kubernetes.io/namespaces/foo/serviceaccounts/baz",
            ),
            ("https://g.codefresh.io", "https://g.codefresh.io"),
            ("https://x.dev/a%2Fb", "https://x.dev/a%2Fb"),
            ("https://x.dev/%41", "https://x.dev/%41"),
            ("https://x.dev/ü", "https://x.dev/%C3%BC"),
            ("https://x.dev/p?q=1#frag", "https://x.dev/p?q=1#frag"),
            ("https://x.dev/p?", "https://x.dev/p?"),
            ("https://x.dev/p#", "https://x.dev/p"),
            (
                "https://user:pa ss@x.dev/",
                "error: parse \"https://user:pa ss@x.dev/\": net/url: invalid userinfo",
            ),
            ("https://user:p@ss@x.dev/", "https://user:p%40ss@x.dev/"),
            ("file:/etc/passwd", "file:/etc/passwd"),
            ("mailto:a@b.c", "mailto:a@b.c"),
            ("https://[::1]:8080/x", "https://[::1]:8080/x"),
            (
                "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main",
                "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main",
            ),
            (
                "\nbadurl",
                "error: parse \"\\nbadurl\": net/url: invalid control character in URL",
            ),
            (
                "https://x y",
                "error: parse \"https://x y\": invalid character \" \" in host name",
            ),
            (
                "https://x.dev:abc/",
                "error: parse \"https://x.dev:abc/\": invalid port \":abc\" after host",
            ),
            (
                "https://x.dev/%zz",
                "error: parse \"https://x.dev/%zz\": invalid URL escape \"%zz\"",
            ),
            ("a:b/c", "a:b/c"),
            (
                "1a:b",
                "error: parse \"1a:b\": first path segment in URL cannot contain colon",
            ),
            (":foo", "error: parse \":foo\": missing protocol scheme"),
            (
                "https://[1.2.3.4]/",
                "error: parse \"https://[1.2.3.4]/\": invalid host: ParseAddr(\"1.2.3.4\"): invalid IP-literal",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(round_trip(input), want, "input {input:?}");
        }
    }

    #[test]
    fn hostname_strips_port_and_brackets() {
        let u = GoUrl::parse("https://example.com:8443/x").unwrap();
        assert_eq!(u.hostname(), b"example.com");
        assert_eq!(u.host(), b"example.com:8443");
        let u = GoUrl::parse("https://[::1]:80/").unwrap();
        assert_eq!(u.hostname(), b"::1");
        assert_eq!(u.scheme(), "https");
    }

    #[test]
    fn join_path_cleans_like_go() {
        let github = GoUrl::parse("https://github.com/").unwrap();
        let join = |u: &GoUrl, e: &[&str]| u.join_path(e).to_go_string();
        assert_eq!(
            join(&github, &["jobWorkflowRef"]),
            "https://github.com/jobWorkflowRef"
        );
        assert_eq!(
            join(
                &github,
                &["sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main"]
            ),
            "https://github.com/sigstore/fulcio/.github/workflows/foo.yaml@refs/heads/main"
        );
        assert_eq!(
            join(
                &github,
                &[
                    "repository",
                    "actions/runs",
                    "runID",
                    "attempts",
                    "runAttempt"
                ]
            ),
            "https://github.com/repository/actions/runs/runID/attempts/runAttempt"
        );
        assert_eq!(join(&github, &["a/../../b"]), "https://github.com/b");
        assert_eq!(join(&github, &["a//b/./c/"]), "https://github.com/a/b/c/");
        assert_eq!(join(&github, &["a?b c"]), "https://github.com/a%3Fb%20c");
        assert_eq!(join(&github, &["a%2Fb"]), "https://github.com/a%2Fb");
        // An invalid escape leaves the base path untouched, as in Go.
        assert_eq!(join(&github, &["a%zz"]), "https://github.com/");

        let gitlab = GoUrl::parse("https://gitlab.com/").unwrap();
        assert_eq!(
            join(&gitlab, &["group/project", "/-/jobs/", "42"]),
            "https://gitlab.com/group/project/-/jobs/42"
        );

        let codefresh = GoUrl::parse("https://g.codefresh.io").unwrap();
        assert_eq!(
            join(
                &codefresh,
                &["codefresh-account", "oidc-test/get-token:628a/65e5"]
            ),
            "https://g.codefresh.io/codefresh-account/oidc-test/get-token:628a/65e5"
        );
        assert_eq!(join(&codefresh, &[""]), "https://g.codefresh.io");
        let with_query = GoUrl::parse("https://g.codefresh.io/base?x=1").unwrap();
        assert_eq!(
            join(&with_query, &["build", "7"]),
            "https://g.codefresh.io/base/build/7?x=1"
        );
    }

    #[test]
    fn path_clean_matches_go() {
        let cases = [
            ("", "."),
            ("/", "/"),
            ("a/b/../../..", ".."),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("a/../b/./c//", "b/c"),
            ("/a/b/..", "/a"),
        ];
        for (input, want) in cases {
            assert_eq!(path_clean(input), want, "input {input:?}");
        }
    }
}
