//! The issued certificate, field by field (Fulcio spec §4.1, §4.3, §5; ct-log.md §1.4–1.5),
//! read back with x509-parser, x509-cert and the openssl CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use ca::{
    CertificateAuthority, ClientPublicKey, IssuedCertificate, KeyKind, certificate::OID_CT_POISON,
    ephemeral,
};
use common::{
    chains::{self, Spec},
    keys::{TestKey, pem_encode, verify_certificate_signature},
    openssl,
    principal::{self, EMAIL},
};
use der::{Decode, Encode};
use x509_parser::{certificate::X509Certificate, extensions::ParsedExtension, prelude::FromDer};

const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";
const POISON_OID: &str = "1.3.6.1.4.1.11129.2.4.3";

/// A syntactically valid TLS `SignedCertificateTimestampList` with one SCT (RFC 6962 §3.3).
fn sct_list() -> Vec<u8> {
    let mut sct = vec![0u8]; // v1
    sct.extend([0x42; 32]); // log id
    sct.extend(1_754_000_000_000u64.to_be_bytes()); // timestamp
    sct.extend([0, 0]); // no extensions
    sct.extend([4, 3]); // SHA-256, ECDSA
    let signature = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01];
    sct.extend((signature.len() as u16).to_be_bytes());
    sct.extend(signature);
    let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
    list.extend((sct.len() as u16).to_be_bytes());
    list.extend(sct);
    list
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, certificate) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    certificate
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn client() -> (TestKey, ClientPublicKey) {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let client = ClientPublicKey::parse(key.public_pem().as_bytes()).unwrap();
    (key, client)
}

/// A two-level P-384 hierarchy like the public-good instance's.
fn intermediate_ca() -> (chains::Chain, CertificateAuthority) {
    let chain = chains::build(&[
        Spec::ca("root", &rcgen::PKCS_ECDSA_P384_SHA384),
        Spec::intermediate("intermediate", &rcgen::PKCS_ECDSA_P384_SHA384),
    ]);
    let ca = CertificateAuthority::new(chain.issuing_key().unwrap());
    (chain, ca)
}

/// The checks every Fulcio leaf must pass, against its issuing certificate.
fn check_leaf_profile(
    leaf: &X509Certificate<'_>,
    issuing: &X509Certificate<'_>,
    client: &ClientPublicKey,
) {
    assert_eq!(leaf.version(), x509_parser::x509::X509Version::V3);
    // Empty subject: SEQUENCE of zero RDNs.
    assert_eq!(leaf.subject().as_raw(), &[0x30, 0x00]);
    assert_eq!(leaf.issuer().as_raw(), issuing.subject().as_raw());
    assert_eq!(leaf.public_key().raw, client.spki_der.as_slice());
    assert_eq!(leaf.signature_algorithm, leaf.tbs_certificate.signature);
    verify_certificate_signature(leaf.as_raw(), issuing.public_key().raw).unwrap();

    // Positive serial of at most 20 octets.
    let serial = leaf.raw_serial();
    assert!(
        !serial.is_empty() && serial.len() <= 20,
        "{}",
        hex::encode(serial)
    );
    assert!(serial[0] < 0x80);
    assert!(serial.iter().any(|b| *b != 0));

    // Exactly ten minutes.
    let validity = leaf.validity();
    assert_eq!(
        validity.not_after.timestamp() - validity.not_before.timestamp(),
        600
    );

    let oids: Vec<String> = leaf
        .extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect();
    assert_eq!(
        &oids[..8],
        [
            "2.5.29.15",
            "2.5.29.37",
            "2.5.29.14",
            "2.5.29.35",
            "2.5.29.17",
            principal::OID_ISSUER_V1,
            principal::OID_ISSUER_V2,
            principal::OID_SUBJECT,
        ]
    );
    let critical: Vec<bool> = leaf.extensions().iter().map(|e| e.critical).collect();
    assert_eq!(
        &critical[..8],
        [true, false, false, false, true, false, false, false]
    );
    assert!(leaf.basic_constraints().unwrap().is_none());

    // keyUsage: digitalSignature only, encoded as Go encodes it.
    let key_usage = leaf.key_usage().unwrap().unwrap();
    assert_eq!(key_usage.value.flags, 1);
    assert_eq!(leaf.extensions()[0].value, [0x03, 0x02, 0x07, 0x80]);
    // extKeyUsage: codeSigning only.
    let eku = leaf.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.code_signing);
    assert!(!(eku.any || eku.server_auth || eku.client_auth || eku.email_protection));
    assert!(!(eku.time_stamping || eku.ocsp_signing) && eku.other.is_empty());

    // SKI = SHA-1 of the subjectPublicKey bits; AKI = the issuing certificate's SKI.
    let bits = leaf.public_key().subject_public_key.data.as_ref();
    let expected_ski = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bits);
    let ski = |c: &X509Certificate<'_>| {
        c.extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            })
    };
    assert_eq!(ski(leaf).unwrap(), expected_ski.as_ref());
    let aki = leaf
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                Some(aki.key_identifier.as_ref().unwrap().0.to_vec())
            }
            _ => None,
        });
    assert_eq!(aki, ski(issuing));

    let san = leaf.subject_alternative_name().unwrap().unwrap();
    assert!(san.critical);
    assert_eq!(san.value.general_names.len(), 1);
    assert_eq!(
        format!("{:?}", san.value.general_names[0]),
        format!("RFC822Name({EMAIL:?})")
    );
}

/// The DER is canonical: a strict decoder re-encodes it to the same bytes.
fn check_canonical(der: &[u8]) {
    let decoded = x509_cert::Certificate::from_der(der).unwrap();
    assert_eq!(decoded.to_der().unwrap(), der);
}

fn issued_pems(issued: &IssuedCertificate) -> (String, Vec<String>) {
    let mut pems = issued.to_pem_chain();
    let leaf = pems.remove(0);
    (leaf, pems)
}

#[tokio::test]
async fn issued_certificate_matches_the_profile() {
    let (chain, ca) = intermediate_ca();
    let (_, client) = client();
    let before = now_seconds();
    let issued = ca
        .issue_certificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    let after = now_seconds();

    assert_eq!(issued.chain, chain.certificates);
    let leaf = parse(&issued.der);
    let issuing = parse(&chain.certificates[0]);
    check_leaf_profile(&leaf, &issuing, &client);
    assert_eq!(leaf.extensions().len(), 8, "no poison, no SCT list");
    let not_before = leaf.validity().not_before.timestamp();
    assert!(before <= not_before && not_before <= after);
    assert_eq!(
        leaf.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.10045.4.3.3"
    );
    assert!(leaf.signature_algorithm.parameters.is_none());
    check_canonical(&issued.der);
}

#[tokio::test]
async fn openssl_reads_and_verifies_the_certificate() {
    let (chain, ca) = intermediate_ca();
    let (_, client) = client();
    let issued = ca
        .issue_certificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    let (leaf, ca_pems) = issued_pems(&issued);
    assert!(!leaf.ends_with('\n') && leaf.starts_with("-----BEGIN CERTIFICATE-----"));

    let text = openssl::x509_text(&leaf);
    assert!(text.contains("Version: 3 (0x2)"), "{text}");
    assert!(
        text.contains("Subject: \n") || text.contains("Subject:\n"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Digital Signature\n"),
        "{text}"
    );
    assert!(
        text.contains("X509v3 Extended Key Usage: \n                Code Signing\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "X509v3 Subject Alternative Name: critical\n                email:signer@example.com"
        ),
        "{text}"
    );
    assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    assert!(!text.contains("Basic Constraints"), "{text}");
    assert!(text.contains("1.3.6.1.4.1.57264.1.8"), "{text}");

    assert_eq!(ca_pems.len(), 2);
    let verified = openssl::verify(&ca_pems[1], &ca_pems[..1], &leaf).unwrap();
    assert!(verified.contains("leaf.pem: OK"), "{verified}");
    // openssl refuses it under another root: the check above can fail.
    let other = chains::build(&[Spec::ca("root", &rcgen::PKCS_ECDSA_P384_SHA384)]);
    assert!(openssl::verify(&other.pem(0), &ca_pems[..1], &leaf).is_err());
    assert_eq!(issued.chain, chain.certificates);
}

#[tokio::test]
async fn precertificate_carries_the_poison_last_and_critical() {
    let (chain, ca) = intermediate_ca();
    let (_, client) = client();
    let precert = ca
        .issue_precertificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    assert_eq!(precert.chain(), chain.certificates.as_slice());
    assert_eq!(
        precert.issuer_spki_der(),
        parse(&chain.certificates[0]).public_key().raw
    );

    let parsed = parse(&precert.der);
    check_leaf_profile(&parsed, &parse(&chain.certificates[0]), &client);
    let last = parsed.extensions().last().unwrap();
    assert_eq!(last.oid.to_id_string(), POISON_OID);
    assert!(last.critical);
    assert_eq!(last.value, [0x05, 0x00]);
    assert_eq!(parsed.extensions().len(), 9);
    assert_eq!(OID_CT_POISON.to_string(), POISON_OID);
    check_canonical(&precert.der);

    let text = openssl::x509_text(&pem_encode("CERTIFICATE", &precert.der));
    assert!(
        text.contains("CT Precertificate Poison: critical"),
        "{text}"
    );
}

#[tokio::test]
async fn final_certificate_is_the_precertificate_with_the_poison_swapped_for_the_sct_list() {
    let (chain, ca) = intermediate_ca();
    let (_, client) = client();
    let precert = ca
        .issue_precertificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    let precert_der = precert.der.clone();
    let list = sct_list();
    let issued = precert.finalize(&list).await.unwrap();
    assert_eq!(issued.chain, chain.certificates);
    check_canonical(&issued.der);

    let pre = x509_cert::Certificate::from_der(&precert_der).unwrap();
    let fin = x509_cert::Certificate::from_der(&issued.der).unwrap();
    let (pre, fin) = (pre.tbs_certificate(), fin.tbs_certificate());
    assert_eq!(fin.version(), pre.version());
    assert_eq!(fin.serial_number(), pre.serial_number());
    assert_eq!(fin.signature(), pre.signature());
    assert_eq!(fin.issuer(), pre.issuer());
    assert_eq!(fin.validity(), pre.validity());
    assert_eq!(fin.subject(), pre.subject());
    assert_eq!(fin.subject_public_key_info(), pre.subject_public_key_info());

    let pre_extensions = pre.extensions().unwrap();
    let fin_extensions = fin.extensions().unwrap();
    assert_eq!(pre_extensions.len(), fin_extensions.len());
    let (poison, pre_rest) = pre_extensions.split_last().unwrap();
    let (sct, fin_rest) = fin_extensions.split_last().unwrap();
    assert_eq!(poison.extn_id.to_string(), POISON_OID);
    // Identical bytes, identical order: what a CT verifier needs to rebuild the precertificate.
    assert_eq!(fin_rest, pre_rest);
    assert_eq!(sct.extn_id.to_string(), SCT_LIST_OID);
    assert!(!sct.critical);
    // The extension value is a DER OCTET STRING around the TLS list (double wrapping).
    let inner = der::asn1::OctetString::from_der(sct.extn_value.as_bytes()).unwrap();
    assert_eq!(inner.as_bytes(), list.as_slice());

    let leaf = parse(&issued.der);
    check_leaf_profile(&leaf, &parse(&chain.certificates[0]), &client);
    let (leaf_pem, ca_pems) = issued_pems(&issued);
    let text = openssl::x509_text(&leaf_pem);
    assert!(text.contains("CT Precertificate SCTs:"), "{text}");
    assert!(!text.contains("Poison"), "{text}");
    let verified = openssl::verify(&ca_pems[1], &ca_pems[..1], &leaf_pem).unwrap();
    assert!(verified.contains("OK"), "{verified}");
}

#[tokio::test]
async fn finalize_uses_the_key_captured_at_precertificate_time() {
    let (first, ca) = intermediate_ca();
    let (_, client) = client();
    let precert = ca
        .issue_precertificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    let second = chains::build(&[
        Spec::ca("other root", &rcgen::PKCS_ECDSA_P256_SHA256),
        Spec::intermediate("other intermediate", &rcgen::PKCS_ECDSA_P256_SHA256),
    ]);
    ca.replace(second.issuing_key().unwrap());
    let issued = precert.finalize(&sct_list()).await.unwrap();
    assert_eq!(issued.chain, first.certificates);
    let leaf = parse(&issued.der);
    let issuing = parse(&first.certificates[0]);
    assert_eq!(leaf.issuer().as_raw(), issuing.subject().as_raw());
    verify_certificate_signature(leaf.as_raw(), issuing.public_key().raw).unwrap();
    // New issuance uses the new key.
    let next = ca
        .issue_certificate_with(&principal::email_principal(), &client)
        .await
        .unwrap();
    assert_eq!(next.chain, second.certificates);
}

#[tokio::test]
async fn each_ca_key_type_signs_with_its_algorithm() {
    for (kind, oid, parameters) in [
        (KeyKind::EcdsaP256, "1.2.840.10045.4.3.2", None),
        (KeyKind::EcdsaP384, "1.2.840.10045.4.3.3", None),
        (KeyKind::EcdsaP521, "1.2.840.10045.4.3.4", None),
        (
            KeyKind::Rsa2048,
            "1.2.840.113549.1.1.11",
            Some(vec![0x05, 0x00]),
        ),
        (KeyKind::Ed25519, "1.3.101.112", None),
    ] {
        let ca = CertificateAuthority::new(ephemeral::generate(kind).unwrap());
        let (_, client) = client();
        let issued = ca
            .issue_certificate_with(&principal::email_principal(), &client)
            .await
            .unwrap();
        let leaf = parse(&issued.der);
        assert_eq!(
            leaf.signature_algorithm.algorithm.to_id_string(),
            oid,
            "{kind:?}"
        );
        let got = leaf.signature_algorithm.parameters.as_ref().map(|p| {
            let mut encoded = vec![p.header.tag().0 as u8, p.data.len() as u8];
            encoded.extend_from_slice(p.data);
            encoded
        });
        assert_eq!(got, parameters, "{kind:?}");
        check_leaf_profile(&leaf, &parse(&issued.chain[0]), &client);
        check_canonical(&issued.der);
        let (leaf_pem, ca_pems) = issued_pems(&issued);
        let verified = openssl::verify(&ca_pems[0], &[], &leaf_pem).unwrap();
        assert!(verified.contains("OK"), "{kind:?}: {verified}");
    }
}

#[tokio::test]
async fn client_key_types_go_into_the_certificate_as_given() {
    let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
    for kind in [
        KeyKind::EcdsaP384,
        KeyKind::EcdsaP521,
        KeyKind::Rsa2048,
        KeyKind::Ed25519,
    ] {
        let key = TestKey::generate(kind);
        let client = ClientPublicKey::parse(key.spki_der()).unwrap();
        let issued = ca
            .issue_certificate_with(&principal::email_principal(), &client)
            .await
            .unwrap();
        let leaf = parse(&issued.der);
        assert_eq!(leaf.public_key().raw, key.spki_der(), "{kind:?}");
        check_leaf_profile(&leaf, &parse(&issued.chain[0]), &client);
    }
}

#[tokio::test]
async fn serials_differ() {
    let ca = CertificateAuthority::new(ephemeral::generate(KeyKind::EcdsaP256).unwrap());
    let (_, client) = client();
    let mut serials = std::collections::HashSet::new();
    for _ in 0..16 {
        let issued = ca
            .issue_certificate_with(&principal::email_principal(), &client)
            .await
            .unwrap();
        assert!(serials.insert(parse(&issued.der).raw_serial().to_vec()));
    }
}

#[test]
fn trust_bundle_and_response_pems() {
    let (chain, ca) = intermediate_ca();
    let bundle = ca.trust_bundle();
    assert_eq!(bundle.len(), 1);
    assert_eq!(bundle[0].len(), 2);
    for (pem, der) in bundle[0].iter().zip(&chain.certificates) {
        // GetTrustBundle keeps the encoder's trailing newline.
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(!pem.contains('\r'));
        assert_eq!(pem::parse(pem).unwrap().contents(), der.as_slice());
        assert!(pem.lines().all(|line| line.len() <= 64));
    }
    assert_eq!(ca.current().chain_pem(), bundle[0].as_slice());
}
