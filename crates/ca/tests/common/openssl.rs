//! The openssl CLI as an independent implementation: it makes CSRs with algorithm combinations
//! aws-lc-rs cannot sign, and parses and verifies what the CA issues.

use std::{io::Write, path::Path, process::Command};

use tempfile::TempDir;

/// Runs openssl in `dir`; returns stdout, or stderr as the error.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "openssl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    std::fs::File::create(dir.join(name))
        .unwrap()
        .write_all(contents.as_ref())
        .unwrap();
}

/// A CSR for the PKCS#8 `key_pem`, made by `openssl req` with extra arguments (e.g. `-sha384`,
/// `-sigopt rsa_padding_mode:pss`).
pub fn csr(key_pem: &str, extra: &[&str]) -> String {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "key.pem", key_pem);
    let mut args = vec![
        "req",
        "-new",
        "-key",
        "key.pem",
        "-subj",
        "/CN=fulcio-rs test",
        "-out",
        "csr.pem",
    ];
    args.extend_from_slice(extra);
    run(dir.path(), &args).unwrap();
    std::fs::read_to_string(dir.path().join("csr.pem")).unwrap()
}

/// `openssl x509 -text` of a PEM certificate.
pub fn x509_text(pem: &str) -> String {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "cert.pem", pem);
    run(dir.path(), &["x509", "-in", "cert.pem", "-noout", "-text"]).unwrap()
}

/// `openssl verify` of `leaf` against `root`, with `intermediates` untrusted, at the current
/// time, for any purpose.
pub fn verify(root: &str, intermediates: &[String], leaf: &str) -> Result<String, String> {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "root.pem", root);
    write(dir.path(), "leaf.pem", leaf);
    let mut args = vec!["verify", "-CAfile", "root.pem"];
    if !intermediates.is_empty() {
        write(dir.path(), "untrusted.pem", intermediates.concat());
        args.extend_from_slice(&["-untrusted", "untrusted.pem"]);
    }
    args.push("leaf.pem");
    run(dir.path(), &args)
}
