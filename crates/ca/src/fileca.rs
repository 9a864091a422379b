//! `--ca fileca`: the CA chain and encrypted key from files, reloaded on change (Fulcio spec §6).

use std::{path::Path, sync::Arc};

use crate::{CaError, CertificateAuthority, IssuingKey};

/// Loads the PEM chain (issuing certificate first, root last) and the private key, decrypting it
/// with `password`, and validates the pair.
pub fn load(cert_path: &Path, key_path: &Path, password: &str) -> Result<IssuingKey, CaError> {
    let _ = (cert_path, key_path, password);
    unimplemented!("fileca helper")
}

/// Watches both files; on change reloads them and swaps the pair into `ca`, keeping the old pair
/// when the new one does not load. Dropping the watcher stops watching.
#[derive(Debug)]
pub struct FileWatcher {
    _private: (),
}

/// Starts watching (`--fileca-watch`, on by default upstream).
pub fn watch(
    ca: Arc<CertificateAuthority>,
    cert_path: &Path,
    key_path: &Path,
    password: &str,
) -> Result<FileWatcher, CaError> {
    let _ = (ca, cert_path, key_path, password);
    unimplemented!("fileca helper")
}
