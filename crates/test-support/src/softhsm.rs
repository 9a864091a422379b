//! A real PKCS#11 token for tests: SoftHSM2 (Debian `softhsm2`, module
//! `/usr/lib/softhsm/libsofthsm2.so`), with its token directory and config file in a temporary
//! directory of the test's own, so tests never share or leave tokens behind.
//! `scripts/ensure-test-deps` installs SoftHSM2 (and `opensc`'s `pkcs11-tool`); when it is
//! missing the harness panics with a message naming that script.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` at `C_Initialize`, and a module is initialised once per
//! process. Setting the variable in a running test would need `unsafe` (forbidden here), so a
//! test that opens the module itself runs its body in a child process of its own binary that
//! starts with the variable set ([`SoftHsm::isolated`]); a test that only starts other programs
//! (`fulcio serve`) creates a [`SoftHsm::new`] and hands them [`SoftHsm::envs`].

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// Where Debian installs the SoftHSM2 module.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The security officer PIN of every token the harness initialises.
pub const SO_PIN: &str = "12345678";

/// The environment variable SoftHSM2 reads its config file from.
pub const CONF_ENV: &str = "SOFTHSM2_CONF";

/// Tells a re-run test process which installation its parent made ([`SoftHsm::isolated`]).
const CHILD_ENV: &str = "FULCIO_TEST_SOFTHSM_DIR";

const INSTALL_HINT: &str = "SoftHSM2 is not installed: run scripts/ensure-test-deps \
     (it installs the Debian packages softhsm2 and opensc)";

/// A SoftHSM2 installation private to one test, with one initialised token. The directory is
/// removed when the value is dropped.
pub struct SoftHsm {
    dir: PathBuf,
    conf: PathBuf,
    token_dir: PathBuf,
    label: String,
    pin: String,
    /// Whether dropping removes the directory (not in an [`SoftHsm::isolated`] child).
    owned: bool,
}

impl std::fmt::Debug for SoftHsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftHsm")
            .field("dir", &self.dir)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

fn fresh_dir() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "fulcio-softhsm-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

impl SoftHsm {
    /// Initialises a token labelled `label` with user PIN `pin` (SO PIN [`SO_PIN`]) in a fresh
    /// temporary directory.
    pub fn new(label: &str, pin: &str) -> Self {
        if !Path::new(DEFAULT_MODULE).exists() {
            panic!("{INSTALL_HINT} ({DEFAULT_MODULE} is missing)");
        }
        let dir = fresh_dir();
        let token_dir = dir.join("tokens");
        std::fs::create_dir_all(&token_dir)
            .unwrap_or_else(|e| panic!("creating {}: {e}", token_dir.display()));
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n\
                 slots.removable = false\nslots.mechanisms = ALL\nlibrary.reset_on_fork = false\n",
                token_dir.display()
            ),
        )
        .unwrap_or_else(|e| panic!("writing {}: {e}", conf.display()));
        let hsm = SoftHsm {
            dir,
            conf,
            token_dir,
            label: label.to_owned(),
            pin: pin.to_owned(),
            owned: true,
        };
        hsm.init_token(label, pin);
        hsm
    }

    /// Initialises one more token, labelled `label` with user PIN `pin`, in the same directory
    /// (it appears in the next free slot).
    pub fn init_token(&self, label: &str, pin: &str) {
        let output = Command::new("softhsm2-util")
            .env(CONF_ENV, &self.conf)
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", pin])
            .output()
            .unwrap_or_else(|e| panic!("{INSTALL_HINT} (running softhsm2-util: {e})"));
        assert!(
            output.status.success(),
            "softhsm2-util --init-token --label {label} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The module path.
    pub fn module_path(&self) -> PathBuf {
        PathBuf::from(DEFAULT_MODULE)
    }

    /// The `softhsm2.conf` to put in `SOFTHSM2_CONF` for every process that opens the module
    /// (the test process itself included: set it before the first `C_Initialize`).
    pub fn conf_path(&self) -> &Path {
        &self.conf
    }

    /// The environment a child process needs to see this token (`SOFTHSM2_CONF`).
    pub fn envs(&self) -> [(&'static str, &Path); 1] {
        [(CONF_ENV, self.conf.as_path())]
    }

    /// Runs the calling test in a child process of this test binary that sees a fresh
    /// installation with a token labelled `label` (user PIN `pin`) through `SOFTHSM2_CONF`.
    ///
    /// In the parent (the process nextest started) this creates the installation, re-runs
    /// `test_name` (the test's path inside its binary, e.g. `p256_signs`) with the variable set,
    /// panics with the child's output if it failed, and returns `None`: the caller returns.
    /// In the child it returns the installation. The workspace forbids `unsafe`, so a test
    /// cannot set the variable in its own process; a child gets it before it starts.
    pub fn isolated(test_name: &str, label: &str, pin: &str) -> Option<SoftHsm> {
        Self::isolated_process(
            [test_name, "--exact", "--nocapture", "--test-threads", "1"]
                .map(String::from)
                .to_vec(),
            label,
            pin,
        )
    }

    /// [`SoftHsm::isolated`] for any binary (a bench): the child is this executable run with
    /// `args`. Returns `None` in the parent once the child succeeded, the installation in the
    /// child.
    pub fn isolated_process(args: Vec<String>, label: &str, pin: &str) -> Option<SoftHsm> {
        if let Some(dir) = std::env::var_os(CHILD_ENV) {
            let dir = PathBuf::from(dir);
            return Some(SoftHsm {
                conf: dir.join("softhsm2.conf"),
                token_dir: dir.join("tokens"),
                dir,
                label: label.to_owned(),
                pin: pin.to_owned(),
                owned: false,
            });
        }
        let hsm = SoftHsm::new(label, pin);
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
        let output = Command::new(&exe)
            .args(&args)
            .envs(hsm.envs())
            .env(CHILD_ENV, &hsm.dir)
            .output()
            .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", exe.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "the child process with the SoftHSM2 token failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        // A filter that matched nothing would pass vacuously: make sure the test really ran.
        assert!(
            !stdout.contains("running 0 tests"),
            "the child process ran no test for {args:?}:\n{stdout}"
        );
        print!("{stdout}");
        eprint!("{stderr}");
        None
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The user PIN.
    pub fn pin(&self) -> &str {
        &self.pin
    }

    /// The temporary directory everything lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a crypto11 JSON config (`Path`, `TokenLabel`, `Pin`) for this token into its
    /// directory and returns the file; `with_pin: false` leaves `Pin` out.
    pub fn crypto11_config(&self, with_pin: bool) -> PathBuf {
        let mut config = serde_json::json!({
            "Path": self.module_path(),
            "TokenLabel": self.label,
        });
        if with_pin {
            config["Pin"] = serde_json::Value::String(self.pin.clone());
        }
        let path = self.dir.join(if with_pin {
            "crypto11.conf"
        } else {
            "crypto11-nopin.conf"
        });
        std::fs::write(&path, config.to_string())
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// The token directory (to move away and back, simulating a token removed and reinserted).
    pub fn token_dir(&self) -> &Path {
        &self.token_dir
    }
}

impl Drop for SoftHsm {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `softhsm2-util --show-slots` in `hsm`'s installation; it must succeed.
    fn show_slots(hsm: &SoftHsm) -> String {
        let output = Command::new("softhsm2-util")
            .envs(hsm.envs())
            .arg("--show-slots")
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{listing}");
        listing
    }

    #[test]
    fn a_fresh_token_is_listed_with_its_label_and_removed_on_drop() {
        let hsm = SoftHsm::new("harness-test", "1234");
        let listing = show_slots(&hsm);
        assert!(listing.contains("harness-test"), "{listing}");
        hsm.init_token("second", "5678");
        let listing = show_slots(&hsm);
        assert!(
            listing.contains("harness-test") && listing.contains("second"),
            "{listing}"
        );

        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(hsm.crypto11_config(true)).unwrap()).unwrap();
        assert_eq!(config["TokenLabel"], "harness-test");
        assert_eq!(config["Pin"], "1234");
        assert_eq!(config["Path"], DEFAULT_MODULE);
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(hsm.crypto11_config(false)).unwrap()).unwrap();
        assert!(config.get("Pin").is_none());

        let dir = hsm.dir().to_path_buf();
        assert!(dir.join("tokens").is_dir());
        drop(hsm);
        assert!(!dir.exists());
    }
}
