//! `--fileca-watch`: reload the chain and key when either file changes (Fulcio spec §6).
//!
//! The watching itself (parent directories, symlinks, Kubernetes `..data` swaps, debouncing)
//! is [`crate::file_watch`]'s. A pair that does not load (one file updated but not yet the
//! other, a file half written) is logged and the CA keeps issuing with the pair it has; the
//! next complete write is picked up by its own event.

use std::{path::Path, sync::Arc};

use zeroize::Zeroizing;

pub use crate::file_watch::{FileWatcher, ReloadCounts};
use crate::{CaError, CertificateAuthority, file_watch};

/// Starts watching (`--fileca-watch`, on by default upstream). On any change to either file
/// the pair is reloaded with [`super::load`]; a pair that loads replaces the CA's
/// ([`CertificateAuthority::replace`]), one that does not is logged and ignored.
///
/// Runs on its own threads (the notify backend's and a reload thread), so it may be started
/// from inside an async runtime. Dropping the watcher stops it and waits for a reload in
/// progress.
pub fn watch(
    ca: Arc<CertificateAuthority>,
    cert_path: &Path,
    key_path: &Path,
    password: &str,
) -> Result<FileWatcher, CaError> {
    let cert = cert_path.to_path_buf();
    let key = key_path.to_path_buf();
    let password = Zeroizing::new(password.to_owned());
    let reload = move || match super::load(&cert, &key, &password) {
        Ok(pair) => {
            ca.replace(pair);
            tracing::info!(
                cert = %cert.display(),
                key = %key.display(),
                "fileca: reloaded CA certificate chain and key"
            );
            Ok(())
        }
        Err(err) => {
            tracing::warn!(
                error = %err,
                "fileca: CA files changed but do not load; still issuing with the previous pair"
            );
            Err(err)
        }
    };
    file_watch::watch(&[cert_path, key_path], "fileca-watch", reload).map_err(|e| CaError::Io {
        path: e.path.display().to_string(),
        source: e.source,
    })
}
