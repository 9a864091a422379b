//! `--ca ephemeralca`: an in-memory self-signed root, new at every start (Fulcio spec §6).

use crate::{CaError, IssuingKey, KeyKind};

/// A fresh root key of `kind` and its self-signed certificate (10 years, subject as upstream).
pub fn generate(kind: KeyKind) -> Result<IssuingKey, CaError> {
    let _ = kind;
    unimplemented!("ca helper")
}
