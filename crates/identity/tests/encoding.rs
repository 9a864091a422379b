//! DER encoding of the identity's extensions (Fulcio spec §4.3), checked with an independent
//! parser (x509-parser): raw 1.1–1.6, UTF8String 1.8–1.24 without trailing bytes, emission
//! order, omission of empty values, criticality, SAN layouts, canonical re-encoding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed expectation is a failed test"
)]

mod fixtures;

use der::{Decode, Encode};
use fixtures::{San, decode, utf8_string};
use identity::{
    CertificateIdentity, IdentityError, SubjectAltName, certificate_extensions, oid, san_extension,
    sigstore_extensions,
};
use oidc::Extensions;
use x509_parser::extensions::X509Extension;
use x509_parser::prelude::FromDer;

/// Every field set, each to a distinct value naming its arc.
fn all_fields() -> Extensions {
    Extensions {
        issuer: "https://issuer.example.com".into(),
        github_workflow_trigger: "v2".into(),
        github_workflow_sha: "v3".into(),
        github_workflow_name: "v4".into(),
        github_workflow_repository: "v5".into(),
        github_workflow_ref: "v6".into(),
        build_signer_uri: "v9".into(),
        build_signer_digest: "v10".into(),
        runner_environment: "v11".into(),
        source_repository_uri: "v12".into(),
        source_repository_digest: "v13".into(),
        source_repository_ref: "v14".into(),
        source_repository_identifier: "v15".into(),
        source_repository_owner_uri: "v16".into(),
        source_repository_owner_identifier: "v17".into(),
        build_config_uri: "v18".into(),
        build_config_digest: "v19".into(),
        build_trigger: "v20".into(),
        run_invocation_uri: "v21".into(),
        source_repository_visibility_at_signing: "v22".into(),
        deployment_environment: "v23".into(),
        subject: "v24".into(),
    }
}

fn parse(ext: &x509_cert::ext::Extension) -> (String, bool, Vec<u8>) {
    let der = ext.to_der().unwrap();
    let (rest, parsed) = X509Extension::from_der(&der).unwrap();
    assert!(rest.is_empty());
    (
        parsed.oid.to_id_string(),
        parsed.critical,
        parsed.value.to_vec(),
    )
}

#[test]
fn order_and_encoding_of_every_extension() {
    let exts = sigstore_extensions(&all_fields()).unwrap();
    let parsed: Vec<_> = exts.iter().map(parse).collect();
    let oids: Vec<&str> = parsed.iter().map(|(o, _, _)| o.as_str()).collect();
    let want_arcs = [
        1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    ];
    let want: Vec<String> = want_arcs
        .iter()
        .map(|a| format!("1.3.6.1.4.1.57264.1.{a}"))
        .collect();
    assert_eq!(oids, want);
    for ((oid, critical, value), arc) in parsed.iter().zip(want_arcs) {
        assert!(!critical, "{oid}");
        let expected = if arc == 1 || arc == 8 {
            "https://issuer.example.com".to_owned()
        } else {
            format!("v{arc}")
        };
        if arc <= 6 {
            // Raw UTF-8 bytes are the whole extnValue content: no DER wrapper.
            assert_eq!(value, expected.as_bytes(), "{oid}");
        } else {
            assert_eq!(utf8_string(value), expected, "{oid}");
        }
    }
}

#[test]
fn raw_issuer_is_not_a_der_string() {
    let exts = sigstore_extensions(&Extensions {
        issuer: "https://iss".into(),
        ..Extensions::default()
    })
    .unwrap();
    let (_, _, raw) = parse(&exts[0]);
    assert_eq!(raw, b"https://iss");
    let (_, _, v2) = parse(&exts[1]);
    assert_eq!(v2[0], 0x0c, "UTF8String tag");
    assert_eq!(&v2[2..], b"https://iss");
    assert_eq!(exts.len(), 2, "no subject: 1.24 omitted");
}

#[test]
fn empty_values_are_omitted_and_issuer_is_mandatory() {
    let only_some = Extensions {
        issuer: "https://iss".into(),
        runner_environment: "github-hosted".into(),
        subject: "sub".into(),
        ..Extensions::default()
    };
    let arcs: Vec<String> = sigstore_extensions(&only_some)
        .unwrap()
        .iter()
        .map(|e| parse(e).0)
        .collect();
    assert_eq!(
        arcs,
        [
            "1.3.6.1.4.1.57264.1.1",
            "1.3.6.1.4.1.57264.1.8",
            "1.3.6.1.4.1.57264.1.11",
            "1.3.6.1.4.1.57264.1.24"
        ]
    );

    let mut no_issuer = all_fields();
    no_issuer.issuer.clear();
    assert_eq!(
        sigstore_extensions(&no_issuer),
        Err(IdentityError::Embed(
            "extensions must have a non-empty issuer url".into()
        ))
    );
}

#[test]
fn long_and_non_ascii_values() {
    let long = "x".repeat(300);
    let values = Extensions {
        issuer: "https://issuér.example".into(),
        build_signer_uri: long.clone(),
        subject: "sübject".into(),
        ..Extensions::default()
    };
    let parsed: Vec<_> = sigstore_extensions(&values)
        .unwrap()
        .iter()
        .map(parse)
        .collect();
    assert_eq!(parsed[0].2, "https://issuér.example".as_bytes());
    assert_eq!(utf8_string(&parsed[1].2), "https://issuér.example");
    assert_eq!(utf8_string(&parsed[2].2), long);
    assert_eq!(utf8_string(&parsed[3].2), "sübject");
}

#[test]
fn san_layouts() {
    for (san, want) in [
        (
            SubjectAltName::Email("alice@example.com".into()),
            San::Email("alice@example.com".into()),
        ),
        (
            SubjectAltName::Uri("https://github.com/a/b".into()),
            San::Uri("https://github.com/a/b".into()),
        ),
        (
            SubjectAltName::Username("alice!example.com".into()),
            San::OtherName("1.3.6.1.4.1.57264.1.7".into(), "alice!example.com".into()),
        ),
    ] {
        let identity = CertificateIdentity {
            san: san.clone(),
            extensions: Extensions {
                issuer: "https://iss".into(),
                ..Extensions::default()
            },
        };
        // `decode` checks: SAN first, critical, one entry, otherName as [0] EXPLICIT UTF8String.
        let d = decode(&identity);
        assert_eq!(d.san, want);
        assert_eq!(d.arcs(), vec![1, 8]);
        let ext = san_extension(&san).unwrap();
        assert_eq!(ext.extn_id, oid::SUBJECT_ALT_NAME);
        assert!(ext.critical);
    }
}

#[test]
fn sans_that_are_not_ia5_fail_to_encode() {
    for san in [
        SubjectAltName::Email("jöe@example.com".into()),
        SubjectAltName::Uri("https://exämple.com/".into()),
    ] {
        assert!(
            matches!(san_extension(&san), Err(IdentityError::Encoding(m)) if m.contains("cannot be encoded as an IA5String"))
        );
        let identity = CertificateIdentity {
            san,
            extensions: Extensions {
                issuer: "https://iss".into(),
                ..Extensions::default()
            },
        };
        assert!(matches!(
            certificate_extensions(&identity),
            Err(IdentityError::Encoding(_))
        ));
    }
}

#[test]
fn encoding_is_canonical_der() {
    let identity = CertificateIdentity {
        san: SubjectAltName::Username("alice!example.com".into()),
        extensions: all_fields(),
    };
    for ext in certificate_extensions(&identity).unwrap() {
        let der = ext.to_der().unwrap();
        // A strict DER decoder accepts it and re-encodes the same bytes.
        let back = x509_cert::ext::Extension::from_der(&der).unwrap();
        assert_eq!(back.to_der().unwrap(), der);
        // Non-critical extensions omit the DEFAULT FALSE field entirely.
        if !ext.critical {
            assert_eq!(der[2], 0x06, "OID directly after the SEQUENCE header");
            let oid_len = usize::from(der[3]);
            assert_eq!(der[4 + oid_len], 0x04, "OCTET STRING follows the OID");
        }
    }
}
