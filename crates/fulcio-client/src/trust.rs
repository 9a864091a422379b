//! Sigstore trust files (protobuf-specs `dev.sigstore.trustroot.v1`, in protobuf JSON form):
//! `trusted_root.json`, `signing_config.json` (v0.2) and the client trust config that holds both
//! (sigstore-python's `--trust-config`). Field names, media types and enum spellings are those of
//! the published schema, so sigstore-python, sigstore-js, sigstore-go and cosign read what we
//! write, and we read what they publish.
//!
//! What we build describes one Fulcio and its CT logs: `tlogs` (Rekor) and
//! `timestampAuthorities` are present but empty, and the signing config names no Rekor and no
//! TSA. Such files serve to verify certificates (chain and SCT). sigstore-python reads the
//! trusted root — on its own or inside a client trust config — and its CT keyring and Fulcio
//! certificates; but its `SigningConfig` refuses a config without a Rekor URL ("No valid Rekor
//! transparency log found"), so `sigstore sign` cannot use our signing config until the
//! instance has a Rekor. That is sigstore-python's rule, not a defect of the file.

use std::{path::Path, time::SystemTime};

use serde::{Deserialize, Serialize};

/// `TrustedRoot.mediaType`.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// The newer spelling of the trusted root's media type (protobuf-specs' `v0.2` form), which
/// some writers use for the same schema. Accepted when reading; we write
/// [`TRUSTED_ROOT_MEDIA_TYPE`], the one every current client accepts.
pub const TRUSTED_ROOT_MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";
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
        let mut ctlogs = Vec::with_capacity(ct_logs.len());
        for log in ct_logs {
            ctlogs.push(TransparencyLogInstance::ct_log(log)?);
        }
        Ok(Self {
            media_type: TRUSTED_ROOT_MEDIA_TYPE.to_owned(),
            tlogs: Vec::new(),
            certificate_authorities: vec![CertificateAuthority::from_spec(ca)?],
            ctlogs,
            timestamp_authorities: Vec::new(),
        })
    }

    /// Parses a trusted root and checks it: the media type, every certificate parses, every CT
    /// log's `logId.keyId` is SHA-256 of its `rawBytes`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let root: Self = parse_json("trusted root", bytes)?;
        root.check().map_err(TrustError::Invalid)?;
        Ok(root)
    }

    /// [`TrustedRoot::from_json`] over a file; errors name the file. Also accepts a client
    /// trust config, whose trusted root it returns.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        let bytes = read_file(path)?;
        let what = path.display().to_string();
        let value: serde_json::Value = parse_json(&what, &bytes)?;
        let media_type = value
            .get("mediaType")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let root = if media_type == CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            let config: ClientTrustConfig = from_value(&what, value)?;
            config.trusted_root
        } else {
            from_value::<Self>(&what, value)?
        };
        root.check()
            .map_err(|e| TrustError::Invalid(format!("{what}: {e}")))?;
        Ok(root)
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        pretty(self)
    }

    /// The CT log whose log ID is `log_id`, if the root has one.
    pub fn ct_log_by_id(&self, log_id: &[u8; 32]) -> Option<&TransparencyLogInstance> {
        self.ctlogs
            .iter()
            .find(|log| log.log_id.key_id.0.as_slice() == log_id.as_slice())
    }

    /// The media type, every certificate and every CT log ID, as [`TrustedRoot::from_json`]
    /// checks them; the error says what is wrong and where.
    fn check(&self) -> Result<(), String> {
        if self.media_type != TRUSTED_ROOT_MEDIA_TYPE
            && self.media_type != TRUSTED_ROOT_MEDIA_TYPE_V0_2
        {
            return Err(format!(
                "unsupported trusted root media type {:?} (expected {TRUSTED_ROOT_MEDIA_TYPE:?})",
                self.media_type
            ));
        }
        let authorities = self
            .certificate_authorities
            .iter()
            .map(|ca| ("certificate authority", ca))
            .chain(
                self.timestamp_authorities
                    .iter()
                    .map(|ca| ("timestamp authority", ca)),
            );
        for (kind, ca) in authorities {
            if ca.cert_chain.certificates.is_empty() {
                return Err(format!(
                    "{kind} {:?} has an empty certificate chain",
                    ca.uri
                ));
            }
            for (index, der) in ca.chain_der().enumerate() {
                parse_certificate(der).map_err(|e| {
                    format!("{kind} {:?}: certificate {index} of its chain: {e}", ca.uri)
                })?;
            }
        }
        for log in &self.ctlogs {
            let Some(raw) = &log.public_key.raw_bytes else {
                continue;
            };
            let expected = log_id_of(&raw.0);
            if log.log_id.key_id.0.as_slice() != expected.as_slice() {
                return Err(format!(
                    "CT log {:?}: logId.keyId {} is not the SHA-256 of its public key ({})",
                    log.base_url,
                    hex::encode(&log.log_id.key_id.0),
                    hex::encode(expected)
                ));
            }
        }
        Ok(())
    }
}

impl CertificateAuthority {
    /// The chain's certificates, DER, in file order (issuing certificate first, root last).
    pub fn chain_der(&self) -> impl Iterator<Item = &[u8]> {
        self.cert_chain
            .certificates
            .iter()
            .map(|cert| cert.raw_bytes.0.as_slice())
    }

    /// An authority for `spec`, named after its root certificate's subject (O and CN).
    pub fn from_spec(spec: &CaSpec) -> Result<Self, TrustError> {
        let root_der = spec.chain_der.last().ok_or_else(|| {
            TrustError::Invalid(format!(
                "certificate authority {}: empty certificate chain",
                spec.url
            ))
        })?;
        for (index, der) in spec.chain_der.iter().enumerate() {
            parse_certificate(der).map_err(|e| {
                TrustError::Invalid(format!(
                    "certificate authority {}: certificate {index} of its chain: {e}",
                    spec.url
                ))
            })?;
        }
        let subject = subject_of(root_der).map_err(|e| {
            TrustError::Invalid(format!(
                "certificate authority {}: root certificate: {e}",
                spec.url
            ))
        })?;
        Ok(Self {
            subject,
            uri: spec.url.clone(),
            cert_chain: X509CertificateChain {
                certificates: spec
                    .chain_der
                    .iter()
                    .map(|der| X509Certificate {
                        raw_bytes: Base64Bytes(der.clone()),
                    })
                    .collect(),
            },
            valid_for: spec.valid_for,
        })
    }
}

impl TransparencyLogInstance {
    /// A CT log entry for `spec`: `SHA2_256`, the key's `keyDetails`, log ID SHA-256 of the key.
    pub fn ct_log(spec: &CtLogSpec) -> Result<Self, TrustError> {
        let key_details = public_key_details(&spec.public_key_der).map_err(|e| {
            TrustError::Invalid(format!("CT log {}: public key: {e}", spec.base_url))
        })?;
        Ok(Self {
            base_url: spec.base_url.clone(),
            hash_algorithm: "SHA2_256".to_owned(),
            public_key: PublicKey {
                raw_bytes: Some(Base64Bytes(spec.public_key_der.clone())),
                key_details: key_details.to_owned(),
                valid_for: Some(spec.valid_for),
            },
            log_id: LogId {
                key_id: Base64Bytes(log_id_of(&spec.public_key_der).to_vec()),
            },
            checkpoint_key_id: None,
        })
    }

    /// The key's DER SubjectPublicKeyInfo, when the entry carries it.
    pub fn public_key_der(&self) -> Option<&[u8]> {
        self.public_key
            .raw_bytes
            .as_ref()
            .map(|raw| raw.0.as_slice())
    }
}

/// The log ID of a log whose key is `spki_der`: SHA-256 of the DER SubjectPublicKeyInfo
/// (RFC 6962 §3.2), as ct-core computes it for the server's logs.
pub use ct_core::log_key::log_id_of;

/// The `PublicKeyDetails` name of a DER SubjectPublicKeyInfo: `PKIX_ECDSA_P256_SHA_256`,
/// `PKIX_ECDSA_P384_SHA_384`, `PKIX_ECDSA_P521_SHA_512`, `PKIX_RSA_PKCS1V15_{2048,3072,4096}_SHA256`
/// or `PKIX_ED25519`. Other keys (other curves, RSA sizes, algorithms) are an error naming them.
pub fn public_key_details(spki_der: &[u8]) -> Result<&'static str, String> {
    use x509_parser::prelude::FromDer as _;

    let (rest, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|e| format!("not a DER SubjectPublicKeyInfo: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} trailing bytes after the SubjectPublicKeyInfo",
            rest.len()
        ));
    }
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        // id-ecPublicKey: the curve is the parameter.
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .ok_or("an EC key without a named curve")?;
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => Ok("PKIX_ECDSA_P256_SHA_256"),
                "1.3.132.0.34" => Ok("PKIX_ECDSA_P384_SHA_384"),
                "1.3.132.0.35" => Ok("PKIX_ECDSA_P521_SHA_512"),
                other => Err(format!("unsupported EC curve {other}")),
            }
        }
        // rsaEncryption: the size of the modulus decides.
        "1.2.840.113549.1.1.1" => {
            let bits = match spki.parsed() {
                Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => modulus_bits(rsa.modulus),
                Ok(_) => return Err("an rsaEncryption key that is not an RSAPublicKey".to_owned()),
                Err(e) => return Err(format!("an RSA key whose RSAPublicKey does not parse: {e}")),
            };
            match bits {
                2048 => Ok("PKIX_RSA_PKCS1V15_2048_SHA256"),
                3072 => Ok("PKIX_RSA_PKCS1V15_3072_SHA256"),
                4096 => Ok("PKIX_RSA_PKCS1V15_4096_SHA256"),
                other => Err(format!(
                    "unsupported RSA modulus of {other} bits (2048, 3072 or 4096)"
                )),
            }
        }
        "1.3.101.112" => Ok("PKIX_ED25519"),
        other => Err(format!("unsupported public key algorithm {other}")),
    }
}

/// The size in bits of a big-endian unsigned integer (leading zero bytes and bits ignored).
fn modulus_bits(modulus: &[u8]) -> usize {
    let significant = modulus
        .iter()
        .position(|&b| b != 0)
        .map_or(&[][..], |first| &modulus[first..]);
    match significant.first() {
        Some(&top) => (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    }
}

fn parse_certificate(der: &[u8]) -> Result<x509_parser::certificate::X509Certificate<'_>, String> {
    use x509_parser::prelude::FromDer as _;

    let (rest, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} trailing bytes after the certificate",
            rest.len()
        ));
    }
    Ok(cert)
}

/// O and CN of a certificate's subject (the first of each; empty when absent).
fn subject_of(der: &[u8]) -> Result<DistinguishedName, String> {
    let cert = parse_certificate(der)?;
    let subject = cert.subject();
    Ok(DistinguishedName {
        organization: first_string(subject.iter_organization())?,
        common_name: first_string(subject.iter_common_name())?,
    })
}

/// The first of a name's attribute values as text; empty when there is none.
fn first_string<'a, 'b: 'a>(
    mut values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'b>>,
) -> Result<String, String> {
    match values.next() {
        None => Ok(String::new()),
        Some(value) => value
            .as_str()
            .map(str::to_owned)
            .map_err(|e| format!("subject attribute is not a string: {e}")),
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
        let service = |url: &str| Service {
            url: url.to_owned(),
            major_api_version: 1,
            valid_for,
            operator: operator.to_owned(),
        };
        let any = || ServiceConfiguration {
            selector: "ANY".to_owned(),
            count: None,
        };
        Self {
            media_type: SIGNING_CONFIG_MEDIA_TYPE.to_owned(),
            ca_urls: vec![service(ca_url)],
            oidc_urls: oidc_url.map(service).into_iter().collect(),
            rekor_tlog_urls: Vec::new(),
            rekor_tlog_config: Some(any()),
            tsa_urls: Vec::new(),
            tsa_config: Some(any()),
        }
    }

    /// Parses a signing config and checks its media type.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let config: Self = parse_json("signing config", bytes)?;
        if config.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(TrustError::Invalid(format!(
                "unsupported signing config media type {:?} (expected {SIGNING_CONFIG_MEDIA_TYPE:?})",
                config.media_type
            )));
        }
        Ok(config)
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        pretty(self)
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

    /// Parses a client trust config and checks it: its media type, and its trusted root and
    /// signing config as [`TrustedRoot::from_json`] and [`SigningConfig::from_json`] do.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let config: Self = parse_json("client trust config", bytes)?;
        if config.media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            return Err(TrustError::Invalid(format!(
                "unsupported client trust config media type {:?} (expected {CLIENT_TRUST_CONFIG_MEDIA_TYPE:?})",
                config.media_type
            )));
        }
        config.trusted_root.check().map_err(TrustError::Invalid)?;
        if config.signing_config.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(TrustError::Invalid(format!(
                "unsupported signing config media type {:?} (expected {SIGNING_CONFIG_MEDIA_TYPE:?})",
                config.signing_config.media_type
            )));
        }
        Ok(config)
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        pretty(self)
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TrustError> {
    std::fs::read(path).map_err(|source| TrustError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, TrustError> {
    serde_json::from_slice(bytes).map_err(|e| TrustError::Json {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}

fn from_value<T: serde::de::DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, TrustError> {
    serde_json::from_value(value).map_err(|e| TrustError::Json {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}

/// Pretty JSON and a newline. Serializing these types cannot fail: every field is a string,
/// number, list or struct, and [`Timestamp`] clamps what it cannot write (see its `Serialize`).
fn pretty<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Unreachable (see above); an empty document rather than a panic.
        Err(_) => String::from("{}\n"),
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
    /// Instants outside the years 0000–9999 (which RFC 3339 cannot write) are clamped to the
    /// nearest end of that range, so serializing never fails.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = format_timestamp(self.0).unwrap_or_else(|_| {
            if self.0 < SystemTime::UNIX_EPOCH {
                "0000-01-01T00:00:00Z".to_owned()
            } else {
                "9999-12-31T23:59:59.999999999Z".to_owned()
            }
        });
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    serde::de::Error::custom(format!("invalid timestamp {text:?}: {e}"))
                })?;
        Ok(Timestamp(parsed.into()))
    }
}

/// RFC 3339 in UTC, as protobuf JSON writes a Timestamp: `2026-11-24T14:18:57Z`, with 3, 6 or
/// 9 fractional digits only when the instant has a fraction.
pub fn format_timestamp(at: SystemTime) -> Result<String, String> {
    let nanos_since_epoch: i128 = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(nanos_since_epoch)
        .map_err(|e| format!("instant outside the representable range: {e}"))?;
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
