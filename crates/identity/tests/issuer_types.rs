//! Claims → challenge, SAN and extensions for the non-CI issuer types (Fulcio spec §2.1, §3.3),
//! with upstream's test vectors and failure cases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

mod fixtures;

use fixtures::{San, embed_and_decode, principal, token, token_with};
use identity::IdentityError;
use oidc::{IssuerType, OidcIssuer};
use serde_json::json;

fn is_claims_error<T: std::fmt::Debug>(r: &Result<T, IdentityError>) -> bool {
    matches!(r, Err(IdentityError::Claims(_)))
}

fn email_issuer(skip_email_verification: bool, issuer_claim: &str) -> OidcIssuer {
    OidcIssuer {
        issuer_type: IssuerType::Email,
        skip_email_verification,
        issuer_claim: issuer_claim.to_owned(),
        ..OidcIssuer::default()
    }
}

#[test]
fn email_well_formed_token() {
    let t = token(
        IssuerType::Email,
        json!({"aud": "sigstore", "iss": "https://iss.example.com", "sub": "doesntmatter", "email": "alice@example.com", "email_verified": true}),
    );
    let p = principal(&t).unwrap();
    assert_eq!(p.name(), "alice@example.com");
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Email("alice@example.com".into()));
    assert_eq!(
        d.extensions,
        vec![
            (1, "https://iss.example.com".into()),
            (8, "https://iss.example.com".into()),
            (24, "doesntmatter".into())
        ]
    );
}

#[test]
fn email_verification_table() {
    // (email_verified claim or None for absent, skip_email_verification, accepted)
    let cases = [
        (Some(json!(true)), false, true),
        (Some(json!("true")), false, true),
        (Some(json!("True")), false, true),
        (Some(json!(false)), false, false),
        (Some(json!("false")), false, false),
        (Some(json!("False")), false, false),
        (None, false, false),
        (Some(json!("yes")), false, false),
        (Some(json!("TRUE")), false, false),
        (Some(json!(null)), false, false),
        (Some(json!(1)), false, false),
        (None, true, true),
        (Some(json!(false)), true, true),
        (Some(json!(true)), true, true),
        // Upstream decodes the claim before looking at the setting: garbage still fails.
        (Some(json!("yes")), true, false),
    ];
    for (verified, skip, accepted) in cases {
        let mut claims = json!({"iss": "https://internal.example.com", "sub": "s", "email": "alice@example.com"});
        if let Some(v) = &verified {
            claims["email_verified"] = v.clone();
        }
        let r = principal(&token_with(email_issuer(skip, ""), claims));
        assert_eq!(
            r.is_ok(),
            accepted,
            "email_verified={verified:?} skip={skip}: {r:?}"
        );
        if !accepted {
            assert!(is_claims_error(&r));
        }
    }
}

#[test]
fn email_claim_failures() {
    let cases = [
        (
            json!({"iss": "https://iss.example.com", "sub": "s", "email_verified": true}),
            "token missing email claim",
        ),
        (
            json!({"iss": "https://iss.example.com", "sub": "s", "email": "", "email_verified": true}),
            "token missing email claim",
        ),
        (
            json!({"iss": "https://iss.example.com", "sub": "s", "email": "foo.com", "email_verified": true}),
            "email address is not valid",
        ),
        (
            json!({"iss": "https://iss.example.com", "sub": "s", "email": "alice@example.com", "email_verified": false}),
            "email_verified claim was false",
        ),
        (
            json!({"iss": "https://iss.example.com", "sub": "s", "email": 42, "email_verified": true}),
            "cannot unmarshal number",
        ),
        (
            json!({"iss": "https://iss.example.com", "sub": 7, "email": "alice@example.com", "email_verified": true}),
            "cannot unmarshal number",
        ),
    ];
    for (claims, message) in cases {
        let r = principal(&token(IssuerType::Email, claims.clone()));
        assert!(
            matches!(&r, Err(IdentityError::Claims(m)) if m.contains(message)),
            "{claims}: {r:?}"
        );
    }
}

#[test]
fn email_claim_names_match_case_insensitively_like_go() {
    let t = token(
        IssuerType::Email,
        json!({"iss": "https://iss.example.com", "sub": "s", "Email": "alice@example.com", "EMAIL_VERIFIED": true}),
    );
    assert_eq!(principal(&t).unwrap().name(), "alice@example.com");
}

#[test]
fn email_issuer_claim_replaces_the_issuer() {
    let claims = json!({
        "aud": "sigstore", "iss": "https://dex.other.com", "sub": "doesntmatter",
        "email": "alice@example.com", "email_verified": true,
        "federated": {"issuer": "https://example.com"},
        "federated_claims": {"connector_id": "https://github.com/login/oauth", "user_id": "1"},
    });
    for (path, want) in [
        ("$.federated.issuer", "https://example.com"),
        (
            "$.federated_claims.connector_id",
            "https://github.com/login/oauth",
        ),
    ] {
        let p = principal(&token_with(email_issuer(false, path), claims.clone())).unwrap();
        let d = embed_and_decode(&p);
        assert_eq!(d.get(1), Some(want), "{path}");
        assert_eq!(d.get(8), Some(want), "{path}");
        assert_eq!(d.get(24), Some("doesntmatter"));
    }
    // "string email verified value" vector: the string form works together with a claim path.
    let mut string_verified = claims.clone();
    string_verified["email_verified"] = json!("true");
    assert!(
        principal(&token_with(
            email_issuer(false, "$.federated.issuer"),
            string_verified
        ))
        .is_ok()
    );
}

#[test]
fn email_issuer_claim_failures() {
    let claims = json!({"iss": "https://dex.other.com", "sub": "s", "email": "alice@example.com", "email_verified": true});
    let r = principal(&token_with(
        email_issuer(false, "$.federated.issuer"),
        claims.clone(),
    ));
    assert_eq!(
        r.unwrap_err(),
        IdentityError::Claims("unknown key federated".into())
    );
    let r = principal(&token_with(
        email_issuer(false, "$..issuer"),
        claims.clone(),
    ));
    assert!(is_claims_error(&r));

    // An empty value passes the claim checks but upstream cannot render the certificate.
    let mut empty = claims;
    empty["federated"] = json!({"issuer": ""});
    let p = principal(&token_with(
        email_issuer(false, "$.federated.issuer"),
        empty,
    ))
    .unwrap();
    assert_eq!(
        p.embed().unwrap_err(),
        IdentityError::Embed("extensions must have a non-empty issuer url".into())
    );
}

fn spiffe_token(sub: &str) -> oidc::VerifiedToken {
    let config = OidcIssuer {
        issuer_type: IssuerType::Spiffe,
        spiffe_trust_domain: "example.com".into(),
        ..OidcIssuer::default()
    };
    token_with(
        config,
        json!({"iss": "https://issuer.example.com", "sub": sub}),
    )
}

#[test]
fn spiffe_valid_id() {
    let p = principal(&spiffe_token("spiffe://example.com/foo/bar")).unwrap();
    assert_eq!(p.name(), "spiffe://example.com/foo/bar");
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Uri("spiffe://example.com/foo/bar".into()));
    assert_eq!(
        d.extensions,
        vec![
            (1, "https://issuer.example.com".into()),
            (8, "https://issuer.example.com".into()),
            (24, "spiffe://example.com/foo/bar".into())
        ]
    );
}

#[test]
fn spiffe_failures() {
    for sub in [
        "spiffe://foo.example.com/foo/bar",
        "not-a-spiffe-id",
        "spiffe://example.com/foo/",
        "spiffe://EXAMPLE.com/x",
        "",
    ] {
        assert!(is_claims_error(&principal(&spiffe_token(sub))), "{sub}");
    }
    let r = principal(&spiffe_token("spiffe://foo.example.com/foo/bar"));
    assert_eq!(
        r.unwrap_err(),
        IdentityError::Claims("spiffe ID trust domain foo.example.com doesn't match configured trust domain example.com".into())
    );
}

fn kubernetes_claims(namespace: &str) -> serde_json::Value {
    json!({
        "aud": ["sigstore"],
        "iss": "https://iss.example.com",
        "kubernetes.io": {
            "namespace": namespace,
            "pod": {"name": "bar", "uid": "2ff0bae1-6b8a-445b-ae03-1f8d2a08d031"},
            "serviceaccount": {"name": "baz", "uid": "5cb6264f-e283-4365-9a1f-d5a15090527e"},
        },
        "sub": "system:serviceaccount:foo:baz",
    })
}

#[test]
fn kubernetes_service_account() {
    let p = principal(&token(IssuerType::Kubernetes, kubernetes_claims("foo"))).unwrap();
    assert_eq!(p.name(), "system:serviceaccount:foo:baz");
    let d = embed_and_decode(&p);
    assert_eq!(
        d.san,
        San::Uri("https://kubernetes.io/namespaces/foo/serviceaccounts/baz".into())
    );
    assert_eq!(d.arcs(), vec![1, 8, 24]);
    assert_eq!(d.get(1), Some("https://iss.example.com"));
    assert_eq!(d.get(24), Some("system:serviceaccount:foo:baz"));
}

#[test]
fn kubernetes_failures() {
    // A namespace that makes the URI unparsable fails at embed time, with Go's text.
    let p = principal(&token(IssuerType::Kubernetes, kubernetes_claims("\nbad"))).unwrap();
    assert_eq!(
        p.embed().unwrap_err(),
        IdentityError::Embed(
            "parse \"https://kubernetes.io/namespaces/\\nbad/serviceaccounts/baz\": net/url: invalid control character in URL".into()
        )
    );
    // Mistyped structure fails the token.
    let mut claims = kubernetes_claims("foo");
    claims["kubernetes.io"]["serviceaccount"] = json!("baz");
    assert!(is_claims_error(&principal(&token(
        IssuerType::Kubernetes,
        claims
    ))));
    let mut claims = kubernetes_claims("foo");
    claims["kubernetes.io"]["pod"]["uid"] = json!(5);
    assert!(is_claims_error(&principal(&token(
        IssuerType::Kubernetes,
        claims
    ))));
    // Missing parts are not checked (upstream behaviour): empty path segments.
    let p = principal(&token(
        IssuerType::Kubernetes,
        json!({"iss": "https://iss.example.com", "sub": "x"}),
    ))
    .unwrap();
    assert_eq!(
        embed_and_decode(&p).san,
        San::Uri("https://kubernetes.io/namespaces//serviceaccounts/".into())
    );
}

fn uri_token(sub: &str) -> oidc::VerifiedToken {
    let config = OidcIssuer {
        issuer_type: IssuerType::Uri,
        subject_domain: "https://example.com".into(),
        ..OidcIssuer::default()
    };
    token_with(
        config,
        json!({"iss": "https://accounts.example.com", "sub": sub}),
    )
}

#[test]
fn uri_valid_subject() {
    let p = principal(&uri_token("https://example.com/users/1")).unwrap();
    assert_eq!(p.name(), "https://example.com/users/1");
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Uri("https://example.com/users/1".into()));
    assert_eq!(d.get(1), Some("https://accounts.example.com"));
    assert_eq!(d.get(24), Some("https://example.com/users/1"));
    // The port does not take part in the hostname comparison.
    assert!(principal(&uri_token("https://example.com:8443/users/1")).is_ok());
    // The SAN is Go's re-serialisation; the challenge and 1.24 keep the claim.
    let p = principal(&uri_token("HTTPS://example.com/a b")).unwrap();
    assert_eq!(p.name(), "HTTPS://example.com/a b");
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Uri("https://example.com/a%20b".into()));
    assert_eq!(d.get(24), Some("HTTPS://example.com/a b"));
}

#[test]
fn uri_failures() {
    let cases = [
        (
            "user@example.com",
            "uri subject should not be an email address",
        ),
        (
            "https://notexample.com/users/1",
            "subject hostname (notexample.com) must match expected domain (example.com)",
        ),
        (
            "http://example.com/users/1",
            "subject URI scheme (http) must match expected domain URI scheme (https)",
        ),
        ("not\n#a#uri", "invalid control character"),
    ];
    for (sub, message) in cases {
        let r = principal(&uri_token(sub));
        assert!(
            matches!(&r, Err(IdentityError::Claims(m)) if m.contains(message)),
            "{sub}: {r:?}"
        );
    }
}

fn username_token(sub: &str) -> oidc::VerifiedToken {
    let config = OidcIssuer {
        issuer_type: IssuerType::Username,
        subject_domain: "example.com".into(),
        ..OidcIssuer::default()
    };
    token_with(
        config,
        json!({"iss": "https://accounts.example.com", "sub": sub}),
    )
}

#[test]
fn username_other_name_san() {
    let p = principal(&username_token("alice")).unwrap();
    assert_eq!(p.name(), "alice");
    let d = embed_and_decode(&p);
    assert_eq!(
        d.san,
        San::OtherName("1.3.6.1.4.1.57264.1.7".into(), "alice!example.com".into())
    );
    assert_eq!(
        d.extensions,
        vec![
            (1, "https://accounts.example.com".into()),
            (8, "https://accounts.example.com".into()),
            (24, "alice".into())
        ]
    );
}

#[test]
fn username_failures() {
    for (sub, message) in [
        ("alice!", "username cannot contain ! character"),
        (
            "alice@example.com",
            "uri subject should not be an email address",
        ),
    ] {
        assert_eq!(
            principal(&username_token(sub)).unwrap_err(),
            IdentityError::Claims(message.into()),
            "{sub}"
        );
    }
}

const GROUP: &str = "0123456789abcdef0123456789abcdef01234567";
const ID: &str = "0123456789abcdef0123456789abcdef01234567/89abcdef01234567";

#[test]
fn chainguard_service_principal() {
    let t = token(
        IssuerType::ChainguardIdentity,
        json!({
            "iss": "https://issuer.enforce.dev",
            "sub": ID,
            "act": {"iss": "https://iss.example.com/", "sub": format!("catalog-syncer:{GROUP}"), "aud": "chainguard"},
            "internal": {"service-principal": "CATALOG_SYNCER"},
        }),
    );
    let p = principal(&t).unwrap();
    assert_eq!(p.name(), ID);
    let d = embed_and_decode(&p);
    assert_eq!(d.san, San::Uri(format!("https://issuer.enforce.dev/{ID}")));
    assert_eq!(d.get(8), Some("https://issuer.enforce.dev"));
    assert_eq!(d.get(24), Some(ID));
}

#[test]
fn chainguard_challenge_prefers_verified_email() {
    let human = |email: Option<(&str, serde_json::Value)>| {
        let mut claims = json!({
            "iss": "https://issuer.enforce.dev",
            "sub": GROUP,
            "act": {"iss": "https://auth.chainguard.dev/", "sub": "google-oauth2|1234567890", "aud": "fdsaldfkjhasldf"},
        });
        if let Some((address, verified)) = email {
            claims["email"] = json!(address);
            claims["email_verified"] = verified;
        }
        principal(&token(IssuerType::ChainguardIdentity, claims))
    };
    assert_eq!(human(None).unwrap().name(), GROUP);
    let with_email = human(Some(("jane@doe.dev", json!(true)))).unwrap();
    assert_eq!(with_email.name(), "jane@doe.dev");
    // The SAN still uses the subject.
    assert_eq!(
        embed_and_decode(&with_email).san,
        San::Uri(format!("https://issuer.enforce.dev/{GROUP}"))
    );
    assert_eq!(
        human(Some(("jane@doe.dev", json!("True")))).unwrap().name(),
        "jane@doe.dev"
    );
    assert_eq!(
        human(Some(("jane@doe.dev", json!(false)))).unwrap_err(),
        IdentityError::Claims("not verified by identity provider".into())
    );
}

#[test]
fn chainguard_failures() {
    let no_subject = token(
        IssuerType::ChainguardIdentity,
        json!({"iss": "https://issuer.enforce.dev"}),
    );
    assert_eq!(
        principal(&no_subject).unwrap_err(),
        IdentityError::Claims("no subject found in claims".into())
    );
    let bad_actor = token(
        IssuerType::ChainguardIdentity,
        json!({"iss": "https://issuer.enforce.dev", "sub": "x", "act": {"n": 1}}),
    );
    assert!(is_claims_error(&principal(&bad_actor)));
    let bad_internal = token(
        IssuerType::ChainguardIdentity,
        json!({"iss": "https://issuer.enforce.dev", "sub": "x", "internal": "x"}),
    );
    assert!(is_claims_error(&principal(&bad_internal)));
}

#[test]
fn unknown_issuer_types_are_unsupported() {
    let t = token(
        IssuerType::Other("custom".into()),
        json!({"iss": "https://x", "sub": "s"}),
    );
    assert_eq!(
        principal(&t).unwrap_err(),
        IdentityError::UnsupportedType("custom".into())
    );
}
