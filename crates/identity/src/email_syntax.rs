//! The email syntax check upstream applies (Fulcio spec §3.3): email identities must be
//! syntactically valid addresses, and uri/username subjects must not look like one.
//!
//! Upstream uses govalidator's `IsEmail` (release 2021-03-07), a single regular expression. The
//! pattern below accepts the same language: `\d` is spelled `[0-9]` because Go's `\d` is
//! ASCII-only while Rust's is Unicode, and the quoted local part keeps govalidator's
//! "quoted pair" that starts with `(` rather than a backslash.

use std::sync::LazyLock;

use regex::Regex;

const LOCAL_CHAR: &str =
    r"[a-zA-Z0-9!#\$%&'\*\+\-/=\?\^_`\{\|\}~\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}]";
const UCS: &str = r"\x{00A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}";

fn pattern() -> String {
    let quoted_char = format!(
        r"(?:[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]|\x21|[\x23-\x5b]|[\x5d-\x7e]|[{UCS}])|(?:\((?:[\x01-\x09\x0b\x0c\x0d-\x7f])|[{UCS}])"
    );
    let fws = r"(?:(?:(?:\x20|\x09)*(?:\x0d\x0a))?(?:\x20|\x09)+)?";
    let local = format!(
        r"(?:(?:{LOCAL_CHAR}+(?:\.{LOCAL_CHAR}+)*)|(?:\x22(?:{fws}(?:{quoted_char}))*{fws}\x22))"
    );
    let label_alnum = format!(r"[a-zA-Z0-9{UCS}]");
    let label_inner = format!(r"[a-zA-Z0-9\-\._~{UCS}]");
    let tld_alpha = format!(r"[a-zA-Z{UCS}]");
    let tld_inner = format!(r"[a-zA-Z0-9\-_~{UCS}]");
    let domain = format!(
        r"(?:(?:{label_alnum}|(?:{label_alnum}{label_inner}*{label_alnum}))\.)+(?:{tld_alpha}|(?:{tld_alpha}{tld_inner}*{tld_alpha}))\.?"
    );
    format!("^{local}@{domain}$")
}

#[expect(
    clippy::expect_used,
    reason = "constant pattern, compiled by a unit test"
)]
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&pattern()).expect("the email pattern is a valid regex"));

/// govalidator's `IsEmail`.
pub(crate) fn is_email(s: &str) -> bool {
    EMAIL.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_govalidator_accepts() {
        for s in [
            "alice@example.com",
            "a.b+c@sub.example.co",
            "user@example.com.",
            "\"quoted name\"@example.com",
            "jane@doe.dev",
            "üser@exämple.com",
            "x@a-b.io",
            // govalidator's quoted pair starts with `(`, so `("` is allowed inside quotes.
            "\"a(\"\"@example.com",
        ] {
            assert!(is_email(s), "{s}");
        }
    }

    #[test]
    fn rejects_what_govalidator_rejects() {
        for s in [
            "foo.com",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a..b@example.com",
            "alice@-example.com",
            "alice@example.c0m1",
            "https://example.com/users/1",
            "alice!example.com",
            "alice@exa mple.com",
            "alice@example.com\n",
            // ...and a backslash is not.
            "\"a\\\"b\"@example.com",
        ] {
            assert!(!is_email(s), "{s}");
        }
    }
}
