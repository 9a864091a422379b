//! `--ca fileca`: the CA chain and encrypted key from files, reloaded on change (Fulcio spec §6).
//!
//! `--fileca-cert` is a PEM chain, issuing certificate first and root last; `--fileca-key` is a
//! private key in any format [`crate::keyfile`] reads, decrypted with `--fileca-key-passwd`.
//! [`IssuingKey::new`] then applies the chain checks of §6.

mod watch;

use std::{path::Path, sync::Arc};

use x509_parser::{certificate::X509Certificate, prelude::FromDer};
use zeroize::Zeroizing;

pub use watch::{FileWatcher, ReloadCounts, watch};

use crate::{CaError, InMemorySigner, IssuingKey, keyfile};

/// Loads the PEM chain (issuing certificate first, root last) and the private key, decrypting it
/// with `password`, and validates the pair (Fulcio spec §6). Errors name the file at fault.
pub fn load(cert_path: &Path, key_path: &Path, password: &str) -> Result<IssuingKey, CaError> {
    let chain = read_chain(cert_path)?;
    let signer = read_key(key_path, password)?;
    IssuingKey::new(Arc::new(signer), chain).map_err(|e| {
        in_file(
            &format!("{} with key {}", cert_path.display(), key_path.display()),
            e,
        )
    })
}

/// Reads every PEM block of `path` as a DER certificate, in file order.
///
/// Like upstream's `cryptoutils.LoadCertificatesFromPEM`, a block is parsed as a certificate
/// whatever its label, so a stray key or CSR in the file is an error, not silently skipped.
fn read_chain(path: &Path) -> Result<Vec<Vec<u8>>, CaError> {
    let text = std::fs::read(path).map_err(|source| io_error(path, source))?;
    let invalid = |detail: String| CaError::InvalidCa(format!("{}: {detail}", path.display()));
    let blocks =
        ::pem::parse_many(&text).map_err(|e| invalid(format!("PEM decoding failed: {e}")))?;
    // The PEM parser stops quietly at a block with no END line; a file cut short while being
    // written must not load as a shorter chain.
    let begins = text.windows(BEGIN.len()).filter(|w| *w == BEGIN).count();
    if begins != blocks.len() {
        return Err(invalid(
            "PEM decoding failed: truncated or malformed PEM block".into(),
        ));
    }
    if blocks.is_empty() {
        return Err(invalid("no certificates found".into()));
    }
    blocks
        .into_iter()
        .enumerate()
        .map(|(index, block)| {
            // The parser chain validation uses, so this check is no stricter than it.
            let problem = match X509Certificate::from_der(block.contents()) {
                Ok(([], _)) => None,
                Ok(_) => Some("trailing data after the certificate".to_owned()),
                Err(e) => Some(e.to_string()),
            };
            match problem {
                None => Ok(block.into_contents()),
                Some(e) => Err(invalid(format!(
                    "PEM block {} ({}) is not a certificate: {e}",
                    index + 1,
                    block.tag()
                ))),
            }
        })
        .collect()
}

const BEGIN: &[u8] = b"-----BEGIN ";

fn read_key(path: &Path, password: &str) -> Result<InMemorySigner, CaError> {
    // The file may hold an unencrypted key: wipe our copy once decoded.
    let text = Zeroizing::new(std::fs::read(path).map_err(|source| io_error(path, source))?);
    let der = keyfile::decode_private_key_to_pkcs8(&text, password)
        .map_err(|e| CaError::KeyFile(format!("{}: {e}", path.display())))?;
    InMemorySigner::from_pkcs8_der(&der).map_err(|e| in_file(&path.display().to_string(), e))
}

fn io_error(path: &Path, source: std::io::Error) -> CaError {
    CaError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Prefixes the message of a load-time error with the file(s) it is about.
fn in_file(file: &str, err: CaError) -> CaError {
    match err {
        CaError::InvalidCa(msg) => CaError::InvalidCa(format!("{file}: {msg}")),
        CaError::KeyFile(msg) => CaError::KeyFile(format!("{file}: {msg}")),
        other => other,
    }
}
