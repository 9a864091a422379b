//! Loaded PKCS#11 modules, one context per module file for the whole process.
//!
//! A module may be `C_Initialize`d only once per process (a second call answers
//! CKR_CRYPTOKI_ALREADY_INITIALIZED), so every token opened from the same file shares one
//! context. Recovering from a removed token can need a fresh `C_Initialize` (SoftHSM2, for one,
//! reads its token directory then), so a context can be reset: finalized and forgotten, and
//! the next [`get`] initializes the module again. Each context carries a generation so that a
//! reset asked for by a user of an old context does not tear down a newer one.

use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as CkError, RvError},
};

use crate::CaError;

struct Loaded {
    path: PathBuf,
    generation: u64,
    context: Pkcs11,
}

static MODULES: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn modules() -> std::sync::MutexGuard<'static, Vec<Loaded>> {
    MODULES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The context of the module at `path`, loading and initializing it if needed: its
/// generation, the context, and whether it was initialized by this call.
pub(super) fn get(path: &Path) -> Result<(u64, Pkcs11, bool), CaError> {
    let mut modules = modules();
    if let Some(loaded) = modules.iter().find(|m| m.path == path) {
        return Ok((loaded.generation, loaded.context.clone(), false));
    }
    let failed =
        |detail: String| CaError::InvalidCa(format!("PKCS#11 module {}: {detail}", path.display()));
    if !path.exists() {
        return Err(failed("no such file".into()));
    }
    let context = Pkcs11::new(path).map_err(|e| failed(format!("loading failed: {e}")))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(failed(format!(
                "C_Initialize failed: {}",
                super::ck_message(&e)
            )));
        }
    }
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed);
    modules.push(Loaded {
        path: path.to_path_buf(),
        generation,
        context: context.clone(),
    });
    Ok((generation, context, true))
}

/// Finalizes and forgets the context of `path` if it is still generation `generation`.
///
/// Sessions other threads still hold on it fail from then on (CKR_CRYPTOKI_NOT_INITIALIZED or
/// CKR_SESSION_HANDLE_INVALID), which sends them to reconnect too.
pub(super) fn reset(path: &Path, generation: u64) {
    let mut modules = modules();
    if let Some(index) = modules
        .iter()
        .position(|m| m.path == path && m.generation == generation)
    {
        let loaded = modules.swap_remove(index);
        // Already broken or finalized elsewhere: nothing more to do either way.
        let _ = loaded.context.finalize();
    }
}
