//! A real PKCS#11 token for tests: SoftHSM2 (Debian `softhsm2`, module
//! `/usr/lib/softhsm/libsofthsm2.so`), with its token directory and config file in a temporary
//! directory of the test's own, so tests never share or leave tokens behind. `scripts/test`
//! installs SoftHSM2 (and `opensc`'s `pkcs11-tool`); when it is missing the harness panics with
//! a message naming that script. (Contract stub; the implementation replaces the bodies.)

use std::path::{Path, PathBuf};

/// Where Debian installs the SoftHSM2 module.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 installation private to one test, with one initialised token.
pub struct SoftHsm {
    _private: (),
}

impl SoftHsm {
    /// Initialises a token labelled `label` with user PIN `pin` (SO PIN fixed) in a fresh
    /// temporary directory.
    pub fn new(label: &str, pin: &str) -> Self {
        let _ = (label, pin);
        unimplemented!("softhsm: SoftHsm::new")
    }

    /// The module path.
    pub fn module_path(&self) -> PathBuf {
        unimplemented!("softhsm: SoftHsm::module_path")
    }

    /// The `softhsm2.conf` to put in `SOFTHSM2_CONF` for every process that opens the module
    /// (the test process itself included: set it before the first `C_Initialize`).
    pub fn conf_path(&self) -> &Path {
        unimplemented!("softhsm: SoftHsm::conf_path")
    }

    /// Writes a crypto11 JSON config (`Path`, `TokenLabel`, `Pin`) for this token into its
    /// directory and returns the file; `with_pin: false` leaves `Pin` out.
    pub fn crypto11_config(&self, with_pin: bool) -> PathBuf {
        let _ = with_pin;
        unimplemented!("softhsm: SoftHsm::crypto11_config")
    }

    /// The token directory (to move away and back, simulating a token removed and reinserted).
    pub fn token_dir(&self) -> &Path {
        unimplemented!("softhsm: SoftHsm::token_dir")
    }
}
