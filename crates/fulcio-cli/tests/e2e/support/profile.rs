//! The certificate profile (spec §4.1, §4.3) checked by two parsers that share no code with
//! the server: x509-parser and the `openssl` command line.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate, X509Version};

/// Key usage, extended key usage, SKI, AKI, SAN.
const KEY_USAGE: &str = "2.5.29.15";
const EXT_KEY_USAGE: &str = "2.5.29.37";
const SUBJECT_KEY_ID: &str = "2.5.29.14";
const AUTHORITY_KEY_ID: &str = "2.5.29.35";
const SUBJECT_ALT_NAME: &str = "2.5.29.17";
const BASIC_CONSTRAINTS: &str = "2.5.29.19";
/// Sigstore OIDs (spec §4.3): 1.1 issuer (raw), 1.8 issuer (DER), 1.24 token subject (DER).
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_SUBJECT: &str = "1.3.6.1.4.1.57264.1.24";

/// The signature algorithm (OID, openssl's name) a CA key signs leaves with (spec §4.1:
/// ECDSA P-256/384/521 → ecdsa-with-SHA256/384/512, RSA → sha256WithRSAEncryption, Ed25519).
fn expected_signature_algorithm(ca: &X509Certificate<'_>) -> (&'static str, &'static str) {
    let spki = ca.public_key();
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .expect("an EC key names its curve");
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
                "1.3.132.0.34" => ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
                "1.3.132.0.35" => ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
                other => panic!("CA key on an unexpected curve {other}"),
            }
        }
        "1.2.840.113549.1.1.1" => ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
        "1.3.101.112" => ("1.3.101.112", "ED25519"),
        other => panic!("CA key of an unexpected type {other}"),
    }
}

/// The identity the certificate must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
}

/// What a leaf must contain.
#[derive(Debug, Clone)]
pub struct Expected {
    /// The single SAN entry.
    pub san: San,
    /// The token issuer (`iss`), for 1.1 and 1.8.
    pub issuer: String,
    /// The token subject (`sub`), for 1.24.
    pub subject: String,
    /// The client's DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

/// DER of a UTF8String (tag 12) holding `s`.
pub fn der_utf8string(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = vec![0x0c];
    match bytes.len() {
        n @ 0..=127 => out.push(n as u8),
        n @ 128..=255 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(bytes);
    out
}

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

fn der_of(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text)
        .unwrap_or_else(|e| panic!("not PEM ({e}): {pem_text}"))
        .into_contents()
}

/// Checks every field of the profile on `chain` (leaf first, root last) with x509-parser and
/// with openssl, and verifies the chain with `openssl verify`.
pub fn check_profile(chain: &[String], expected: &Expected) {
    assert!(
        chain.len() >= 2,
        "a chain of leaf + CA certificates, got {}",
        chain.len()
    );
    check_with_x509_parser(chain, expected);
    check_with_openssl(chain, expected);
}

/// The x509-parser half of [`check_profile`].
pub fn check_with_x509_parser(chain: &[String], expected: &Expected) {
    let leaf_der = der_of(&chain[0]);
    let ca_der = der_of(&chain[1]);
    let (rest, leaf) = X509Certificate::from_der(&leaf_der).expect("leaf parses");
    assert!(rest.is_empty(), "no bytes after the leaf certificate");
    let (_, ca) = X509Certificate::from_der(&ca_der).expect("issuing CA parses");

    assert_eq!(leaf.version(), X509Version::V3, "version 3");
    assert_eq!(
        leaf.subject().iter().count(),
        0,
        "empty subject, got {}",
        leaf.subject()
    );
    assert_eq!(
        leaf.issuer().as_raw(),
        ca.subject().as_raw(),
        "issuer = CA subject"
    );
    assert_eq!(
        leaf.public_key().raw,
        expected.spki_der.as_slice(),
        "certified key = client key"
    );

    let validity = leaf.validity();
    assert_eq!(
        validity.not_after.timestamp() - validity.not_before.timestamp(),
        600,
        "validity is exactly 10 minutes ({} .. {})",
        validity.not_before,
        validity.not_after
    );

    let serial = leaf.tbs_certificate.raw_serial();
    assert!(
        !serial.is_empty() && serial.len() <= 20,
        "serial of 1..=20 octets: {serial:02x?}"
    );
    assert_eq!(serial[0] & 0x80, 0, "serial is positive: {serial:02x?}");
    assert!(serial.iter().any(|&b| b != 0), "serial is not zero");
    if serial.len() > 1 {
        assert!(
            !(serial[0] == 0 && serial[1] & 0x80 == 0),
            "serial is minimally encoded: {serial:02x?}"
        );
    }

    assert_eq!(
        leaf.signature_algorithm.algorithm.to_id_string(),
        expected_signature_algorithm(&ca).0,
        "signature algorithm follows the CA key"
    );
    leaf.verify_signature(Some(ca.public_key()))
        .expect("leaf signature verifies with the CA key");

    let oids: Vec<String> = leaf
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    let unique: HashSet<&String> = oids.iter().collect();
    assert_eq!(
        unique.len(),
        oids.len(),
        "no extension appears twice: {oids:?}"
    );
    // Go's order (spec §4.1): KU, EKU, SKI, AKI, SAN, then the Sigstore extensions. CT is off
    // in these tests, so there is neither poison nor SCT list.
    assert_eq!(
        oids,
        [
            KEY_USAGE,
            EXT_KEY_USAGE,
            SUBJECT_KEY_ID,
            AUTHORITY_KEY_ID,
            SUBJECT_ALT_NAME,
            OID_ISSUER_V1,
            OID_ISSUER_V2,
            OID_SUBJECT
        ],
        "extensions and their order"
    );
    assert!(
        !oids.iter().any(|o| o == BASIC_CONSTRAINTS),
        "no basic constraints"
    );

    for ext in leaf.extensions() {
        let oid = ext.oid.to_id_string();
        match oid.as_str() {
            KEY_USAGE => {
                assert!(ext.critical, "key usage is critical");
                let ParsedExtension::KeyUsage(ku) = ext.parsed_extension() else {
                    panic!("key usage parses: {:?}", ext.parsed_extension());
                };
                assert!(ku.digital_signature(), "digitalSignature set");
                assert_eq!(ku.flags, 1, "digitalSignature only: {ku}");
            }
            EXT_KEY_USAGE => {
                assert!(!ext.critical, "EKU is not critical");
                let ParsedExtension::ExtendedKeyUsage(eku) = ext.parsed_extension() else {
                    panic!("EKU parses: {:?}", ext.parsed_extension());
                };
                assert!(eku.code_signing, "codeSigning set");
                assert!(
                    !eku.any
                        && !eku.server_auth
                        && !eku.client_auth
                        && !eku.email_protection
                        && !eku.time_stamping
                        && !eku.ocsp_signing
                        && eku.other.is_empty(),
                    "codeSigning only: {eku:?}"
                );
            }
            SUBJECT_KEY_ID => {
                assert!(!ext.critical, "SKI is not critical");
                let ParsedExtension::SubjectKeyIdentifier(ski) = ext.parsed_extension() else {
                    panic!("SKI parses: {:?}", ext.parsed_extension());
                };
                assert_eq!(
                    ski.0,
                    sha1(&leaf.public_key().subject_public_key.data).as_slice(),
                    "SKI = SHA-1 of the subjectPublicKey bits"
                );
            }
            AUTHORITY_KEY_ID => {
                assert!(!ext.critical, "AKI is not critical");
                let ParsedExtension::AuthorityKeyIdentifier(aki) = ext.parsed_extension() else {
                    panic!("AKI parses: {:?}", ext.parsed_extension());
                };
                let ca_ski = ca
                    .extensions()
                    .iter()
                    .find_map(|e| match e.parsed_extension() {
                        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
                        _ => None,
                    })
                    .expect("the CA has a SKI");
                assert_eq!(
                    aki.key_identifier.as_ref().map(|k| k.0),
                    Some(ca_ski),
                    "AKI keyIdentifier = CA SKI"
                );
            }
            SUBJECT_ALT_NAME => {
                assert!(ext.critical, "SAN is critical (empty subject)");
                let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() else {
                    panic!("SAN parses: {:?}", ext.parsed_extension());
                };
                let names: Vec<San> = san
                    .general_names
                    .iter()
                    .map(|n| match n {
                        GeneralName::RFC822Name(e) => San::Email((*e).to_owned()),
                        GeneralName::URI(u) => San::Uri((*u).to_owned()),
                        other => panic!("unexpected SAN entry {other:?}"),
                    })
                    .collect();
                assert_eq!(
                    names,
                    std::slice::from_ref(&expected.san),
                    "exactly the one SAN"
                );
            }
            OID_ISSUER_V1 => {
                assert!(!ext.critical, "1.1 is not critical");
                assert_eq!(
                    ext.value,
                    expected.issuer.as_bytes(),
                    "1.1 = raw issuer bytes"
                );
            }
            OID_ISSUER_V2 => {
                assert!(!ext.critical, "1.8 is not critical");
                assert_eq!(
                    ext.value,
                    der_utf8string(&expected.issuer).as_slice(),
                    "1.8 = DER UTF8String of the issuer, nothing after it"
                );
            }
            OID_SUBJECT => {
                assert!(!ext.critical, "1.24 is not critical");
                assert_eq!(
                    ext.value,
                    der_utf8string(&expected.subject).as_slice(),
                    "1.24 = DER UTF8String of the token subject, nothing after it"
                );
            }
            other => panic!("unexpected extension {other}"),
        }
    }
}

/// Runs `openssl` with `args`, asserting success, and returns stdout.
fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running openssl (run scripts/test to install it)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("openssl prints UTF-8")
}

/// The lines of `text` after the line starting (after indentation) with `heading`, while they
/// are indented deeper.
fn section<'t>(text: &'t str, heading: &str) -> Option<(&'t str, Vec<&'t str>)> {
    let mut lines = text.lines();
    let head = lines.find(|l| l.trim_start().starts_with(heading))?;
    let indent = head.len() - head.trim_start().len();
    let body = lines
        .take_while(|l| l.len() - l.trim_start().len() > indent)
        .map(str::trim)
        .collect();
    Some((head.trim(), body))
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Seconds since the epoch of an openssl date such as `Nov 24 11:39:00 2026 GMT`.
fn openssl_time(text: &str) -> i64 {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(parts.len(), 5, "openssl date {text:?}");
    assert_eq!(parts[4], "GMT", "openssl date in GMT: {text:?}");
    let month = MONTHS
        .iter()
        .position(|m| *m == parts[0])
        .expect("month name") as i64
        + 1;
    let day: i64 = parts[1].parse().expect("day");
    let hms: Vec<i64> = parts[2]
        .split(':')
        .map(|p| p.parse().expect("time"))
        .collect();
    let year: i64 = parts[3].parse().expect("year");
    // Days from civil date (Howard Hinnant's algorithm).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

/// The bytes of the extension `oid` in `openssl asn1parse` output: the OCTET STRING after the
/// OBJECT line (and after the BOOLEAN of a critical extension).
fn asn1parse_extension(dump: &str, oid: &str) -> Option<Vec<u8>> {
    let mut lines = dump
        .lines()
        .skip_while(|l| !l.trim_end().ends_with(&format!(":{oid}")));
    lines.next()?;
    for line in lines.take(2) {
        // openssl prints a printable value as text and anything else as a hex dump.
        if let Some((_, value)) = line.split_once("prim: OCTET STRING") {
            let value = value.trim_start();
            if let Some(hex_text) = value.strip_prefix("[HEX DUMP]:") {
                return Some(hex::decode(hex_text.trim()).expect("hex dump"));
            }
            return Some(value.strip_prefix(':')?.as_bytes().to_vec());
        }
    }
    None
}

/// The openssl half of [`check_profile`], including `openssl verify` of the chain.
pub fn check_with_openssl(chain: &[String], expected: &Expected) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // The API trims each PEM's final newline; a bundle file needs one between blocks.
    let pem_file = |certs: &[String]| {
        certs
            .iter()
            .map(|c| format!("{}\n", c.trim_end()))
            .collect::<String>()
    };
    std::fs::write(path.join("leaf.pem"), pem_file(&chain[..1])).unwrap();
    std::fs::write(path.join("root.pem"), pem_file(&chain[chain.len() - 1..])).unwrap();
    let intermediates = &chain[1..chain.len() - 1];
    std::fs::write(path.join("intermediates.pem"), pem_file(intermediates)).unwrap();

    let text = openssl(&["x509", "-in", "leaf.pem", "-noout", "-text"], path);
    assert!(
        text.contains("Version: 3 (0x2)"),
        "openssl: version 3\n{text}"
    );
    let subject = text
        .lines()
        .find(|l| l.trim_start().starts_with("Subject:"))
        .unwrap_or_else(|| panic!("openssl: a Subject line\n{text}"));
    assert_eq!(subject.trim(), "Subject:", "openssl: empty subject\n{text}");
    let ca_der = der_of(&chain[1]);
    let (_, ca) = X509Certificate::from_der(&ca_der).expect("issuing CA parses");
    let algorithm = expected_signature_algorithm(&ca).1;
    assert!(
        text.contains(&format!("Signature Algorithm: {algorithm}")),
        "openssl: signed with {algorithm}\n{text}"
    );

    let ext = |name: &str| -> (String, Vec<String>) {
        let (head, body) = section(&text, name)
            .unwrap_or_else(|| panic!("openssl: extension {name} present\n{text}"));
        (
            head.to_owned(),
            body.into_iter().map(str::to_owned).collect(),
        )
    };
    let (head, body) = ext("X509v3 Key Usage:");
    assert_eq!(head, "X509v3 Key Usage: critical", "openssl: KU critical");
    assert_eq!(
        body,
        ["Digital Signature"],
        "openssl: KU digitalSignature only"
    );
    let (head, body) = ext("X509v3 Extended Key Usage:");
    assert_eq!(
        head, "X509v3 Extended Key Usage:",
        "openssl: EKU not critical"
    );
    assert_eq!(body, ["Code Signing"], "openssl: EKU codeSigning only");
    let (head, body) = ext("X509v3 Subject Alternative Name:");
    assert_eq!(
        head, "X509v3 Subject Alternative Name: critical",
        "openssl: SAN critical"
    );
    let want_san = match &expected.san {
        San::Email(e) => format!("email:{e}"),
        San::Uri(u) => format!("URI:{u}"),
    };
    assert_eq!(body, [want_san], "openssl: SAN entry");
    let (_, body) = ext("X509v3 Subject Key Identifier:");
    let leaf_der = der_of(&chain[0]);
    let (_, leaf) = X509Certificate::from_der(&leaf_der).unwrap();
    let ski = colon_hex(&sha1(&leaf.public_key().subject_public_key.data));
    assert_eq!(body, [ski], "openssl: SKI = SHA-1 of the key bits");
    let (_, body) = ext("X509v3 Authority Key Identifier:");
    let ca_text = openssl(&["x509", "-in", "root.pem", "-noout", "-text"], path);
    let ca_text = if intermediates.is_empty() {
        ca_text
    } else {
        // The issuing CA is the first intermediate.
        std::fs::write(path.join("issuer.pem"), &chain[1]).unwrap();
        openssl(&["x509", "-in", "issuer.pem", "-noout", "-text"], path)
    };
    let (_, ca_ski) = section(&ca_text, "X509v3 Subject Key Identifier:")
        .unwrap_or_else(|| panic!("openssl: the CA has a SKI\n{ca_text}"));
    let aki: Vec<String> = body
        .iter()
        .map(|l| l.trim_start_matches("keyid:").to_owned())
        .collect();
    assert_eq!(aki, ca_ski, "openssl: AKI = CA SKI");
    assert!(
        !text.contains("X509v3 Basic Constraints"),
        "openssl: no basic constraints"
    );

    let dates = openssl(
        &[
            "x509",
            "-in",
            "leaf.pem",
            "-noout",
            "-startdate",
            "-enddate",
        ],
        path,
    );
    let date = |key: &str| {
        let line = dates
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .expect("date line");
        openssl_time(line)
    };
    assert_eq!(
        date("notAfter=") - date("notBefore="),
        600,
        "openssl: 10 minutes\n{dates}"
    );

    let serial = openssl(&["x509", "-in", "leaf.pem", "-noout", "-serial"], path);
    let serial = serial.trim().strip_prefix("serial=").expect("serial= line");
    let raw = leaf.tbs_certificate.raw_serial();
    let raw_hex = hex::encode_upper(raw);
    assert_eq!(
        serial.trim_start_matches('0'),
        raw_hex.trim_start_matches('0'),
        "openssl serial"
    );
    assert!(serial.len() <= 40, "openssl: serial ≤ 20 octets: {serial}");

    let dump = openssl(&["asn1parse", "-in", "leaf.pem"], path);
    let value = |oid: &str| {
        asn1parse_extension(&dump, oid)
            .unwrap_or_else(|| panic!("openssl asn1parse: extension {oid}\n{dump}"))
    };
    assert_eq!(
        value(OID_ISSUER_V1),
        expected.issuer.as_bytes(),
        "openssl: 1.1 raw issuer"
    );
    for (oid, want) in [
        (OID_ISSUER_V2, &expected.issuer),
        (OID_SUBJECT, &expected.subject),
    ] {
        let bytes = value(oid);
        std::fs::write(path.join("ext.der"), &bytes).unwrap();
        let parsed = openssl(&["asn1parse", "-inform", "DER", "-in", "ext.der"], path);
        let lines: Vec<&str> = parsed.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "openssl: {oid} holds one DER value\n{parsed}"
        );
        assert!(
            lines[0].contains("prim: UTF8STRING") && lines[0].ends_with(&format!(":{want}")),
            "openssl: {oid} is a UTF8STRING of {want:?}: {parsed}"
        );
        assert_eq!(
            bytes,
            der_utf8string(want),
            "openssl: {oid} has no trailing bytes"
        );
    }

    let mut verify = vec![
        "verify",
        "-x509_strict",
        "-purpose",
        "any",
        "-CAfile",
        "root.pem",
    ];
    if !intermediates.is_empty() {
        verify.extend(["-untrusted", "intermediates.pem"]);
    }
    verify.push("leaf.pem");
    let verified = openssl(&verify, path);
    assert_eq!(verified.trim(), "leaf.pem: OK", "openssl verify");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_utf8string_encodes_short_and_long_forms() {
        assert_eq!(der_utf8string("ab"), [0x0c, 2, b'a', b'b'], "short form");
        let long = "x".repeat(200);
        assert_eq!(
            der_utf8string(&long)[..3],
            [0x0c, 0x81, 200],
            "long form, one octet"
        );
    }

    #[test]
    fn openssl_time_matches_known_epochs() {
        assert_eq!(openssl_time("Jan  1 00:00:00 1970 GMT"), 0, "epoch");
        assert_eq!(
            openssl_time("Nov 24 11:39:00 2026 GMT"),
            1_795_520_340,
            "a 2026 date"
        );
    }
}
