//! Object identifiers of the Fulcio certificate profile (Fulcio spec §4.3): the Sigstore arc
//! 1.3.6.1.4.1.57264.1 and the SubjectAltName extension.

use const_oid::ObjectIdentifier;

/// 2.5.29.17, the SubjectAltName extension (RFC 5280 §4.2.1.6).
pub const SUBJECT_ALT_NAME: ObjectIdentifier = const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME;

/// 1.1 Issuer (deprecated encoding: raw UTF-8 as the extension value).
pub const ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// 1.2 GitHub Workflow Trigger (deprecated, raw).
pub const GITHUB_WORKFLOW_TRIGGER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.2");
/// 1.3 GitHub Workflow SHA (deprecated, raw).
pub const GITHUB_WORKFLOW_SHA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.3");
/// 1.4 GitHub Workflow Name (deprecated, raw).
pub const GITHUB_WORKFLOW_NAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.4");
/// 1.5 GitHub Workflow Repository (deprecated, raw).
pub const GITHUB_WORKFLOW_REPOSITORY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.5");
/// 1.6 GitHub Workflow Ref (deprecated, raw).
pub const GITHUB_WORKFLOW_REF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.6");
/// 1.7 The otherName type-id of username SANs (value `[0] EXPLICIT UTF8String`).
pub const OTHER_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// 1.8 Issuer (V2, DER UTF8String).
pub const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// 1.9 Build Signer URI.
pub const BUILD_SIGNER_URI: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.9");
/// 1.10 Build Signer Digest.
pub const BUILD_SIGNER_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.10");
/// 1.11 Runner Environment.
pub const RUNNER_ENVIRONMENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.11");
/// 1.12 Source Repository URI.
pub const SOURCE_REPOSITORY_URI: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.12");
/// 1.13 Source Repository Digest.
pub const SOURCE_REPOSITORY_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.13");
/// 1.14 Source Repository Ref.
pub const SOURCE_REPOSITORY_REF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.14");
/// 1.15 Source Repository Identifier.
pub const SOURCE_REPOSITORY_IDENTIFIER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.15");
/// 1.16 Source Repository Owner URI.
pub const SOURCE_REPOSITORY_OWNER_URI: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.16");
/// 1.17 Source Repository Owner Identifier.
pub const SOURCE_REPOSITORY_OWNER_IDENTIFIER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.17");
/// 1.18 Build Config URI.
pub const BUILD_CONFIG_URI: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.18");
/// 1.19 Build Config Digest.
pub const BUILD_CONFIG_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.19");
/// 1.20 Build Trigger.
pub const BUILD_TRIGGER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.20");
/// 1.21 Run Invocation URI.
pub const RUN_INVOCATION_URI: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.21");
/// 1.22 Source Repository Visibility At Signing.
pub const SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.22");
/// 1.23 Deployment Environment.
pub const DEPLOYMENT_ENVIRONMENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.23");
/// 1.24 Token Subject (the raw `sub` claim).
pub const TOKEN_SUBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.24");
