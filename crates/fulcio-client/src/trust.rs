//! Sigstore trust files (protobuf-specs `dev.sigstore.trustroot.v1`, in protobuf JSON form):
//! `trusted_root.json`, `signing_config.json` (v0.2) and the client trust config that holds both
//! (sigstore-python's `--trust-config`). Field names, media types and enum spellings are those of
//! the published schema, so sigstore-python, sigstore-js, sigstore-go and cosign read what we
//! write, and we read what they publish.

use std::{path::Path, time::SystemTime};

use serde::{Deserialize, Serialize};

/// `TrustedRoot.mediaType`.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// `SigningConfig.mediaType` (v0.2, the version current clients read).
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// `ClientTrustConfig.mediaType`.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Why a trust file could not be read, checked or built.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON does not have the schema's shape.
    #[error("{what}: invalid JSON: {detail}")]
    Json {
        /// What was being read ("trusted root", a file name, …).
        what: String,
        /// serde's description, with the path to the bad field.
        detail: String,
    },
    /// The content is well-formed but unusable (wrong media type, a log ID that is not the
    /// SHA-256 of its key, an unparseable certificate, …).
    #[error("{0}")]
    Invalid(String),
}

/// `dev.sigstore.trustroot.v1.TrustedRoot`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    /// [`TRUSTED_ROOT_MEDIA_TYPE`].
    pub media_type: String,
    /// Transparency logs (Rekor). Always written, possibly empty: sigstore-python rejects a
    /// trusted root without the key.
    #[serde(default)]
    pub tlogs: Vec<TransparencyLogInstance>,
    /// Fulcio instances, each with its chain and validity window.
    #[serde(default)]
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate Transparency logs whose SCTs are trusted.
    #[serde(default)]
    pub ctlogs: Vec<TransparencyLogInstance>,
    /// RFC 3161 timestamp authorities.
    #[serde(default)]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

/// `dev.sigstore.trustroot.v1.CertificateAuthority`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    /// The CA's name, from its root certificate's subject.
    #[serde(default)]
    pub subject: DistinguishedName,
    /// The CA's URL.
    #[serde(default)]
    pub uri: String,
    /// The chain, issuing certificate first and root last.
    pub cert_chain: X509CertificateChain,
    /// When certificates issued by this CA are trusted.
    pub valid_for: TimeRange,
}

/// `dev.sigstore.common.v1.DistinguishedName`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistinguishedName {
    /// O.
    #[serde(default)]
    pub organization: String,
    /// CN.
    #[serde(default)]
    pub common_name: String,
}

/// `dev.sigstore.common.v1.X509CertificateChain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X509CertificateChain {
    /// DER certificates.
    pub certificates: Vec<X509Certificate>,
}

/// `dev.sigstore.common.v1.X509Certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    /// The DER encoding.
    pub raw_bytes: Base64Bytes,
}

/// `dev.sigstore.common.v1.TimeRange`: `start` inclusive, `end` exclusive and optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// The first instant of the range.
    pub start: Timestamp,
    /// The end of the range; open-ended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// Whether `at` lies in `[start, end)`.
    pub fn contains(&self, at: SystemTime) -> bool {
        at >= self.start.0 && self.end.is_none_or(|end| at < end.0)
    }
}

/// `dev.sigstore.trustroot.v1.TransparencyLogInstance` (a Rekor or a CT log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogInstance {
    /// The log's base URL.
    #[serde(default)]
    pub base_url: String,
    /// `SHA2_256` for every log we know.
    #[serde(default)]
    pub hash_algorithm: String,
    /// The log's key and when it was in use.
    pub public_key: PublicKey,
    /// The log ID: for a CT log, SHA-256 of the key's DER SubjectPublicKeyInfo.
    pub log_id: LogId,
    /// The checkpoint key ID, for logs whose checkpoint key differs (Rekor v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
}

/// `dev.sigstore.common.v1.PublicKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// The DER SubjectPublicKeyInfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<Base64Bytes>,
    /// `PublicKeyDetails` name, e.g. `PKIX_ECDSA_P256_SHA_256`.
    #[serde(default)]
    pub key_details: String,
    /// When the key was in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

/// `dev.sigstore.common.v1.LogId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// The key ID bytes.
    pub key_id: Base64Bytes,
}

/// `dev.sigstore.trustroot.v1.SigningConfig` (media type v0.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfig {
    /// [`SIGNING_CONFIG_MEDIA_TYPE`].
    pub media_type: String,
    /// Fulcio instances.
    #[serde(default)]
    pub ca_urls: Vec<Service>,
    /// Identity providers.
    #[serde(default)]
    pub oidc_urls: Vec<Service>,
    /// Rekor instances.
    #[serde(default)]
    pub rekor_tlog_urls: Vec<Service>,
    /// Which Rekor instances to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    /// Timestamp authorities.
    #[serde(default)]
    pub tsa_urls: Vec<Service>,
    /// Which timestamp authorities to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

/// `dev.sigstore.trustroot.v1.Service`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The service's base URL.
    pub url: String,
    /// The API's major version (1 for Fulcio v2's API and for OIDC).
    pub major_api_version: u32,
    /// When the service is to be used.
    pub valid_for: TimeRange,
    /// Who runs it.
    #[serde(default)]
    pub operator: String,
}

/// `dev.sigstore.trustroot.v1.ServiceConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConfiguration {
    /// `ANY`, `ALL` or `EXACT`.
    pub selector: String,
    /// With `EXACT`, how many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// `dev.sigstore.trustroot.v1.ClientTrustConfig`: a trusted root and a signing config in one
/// file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTrustConfig {
    /// [`CLIENT_TRUST_CONFIG_MEDIA_TYPE`].
    pub media_type: String,
    /// What to trust.
    pub trusted_root: TrustedRoot,
    /// Where to sign.
    pub signing_config: SigningConfig,
}

/// Bytes as protobuf JSON writes them: standard base64 with padding. Reading also accepts the
/// URL-safe alphabet and missing padding, as protobuf JSON parsers do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Base64Bytes(pub Vec<u8>);

/// A `google.protobuf.Timestamp` in its JSON form: RFC 3339 in UTC (`Z`), fractional seconds
/// only when non-zero. Reading accepts any RFC 3339 offset and up to nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub SystemTime);

/// A CT log to put in a trusted root.
#[derive(Debug, Clone)]
pub struct CtLogSpec {
    /// The log's base URL (what `add-pre-chain` is appended to).
    pub base_url: String,
    /// The log key's DER SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
    /// When the key signs SCTs that clients should trust.
    pub valid_for: TimeRange,
}

/// A Fulcio instance to put in a trusted root and a signing config.
#[derive(Debug, Clone)]
pub struct CaSpec {
    /// The CA's base URL.
    pub url: String,
    /// Its chain, DER, issuing certificate first and root last.
    pub chain_der: Vec<Vec<u8>>,
    /// When certificates it issues are trusted.
    pub valid_for: TimeRange,
}

impl TrustedRoot {
    /// A trusted root for one CA and its CT logs; `tlogs` and `timestampAuthorities` empty.
    /// The subject comes from the root certificate; each log's `keyDetails` from its key (P-256,
    /// P-384, P-521, RSA, Ed25519) and its log ID is SHA-256 of the key.
    pub fn for_instance(ca: &CaSpec, ct_logs: &[CtLogSpec]) -> Result<Self, TrustError> {
        let _ = (ca, ct_logs);
        unimplemented!("trust: TrustedRoot::for_instance")
    }

    /// Parses a trusted root and checks it: the media type, every certificate parses, every CT
    /// log's `logId.keyId` is SHA-256 of its `rawBytes`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let _ = bytes;
        unimplemented!("trust: TrustedRoot::from_json")
    }

    /// [`TrustedRoot::from_json`] over a file; errors name the file. Also accepts a client
    /// trust config, whose trusted root it returns.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        let _ = path;
        unimplemented!("trust: TrustedRoot::load")
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        unimplemented!("trust: TrustedRoot::to_json_pretty")
    }
}

impl SigningConfig {
    /// A signing config naming one CA (`majorApiVersion` 1) and, when given, one identity
    /// provider; no Rekor and no TSA (selectors `ANY`). `operator` names who runs them.
    pub fn for_instance(
        ca_url: &str,
        oidc_url: Option<&str>,
        valid_for: TimeRange,
        operator: &str,
    ) -> Self {
        let _ = (ca_url, oidc_url, valid_for, operator);
        unimplemented!("trust: SigningConfig::for_instance")
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        unimplemented!("trust: SigningConfig::to_json_pretty")
    }
}

impl ClientTrustConfig {
    /// Both files in one.
    pub fn new(trusted_root: TrustedRoot, signing_config: SigningConfig) -> Self {
        Self {
            media_type: CLIENT_TRUST_CONFIG_MEDIA_TYPE.to_owned(),
            trusted_root,
            signing_config,
        }
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        unimplemented!("trust: ClientTrustConfig::to_json_pretty")
    }
}

impl Serialize for Base64Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(deserializer)?;
        // Protobuf JSON parsers accept either alphabet, padded or not.
        let normalised: String = text
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                other => other,
            })
            .collect();
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(normalised.as_bytes())
            .map(Base64Bytes)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = format_timestamp(self.0).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| serde::de::Error::custom(format!("invalid timestamp {text:?}: {e}")))?;
        Ok(Timestamp(parsed.into()))
    }
}

/// RFC 3339 in UTC, as protobuf JSON writes a Timestamp: `2026-11-24T14:18:57Z`, with 3, 6 or
/// 9 fractional digits only when the instant has a fraction.
pub fn format_timestamp(at: SystemTime) -> Result<String, String> {
    let utc = time::OffsetDateTime::from(at);
    let date = utc.date();
    let clock = utc.time();
    let nanos = clock.nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos % 1_000_000 == 0 {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    if !(0..=9999).contains(&date.year()) {
        return Err(format!("year {} is outside 0000-9999", date.year()));
    }
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        clock.hour(),
        clock.minute(),
        clock.second(),
    ))
}
