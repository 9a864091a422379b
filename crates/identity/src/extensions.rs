//! DER encoding of the SAN and of the Sigstore extensions (Fulcio spec §4.3).
//!
//! # Where the identity's extensions go in the certificate
//!
//! Go's `x509.CreateCertificate` emits keyUsage, extKeyUsage, [SKI], AKI, then the standard SAN
//! (email and URI identities), then the principal's "extra" extensions, then the CT poison or
//! SCT list (Fulcio spec §4.1). Upstream's username principal puts its otherName SAN *first*
//! among the extra extensions, ahead of 1.1; since username certificates have no standard SAN,
//! that lands in the same slot, right after AKI. So for every issuer type the identity's part
//! of the extension list is: the SAN, then the Sigstore extensions in OID order —
//! [`certificate_extensions`] returns exactly that.

use der::Encode;
use der::asn1::{Any, Ia5String, OctetString, Utf8StringRef};
use oidc::Extensions;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName as SanExtension;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};

use crate::{CertificateIdentity, IdentityError, SubjectAltName, go_fmt, oid};

/// How an extension value is carried in extnValue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueEncoding {
    /// The UTF-8 bytes themselves (1.1–1.6, an encoding mistake upstream keeps for
    /// compatibility).
    Raw,
    /// A DER UTF8String (1.8–1.24).
    Utf8String,
}

/// One Sigstore extension: its upstream field name, OID, encoding and the field holding it.
pub(crate) struct ExtensionField {
    /// The Go field name (`BuildSignerURI`), as upstream names it in ci-provider errors.
    pub(crate) go_name: &'static str,
    pub(crate) oid: const_oid::ObjectIdentifier,
    pub(crate) encoding: ValueEncoding,
    pub(crate) get: fn(&Extensions) -> &String,
    pub(crate) get_mut: fn(&mut Extensions) -> &mut String,
}

macro_rules! field {
    ($go:literal, $oid:ident, $enc:ident, $f:ident) => {
        ExtensionField {
            go_name: $go,
            oid: oid::$oid,
            encoding: ValueEncoding::$enc,
            get: |e| &e.$f,
            get_mut: |e| &mut e.$f,
        }
    };
}

/// The Sigstore extensions in upstream's emission order (1.1, 1.2–1.6, 1.8, 1.9–1.23, 1.24);
/// the issuer appears twice. Apart from the issuer and subject entries this is also the order
/// of upstream's `Extensions` struct fields, which ci-provider rendering follows.
pub(crate) static FIELDS: [ExtensionField; 23] = [
    field!("Issuer", ISSUER, Raw, issuer),
    field!(
        "GithubWorkflowTrigger",
        GITHUB_WORKFLOW_TRIGGER,
        Raw,
        github_workflow_trigger
    ),
    field!(
        "GithubWorkflowSHA",
        GITHUB_WORKFLOW_SHA,
        Raw,
        github_workflow_sha
    ),
    field!(
        "GithubWorkflowName",
        GITHUB_WORKFLOW_NAME,
        Raw,
        github_workflow_name
    ),
    field!(
        "GithubWorkflowRepository",
        GITHUB_WORKFLOW_REPOSITORY,
        Raw,
        github_workflow_repository
    ),
    field!(
        "GithubWorkflowRef",
        GITHUB_WORKFLOW_REF,
        Raw,
        github_workflow_ref
    ),
    field!("Issuer", ISSUER_V2, Utf8String, issuer),
    field!(
        "BuildSignerURI",
        BUILD_SIGNER_URI,
        Utf8String,
        build_signer_uri
    ),
    field!(
        "BuildSignerDigest",
        BUILD_SIGNER_DIGEST,
        Utf8String,
        build_signer_digest
    ),
    field!(
        "RunnerEnvironment",
        RUNNER_ENVIRONMENT,
        Utf8String,
        runner_environment
    ),
    field!(
        "SourceRepositoryURI",
        SOURCE_REPOSITORY_URI,
        Utf8String,
        source_repository_uri
    ),
    field!(
        "SourceRepositoryDigest",
        SOURCE_REPOSITORY_DIGEST,
        Utf8String,
        source_repository_digest
    ),
    field!(
        "SourceRepositoryRef",
        SOURCE_REPOSITORY_REF,
        Utf8String,
        source_repository_ref
    ),
    field!(
        "SourceRepositoryIdentifier",
        SOURCE_REPOSITORY_IDENTIFIER,
        Utf8String,
        source_repository_identifier
    ),
    field!(
        "SourceRepositoryOwnerURI",
        SOURCE_REPOSITORY_OWNER_URI,
        Utf8String,
        source_repository_owner_uri
    ),
    field!(
        "SourceRepositoryOwnerIdentifier",
        SOURCE_REPOSITORY_OWNER_IDENTIFIER,
        Utf8String,
        source_repository_owner_identifier
    ),
    field!(
        "BuildConfigURI",
        BUILD_CONFIG_URI,
        Utf8String,
        build_config_uri
    ),
    field!(
        "BuildConfigDigest",
        BUILD_CONFIG_DIGEST,
        Utf8String,
        build_config_digest
    ),
    field!("BuildTrigger", BUILD_TRIGGER, Utf8String, build_trigger),
    field!(
        "RunInvocationURI",
        RUN_INVOCATION_URI,
        Utf8String,
        run_invocation_uri
    ),
    field!(
        "SourceRepositoryVisibilityAtSigning",
        SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING,
        Utf8String,
        source_repository_visibility_at_signing
    ),
    field!(
        "DeploymentEnvironment",
        DEPLOYMENT_ENVIRONMENT,
        Utf8String,
        deployment_environment
    ),
    field!("Subject", TOKEN_SUBJECT, Utf8String, subject),
];

/// Upstream refuses to render extensions without an issuer; the text reaches the client.
pub(crate) fn check_issuer(values: &Extensions) -> Result<(), IdentityError> {
    if values.issuer.is_empty() {
        return Err(IdentityError::Embed(
            "extensions must have a non-empty issuer url".to_owned(),
        ));
    }
    Ok(())
}

/// The SubjectAltName extension (RFC 5280 §4.2.1.6) holding the one SAN of a Fulcio
/// certificate, marked critical because the subject is empty (Fulcio spec §3.3, §4.1):
/// rfc822Name, uniformResourceIdentifier, or otherName with type-id 1.3.6.1.4.1.57264.1.7 and
/// value `[0] EXPLICIT UTF8String`.
///
/// rfc822Name and URI are IA5Strings: a non-ASCII value is an [`IdentityError::Encoding`]
/// (upstream's `x509.CreateCertificate` fails the same way).
pub fn san_extension(san: &SubjectAltName) -> Result<Extension, IdentityError> {
    let name = match san {
        SubjectAltName::Email(email) => GeneralName::Rfc822Name(ia5(email)?),
        SubjectAltName::Uri(uri) => GeneralName::UniformResourceIdentifier(ia5(uri)?),
        SubjectAltName::Username(name) => {
            let value = Utf8StringRef::new(name)
                .and_then(|s| Any::encode_from(&s))
                .map_err(encoding)?;
            GeneralName::OtherName(OtherName {
                type_id: oid::OTHER_NAME,
                value,
            })
        }
    };
    let value = SanExtension(vec![name]).to_der().map_err(encoding)?;
    Ok(Extension {
        extn_id: oid::SUBJECT_ALT_NAME,
        critical: true,
        extn_value: octets(value)?,
    })
}

/// The Sigstore extensions in upstream's order (1.1, 1.2–1.6, 1.8, 1.9–1.23, 1.24), non-critical;
/// 1.1–1.6 raw UTF-8, 1.8–1.24 DER UTF8String; empty values omitted (Fulcio spec §4.3).
/// Errors if the issuer is empty.
pub fn sigstore_extensions(values: &Extensions) -> Result<Vec<Extension>, IdentityError> {
    check_issuer(values)?;
    let mut out = Vec::new();
    for field in &FIELDS {
        let value = (field.get)(values);
        if value.is_empty() {
            continue;
        }
        let content = match field.encoding {
            ValueEncoding::Raw => value.as_bytes().to_vec(),
            ValueEncoding::Utf8String => Utf8StringRef::new(value)
                .and_then(|s| s.to_der())
                .map_err(encoding)?,
        };
        out.push(Extension {
            extn_id: field.oid,
            critical: false,
            extn_value: octets(content)?,
        });
    }
    Ok(out)
}

/// Everything the identity contributes to a certificate, in upstream's order: the SAN
/// extension, then the Sigstore extensions. The CA places these right after the authority key
/// identifier (see the module documentation for why this holds for username SANs too).
pub fn certificate_extensions(
    identity: &CertificateIdentity,
) -> Result<Vec<Extension>, IdentityError> {
    let mut out = vec![san_extension(&identity.san)?];
    out.extend(sigstore_extensions(&identity.extensions)?);
    Ok(out)
}

fn ia5(s: &str) -> Result<Ia5String, IdentityError> {
    Ia5String::new(s).map_err(|_| {
        IdentityError::Encoding(format!(
            "x509: {} cannot be encoded as an IA5String",
            go_fmt::quote(s)
        ))
    })
}

fn octets(bytes: Vec<u8>) -> Result<OctetString, IdentityError> {
    OctetString::new(bytes).map_err(encoding)
}

fn encoding(e: der::Error) -> IdentityError {
    IdentityError::Encoding(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_table_is_in_oid_order() {
        let arcs: Vec<u32> = FIELDS.iter().filter_map(|f| f.oid.arcs().last()).collect();
        assert_eq!(
            arcs,
            vec![
                1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24
            ]
        );
    }

    #[test]
    fn extension_bytes_are_canonical_der() {
        let values = Extensions {
            issuer: "https://iss".into(),
            subject: "sub".into(),
            ..Default::default()
        };
        let exts = sigstore_extensions(&values).unwrap();
        let der: Vec<Vec<u8>> = exts.iter().map(|e| e.to_der().unwrap()).collect();
        // SEQUENCE { OID 1.3.6.1.4.1.57264.1.1, OCTET STRING "https://iss" } — critical omitted.
        let mut want = vec![
            0x30, 0x19, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01,
            0x04, 0x0b,
        ];
        want.extend_from_slice(b"https://iss");
        assert_eq!(der[0], want);
        // 1.8: OCTET STRING { UTF8String "https://iss" }.
        let mut want = vec![
            0x30, 0x1b, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08,
            0x04, 0x0d, 0x0c, 0x0b,
        ];
        want.extend_from_slice(b"https://iss");
        assert_eq!(der[1], want);
        assert_eq!(exts[2].extn_id, oid::TOKEN_SUBJECT);
        assert_eq!(exts.len(), 3);
    }

    #[test]
    fn username_san_matches_upstream_layout() {
        let ext = san_extension(&SubjectAltName::Username("alice!example.com".into())).unwrap();
        // GeneralNames SEQUENCE { [0] { OID 1.7, [0] { UTF8String } } }
        let mut want = vec![
            0x30, 0x23, 0xa0, 0x21, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30,
            0x01, 0x07,
        ];
        want.extend_from_slice(&[0xa0, 0x13, 0x0c, 0x11]);
        want.extend_from_slice(b"alice!example.com");
        assert_eq!(ext.extn_value.as_bytes(), &want[..]);
        assert!(ext.critical);
    }

    #[test]
    fn non_ascii_sans_cannot_be_encoded() {
        assert_eq!(
            san_extension(&SubjectAltName::Email("ü@example.com".into())),
            Err(IdentityError::Encoding(
                "x509: \"ü@example.com\" cannot be encoded as an IA5String".into()
            ))
        );
        assert!(matches!(
            san_extension(&SubjectAltName::Uri("https://bü.de".into())),
            Err(IdentityError::Encoding(_))
        ));
        // The otherName value is a UTF8String, so non-ASCII is fine there.
        assert!(san_extension(&SubjectAltName::Username("ü!example.com".into())).is_ok());
    }

    #[test]
    fn empty_issuer_is_refused() {
        let values = Extensions {
            subject: "sub".into(),
            ..Default::default()
        };
        assert_eq!(
            sigstore_extensions(&values),
            Err(IdentityError::Embed(
                "extensions must have a non-empty issuer url".into()
            ))
        );
    }
}
