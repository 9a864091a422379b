//! What `fulcio dev` keeps in its directory, and how it is written: the generated CA (key and
//! root), `state.json` (the URLs of the running instance, read by `fulcio dev token` and by
//! tests), and a file writer that replaces files atomically with the mode asked for.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use ca::{InMemorySigner, IssuingKey, KeyKind};
use serde::{Deserialize, Serialize};

use super::DevError;

/// `state.json`: where the running instance listens.
pub const STATE_FILE: &str = "state.json";
/// The generated CA's private key (PKCS#8 PEM, mode 0600), under [`CA_DIR`].
const CA_KEY_FILE: &str = "root-key.pem";
/// The generated CA's self-signed root (PEM), under [`CA_DIR`].
const CA_ROOT_FILE: &str = "root.pem";
/// Where the generated CA lives inside the directory. The chain in use (generated or file CA)
/// is exported separately as `ca-chain.pem`, so a `--fileca-*` run never overwrites the
/// generated root.
const CA_DIR: &str = "ca";

/// The URLs of a running `fulcio dev`, as written to `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevState {
    /// The directory (absolute).
    pub dir: PathBuf,
    /// The process that wrote the file.
    pub pid: u32,
    /// The CA's HTTP base URL.
    pub fulcio_url: String,
    /// The CA's gRPC endpoint (the HTTP URL again when both share one port).
    pub grpc_url: String,
    /// The embedded CT log's base URL.
    pub ct_log_url: String,
    /// The issuer URL of email tokens.
    pub oidc_issuer: String,
    /// The issuer URL of subject-only tokens, when the host allows one (see the module
    /// documentation of `provider`).
    pub oidc_subject_issuer: Option<String>,
    /// Where tokens are minted: `POST` a form with `email=` or `subject=`.
    pub token_endpoint: String,
}

impl DevState {
    /// Reads `DIR/state.json`.
    pub fn load(dir: &Path) -> Result<Self, DevError> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                DevError::Usage(format!(
                    "{} does not exist: start `fulcio dev --dir {}` first",
                    path.display(),
                    dir.display()
                ))
            } else {
                DevError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        serde_json::from_slice(&text).map_err(|e| {
            DevError::Usage(format!(
                "{}: not a fulcio dev state file: {e}",
                path.display()
            ))
        })
    }

    /// Writes `DIR/state.json`.
    pub fn store(&self) -> Result<(), DevError> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| DevError::Usage(format!("encoding {STATE_FILE}: {e}")))?;
        text.push('\n');
        write_file(&self.dir.join(STATE_FILE), text.as_bytes(), 0o644)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, renamed over the
/// target, with `mode` (Unix) set when the temporary file is created, so a key is never
/// readable by others, not even for a moment.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), DevError> {
    fulcio_server::files::write_atomically(path, bytes, mode).map_err(|source| DevError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &Path) -> Result<Vec<u8>, DevError> {
    std::fs::read(path).map_err(|source| DevError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The generated CA of `dir`: its key and root are created on the first start (key written
/// first, mode 0600, then the root over it) and loaded on every later one, so certificates
/// chain to the same root across restarts. A key without a root (a start interrupted between
/// the two writes) gets a new root over the same key.
pub fn generated_ca(dir: &Path) -> Result<IssuingKey, DevError> {
    let ca_dir = dir.join(CA_DIR);
    std::fs::create_dir_all(&ca_dir).map_err(|source| DevError::Io {
        path: ca_dir.clone(),
        source,
    })?;
    let key_path = ca_dir.join(CA_KEY_FILE);
    let root_path = ca_dir.join(CA_ROOT_FILE);
    let ca_error = |path: &Path, e: ca::CaError| DevError::Ca(format!("{}: {e}", path.display()));

    let signer = if key_path.exists() {
        let pem_text = read_file(&key_path)?;
        let block = pem::parse(&pem_text)
            .map_err(|e| DevError::Ca(format!("{}: not PEM: {e}", key_path.display())))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(DevError::Ca(format!(
                "{}: expected a PKCS#8 \"PRIVATE KEY\", found \"{}\"",
                key_path.display(),
                block.tag()
            )));
        }
        InMemorySigner::from_pkcs8_der(block.contents()).map_err(|e| ca_error(&key_path, e))?
    } else {
        let signer =
            InMemorySigner::generate(KeyKind::EcdsaP256).map_err(|e| ca_error(&key_path, e))?;
        let der =
            zeroize::Zeroizing::new(signer.to_pkcs8_der().map_err(|e| ca_error(&key_path, e))?);
        let text =
            zeroize::Zeroizing::new(pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec())));
        write_file(&key_path, text.as_bytes(), 0o600)?;
        signer
    };

    if root_path.exists() {
        let chain = certificates_from_pem(&read_file(&root_path)?)
            .map_err(|e| DevError::Ca(format!("{}: {e}", root_path.display())))?;
        return IssuingKey::new(Arc::new(signer), chain).map_err(|e| {
            DevError::Ca(format!(
                "{} does not match {}: {e}",
                root_path.display(),
                key_path.display()
            ))
        });
    }
    let key = ca::ephemeral::from_signer(signer).map_err(|e| ca_error(&root_path, e))?;
    write_file(&root_path, key.chain_pem().concat().as_bytes(), 0o644)?;
    Ok(key)
}

/// The DER certificates of a PEM file, in order; anything but `CERTIFICATE` blocks is refused.
pub fn certificates_from_pem(text: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let blocks = pem::parse_many(text).map_err(|e| format!("not PEM: {e}"))?;
    if blocks.is_empty() {
        return Err("no certificate in the file".to_owned());
    }
    blocks
        .into_iter()
        .map(|block| {
            if block.tag() == "CERTIFICATE" {
                Ok(block.into_contents())
            } else {
                Err(format!("unexpected PEM block \"{}\"", block.tag()))
            }
        })
        .collect()
}

/// `text` quoted for a POSIX shell when it needs to be (single quotes, `'` as `'\''`).
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            shell_quote("/tmp/fulcio-dev/x.json"),
            "/tmp/fulcio-dev/x.json"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn generated_ca_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let first = generated_ca(dir.path()).unwrap();
        let second = generated_ca(dir.path()).unwrap();
        assert_eq!(
            first.chain(),
            second.chain(),
            "same root on the second start"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(CA_DIR).join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "key file mode");
        }
        // A key without its root: a new root over the same key.
        std::fs::remove_file(dir.path().join(CA_DIR).join(CA_ROOT_FILE)).unwrap();
        let third = generated_ca(dir.path()).unwrap();
        assert_eq!(first.issuer_spki_der(), third.issuer_spki_der(), "same key");
    }
}
