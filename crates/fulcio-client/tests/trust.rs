//! The trust files: what `TrustedRoot::for_instance` and `SigningConfig::for_instance` write
//! (field by field, against values computed here independently), that reading gives back what
//! was written, that bad files are refused with a message naming the culprit, that a file in the
//! shape of the public-good instance's `trusted_root.json` reads, and that sigstore-python reads
//! what we write.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::PathBuf,
    time::{Duration, SystemTime},
};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use fulcio_client::trust::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, CaSpec, ClientTrustConfig, CtLogSpec,
    SIGNING_CONFIG_MEDIA_TYPE, SigningConfig, TRUSTED_ROOT_MEDIA_TYPE, TimeRange, Timestamp,
    TrustError, TrustedRoot,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
    PublicKeyData as _, SignatureAlgorithm,
};
use serde_json::{Value, json};

/// 2026-11-24T14:18:57Z.
const START_SECS: u64 = 1_795_529_937;

fn at(secs: u64, millis: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
}

fn since(start: SystemTime) -> TimeRange {
    TimeRange {
        start: Timestamp(start),
        end: None,
    }
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// A root (O, CN as given) and an intermediate under it: DER, intermediate first.
fn ca_chain(organization: &str, common_name: &str) -> Vec<Vec<u8>> {
    let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params
        .distinguished_name
        .push(DnType::OrganizationName, organization);
    root_params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(
        root_params,
        KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
    )
    .unwrap();
    let mut intermediate_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    intermediate_params
        .distinguished_name
        .push(DnType::OrganizationName, organization);
    intermediate_params
        .distinguished_name
        .push(DnType::CommonName, "intermediate");
    intermediate_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let intermediate_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root)
        .unwrap();
    vec![intermediate.der().to_vec(), root.der().to_vec()]
}

fn spki(alg: &'static SignatureAlgorithm) -> Vec<u8> {
    KeyPair::generate_for(alg)
        .unwrap()
        .subject_public_key_info()
}

fn rsa_spki(size: rcgen::RsaKeySize) -> Vec<u8> {
    KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
        .unwrap()
        .subject_public_key_info()
}

fn ct_log(base_url: &str, public_key_der: Vec<u8>, valid_for: TimeRange) -> CtLogSpec {
    CtLogSpec {
        base_url: base_url.to_owned(),
        public_key_der,
        valid_for,
    }
}

fn instance() -> (CaSpec, Vec<CtLogSpec>) {
    let ca = CaSpec {
        url: "http://127.0.0.1:5555".to_owned(),
        chain_der: ca_chain("fulcio-rs test", "test root"),
        valid_for: since(at(START_SECS, 0)),
    };
    let log = ct_log(
        "http://127.0.0.1:6962/test",
        spki(&rcgen::PKCS_ECDSA_P256_SHA256),
        TimeRange {
            start: Timestamp(at(START_SECS, 0)),
            end: Some(Timestamp(at(START_SECS + 86_400, 250))),
        },
    );
    (ca, vec![log])
}

#[test]
fn the_trusted_root_has_the_schema_s_json_shape() {
    let (ca, logs) = instance();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    let text = root.to_json_pretty();
    assert!(text.ends_with("}\n"), "pretty JSON with a trailing newline");
    let value: Value = serde_json::from_str(&text).unwrap();
    let b64 = |bytes: &[u8]| Value::String(BASE64.encode(bytes));
    let spki = &logs[0].public_key_der;
    let expected = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [],
        "certificateAuthorities": [{
            "subject": {"organization": "fulcio-rs test", "commonName": "test root"},
            "uri": "http://127.0.0.1:5555",
            "certChain": {"certificates": [
                {"rawBytes": b64(&ca.chain_der[0])},
                {"rawBytes": b64(&ca.chain_der[1])},
            ]},
            "validFor": {"start": "2026-11-24T14:18:57Z"},
        }],
        "ctlogs": [{
            "baseUrl": "http://127.0.0.1:6962/test",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(spki),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2026-11-24T14:18:57Z", "end": "2026-11-25T14:18:57.250Z"},
            },
            "logId": {"keyId": b64(&sha256(spki))},
        }],
        "timestampAuthorities": [],
    });
    assert_eq!(value, expected);
}

#[test]
fn each_key_type_gets_its_key_details() {
    let cases = [
        (
            spki(&rcgen::PKCS_ECDSA_P256_SHA256),
            "PKIX_ECDSA_P256_SHA_256",
        ),
        (
            spki(&rcgen::PKCS_ECDSA_P384_SHA384),
            "PKIX_ECDSA_P384_SHA_384",
        ),
        (
            spki(&rcgen::PKCS_ECDSA_P521_SHA512),
            "PKIX_ECDSA_P521_SHA_512",
        ),
        (spki(&rcgen::PKCS_ED25519), "PKIX_ED25519"),
        (
            rsa_spki(rcgen::RsaKeySize::_2048),
            "PKIX_RSA_PKCS1V15_2048_SHA256",
        ),
        (
            rsa_spki(rcgen::RsaKeySize::_3072),
            "PKIX_RSA_PKCS1V15_3072_SHA256",
        ),
        (
            rsa_spki(rcgen::RsaKeySize::_4096),
            "PKIX_RSA_PKCS1V15_4096_SHA256",
        ),
    ];
    let (ca, _) = instance();
    let logs: Vec<CtLogSpec> = cases
        .iter()
        .enumerate()
        .map(|(i, (key, _))| ct_log(&format!("http://log{i}"), key.clone(), ca.valid_for))
        .collect();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    for ((key, details), log) in cases.iter().zip(&root.ctlogs) {
        assert_eq!(&log.public_key.key_details, details, "{}", log.base_url);
        assert_eq!(log.log_id.key_id.0, sha256(key), "{}", log.base_url);
        let id: [u8; 32] = sha256(key).try_into().unwrap();
        assert_eq!(
            root.ct_log_by_id(&id).map(|l| l.base_url.as_str()),
            Some(log.base_url.as_str())
        );
    }
    assert!(root.ct_log_by_id(&[0; 32]).is_none());
}

#[test]
fn an_unsupported_ct_key_is_refused_with_its_algorithm() {
    // An X25519 SubjectPublicKeyInfo (OID 1.3.101.110): a key that signs nothing.
    let mut x25519 = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
    ];
    x25519.extend_from_slice(&[7; 32]);
    let (ca, _) = instance();
    let log = ct_log("http://odd-log", x25519, ca.valid_for);
    let err = TrustedRoot::for_instance(&ca, &[log]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("http://odd-log") && message.contains("1.3.101.110"),
        "{message}"
    );
}

#[test]
fn an_empty_or_unparseable_chain_is_refused() {
    let (mut ca, logs) = instance();
    ca.chain_der.clear();
    let message = TrustedRoot::for_instance(&ca, &logs)
        .unwrap_err()
        .to_string();
    assert!(message.contains("empty certificate chain"), "{message}");
    ca.chain_der = vec![b"not a certificate".to_vec()];
    let message = TrustedRoot::for_instance(&ca, &logs)
        .unwrap_err()
        .to_string();
    assert!(message.contains("certificate 0"), "{message}");
}

#[test]
fn the_files_read_back_as_written() {
    let (ca, logs) = instance();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    let signing = SigningConfig::for_instance(
        &ca.url,
        Some("http://127.0.0.1:8080/oidc"),
        ca.valid_for,
        "fulcio-rs tests",
    );
    let both = ClientTrustConfig::new(root.clone(), signing.clone());
    assert_eq!(
        TrustedRoot::from_json(root.to_json_pretty().as_bytes()).unwrap(),
        root
    );
    assert_eq!(
        SigningConfig::from_json(signing.to_json_pretty().as_bytes()).unwrap(),
        signing
    );
    assert_eq!(
        ClientTrustConfig::from_json(both.to_json_pretty().as_bytes()).unwrap(),
        both
    );

    // load: a trusted root, or the trusted root of a client trust config.
    let dir = tempfile::tempdir().unwrap();
    let root_path = dir.path().join("trusted_root.json");
    let config_path = dir.path().join("trust_config.json");
    std::fs::write(&root_path, root.to_json_pretty()).unwrap();
    std::fs::write(&config_path, both.to_json_pretty()).unwrap();
    assert_eq!(TrustedRoot::load(&root_path).unwrap(), root);
    assert_eq!(TrustedRoot::load(&config_path).unwrap(), root);

    let missing = dir.path().join("missing.json");
    let err = TrustedRoot::load(&missing).unwrap_err();
    assert!(matches!(err, TrustError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.json"), "{err}");
}

#[test]
fn the_signing_config_has_the_schema_s_json_shape() {
    let valid_for = TimeRange {
        start: Timestamp(at(START_SECS, 0)),
        end: Some(Timestamp(at(START_SECS, 0) + Duration::from_nanos(1_500))),
    };
    let with_oidc = SigningConfig::for_instance("https://ca", Some("https://idp"), valid_for, "me");
    let window = json!({"start": "2026-11-24T14:18:57Z", "end": "2026-11-24T14:18:57.000001500Z"});
    let service = |url: &str| json!({"url": url, "majorApiVersion": 1, "validFor": window.clone(), "operator": "me"});
    let value: Value = serde_json::from_str(&with_oidc.to_json_pretty()).unwrap();
    assert_eq!(
        value,
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [service("https://ca")],
            "oidcUrls": [service("https://idp")],
            "rekorTlogUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaUrls": [],
            "tsaConfig": {"selector": "ANY"},
        })
    );
    let without = SigningConfig::for_instance("https://ca", None, valid_for, "me");
    let value: Value = serde_json::from_str(&without.to_json_pretty()).unwrap();
    assert_eq!(value["oidcUrls"], json!([]));
    assert_eq!(value["mediaType"], SIGNING_CONFIG_MEDIA_TYPE);

    let both = ClientTrustConfig::new(
        TrustedRoot::for_instance(&instance().0, &[]).unwrap(),
        without,
    );
    let value: Value = serde_json::from_str(&both.to_json_pretty()).unwrap();
    assert_eq!(value["mediaType"], CLIENT_TRUST_CONFIG_MEDIA_TYPE);
    assert_eq!(value["trustedRoot"]["mediaType"], TRUSTED_ROOT_MEDIA_TYPE);
    assert_eq!(
        value["signingConfig"]["mediaType"],
        SIGNING_CONFIG_MEDIA_TYPE
    );
}

#[test]
fn a_log_id_that_is_not_the_hash_of_the_key_is_refused() {
    let (ca, logs) = instance();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    let mut value: Value = serde_json::from_str(&root.to_json_pretty()).unwrap();
    value["ctlogs"][0]["logId"]["keyId"] = Value::String(BASE64.encode([9u8; 32]));
    let err = TrustedRoot::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, TrustError::Invalid(_)), "{err:?}");
    assert!(
        err.to_string().contains("http://127.0.0.1:6962/test"),
        "{err}"
    );

    // Through load, inside a client trust config, the message also names the file.
    let signing = SigningConfig::for_instance(&ca.url, None, ca.valid_for, "x");
    let mut config: Value =
        serde_json::from_str(&ClientTrustConfig::new(root, signing).to_json_pretty()).unwrap();
    config["trustedRoot"] = value;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let message = TrustedRoot::load(&path).unwrap_err().to_string();
    assert!(
        message.contains("bad-config.json") && message.contains("logId"),
        "{message}"
    );
}

#[test]
fn a_wrong_media_type_a_bad_certificate_or_bad_json_is_refused() {
    let (ca, logs) = instance();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    let good: Value = serde_json::from_str(&root.to_json_pretty()).unwrap();

    let mut wrong_type = good.clone();
    wrong_type["mediaType"] = json!("application/vnd.dev.sigstore.trustedroot+json;version=9");
    let message = TrustedRoot::from_json(wrong_type.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(message.contains("version=9"), "{message}");

    // The v0.2 spelling of the same schema reads.
    let mut newer = good.clone();
    newer["mediaType"] = json!(fulcio_client::trust::TRUSTED_ROOT_MEDIA_TYPE_V0_2);
    TrustedRoot::from_json(newer.to_string().as_bytes()).unwrap();

    let mut bad_cert = good.clone();
    bad_cert["certificateAuthorities"][0]["certChain"]["certificates"][1]["rawBytes"] =
        json!(BASE64.encode(b"garbage"));
    let message = TrustedRoot::from_json(bad_cert.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("http://127.0.0.1:5555") && message.contains("certificate 1"),
        "{message}"
    );

    let mut bad_time = good;
    bad_time["ctlogs"][0]["publicKey"]["validFor"]["start"] = json!("yesterday");
    let err = TrustedRoot::from_json(bad_time.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, TrustError::Json { .. }), "{err:?}");
    assert!(err.to_string().contains("yesterday"), "{err}");
}

/// A file in the shape the public-good instance publishes (sigstore/root-signing's
/// `trusted_root.json`): Rekor logs (one a Rekor v2 log with an Ed25519 key and a
/// `checkpointKeyId`), two Fulcio CAs (the old one with an `end`), two CT logs, a timestamp
/// authority, timestamps with milliseconds, and fields we do not model. The certificates and
/// keys are generated here; the structure is the published one.
#[test]
fn a_public_good_shaped_trusted_root_reads() {
    let b64 = |bytes: &[u8]| BASE64.encode(bytes);
    let rekor = spki(&rcgen::PKCS_ECDSA_P256_SHA256);
    let rekor2 = spki(&rcgen::PKCS_ED25519);
    let ctfe_old = spki(&rcgen::PKCS_ECDSA_P256_SHA256);
    let ctfe = spki(&rcgen::PKCS_ECDSA_P256_SHA256);
    let old_ca = ca_chain("sigstore.dev", "sigstore");
    let ca = ca_chain("sigstore.dev", "sigstore");
    let tsa = ca_chain("GitHub, Inc.", "Internal Services Root");
    let text = format!(
        r#"{{
  "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "tlogs": [
    {{
      "baseUrl": "https://rekor.sigstore.dev",
      "hashAlgorithm": "SHA2_256",
      "publicKey": {{
        "rawBytes": "{rekor}",
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "validFor": {{ "start": "2021-01-12T11:53:27.000Z" }}
      }},
      "logId": {{ "keyId": "{rekor_id}" }}
    }},
    {{
      "baseUrl": "https://log2025-1.rekor.sigstore.dev",
      "hashAlgorithm": "SHA2_256",
      "publicKey": {{
        "rawBytes": "{rekor2}",
        "keyDetails": "PKIX_ED25519",
        "validFor": {{ "start": "2025-09-23T00:00:00Z" }}
      }},
      "logId": {{ "keyId": "{rekor2_id}" }},
      "checkpointKeyId": {{ "keyId": "{rekor2_id}" }},
      "operator": "sigstore.dev"
    }}
  ],
  "certificateAuthorities": [
    {{
      "subject": {{ "organization": "sigstore.dev", "commonName": "sigstore" }},
      "uri": "https://fulcio.sigstore.dev",
      "certChain": {{ "certificates": [ {{ "rawBytes": "{old_ca_root}" }} ] }},
      "validFor": {{ "start": "2021-03-07T03:20:29.000Z", "end": "2022-12-31T23:59:59.999Z" }}
    }},
    {{
      "subject": {{ "organization": "sigstore.dev", "commonName": "sigstore" }},
      "uri": "https://fulcio.sigstore.dev",
      "certChain": {{ "certificates": [ {{ "rawBytes": "{ca_0}" }}, {{ "rawBytes": "{ca_1}" }} ] }},
      "validFor": {{ "start": "2022-04-13T20:06:15.000Z" }},
      "operator": "sigstore.dev"
    }}
  ],
  "ctlogs": [
    {{
      "baseUrl": "https://ctfe.sigstore.dev/test",
      "hashAlgorithm": "SHA2_256",
      "publicKey": {{
        "rawBytes": "{ctfe_old}",
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "validFor": {{ "start": "2021-03-14T00:00:00.000Z", "end": "2022-10-31T23:59:59.999Z" }}
      }},
      "logId": {{ "keyId": "{ctfe_old_id}" }}
    }},
    {{
      "baseUrl": "https://ctfe.sigstore.dev/2022",
      "hashAlgorithm": "SHA2_256",
      "publicKey": {{
        "rawBytes": "{ctfe}",
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "validFor": {{ "start": "2022-10-20T00:00:00.000Z" }}
      }},
      "logId": {{ "keyId": "{ctfe_id}" }}
    }}
  ],
  "timestampAuthorities": [
    {{
      "subject": {{ "organization": "GitHub, Inc.", "commonName": "Internal Services Root" }},
      "certChain": {{ "certificates": [ {{ "rawBytes": "{tsa_0}" }}, {{ "rawBytes": "{tsa_1}" }} ] }},
      "validFor": {{ "start": "2023-04-14T00:00:00.000Z" }}
    }}
  ]
}}
"#,
        rekor = b64(&rekor),
        rekor_id = b64(&sha256(&rekor)),
        rekor2 = b64(&rekor2),
        rekor2_id = b64(&sha256(&rekor2)),
        old_ca_root = b64(&old_ca[1]),
        ca_0 = b64(&ca[0]),
        ca_1 = b64(&ca[1]),
        ctfe_old = b64(&ctfe_old),
        ctfe_old_id = b64(&sha256(&ctfe_old)),
        ctfe = b64(&ctfe),
        ctfe_id = b64(&sha256(&ctfe)),
        tsa_0 = b64(&tsa[0]),
        tsa_1 = b64(&tsa[1]),
    );
    let root = TrustedRoot::from_json(text.as_bytes()).unwrap();
    assert_eq!(root.tlogs.len(), 2);
    assert!(root.tlogs[1].checkpoint_key_id.is_some());
    assert_eq!(root.certificate_authorities.len(), 2);
    let old = &root.certificate_authorities[0];
    assert_eq!(old.chain_der().collect::<Vec<_>>(), vec![&old_ca[1][..]]);
    let window = old.valid_for;
    assert_eq!(
        window.end.unwrap().0,
        SystemTime::UNIX_EPOCH + Duration::from_millis(1_672_531_199_999)
    );
    assert!(window.contains(SystemTime::UNIX_EPOCH + Duration::from_secs(1_650_000_000)));
    assert!(!window.contains(window.end.unwrap().0));
    assert_eq!(
        root.certificate_authorities[1]
            .chain_der()
            .map(<[u8]>::to_vec)
            .collect::<Vec<_>>(),
        ca
    );
    let id: [u8; 32] = sha256(&ctfe).try_into().unwrap();
    assert_eq!(
        root.ct_log_by_id(&id).map(|l| l.base_url.as_str()),
        Some("https://ctfe.sigstore.dev/2022")
    );
    assert_eq!(
        root.timestamp_authorities[0].subject.organization,
        "GitHub, Inc."
    );

    // What we write back of it reads again, equal.
    assert_eq!(
        TrustedRoot::from_json(root.to_json_pretty().as_bytes()).unwrap(),
        root
    );
}

/// The Python of the venv that `scripts/ensure-test-deps` installs sigstore into.
fn sigstore_python() -> PathBuf {
    let cache = std::env::var_os("FULCIO_TEST_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/fulcio-rs")))
        .expect("FULCIO_TEST_CACHE or HOME");
    let python = cache.join("sigstore-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/ensure-test-deps",
        python.display()
    );
    python
}

/// sigstore-python reads our `trusted_root.json` (`TrustedRoot.from_file`) and the trusted
/// root of our client trust config (`ClientTrustConfig.from_json(…).trusted_root`): the CT
/// keyring holds every log key under its log ID with the hash its `keyDetails` implies, and the
/// Fulcio certificates are ours. Its `signing_config` refuses a config without a Rekor log —
/// sigstore-python's rule, checked here so a change in it is noticed.
/// argv: trusted_root.json, trust_config.json, expected JSON
/// `{"logs": {hex id: hash name or null}, "certs": [hex DER]}`.
const SIGSTORE_READS_OUR_FILES: &str = r#"
import json, sys
from cryptography.hazmat.primitives import serialization
from sigstore.models import ClientTrustConfig, TrustedRoot
from sigstore._internal.trust import KeyringPurpose

expected = json.loads(sys.argv[3])
roots = {
    "trusted_root.json": TrustedRoot.from_file(sys.argv[1]),
    "trust_config.json": ClientTrustConfig.from_json(open(sys.argv[2]).read()).trusted_root,
}
for name, root in roots.items():
    keyring = root.ct_keyring(KeyringPurpose.VERIFY)._keyring
    got = {
        key_id.hex(): (key.hash_algorithm.name if key.hash_algorithm else None)
        for key_id, key in keyring.items()
    }
    assert got == expected["logs"], f"{name}: CT keyring {got} != {expected['logs']}"
    certs = [c.public_bytes(serialization.Encoding.DER).hex() for c in root.get_fulcio_certs()]
    assert certs == expected["certs"], f"{name}: Fulcio certificates differ"
try:
    ClientTrustConfig.from_json(open(sys.argv[2]).read()).signing_config
    raise SystemExit("sigstore-python accepted a signing config without Rekor")
except SystemExit:
    raise
except Exception as e:
    assert "Rekor" in str(e), f"unexpected signing config error: {e}"
print("ok")
"#;

#[test]
fn sigstore_python_reads_our_trust_files() {
    let python = sigstore_python();
    let (ca, _) = instance();
    let keys = [
        (spki(&rcgen::PKCS_ECDSA_P256_SHA256), json!("sha256")),
        (spki(&rcgen::PKCS_ECDSA_P384_SHA384), json!("sha384")),
        (spki(&rcgen::PKCS_ECDSA_P521_SHA512), json!("sha512")),
        (spki(&rcgen::PKCS_ED25519), Value::Null),
        (rsa_spki(rcgen::RsaKeySize::_2048), json!("sha256")),
    ];
    let logs: Vec<CtLogSpec> = keys
        .iter()
        .enumerate()
        .map(|(i, (key, _))| ct_log(&format!("http://log{i}"), key.clone(), ca.valid_for))
        .collect();
    let root = TrustedRoot::for_instance(&ca, &logs).unwrap();
    let signing = SigningConfig::for_instance(&ca.url, None, ca.valid_for, "fulcio-rs tests");
    let dir = tempfile::tempdir().unwrap();
    let root_path = dir.path().join("trusted_root.json");
    let config_path = dir.path().join("trust_config.json");
    std::fs::write(&root_path, root.to_json_pretty()).unwrap();
    std::fs::write(
        &config_path,
        ClientTrustConfig::new(root, signing).to_json_pretty(),
    )
    .unwrap();
    let expected = json!({
        "logs": keys
            .iter()
            .map(|(key, hash)| (hex::encode(sha256(key)), hash.clone()))
            .collect::<serde_json::Map<_, _>>(),
        "certs": ca.chain_der.iter().map(hex::encode).collect::<Vec<_>>(),
    });
    let output = std::process::Command::new(&python)
        .arg("-c")
        .arg(SIGSTORE_READS_OUR_FILES)
        .arg(&root_path)
        .arg(&config_path)
        .arg(expected.to_string())
        .output()
        .expect("running sigstore-python");
    assert!(
        output.status.success(),
        "sigstore-python did not read our files: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
