//! Loaded PKCS#11 modules, one context per module file for the whole process.
//!
//! A module may be `C_Initialize`d only once per process (a second call answers
//! CKR_CRYPTOKI_ALREADY_INITIALIZED), so every token opened from the same file shares one
//! context. Recovering from a removed token can need a fresh `C_Initialize` (SoftHSM2, for one,
//! reads its token directory then), so a context can be reset: finalized and forgotten, and
//! the next [`get`] initializes the module again. Each context carries a generation so that a
//! reset asked for by a user of an old context does not tear down a newer one.
//!
//! `C_Finalize` while another thread is inside a Cryptoki call is undefined behaviour
//! (PKCS#11 §5.4), so every call runs under the read side of the context's [`Module::gate`]
//! and a reset finalizes only once it holds the write side. A call that never returns (a
//! wedged module) keeps the context alive: the reset gives up after [`FINALIZE_WAIT`] and a
//! later failure tries again.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, RwLock, RwLockReadGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use cryptoki::{
    context::{CInitializeArgs, CInitializeFlags, Pkcs11},
    error::{Error as CkError, RvError},
};

use crate::CaError;

/// How long a reset waits for calls in flight to return before it gives up.
pub(super) const FINALIZE_WAIT: Duration = Duration::from_secs(2);

struct Loaded {
    path: PathBuf,
    module: Module,
}

/// One initialized context of a module.
#[derive(Clone)]
pub(super) struct Module {
    /// Distinguishes this context from earlier and later ones of the same file.
    pub(super) generation: u64,
    /// The context.
    pub(super) context: Pkcs11,
    /// Held for reading around every call on the context, for writing to finalize it.
    pub(super) gate: Arc<RwLock<()>>,
}

impl Module {
    /// Permission to make calls on the context (see the module docs).
    pub(super) fn calls(&self) -> RwLockReadGuard<'_, ()> {
        // The guarded value is `()`: a panic elsewhere cannot leave it inconsistent.
        self.gate
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

static MODULES: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());
static GENERATION: AtomicU64 = AtomicU64::new(1);

fn modules() -> std::sync::MutexGuard<'static, Vec<Loaded>> {
    MODULES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The context of the module at `path`, loading and initializing it if needed, and whether it
/// was initialized by this call.
pub(super) fn get(path: &Path) -> Result<(Module, bool), CaError> {
    let mut modules = modules();
    if let Some(loaded) = modules.iter().find(|m| m.path == path) {
        return Ok((loaded.module.clone(), false));
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
    let module = Module {
        generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        context,
        gate: Arc::new(RwLock::new(())),
    };
    modules.push(Loaded {
        path: path.to_path_buf(),
        module: module.clone(),
    });
    Ok((module, true))
}

/// Finalizes and forgets the context of `path` if it is still generation `generation`, once
/// no call is in flight on it (waiting at most [`FINALIZE_WAIT`]).
///
/// Sessions other threads still hold on it fail from then on (CKR_CRYPTOKI_NOT_INITIALIZED or
/// CKR_SESSION_HANDLE_INVALID), which sends them to reconnect too.
pub(super) fn reset(path: &Path, generation: u64) {
    let gate = {
        let modules = modules();
        match modules
            .iter()
            .find(|m| m.path == path && m.module.generation == generation)
        {
            Some(loaded) => Arc::clone(&loaded.module.gate),
            None => return,
        }
    };
    // Polled rather than blocking, so a waiting reset never holds up new calls.
    let deadline = Instant::now() + FINALIZE_WAIT;
    let _exclusive = loop {
        match gate.try_write() {
            Ok(guard) => break guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::sync::TryLockError::WouldBlock) => return,
        }
    };
    let mut modules = modules();
    if let Some(index) = modules
        .iter()
        .position(|m| m.path == path && m.module.generation == generation)
    {
        let loaded = modules.swap_remove(index);
        // Already broken or finalized elsewhere: nothing more to do either way.
        let _ = loaded.module.context.finalize();
    }
}
