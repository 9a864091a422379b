//! The PKCS#11 CA backend against a real token (SoftHSM2, Fulcio spec §6 `pkcs11ca`): keys
//! generated in the token sign verifiably, certificates issued through it verify under the
//! token's root, configuration mistakes are refused with messages naming them, and a token that
//! goes away fails signatures promptly and is picked up again when it returns.
//!
//! Every test runs its body in a child process that starts with `SOFTHSM2_CONF` pointing at a
//! token of its own ([`SoftHsm::isolated`]): the module is initialised once per process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{path::Path, sync::Arc, time::Duration};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    VerificationAlgorithm,
};
use ca::{
    CaError, CertificateAuthority, ClientPublicKey, InMemorySigner, IssuingKey, KeyAlgorithm,
    KeyKind, SignatureAlgorithm, Signer,
    pkcs11::{self, Pkcs11Config, Pkcs11Signer, Pkcs11Token},
};
use common::{keys::TestKey, openssl, principal};
use der::Decode;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyUsagePurpose};
use test_support::softhsm::SoftHsm;

const PIN: &str = "1234";
const TOKEN: &str = "fulcio-test";

/// A token of the test's own, or `None` where SoftHSM2 is not installed (the test then passes
/// without running).
fn isolated(test: &str) -> Option<SoftHsm> {
    SoftHsm::isolated(test, TOKEN, PIN)
}

fn config(hsm: &SoftHsm) -> Pkcs11Config {
    Pkcs11Config::load(&hsm.crypto11_config(true), None).unwrap()
}

/// Opens the test's token and generates the key pair `label` (CKA_ID `id`) in it.
fn token_with_key(
    hsm: &SoftHsm,
    label: &str,
    id: &[u8],
    kind: KeyKind,
) -> (Pkcs11Config, Arc<Pkcs11Token>) {
    let config = config(hsm);
    let token = Pkcs11Token::open(&config).unwrap();
    token.generate_key_pair(label, id, kind).unwrap();
    (config, token)
}

fn verifier(algorithm: SignatureAlgorithm) -> &'static dyn VerificationAlgorithm {
    match algorithm {
        SignatureAlgorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
        SignatureAlgorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1,
        SignatureAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_2048_8192_SHA256,
        other => panic!("no verifier for {other:?}"),
    }
}

/// `signature` over `message` verifies under the signer's public key with `algorithm`.
fn check_signature<S: Signer + ?Sized>(
    algorithm: &'static dyn VerificationAlgorithm,
    signer: &S,
    message: &[u8],
    signature: &[u8],
) {
    UnparsedPublicKey::new(algorithm, signer.public_key_der())
        .verify(message, signature)
        .unwrap();
}

/// Signs `message` with the signer and verifies the signature with `algorithm`.
async fn sign_and_check<S: Signer + ?Sized>(
    algorithm: &'static dyn VerificationAlgorithm,
    signer: &S,
    message: &[u8],
) {
    let signature = signer.sign(message).await.unwrap();
    check_signature(algorithm, signer, message, &signature);
}

/// The token key as rcgen's signing key, to self-sign a root with it.
struct TokenKey<'a> {
    signer: &'a Pkcs11Signer,
    bits: Vec<u8>,
}

impl<'a> TokenKey<'a> {
    fn new(signer: &'a Pkcs11Signer) -> Self {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(signer.public_key_der()).unwrap();
        let bits = spki.subject_public_key.raw_bytes().to_vec();
        Self { signer, bits }
    }
}

impl rcgen::PublicKeyData for TokenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.signer.algorithm() {
            SignatureAlgorithm::EcdsaP256Sha256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::EcdsaP384Sha384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            _ => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for TokenKey<'_> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign_blocking(message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn ca_params(name: &str, path_len: u8) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "fulcio-rs tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A self-signed root for the token key `label`, stored in the token under `id`; returns its
/// DER.
fn store_root(token: &Arc<Pkcs11Token>, label: &str, id: &[u8]) -> Vec<u8> {
    let signer = token.signer(label).unwrap();
    let root = ca_params("token root", 1)
        .self_signed(&TokenKey::new(&signer))
        .unwrap();
    token
        .store_certificate(id, "root", root.der().as_ref())
        .unwrap();
    root.der().to_vec()
}

fn pem(der: &[u8]) -> String {
    common::keys::pem_encode("CERTIFICATE", der)
}

/// A fresh P-256 client key.
fn client_key() -> ClientPublicKey {
    let client = TestKey::generate(KeyKind::EcdsaP256);
    ClientPublicKey::parse(client.spki_der()).unwrap()
}

async fn issue_and_check(ca: &CertificateAuthority, root_der: &[u8], intermediates: &[String]) {
    let client = client_key();
    let principal = principal::email_principal();
    let issued = ca
        .issue_certificate_with(&principal, &client)
        .await
        .unwrap();
    openssl::verify(&pem(root_der), intermediates, &issued.leaf_pem()).unwrap();

    let precertificate = ca
        .issue_precertificate_with(&principal, &client)
        .await
        .unwrap();
    let issued = precertificate.finalize(&sct_list()).await.unwrap();
    openssl::verify(&pem(root_der), intermediates, &issued.leaf_pem()).unwrap();
}

/// A syntactically valid SCT list (RFC 6962 §3.3) for the final certificate.
fn sct_list() -> Vec<u8> {
    let mut sct = vec![0u8];
    sct.extend([0x42; 32]);
    sct.extend(1_754_000_000_000u64.to_be_bytes());
    sct.extend([0, 0, 4, 3]);
    let signature = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01];
    sct.extend((signature.len() as u16).to_be_bytes());
    sct.extend(signature);
    let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
    list.extend((sct.len() as u16).to_be_bytes());
    list.extend(sct);
    list
}

fn invalid_ca<T: std::fmt::Debug>(result: Result<T, CaError>) -> String {
    match result {
        Err(CaError::InvalidCa(message)) => message,
        Err(other) => panic!("expected InvalidCa, got {other}"),
        Ok(value) => panic!("expected an error, got {value:?}"),
    }
}

#[tokio::test]
async fn keys_generated_in_the_token_sign_verifiably() {
    let Some(hsm) = isolated("keys_generated_in_the_token_sign_verifiably") else {
        return;
    };
    let token = Pkcs11Token::open(&config(&hsm)).unwrap();
    for (label, kind, algorithm, policy) in [
        (
            "p256",
            KeyKind::EcdsaP256,
            SignatureAlgorithm::EcdsaP256Sha256,
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "p384",
            KeyKind::EcdsaP384,
            SignatureAlgorithm::EcdsaP384Sha384,
            KeyAlgorithm::EcdsaP384,
        ),
        (
            "rsa",
            KeyKind::Rsa2048,
            SignatureAlgorithm::RsaPkcs1Sha256,
            KeyAlgorithm::Rsa(2048),
        ),
    ] {
        token
            .generate_key_pair(label, label.as_bytes(), kind)
            .unwrap();
        let signer = token.signer(label).unwrap();
        assert_eq!(signer.algorithm(), algorithm, "{label}");
        // The SPKI is what the client-key parser accepts and re-encodes identically.
        let public = ClientPublicKey::parse(signer.public_key_der()).unwrap();
        assert_eq!(public.algorithm, policy, "{label}");
        assert_eq!(public.spki_der, signer.public_key_der(), "{label}");

        let message = format!("to be signed by {label}");
        let signature = signer.sign(message.as_bytes()).await.unwrap();
        let key = UnparsedPublicKey::new(verifier(algorithm), signer.public_key_der());
        key.verify(message.as_bytes(), &signature)
            .unwrap_or_else(|_| panic!("{label}: the signature does not verify"));
        assert!(
            key.verify(b"another message", &signature).is_err(),
            "{label}"
        );
        // ECDSA signatures are randomised: a second one differs and verifies too.
        let again = signer.sign(message.as_bytes()).await.unwrap();
        key.verify(message.as_bytes(), &again).unwrap();
    }
    // A second key pair with a used label is refused; the private key stays unexportable.
    let error = invalid_ca(token.generate_key_pair("p256", b"other", KeyKind::EcdsaP256));
    assert!(
        error.contains("already has a private key labelled \"p256\""),
        "{error}"
    );
    let error = invalid_ca(token.generate_key_pair("ed", b"ed", KeyKind::Ed25519));
    assert!(error.contains("Ed25519"), "{error}");
}

#[tokio::test]
async fn concurrent_signatures_share_the_session_pool() {
    let Some(hsm) = isolated("concurrent_signatures_share_the_session_pool") else {
        return;
    };
    let (_, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP256);
    let signer = Arc::new(token.signer("key").unwrap());
    let mut tasks = Vec::new();
    for i in 0..32 {
        let signer = Arc::clone(&signer);
        tasks.push(tokio::spawn(async move {
            let message = format!("message {i}");
            let signature = signer.sign(message.as_bytes()).await.unwrap();
            (message, signature)
        }));
    }
    for task in tasks {
        let (message, signature) = task.await.unwrap();
        check_signature(
            &ECDSA_P256_SHA256_ASN1,
            &*signer,
            message.as_bytes(),
            &signature,
        );
    }
}

#[tokio::test]
async fn certificates_issued_with_a_token_key_verify_under_the_token_root() {
    let Some(hsm) = isolated("certificates_issued_with_a_token_key_verify_under_the_token_root")
    else {
        return;
    };
    let config = config(&hsm);
    let token = Pkcs11Token::open(&config).unwrap();
    for (label, kind) in [
        ("p256", KeyKind::EcdsaP256),
        ("p384", KeyKind::EcdsaP384),
        ("rsa", KeyKind::Rsa3072),
    ] {
        token.generate_key_pair(label, b"k", kind).unwrap();
        let id = format!("root-{label}");
        let root = store_root(&token, label, id.as_bytes());
        assert_eq!(
            token.find_certificate(id.as_bytes()).unwrap().as_deref(),
            Some(root.as_slice())
        );
        let key = pkcs11::load_ca(&config, label, id.as_bytes(), None).unwrap();
        assert_eq!(key.chain(), std::slice::from_ref(&root));
        let ca = CertificateAuthority::new(key);
        issue_and_check(&ca, &root, &[]).await;
    }
    assert_eq!(token.certificates().unwrap().len(), 3);
    assert_eq!(token.find_certificate(b"root-none").unwrap(), None);
}

#[tokio::test]
async fn an_intermediate_in_the_token_is_chained_to_its_root_by_name() {
    let Some(hsm) = isolated("an_intermediate_in_the_token_is_chained_to_its_root_by_name") else {
        return;
    };
    let (config, token) = token_with_key(&hsm, "PKCS11CA", b"ca", KeyKind::EcdsaP384);
    let signer = token.signer(pkcs11::DEFAULT_KEY_LABEL).unwrap();

    // An offline root (in memory here) issues an intermediate for the token key.
    let root_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let root_params = ca_params("offline root", 1);
    let root = root_params.clone().self_signed(&root_key).unwrap();
    let issuer = rcgen::Issuer::new(root_params, &root_key);
    let mut intermediate = ca_params("token intermediate", 0);
    intermediate.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    let intermediate = intermediate
        .signed_by(&TokenKey::new(&signer), &issuer)
        .unwrap();
    // Stored root first, so the chain is found by name rather than by order.
    token
        .store_certificate(b"root", "root", root.der().as_ref())
        .unwrap();
    token
        .store_certificate(b"intermediate", "intermediate", intermediate.der().as_ref())
        .unwrap();

    let key = pkcs11::load_ca(&config, "PKCS11CA", b"intermediate", None).unwrap();
    assert_eq!(
        key.chain(),
        [intermediate.der().to_vec(), root.der().to_vec()]
    );
    let ca = CertificateAuthority::new(key);
    issue_and_check(
        &ca,
        root.der().as_ref(),
        &[pem(intermediate.der().as_ref())],
    )
    .await;
}

#[tokio::test]
async fn a_chain_file_replaces_the_token_certificate() {
    let Some(hsm) = isolated("a_chain_file_replaces_the_token_certificate") else {
        return;
    };
    let (config, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP256);
    let signer = token.signer("key").unwrap();
    // Like AWS CloudHSM: the root lives in a file, not in the token.
    let root = ca_params("file root", 1)
        .self_signed(&TokenKey::new(&signer))
        .unwrap();
    let file = hsm.dir().join("root.pem");
    std::fs::write(&file, root.pem()).unwrap();
    let key = pkcs11::load_ca(&config, "key", b"not-in-the-token", Some(&file)).unwrap();
    assert_eq!(key.chain(), [root.der().to_vec()]);
    issue_and_check(&CertificateAuthority::new(key), root.der().as_ref(), &[]).await;

    let missing = hsm.dir().join("missing.pem");
    let error = pkcs11::load_ca(&config, "key", b"x", Some(&missing))
        .unwrap_err()
        .to_string();
    assert!(error.contains("missing.pem"), "{error}");
}

#[tokio::test]
async fn a_certificate_for_another_key_is_refused() {
    let Some(hsm) = isolated("a_certificate_for_another_key_is_refused") else {
        return;
    };
    let (config, token) = token_with_key(&hsm, "one", b"1", KeyKind::EcdsaP256);
    token
        .generate_key_pair("two", b"2", KeyKind::EcdsaP256)
        .unwrap();
    store_root(&token, "one", b"root-one");
    let error = invalid_ca(pkcs11::load_ca(&config, "two", b"root-one", None));
    assert!(
        error.contains("\"two\"") && error.contains("root-one"),
        "{error}"
    );
    // The matching pair loads.
    pkcs11::load_ca(&config, "one", b"root-one", None).unwrap();
    // An id with no certificate is named.
    let error = invalid_ca(pkcs11::load_ca(&config, "one", b"nope", None));
    assert!(error.contains("no certificate with id \"nope\""), "{error}");
    // A second certificate under a used id is refused and the first one kept.
    let first = token.find_certificate(b"root-one").unwrap().unwrap();
    let other = InMemorySigner::generate(KeyKind::EcdsaP256).unwrap();
    let other = ca::ephemeral::from_signer(other).unwrap();
    let error = invalid_ca(token.store_certificate(b"root-one", "again", &other.chain()[0]));
    assert!(
        error.contains("already has a certificate with id \"root-one\""),
        "{error}"
    );
    assert_eq!(token.find_certificate(b"root-one").unwrap().unwrap(), first);
}

#[test]
fn configuration_mistakes_are_named() {
    let Some(hsm) = isolated("configuration_mistakes_are_named") else {
        return;
    };
    let good = config(&hsm);

    let wrong_pin = Pkcs11Config {
        pin: "4321".to_owned().into(),
        ..good.clone()
    };
    let error = invalid_ca(Pkcs11Token::open(&wrong_pin));
    assert!(error.contains("wrong PIN"), "{error}");

    let no_module = Pkcs11Config {
        module_path: hsm.dir().join("libmissing.so"),
        ..good.clone()
    };
    let error = invalid_ca(Pkcs11Token::open(&no_module));
    assert!(
        error.contains("libmissing.so") && error.contains("no such file"),
        "{error}"
    );

    let not_a_module = Pkcs11Config {
        module_path: hsm.conf_path().to_path_buf(),
        ..good.clone()
    };
    let error = invalid_ca(Pkcs11Token::open(&not_a_module));
    assert!(error.contains("loading failed"), "{error}");

    let no_token = Pkcs11Config {
        token_label: "absent".into(),
        ..good.clone()
    };
    let error = invalid_ca(Pkcs11Token::open(&no_token));
    assert!(
        error.contains("no token labelled \"absent\"") && error.contains(TOKEN),
        "{error}"
    );

    let token = Pkcs11Token::open(&good).unwrap();
    let error = invalid_ca(token.signer("PKCS11CA"));
    assert!(
        error.contains("no private key labelled \"PKCS11CA\""),
        "{error}"
    );
    let error = invalid_ca(pkcs11::load_ca(&good, "PKCS11CA", b"root", None));
    assert!(error.contains("PKCS11CA"), "{error}");

    // The PIN may come from a file when the config has none.
    let pin_file = hsm.dir().join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
    let from_file = Pkcs11Config::load(&hsm.crypto11_config(false), Some(&pin_file)).unwrap();
    Pkcs11Token::open(&from_file).unwrap();
}

/// Moves the token directory away and back, as a token pulled out and plugged in again.
fn remove(hsm: &SoftHsm) -> std::path::PathBuf {
    let away = hsm.dir().join("tokens-away");
    std::fs::rename(hsm.token_dir(), &away).unwrap();
    away
}

fn reinsert(hsm: &SoftHsm, away: &Path) {
    std::fs::rename(away, hsm.token_dir()).unwrap();
}

#[tokio::test]
async fn a_removed_token_fails_promptly_and_is_used_again_when_back() {
    let Some(hsm) = isolated("a_removed_token_fails_promptly_and_is_used_again_when_back") else {
        return;
    };
    let (config, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP256);
    let root = store_root(&token, "key", b"root");
    let ca = CertificateAuthority::new(pkcs11::load_ca(&config, "key", b"root", None).unwrap());
    issue_and_check(&ca, &root, &[]).await;
    let signer = ca.current().signer().clone();

    let away = remove(&hsm);
    for _ in 0..3 {
        let error = signer.sign(b"while removed").await.unwrap_err().to_string();
        // The module's own error, at once: not the signing timeout.
        assert!(error.contains("PKCS#11 key \"key\""), "{error}");
        assert!(
            !error.contains("no signature from the token within"),
            "{error}"
        );
        let error = ca
            .issue_certificate_with(&principal::email_principal(), &client_key())
            .await
            .unwrap_err();
        assert!(matches!(error, CaError::Signer(_)), "{error}");
    }

    reinsert(&hsm, &away);
    sign_and_check(&ECDSA_P256_SHA256_ASN1, &*signer, b"back again").await;
    issue_and_check(&ca, &root, &[]).await;
}

#[test]
fn issuing_key_checks_apply_to_token_keys() {
    let Some(hsm) = isolated("issuing_key_checks_apply_to_token_keys") else {
        return;
    };
    let (_, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP256);
    // A chain for a different key than the signer's is refused by the generic check too.
    let other = ca::ephemeral::generate(KeyKind::EcdsaP256).unwrap();
    let signer = Arc::new(token.signer("key").unwrap());
    let error = invalid_ca(IssuingKey::new(signer, other.chain().to_vec()));
    assert!(!error.is_empty());
}

/// Holds POSIX record locks (`fcntl`, which SoftHSM2's file store waits on) on every file of
/// the token for `seconds`; returns once they are held.
fn lock_token_files(hsm: &SoftHsm, seconds: u32) -> std::process::Child {
    use std::io::BufRead;
    // Python's fcntl.lockf takes the same kind of lock as SoftHSM2 (F_SETLKW); Rust's std
    // has no safe call for it.
    let script = format!(
        "import fcntl, glob, sys, time\n\
         fs = []\n\
         for p in glob.glob({dir:?} + '/*/*'):\n\
         \x20   f = open(p, 'r+b'); fcntl.lockf(f, fcntl.LOCK_EX); fs.append(f)\n\
         print('locked', len(fs), flush=True)\n\
         time.sleep({seconds})\n",
        dir = hsm.token_dir().display().to_string(),
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (scripts/ensure-test-deps installs it)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("locked") && !line.contains(" 0"), "{line}");
    child
}

#[tokio::test]
async fn a_wedged_token_times_out_instead_of_hanging() {
    let Some(hsm) = isolated("a_wedged_token_times_out_instead_of_hanging") else {
        return;
    };
    let (_, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP256);
    let signer = token
        .signer("key")
        .unwrap()
        .with_timeout(Duration::from_secs(1));
    signer.sign(b"warm").await.unwrap();

    let mut locker = lock_token_files(&hsm, 4);
    // The module blocks in C_Sign until the locks go (4 s); the caller gets an error at 1 s.
    let error = signer.sign(b"wedged").await.unwrap_err().to_string();
    assert!(
        error.contains("no signature from the token within 1s"),
        "{error}"
    );
    locker.wait().unwrap();

    // Once the module answers again, so does the signer.
    sign_and_check(&ECDSA_P256_SHA256_ASN1, &signer, b"unwedged").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_signers_ride_out_a_removal_and_recover() {
    let Some(hsm) = isolated("concurrent_signers_ride_out_a_removal_and_recover") else {
        return;
    };
    let (_, token) = token_with_key(&hsm, "key", b"key", KeyKind::EcdsaP384);
    let signer = Arc::new(token.signer("key").unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let signer = Arc::clone(&signer);
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let message = format!("task {i} message {}", ok + failed);
                match signer.sign(message.as_bytes()).await {
                    Ok(signature) => {
                        check_signature(
                            &ECDSA_P384_SHA384_ASN1,
                            &*signer,
                            message.as_bytes(),
                            &signature,
                        );
                        ok += 1;
                    }
                    Err(error) => {
                        assert!(error.to_string().contains("PKCS#11"), "{error}");
                        failed += 1;
                    }
                }
            }
            (ok, failed)
        }));
    }
    // Pull the token out and put it back twice while the tasks sign.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let away = remove(&hsm);
        tokio::time::sleep(Duration::from_millis(200)).await;
        reinsert(&hsm, &away);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut total_ok, mut total_failed) = (0, 0);
    for task in tasks {
        let (ok, failed) = task.await.unwrap();
        total_ok += ok;
        total_failed += failed;
    }
    // The tasks signed throughout, so they saw both the token and its absence.
    assert!(
        total_ok > 0 && total_failed > 0,
        "{total_ok} ok, {total_failed} failed"
    );
    // Every signer works again once the token is back.
    for i in 0..8 {
        let message = format!("after {i}");
        sign_and_check(&ECDSA_P384_SHA384_ASN1, &*signer, message.as_bytes()).await;
    }
}
