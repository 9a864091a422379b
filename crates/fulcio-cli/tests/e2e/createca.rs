//! `fulcio createca` end to end against a real token (SoftHSM2): the root it makes in the
//! token (with a key it generates there) and the intermediates it issues (key in the same
//! token, in a second token, or in an encrypted file) are what the real `fulcio serve` then
//! issues under, with `--ca pkcs11ca` or `--ca fileca`; every certificate is checked by
//! `openssl verify`, its embedded SCT against the log's key, and once by `fulcio verify` with
//! the trust root `fulcio trust-root` writes. Refusals (an existing certificate id, an unknown
//! key label, an existing key file) are checked to leave the token and the files as they were.
//!
//! The test process never opens the PKCS#11 module: `fulcio createca`, `fulcio serve` and
//! `pkcs11-tool` are child processes that get `SOFTHSM2_CONF`, so a plain [`SoftHsm::new`]
//! per test is enough.

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use ct_core::{
    LogPublicKey, SignedEntry,
    certificate::{embedded_scts, precert_entry_from_certificate},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_support::{fake_issuer::FakeIssuer, softhsm::SoftHsm};
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

use crate::support::{
    api::{KeyPart, Proof, v2_json},
    keys::{ClientKey, KeyKind},
    server::{CaBackend, FulcioServer, IssuerConfig, Ports, fulcio_bin},
    tokens::Identity,
};

const ROOT_TOKEN: &str = "e2e-root";
const PIN: &str = "1357";
const ROOT_ID: &str = "e2e-root-ca";
const EMAIL: &str = "hsm-signer@example.com";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn der(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).unwrap().into_contents()
}

fn pems(text: &str) -> Vec<Vec<u8>> {
    pem::parse_many(text)
        .unwrap()
        .into_iter()
        .map(pem::Pem::into_contents)
        .collect()
}

/// A scratch directory with the token's crypto11 config (no PIN in it) and a PIN file.
struct Setup {
    hsm: SoftHsm,
    dir: tempfile::TempDir,
    config: PathBuf,
    pin_file: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let hsm = SoftHsm::new(ROOT_TOKEN, PIN);
        let config = hsm.crypto11_config(false);
        let dir = tempfile::tempdir().unwrap();
        let pin_file = dir.path().join("root.pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        Setup {
            hsm,
            dir,
            config,
            pin_file,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `fulcio createca` with the root token's config and PIN file, then `args`.
    fn createca(&self, args: &[&str]) -> Output {
        self.createca_raw(
            &[
                "--pkcs11-config-path",
                self.config.to_str().unwrap(),
                "--pkcs11-pin-file",
                self.pin_file.to_str().unwrap(),
            ],
            args,
        )
    }

    /// `fulcio createca intermediate` likewise.
    fn createca_intermediate(&self, args: &[&str]) -> Output {
        self.createca_raw(
            &[
                "intermediate",
                "--pkcs11-config-path",
                self.config.to_str().unwrap(),
                "--pkcs11-pin-file",
                self.pin_file.to_str().unwrap(),
            ],
            args,
        )
    }

    fn createca_raw(&self, first: &[&str], args: &[&str]) -> Output {
        std::process::Command::new(fulcio_bin())
            .arg("createca")
            .args(first)
            .args(args)
            .envs(self.hsm.envs())
            .env_remove(ca::pkcs11::PIN_ENV)
            .current_dir(self.dir.path())
            .output()
            .expect("running fulcio createca")
    }

    /// `pkcs11-tool --list-objects` of the token labelled `token` (logged in with `pin`).
    fn objects(&self, token: &str, pin: &str) -> String {
        let output = std::process::Command::new("pkcs11-tool")
            .args(["--module", test_support::softhsm::DEFAULT_MODULE])
            .args([
                "--token-label",
                token,
                "--login",
                "--pin",
                pin,
                "--list-objects",
            ])
            .envs(self.hsm.envs())
            .output()
            .expect("running pkcs11-tool (scripts/ensure-test-deps installs opensc)");
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    }

    /// Makes the root with a generated key (`extra` flags appended) and returns its PEM.
    fn root(&self, extra: &[&str]) -> String {
        let out = self.path("root.pem");
        let mut args = vec![
            "--hsm-caroot-id",
            ROOT_ID,
            "--generate-key",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = self.createca(&args);
        assert_succeeded(&output);
        std::fs::read_to_string(out).unwrap()
    }
}

fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}; stdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Asserts exit status 1 and returns stderr.
fn assert_refused(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stderr)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// `needle` occurs `expected` times in the object listing `objects`.
fn assert_count(objects: &str, needle: &str, expected: usize) {
    assert_eq!(count(objects, needle), expected, "{objects}");
}

/// The chain `createca` wrote to `path`, checking that the root `root_pem` follows the
/// intermediate.
fn written_chain(path: &Path, root_pem: &str) -> Vec<Vec<u8>> {
    let written = pems(&std::fs::read_to_string(path).unwrap());
    assert_eq!(written[1], der(root_pem));
    written
}

/// A running `fulcio serve` with the embedded CT log in `ct_dir`, and its fake issuer.
struct Served {
    server: FulcioServer,
    issuer: FakeIssuer,
    ct_dir: PathBuf,
}

impl Served {
    /// `fulcio serve --ca pkcs11ca` with `ca_args` and the token's `SOFTHSM2_CONF`.
    async fn pkcs11(setup: &Setup, ca_args: &[&str]) -> Served {
        let mut ca = vec!["--ca".to_owned(), "pkcs11ca".to_owned()];
        ca.extend(ca_args.iter().map(|a| (*a).to_owned()));
        let env = setup
            .hsm
            .envs()
            .map(|(name, value)| (name, value.as_os_str()));
        Served::start(setup, &CaBackend::Args(ca), &env).await
    }

    /// [`Served::pkcs11`] with the root token's config and PIN file, then `ca_args`.
    async fn pkcs11_root_token(setup: &Setup, ca_args: &[&str]) -> Served {
        let mut args = vec![
            "--pkcs11-config-path",
            setup.config.to_str().unwrap(),
            "--pkcs11-pin-file",
            setup.pin_file.to_str().unwrap(),
        ];
        args.extend_from_slice(ca_args);
        Served::pkcs11(setup, &args).await
    }

    async fn start(setup: &Setup, ca: &CaBackend, env: &[(&str, &std::ffi::OsStr)]) -> Served {
        let issuer = FakeIssuer::start().await;
        let ct_dir = setup.path("ct");
        let ct = [
            "--ct-log-data-dir",
            ct_dir.to_str().unwrap(),
            "--ct-log-host",
            "127.0.0.1",
            "--ct-log-port",
            "0",
        ];
        let server = FulcioServer::start_in_env(
            &[IssuerConfig::email(issuer.url())],
            Ports::Split,
            ca,
            &ct,
            env,
        )
        .await;
        Served {
            server,
            issuer,
            ct_dir,
        }
    }

    /// The trust bundle is `expected` (the chain above the leaf, root last); a certificate
    /// issued over HTTP chains to exactly it, `openssl verify` accepts it and its SCT verifies.
    /// Returns the issued chain.
    async fn issues_under(&self, setup: &Setup, expected: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let http_url = self.server.http_url();
        assert_eq!(trust_bundle(&http_url).await, expected);
        let chain = issue(&http_url, &self.issuer, || self.server.log()).await;
        assert_eq!(chain.len(), expected.len() + 1);
        assert_eq!(&chain[1..], expected);
        openssl_verify(setup.dir.path(), &chain);
        check_sct(&chain, &self.ct_dir);
        chain
    }
}

/// Gets a certificate over HTTP v2; returns the DER chain, leaf first (embedded-SCT form).
async fn issue(http_url: &str, issuer: &FakeIssuer, log: impl Fn() -> String) -> Vec<Vec<u8>> {
    let key = ClientKey::generate(KeyKind::P256);
    let who = Identity::new(EMAIL);
    let token = issuer.token(who.claims());
    let part = KeyPart::for_key(&key, Proof::PublicKey, &who.email);
    let response = reqwest::Client::new()
        .post(format!("{http_url}/api/v2/signingCert"))
        .json(&v2_json(Some(&token), &part))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}; log:\n{}", log());
    body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("not the embedded-SCT form: {body}"))
        .iter()
        .map(|c| der(c.as_str().unwrap()))
        .collect()
}

async fn trust_bundle(http_url: &str) -> Vec<Vec<u8>> {
    let bundle: Value = reqwest::get(format!("{http_url}/api/v2/trustBundle"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chains = bundle["chains"].as_array().unwrap();
    assert_eq!(chains.len(), 1, "{bundle}");
    chains[0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| der(c.as_str().unwrap()))
        .collect()
}

fn pem_of(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// `openssl verify -CAfile root -untrusted intermediates leaf` must accept `chain` (leaf
/// first, root last), and refuse it without the intermediates when there are some.
fn openssl_verify(dir: &Path, chain: &[Vec<u8>]) {
    let root = dir.join("verify-root.pem");
    let leaf = dir.join("verify-leaf.pem");
    std::fs::write(&root, pem_of(chain.last().unwrap())).unwrap();
    std::fs::write(&leaf, pem_of(&chain[0])).unwrap();
    let mut command = std::process::Command::new("openssl");
    command.arg("verify").arg("-CAfile").arg(&root);
    let intermediates = &chain[1..chain.len() - 1];
    if !intermediates.is_empty() {
        let untrusted = dir.join("verify-untrusted.pem");
        std::fs::write(
            &untrusted,
            intermediates.iter().map(|c| pem_of(c)).collect::<String>(),
        )
        .unwrap();
        command.arg("-untrusted").arg(&untrusted);
        let without = std::process::Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(&root)
            .arg(&leaf)
            .output()
            .unwrap();
        assert!(
            !without.status.success(),
            "verified without the intermediate"
        );
    }
    let output = command.arg(&leaf).output().expect("running openssl");
    assert!(
        output.status.success() && text(&output.stdout).contains(": OK"),
        "openssl verify: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// The leaf's one embedded SCT verifies with the log's key over the precertificate entry
/// naming the leaf's issuer (`chain[1]`).
fn check_sct(chain: &[Vec<u8>], ct_dir: &Path) {
    let key =
        LogPublicKey::from_pem(&std::fs::read(ct_dir.join("log-public-key.pem")).unwrap()).unwrap();
    let scts = embedded_scts(&chain[0]).expect("the SCT list extension decodes");
    assert_eq!(scts.len(), 1, "one embedded SCT");
    let entry = SignedEntry::Precert(
        precert_entry_from_certificate(&chain[0], &chain[1]).expect("precert entry"),
    );
    key.verify_sct(&scts[0], &entry).expect("the SCT verifies");
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der).unwrap().1
}

fn path_len(certificate: &X509Certificate<'_>) -> Option<u32> {
    let bc = certificate.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    bc.value.path_len_constraint
}

/// A crypto11 config for another token of the same installation.
fn second_token_config(setup: &Setup, label: &str, pin: &str) -> PathBuf {
    setup.hsm.init_token(label, pin);
    let path = setup.path(&format!("{label}.conf"));
    std::fs::write(
        &path,
        json!({"Path": test_support::softhsm::DEFAULT_MODULE, "TokenLabel": label, "Pin": pin})
            .to_string(),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_generated_in_the_token_serves_certificates_openssl_and_the_log_accept() {
    let setup = Setup::new();
    let out = setup.path("root.pem");
    let output = setup.createca(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--generate-key",
        "--org",
        "fulcio-rs e2e",
        "--country",
        "DE",
        "--locality",
        "Berlin",
        "--common-name",
        "e2e root",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_succeeded(&output);
    let root_pem = std::fs::read_to_string(&out).unwrap();
    // Upstream prints the root too.
    assert_eq!(text(&output.stdout), root_pem);
    let root_der = der(&root_pem);
    let root = parse(&root_der);
    assert_eq!(
        root.subject().to_string(),
        "C=DE, L=Berlin, O=fulcio-rs e2e, CN=e2e root"
    );
    assert_eq!(root.subject(), root.issuer());
    assert_eq!(path_len(&root), Some(1));
    // The default --key-type is P-384, like the public-good root.
    assert_eq!(
        root.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.10045.4.3.3"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("generated the key pair \"PKCS11CA\" (ECDSA P-384)"),
        "{stderr}"
    );
    // Ten calendar years, as upstream's AddDate(10, 0, 0).
    let from = root.validity().not_before.to_datetime();
    let until = root.validity().not_after.to_datetime();
    assert_eq!(until.year(), from.year() + 10);
    assert_eq!(until.time(), from.time());
    if (from.month(), from.day()) != (time::Month::February, 29) {
        assert_eq!((until.month(), until.day()), (from.month(), from.day()));
    }

    // In the token: the key pair (private half never extractable) and the root under the id.
    let objects = setup.objects(ROOT_TOKEN, PIN);
    let id = hex::encode(ROOT_ID);
    assert_count(&objects, "Certificate Object", 1);
    assert_count(&objects, "Private Key Object; EC", 1);
    assert!(objects.contains("never extractable"), "{objects}");
    assert_count(&objects, &format!("ID:         {id}"), 3);

    // Upstream's pkcs11ca with the default label; the PIN now from the config.
    let with_pin = setup.hsm.crypto11_config(true);
    let served = Served::pkcs11(
        &setup,
        &[
            "--pkcs11-config-path",
            with_pin.to_str().unwrap(),
            "--hsm-caroot-id",
            ROOT_ID,
        ],
    )
    .await;
    let chain = served
        .issues_under(&setup, std::slice::from_ref(&root_der))
        .await;
    assert_eq!(chain[1], root_der);
}

/// (a) with the intermediate's key in the token: one `createca` run makes both, and
/// `pkcs11ca` with the intermediate's label and id serves [intermediate, root].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_and_intermediate_in_one_token_serve_the_intermediate_chain() {
    let setup = Setup::new();
    let chain_out = setup.path("chain.pem");
    let root_pem = setup.root(&[
        "--key-type",
        "p256",
        "--intermediate-key-label",
        "e2e-intermediate",
        "--intermediate-id",
        "e2e-intermediate-ca",
        "--intermediate-key-type",
        "p384",
        "--intermediate-common-name",
        "e2e intermediate",
        "--intermediate-out",
        chain_out.to_str().unwrap(),
    ]);
    let written = written_chain(&chain_out, &root_pem);
    assert_eq!(written.len(), 2);
    let intermediate = parse(&written[0]);
    assert_eq!(
        intermediate.subject().to_string(),
        "O=Fulcio Root CA, CN=e2e intermediate"
    );
    assert_eq!(path_len(&intermediate), Some(0));
    assert!(
        intermediate
            .extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .code_signing
    );
    let objects = setup.objects(ROOT_TOKEN, PIN);
    assert_count(&objects, "Certificate Object", 2);
    assert_count(&objects, "Private Key Object; EC", 2);

    let served = Served::pkcs11_root_token(
        &setup,
        &[
            "--hsm-key-label",
            "e2e-intermediate",
            "--hsm-caroot-id",
            "e2e-intermediate-ca",
        ],
    )
    .await;
    let chain = served.issues_under(&setup, &written).await;
    assert_eq!(chain.len(), 3);

    // The trust root `fulcio trust-root` writes for this instance lets `fulcio verify` accept
    // the certificate for its identity.
    let trust_dir = setup.path("trust");
    let output = std::process::Command::new(fulcio_bin())
        .args(["trust-root", "--fulcio-url", &served.server.http_url()])
        .args(["--ct-log-url", &served.server.ct_log_url().unwrap()])
        .arg("--ct-log-public-key")
        .arg(served.ct_dir.join("log-public-key.pem"))
        .arg("--out-dir")
        .arg(&trust_dir)
        .output()
        .unwrap();
    assert_succeeded(&output);
    let leaf = setup.path("leaf.pem");
    std::fs::write(&leaf, pem_of(&chain[0])).unwrap();
    let output = std::process::Command::new(fulcio_bin())
        .arg("verify")
        .arg(&leaf)
        .arg("--trusted-root")
        .arg(trust_dir.join("trusted_root.json"))
        .args(["--certificate-identity", EMAIL])
        .args(["--certificate-oidc-issuer", &served.issuer.url()])
        .output()
        .unwrap();
    assert_succeeded(&output);
}

/// An offline root token and an online token: `createca intermediate` later generates the
/// intermediate's key in the online token and stores the intermediate and a copy of the root
/// there, so `pkcs11ca` serves from the online token alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_issued_later_into_a_second_token() {
    let setup = Setup::new();
    let root_pem = setup.root(&["--key-type", "rsa3072", "--org", "Offline Root Org"]);
    let online = second_token_config(&setup, "e2e-online", "8642");
    let chain_out = setup.path("online-chain.pem");
    let output = setup.createca_intermediate(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--intermediate-pkcs11-config-path",
        online.to_str().unwrap(),
        "--intermediate-key-label",
        "online-key",
        "--intermediate-id",
        "online-ca",
        "--intermediate-key-type",
        "p256",
        "--intermediate-out",
        chain_out.to_str().unwrap(),
    ]);
    assert_succeeded(&output);
    let written = written_chain(&chain_out, &root_pem);
    // The intermediate takes the root's subject but its own CN, and is signed with RSA.
    let intermediate = parse(&written[0]);
    assert_eq!(
        intermediate.subject().to_string(),
        "O=Offline Root Org, CN=Fulcio Intermediate CA"
    );
    assert_eq!(
        intermediate.signature_algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.11"
    );
    // The online token has the intermediate's key and both certificates, not the root's key;
    // the root token gained nothing.
    let online_objects = setup.objects("e2e-online", "8642");
    assert_count(&online_objects, "Private Key Object", 1);
    assert!(
        online_objects.contains("label:      online-key"),
        "{online_objects}"
    );
    assert_count(&online_objects, "Certificate Object", 2);
    let root_objects = setup.objects(ROOT_TOKEN, PIN);
    assert_count(&root_objects, "Certificate Object", 1);
    assert_count(&root_objects, "Private Key Object", 1);

    let served = Served::pkcs11(
        &setup,
        &[
            "--pkcs11-config-path",
            online.to_str().unwrap(),
            "--hsm-key-label",
            "online-key",
            "--hsm-caroot-id",
            "online-ca",
        ],
    )
    .await;
    served.issues_under(&setup, &written).await;

    // The same id again is refused, in the online token too.
    let again = setup.createca_intermediate(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--intermediate-pkcs11-config-path",
        online.to_str().unwrap(),
        "--intermediate-key-label",
        "online-key-2",
        "--intermediate-id",
        "online-ca",
    ]);
    let stderr = assert_refused(&again);
    assert!(
        stderr.contains("already exists") && stderr.contains("\"online-ca\""),
        "{stderr}"
    );
}

/// (b) with the intermediate's key in an encrypted file: `--ca fileca` serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_key_in_an_encrypted_file_serves_with_fileca() {
    let setup = Setup::new();
    let root_pem = setup.root(&[]);
    let key_file = setup.path("intermediate-key.pem");
    let password_file = setup.path("intermediate.pass");
    let password = "correct horse battery staple";
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let chain_out = setup.path("file-chain.pem");
    let args = [
        "--hsm-caroot-id",
        ROOT_ID,
        "--intermediate-key-file",
        key_file.to_str().unwrap(),
        "--intermediate-key-password-file",
        password_file.to_str().unwrap(),
        "--intermediate-out",
        chain_out.to_str().unwrap(),
    ];
    assert_succeeded(&setup.createca_intermediate(&args));
    let key_pem = std::fs::read_to_string(&key_file).unwrap();
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // openssl decrypts it with the password (and not without).
    let decrypted = std::process::Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&key_file)
        .arg("-passin")
        .arg(format!("pass:{password}"))
        .arg("-pubout")
        .output()
        .unwrap();
    assert_succeeded(&decrypted);
    let written = written_chain(&chain_out, &root_pem);
    let intermediate_spki = parse(&written[0]).public_key().raw.to_vec();
    assert_eq!(der(&text(&decrypted.stdout)), intermediate_spki);
    // The token holds only the root's key and certificate.
    assert_count(&setup.objects(ROOT_TOKEN, PIN), "Certificate Object", 1);

    // A second run never overwrites the key.
    let again = setup.createca_intermediate(&args);
    let stderr = assert_refused(&again);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_pem);

    let backend = CaBackend::File {
        cert: chain_out,
        key: key_file,
        password: password.to_owned(),
    };
    Served::start(&setup, &backend, &[])
        .await
        .issues_under(&setup, &written)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_the_problem_and_change_nothing() {
    let setup = Setup::new();

    // No key with that label, and no --generate-key: nothing stored, nothing written.
    let out = setup.path("nothing.pem");
    let output = setup.createca(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--hsm-key-label",
        "no-such-key",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = assert_refused(&output);
    assert!(
        stderr.contains("\"no-such-key\"") && stderr.contains("--generate-key"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    assert!(!out.exists());
    assert_eq!(setup.objects(ROOT_TOKEN, PIN).trim(), "");

    // An intermediate under a root that is not there.
    let output = setup.createca_intermediate(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--intermediate-key-label",
        "i",
        "--intermediate-id",
        "i",
    ]);
    let stderr = assert_refused(&output);
    assert!(
        stderr.contains("no certificate with ID \"e2e-root-ca\""),
        "{stderr}"
    );

    // A certificate with that id exists: refused before any key is generated.
    let first = setup.root(&[]);
    let output = setup.createca(&[
        "--hsm-caroot-id",
        ROOT_ID,
        "--generate-key",
        "--hsm-key-label",
        "another-key",
        "--out",
        setup.path("root.pem").to_str().unwrap(),
    ]);
    let stderr = assert_refused(&output);
    assert!(
        stderr.contains("certificate already exists with this ID")
            && stderr.contains("\"e2e-root-ca\"")
            && stderr.contains("--hsm-caroot-id"),
        "{stderr}"
    );
    let objects = setup.objects(ROOT_TOKEN, PIN);
    assert_count(&objects, "Certificate Object", 1);
    assert_count(&objects, "Private Key Object", 1);
    assert!(!objects.contains("another-key"), "{objects}");
    assert_eq!(
        std::fs::read_to_string(setup.path("root.pem")).unwrap(),
        first
    );

    // --generate-key for a label that exists.
    let output = setup.createca(&["--hsm-caroot-id", "other-id", "--generate-key"]);
    let stderr = assert_refused(&output);
    assert!(stderr.contains("\"PKCS11CA\""), "{stderr}");

    // The intermediate may not reuse the root's id in the root's token.
    let output = setup.createca(&[
        "--hsm-caroot-id",
        "third-id",
        "--intermediate-key-label",
        "i",
        "--intermediate-id",
        "third-id",
    ]);
    let stderr = assert_refused(&output);
    assert!(stderr.contains("different IDs"), "{stderr}");
    assert_count(&setup.objects(ROOT_TOKEN, PIN), "Certificate Object", 1);
}

/// `--hsm aws` (a token that keeps no certificates, like AWS CloudHSM): nothing but keys go
/// into the token; the root and the intermediate's chain are files, and `pkcs11ca` serves the
/// chain with `--aws-hsm-root-ca-path`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_mode_keeps_certificates_out_of_the_token() {
    let setup = Setup::new();
    let root_pem = setup.root(&["--hsm", "aws"]);
    assert_count(&setup.objects(ROOT_TOKEN, PIN), "Certificate Object", 0);
    let root_file = setup.path("root.pem");
    let chain_out = setup.path("aws-chain.pem");
    let intermediate_args = [
        "--hsm",
        "aws",
        "--hsm-caroot-id",
        ROOT_ID,
        "--aws-hsm-root-ca-path",
        root_file.to_str().unwrap(),
        "--intermediate-key-label",
        "aws-intermediate",
        "--intermediate-id",
        "aws-intermediate-ca",
    ];
    // Without --intermediate-out the intermediate would be lost: refused up front.
    let stderr = assert_refused(&setup.createca_intermediate(&intermediate_args));
    assert!(stderr.contains("--intermediate-out"), "{stderr}");
    let mut args = intermediate_args.to_vec();
    args.extend_from_slice(&["--intermediate-out", chain_out.to_str().unwrap()]);
    assert_succeeded(&setup.createca_intermediate(&args));
    let objects = setup.objects(ROOT_TOKEN, PIN);
    assert_count(&objects, "Certificate Object", 0);
    assert_count(&objects, "Private Key Object", 2);
    let written = written_chain(&chain_out, &root_pem);

    let served = Served::pkcs11_root_token(
        &setup,
        &[
            "--hsm-key-label",
            "aws-intermediate",
            "--hsm-caroot-id",
            "aws-intermediate-ca",
            "--aws-hsm-root-ca-path",
            chain_out.to_str().unwrap(),
        ],
    )
    .await;
    served.issues_under(&setup, &written).await;
}
