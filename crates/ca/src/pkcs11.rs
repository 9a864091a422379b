//! `--ca pkcs11ca`: the CA key lives in a PKCS#11 token and never leaves it (Fulcio spec §6).
//!
//! The module (a `.so`) is loaded at run time with `cryptoki`; tested against SoftHSM2. The
//! configuration is upstream's crypto11 JSON (`Path`, `TokenLabel`, `Pin`); the PIN may instead
//! come from the environment or a file so it need not sit in the config.
//!
//! Signing runs off the async workers (blocking pool) on a pool of logged-in sessions. When the
//! token goes away (module error, session or token gone), the pool is dropped and reopened on
//! the next request; meanwhile signing fails promptly with a [`SignerError`] (a clean 500 at the
//! API), never hangs. ECDSA P-256/P-384 (CKM_ECDSA over a digest computed here, converted to
//! DER) and RSA (CKM_SHA256_RSA_PKCS) keys.
//!
//! Recovery: an error meaning the session, login, key handle or token is gone (e.g.
//! CKR_SESSION_HANDLE_INVALID, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED, CKR_DEVICE_ERROR,
//! CKR_USER_NOT_LOGGED_IN, CKR_GENERAL_ERROR) drops the connection and finalizes the module's
//! context (SoftHSM2, like many modules, only discovers tokens at `C_Initialize`); the
//! operation is then retried once on a fresh `C_Initialize`, token lookup, login and key lookup.
//! While the token stays away each request fails at once with the module's error. A call that
//! does not return (a wedged module) fails the signature after [`SIGN_TIMEOUT`]; its thread
//! gives the session back if the call ever returns.

mod der_util;
mod module;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use cryptoki::{
    context::Pkcs11,
    error::{Error as CkError, RvError},
    mechanism::Mechanism,
    object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle},
    session::{Session, UserType},
    slot::Slot,
    types::AuthPin,
};
use der::{Decode, Encode};
use zeroize::Zeroizing;

use crate::{CaError, IssuingKey, KeyKind, SignFuture, SignatureAlgorithm, Signer, SignerError};

/// The environment variable that supplies the user PIN when the config has none.
pub const PIN_ENV: &str = "FULCIO_PKCS11_PIN";

/// Upstream's default `--hsm-key-label`.
pub const DEFAULT_KEY_LABEL: &str = "PKCS11CA";

/// How long one signature may take before the request fails (a wedged module must not hang
/// requests).
pub const SIGN_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle logged-in sessions kept for reuse.
const MAX_IDLE_SESSIONS: usize = 8;

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn invalid(message: String) -> CaError {
    CaError::InvalidCa(message)
}

/// The crypto11 JSON config (`{"Path": "...so", "TokenLabel": "...", "Pin": "..."}`).
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module.
    pub module_path: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The user PIN.
    pub pin: Zeroizing<String>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module_path", &self.module_path)
            .field("token_label", &self.token_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Config {
    /// Reads the JSON config. A missing `Pin` is taken from `pin_file` if given, else from
    /// [`PIN_ENV`]; no PIN at all is an error naming the three places. Errors name the file.
    ///
    /// Keys match case-insensitively, as Go's `encoding/json` matches crypto11's `Config`
    /// fields. The token is chosen by `TokenLabel` only; crypto11's `TokenSerial` and
    /// `SlotNumber` are refused with a message saying so rather than silently ignored.
    pub fn load(path: &Path, pin_file: Option<&Path>) -> Result<Self, CaError> {
        let text = Zeroizing::new(std::fs::read(path).map_err(|source| CaError::Io {
            path: path.display().to_string(),
            source,
        })?);
        let bad = |detail: String| invalid(format!("PKCS#11 config {}: {detail}", path.display()));
        let value: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(bad("not a JSON object".into()));
        };
        let field = |name: &str| {
            map.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value)
        };
        let string = |name: &str| -> Result<Option<String>, CaError> {
            match field(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("{name} is not a string"))),
            }
        };
        let module_path = string("Path")?
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("Path (the PKCS#11 module) is missing".into()))?;
        let token_label = match string("TokenLabel")?.filter(|l| !l.is_empty()) {
            Some(label) => label,
            None if field("TokenSerial").is_some() || field("SlotNumber").is_some() => {
                return Err(bad(
                    "selecting the token by TokenSerial or SlotNumber is not supported; \
                     give its TokenLabel"
                        .into(),
                ));
            }
            None => return Err(bad("TokenLabel is missing".into())),
        };
        let pin = match string("Pin")?.filter(|p| !p.is_empty()) {
            Some(pin) => Zeroizing::new(pin),
            None => match pin_file {
                Some(file) => {
                    let raw = Zeroizing::new(std::fs::read_to_string(file).map_err(|source| {
                        CaError::Io {
                            path: file.display().to_string(),
                            source,
                        }
                    })?);
                    let pin = raw.trim_end_matches(['\n', '\r']);
                    if pin.is_empty() {
                        return Err(invalid(format!("PIN file {} is empty", file.display())));
                    }
                    Zeroizing::new(pin.to_owned())
                }
                None => match std::env::var(PIN_ENV) {
                    Ok(pin) if !pin.is_empty() => Zeroizing::new(pin),
                    _ => {
                        return Err(bad(format!(
                            "no PIN: give it as Pin in the config, in a PIN file, or in \
                             the {PIN_ENV} environment variable"
                        )));
                    }
                },
            },
        };
        Ok(Self {
            module_path: PathBuf::from(module_path),
            token_label,
            pin,
        })
    }
}

/// A PKCS#11 failure as a message: the function and the CKR_ code, e.g.
/// `Function::Login: PinIncorrect`.
fn ck_message(error: &CkError) -> String {
    match error {
        CkError::Pkcs11(rv, function) => format!("{function}: CKR {rv:?}"),
        other => other.to_string(),
    }
}

/// Errors after which the session, the login or the module's view of the token cannot be
/// trusted: the token was removed, the module was reset, the key handle went stale.
fn is_connection_lost(error: &CkError) -> bool {
    matches!(
        error,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::DeviceMemory
                | RvError::UserNotLoggedIn
                | RvError::CryptokiNotInitialized
                | RvError::SlotIdInvalid
                | RvError::GeneralError
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        )
    )
}

/// The token as opened at one time: module context, slot, and idle logged-in sessions.
struct Connection {
    /// Distinguishes this connection from the ones before and after it.
    id: u64,
    /// The module context (see [`module`]).
    module: module::Module,
    slot: Slot,
    idle: Vec<Session>,
    /// Private key handles by label, valid for this connection only.
    keys: HashMap<String, ObjectHandle>,
}

/// A session taken out of the pool for one operation.
struct Lease {
    connection_id: u64,
    module: module::Module,
    session: Session,
    key: Option<ObjectHandle>,
}

impl Lease {
    /// Closes the session (`C_CloseSession` is a call like any other: under the gate).
    fn close(self) {
        let _calls = self.module.calls();
        drop(self.session);
    }
}

/// An open token: the loaded module, the slot whose token has the configured label, and a
/// pool of logged-in sessions that is rebuilt after the token comes back.
pub struct Pkcs11Token {
    config: Pkcs11Config,
    state: Mutex<Option<Connection>>,
    next_connection_id: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Token")
            .field("module", &self.config.module_path)
            .field("token", &self.config.token_label)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Token {
    /// Loads the module, finds the token by label and logs in. Errors say which step failed:
    /// a missing module file, no token with that label, a wrong PIN (CKR_PIN_INCORRECT).
    pub fn open(config: &Pkcs11Config) -> Result<Arc<Self>, CaError> {
        let token = Arc::new(Self {
            config: config.clone(),
            state: Mutex::new(None),
            next_connection_id: std::sync::atomic::AtomicU64::new(1),
        });
        // Connect and log in now, so configuration mistakes surface at startup.
        let lease = token.checkout(None)?;
        token.checkin(lease, None);
        Ok(token)
    }

    /// The configuration the token was opened with.
    pub fn config(&self) -> &Pkcs11Config {
        &self.config
    }

    /// A signer for the private key labelled `key_label` (its public half, from the matching
    /// public-key object, gives the SPKI). Unknown label → error naming it.
    pub fn signer(self: &Arc<Self>, key_label: &str) -> Result<Pkcs11Signer, CaError> {
        let label = key_label.to_owned();
        let found = self.with_session(None, |session, _| {
            public_key_of(session, &label).map(|found| (found, None))
        })?;
        let Some((spki_der, algorithm)) = found else {
            return Err(invalid(format!(
                "no private key labelled {key_label:?} in PKCS#11 token {:?}",
                self.config.token_label
            )));
        };
        let algorithm = algorithm.map_err(|detail| {
            invalid(format!(
                "key {key_label:?} in PKCS#11 token {:?}: {detail}",
                self.config.token_label
            ))
        })?;
        Ok(Pkcs11Signer {
            token: Arc::clone(self),
            label,
            spki_der,
            algorithm,
            timeout: SIGN_TIMEOUT,
        })
    }

    /// The DER of the certificate object whose CKA_ID is `id`, if any.
    pub fn find_certificate(&self, id: &[u8]) -> Result<Option<Vec<u8>>, CaError> {
        let template = [
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::Id(id.to_vec()),
        ];
        let found = self.with_session(None, |session, _| {
            let handles = session.find_objects(&template)?;
            match handles.first() {
                Some(handle) => Ok((Some(certificate_value(session, *handle)?), None)),
                None => Ok((None, None)),
            }
        })?;
        Ok(found)
    }

    /// Every certificate object in the token (DER), for building a chain by subject/issuer.
    pub fn certificates(&self) -> Result<Vec<Vec<u8>>, CaError> {
        let template = [Attribute::Class(ObjectClass::CERTIFICATE)];
        self.with_session(None, |session, _| {
            let mut certificates = Vec::new();
            for handle in session.find_objects(&template)? {
                certificates.push(certificate_value(session, handle)?);
            }
            Ok((certificates, None))
        })
    }

    /// Stores `der` as a token certificate object (CKO_CERTIFICATE, CKC_X_509, CKA_TOKEN)
    /// with CKA_ID `id` and CKA_LABEL `label`; refuses if a certificate with that id exists.
    pub fn store_certificate(&self, id: &[u8], label: &str, der: &[u8]) -> Result<(), CaError> {
        if self.find_certificate(id)?.is_some() {
            return Err(invalid(format!(
                "PKCS#11 token {:?} already has a certificate with id {}",
                self.config.token_label,
                show_id(id)
            )));
        }
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| CaError::Encoding(format!("the certificate to store: {e}")))?;
        let encode = |e: der::Error| CaError::Encoding(format!("the certificate to store: {e}"));
        let tbs = &certificate.tbs_certificate();
        let template = vec![
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Subject(tbs.subject().to_der().map_err(encode)?),
            Attribute::Issuer(tbs.issuer().to_der().map_err(encode)?),
            Attribute::SerialNumber(tbs.serial_number().to_der().map_err(encode)?),
            Attribute::Value(der.to_vec()),
        ];
        self.with_session(None, |session, _| {
            session.create_object(&template)?;
            Ok(((), None))
        })
    }

    /// Generates a key pair of `kind` (EcdsaP256, EcdsaP384, Rsa2048/3072/4096) in the token,
    /// private key sensitive and non-extractable, both halves labelled `label` with CKA_ID
    /// `id`. Refuses if a private key with that label exists.
    pub fn generate_key_pair(&self, label: &str, id: &[u8], kind: KeyKind) -> Result<(), CaError> {
        let common = |class: ObjectClass| {
            vec![
                Attribute::Class(class),
                Attribute::Token(true),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id.to_vec()),
            ]
        };
        let mut public = common(ObjectClass::PUBLIC_KEY);
        public.extend([Attribute::Verify(true), Attribute::Private(false)]);
        let mut private = common(ObjectClass::PRIVATE_KEY);
        private.extend([
            Attribute::Sign(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
        ]);
        let mechanism = match kind {
            KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => {
                let curve = if kind == KeyKind::EcdsaP256 {
                    OID_P256
                } else {
                    OID_P384
                };
                let params = curve
                    .to_der()
                    .map_err(|e| CaError::Encoding(format!("curve parameters: {e}")))?;
                public.push(Attribute::EcParams(params));
                Mechanism::EccKeyPairGen
            }
            KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 => {
                let bits: u64 = match kind {
                    KeyKind::Rsa2048 => 2048,
                    KeyKind::Rsa3072 => 3072,
                    _ => 4096,
                };
                public.push(Attribute::ModulusBits(bits.into()));
                public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                Mechanism::RsaPkcsKeyPairGen
            }
            other => {
                return Err(invalid(format!(
                    "{other:?} keys cannot be generated in a PKCS#11 token here \
                     (ECDSA P-256/P-384 and RSA only)"
                )));
            }
        };
        let exists = self.with_session(None, |session, _| {
            Ok((!find_private_keys(session, label)?.is_empty(), None))
        })?;
        if exists {
            return Err(invalid(format!(
                "PKCS#11 token {:?} already has a private key labelled {label:?}",
                self.config.token_label
            )));
        }
        self.with_session(None, |session, _| {
            session.generate_key_pair(&mechanism, &public, &private)?;
            Ok(((), None))
        })
    }

    /// Runs `operation` on a logged-in session. `key_label` asks for that private key's
    /// handle (cached per connection), passed as the second argument; the operation returns the
    /// handle it used so it can be cached. If the token or session turns out to be gone, the
    /// connection is dropped, the token reopened and the operation retried once.
    fn with_session<T>(
        &self,
        key_label: Option<&str>,
        operation: impl Fn(&Session, Option<ObjectHandle>) -> Result<(T, Option<ObjectHandle>), CkError>,
    ) -> Result<T, CaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let lease = self.checkout(key_label)?;
            let result = {
                let _calls = lease.module.calls();
                operation(&lease.session, lease.key)
            };
            match result {
                Ok((value, key)) => {
                    self.checkin(lease, key_label.zip(key));
                    return Ok(value);
                }
                Err(error) if is_connection_lost(&error) => {
                    let connection_id = lease.connection_id;
                    // Closed before the module is finalized, which would make closing it fail.
                    lease.close();
                    self.invalidate(connection_id);
                    if attempt >= 2 {
                        return Err(self.lost(&error));
                    }
                }
                Err(error) => {
                    self.checkin(lease, None);
                    return Err(invalid(format!(
                        "PKCS#11 token {:?}: {}",
                        self.config.token_label,
                        ck_message(&error)
                    )));
                }
            }
        }
    }

    fn lost(&self, error: &CkError) -> CaError {
        invalid(format!(
            "PKCS#11 token {:?} is unavailable: {}",
            self.config.token_label,
            ck_message(error)
        ))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock cannot leave the pool inconsistent (plain pushes and
        // pops), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A logged-in session from the pool, connecting first if needed.
    fn checkout(&self, key_label: Option<&str>) -> Result<Lease, CaError> {
        let mut state = self.lock();
        if state.is_none() {
            *state = Some(self.connect()?);
        }
        let Some(connection) = state.as_mut() else {
            return Err(invalid("PKCS#11 connection vanished".into()));
        };
        let session = match connection.idle.pop() {
            Some(session) => session,
            None => match self.new_session(&connection.module, connection.slot) {
                Ok(session) => session,
                Err(error) => {
                    // The token went away since the connection was made: start over once.
                    let gone = matches!(&error, LoginError::Ck(e) if is_connection_lost(e));
                    if !gone {
                        return Err(self.login_error(error));
                    }
                    *state = None;
                    let mut fresh = self.connect()?;
                    let session = fresh
                        .idle
                        .pop()
                        .map_or_else(|| self.new_session(&fresh.module, fresh.slot), Ok);
                    let session = session.map_err(|e| self.login_error(e))?;
                    *state = Some(fresh);
                    session
                }
            },
        };
        let Some(connection) = state.as_ref() else {
            return Err(invalid("PKCS#11 connection vanished".into()));
        };
        Ok(Lease {
            connection_id: connection.id,
            module: connection.module.clone(),
            key: key_label.and_then(|label| connection.keys.get(label).copied()),
            session,
        })
    }

    /// Returns a session to the pool (if its connection is still the current one).
    fn checkin(&self, lease: Lease, key: Option<(&str, ObjectHandle)>) {
        let mut state = self.lock();
        if let Some(connection) = state.as_mut()
            && connection.id == lease.connection_id
        {
            if let Some((label, handle)) = key {
                connection.keys.insert(label.to_owned(), handle);
            }
            if connection.idle.len() < MAX_IDLE_SESSIONS {
                connection.idle.push(lease.session);
                return;
            }
        }
        drop(state);
        lease.close();
    }

    /// Drops connection `id` (if still current): its sessions are closed, and the module
    /// context it used is reset so the next connection starts from a fresh `C_Initialize`.
    fn invalidate(&self, id: u64) {
        let mut state = self.lock();
        if state.as_ref().is_some_and(|c| c.id == id)
            && let Some(connection) = state.take()
        {
            let module = connection.module.clone();
            {
                let _calls = module.calls();
                drop(connection);
            }
            module::reset(&self.config.module_path, module.generation);
        }
    }

    /// Loads (or reuses) the module, finds the token by label, opens and logs in a session.
    /// A token missing from a context that was already in use may be the module's stale view
    /// (a token re-inserted after `C_Initialize`), so that case retries on a fresh context.
    fn connect(&self) -> Result<Connection, CaError> {
        let (module, fresh) = module::get(&self.config.module_path)?;
        match self.connect_with(&module) {
            Ok(connection) => Ok(connection),
            Err(ConnectError::Login(error)) => Err(self.login_error(error)),
            Err(ConnectError::Token(message)) if fresh => Err(invalid(message)),
            Err(ConnectError::Token(_)) => {
                module::reset(&self.config.module_path, module.generation);
                let (module, _) = module::get(&self.config.module_path)?;
                self.connect_with(&module).map_err(|error| match error {
                    ConnectError::Login(error) => self.login_error(error),
                    ConnectError::Token(message) => invalid(message),
                })
            }
        }
    }

    fn connect_with(&self, module: &module::Module) -> Result<Connection, ConnectError> {
        let calls = module.calls();
        let context = &module.context;
        let label = &self.config.token_label;
        let module_path = self.config.module_path.display();
        let slots = context.get_slots_with_token().map_err(|e| {
            ConnectError::Token(format!(
                "PKCS#11 module {module_path}: listing slots: {}",
                ck_message(&e)
            ))
        })?;
        let mut labels = Vec::new();
        let mut found = None;
        for slot in slots {
            // A slot whose token cannot be read is skipped like an empty one.
            if let Ok(info) = context.get_token_info(slot) {
                if info.label().trim_end() == label.as_str() {
                    found = Some(slot);
                    break;
                }
                labels.push(info.label().trim_end().to_owned());
            }
        }
        let slot = found.ok_or_else(|| {
            ConnectError::Token(format!(
                "PKCS#11 module {module_path}: no token labelled {label:?} (tokens present: {labels:?})"
            ))
        })?;
        let session = self
            .new_session_unguarded(context, slot)
            .map_err(ConnectError::Login)?;
        drop(calls);
        Ok(Connection {
            id: self
                .next_connection_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            module: module.clone(),
            slot,
            idle: vec![session],
            keys: HashMap::new(),
        })
    }

    fn new_session(&self, module: &module::Module, slot: Slot) -> Result<Session, LoginError> {
        let _calls = module.calls();
        self.new_session_unguarded(&module.context, slot)
    }

    /// [`Self::new_session`] for a caller that already holds the module's call gate.
    fn new_session_unguarded(&self, context: &Pkcs11, slot: Slot) -> Result<Session, LoginError> {
        let session = context.open_rw_session(slot).map_err(LoginError::Ck)?;
        let pin = AuthPin::from(self.config.pin.as_str().to_owned());
        match session.login(UserType::User, Some(&pin)) {
            // Login state is per application and token: later sessions are already in.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(error) => Err(LoginError::Login(error)),
        }
    }

    fn login_error(&self, error: LoginError) -> CaError {
        let token = &self.config.token_label;
        match error {
            LoginError::Login(CkError::Pkcs11(RvError::PinIncorrect, _)) => invalid(format!(
                "PKCS#11 token {token:?}: login failed: wrong PIN (CKR_PIN_INCORRECT)"
            )),
            LoginError::Login(CkError::Pkcs11(RvError::PinLocked, _)) => invalid(format!(
                "PKCS#11 token {token:?}: login failed: the PIN is locked (CKR_PIN_LOCKED)"
            )),
            LoginError::Login(e) => invalid(format!(
                "PKCS#11 token {token:?}: login failed: {}",
                ck_message(&e)
            )),
            LoginError::Ck(e) => invalid(format!(
                "PKCS#11 token {token:?}: opening a session: {}",
                ck_message(&e)
            )),
        }
    }
}

enum LoginError {
    /// Opening the session failed.
    Ck(CkError),
    /// C_Login failed.
    Login(CkError),
}

enum ConnectError {
    /// The token was not found.
    Token(String),
    /// Opening a session or logging in failed.
    Login(LoginError),
}

fn show_id(id: &[u8]) -> String {
    match std::str::from_utf8(id) {
        Ok(text) if text.chars().all(|c| !c.is_control()) => format!("{text:?}"),
        _ => format!("0x{}", hex::encode(id)),
    }
}

fn certificate_value(session: &Session, handle: ObjectHandle) -> Result<Vec<u8>, CkError> {
    for attribute in session.get_attributes(handle, &[AttributeType::Value])? {
        if let Attribute::Value(value) = attribute {
            return Ok(value);
        }
    }
    Ok(Vec::new())
}

fn find_private_keys(session: &Session, label: &str) -> Result<Vec<ObjectHandle>, CkError> {
    session.find_objects(&[
        Attribute::Class(ObjectClass::PRIVATE_KEY),
        Attribute::Label(label.as_bytes().to_vec()),
    ])
}

/// The private key labelled `label` (first match) and its handle, if any.
fn private_key(session: &Session, label: &str) -> Result<Option<ObjectHandle>, CkError> {
    Ok(find_private_keys(session, label)?.first().copied())
}

/// The SPKI and signature algorithm of the key pair labelled `label`: `Ok(None)` when there is
/// no such private key, `Ok(Some((spki, Err(why))))` when the key is unusable here.
#[allow(clippy::type_complexity)]
fn public_key_of(
    session: &Session,
    label: &str,
) -> Result<Option<(Vec<u8>, Result<SignatureAlgorithm, String>)>, CkError> {
    let Some(private) = private_key(session, label)? else {
        return Ok(None);
    };
    let mut key_type = None;
    let mut id = None;
    for attribute in
        session.get_attributes(private, &[AttributeType::KeyType, AttributeType::Id])?
    {
        match attribute {
            Attribute::KeyType(kind) => key_type = Some(kind),
            Attribute::Id(value) => id = Some(value),
            _ => {}
        }
    }
    let by_label = session.find_objects(&[
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::Label(label.as_bytes().to_vec()),
    ])?;
    let public = match (by_label.first(), id) {
        (Some(handle), _) => Some(*handle),
        (None, Some(id)) if !id.is_empty() => session
            .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(id)])?
            .first()
            .copied(),
        _ => None,
    };
    let Some(public) = public else {
        return Ok(Some((
            Vec::new(),
            Err("no public-key object with the same label or id (needed for the SPKI)".into()),
        )));
    };
    let result = match key_type {
        Some(KeyType::EC) => {
            let mut params = None;
            let mut point = None;
            for attribute in session
                .get_attributes(public, &[AttributeType::EcParams, AttributeType::EcPoint])?
            {
                match attribute {
                    Attribute::EcParams(value) => params = Some(value),
                    Attribute::EcPoint(value) => point = Some(value),
                    _ => {}
                }
            }
            match (params, point) {
                (Some(params), Some(point)) => ec_spki(&params, &point),
                _ => Err("the EC public key lacks CKA_EC_PARAMS or CKA_EC_POINT".into()),
            }
        }
        Some(KeyType::RSA) => {
            let mut modulus = None;
            let mut exponent = None;
            for attribute in session.get_attributes(
                public,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )? {
                match attribute {
                    Attribute::Modulus(value) => modulus = Some(value),
                    Attribute::PublicExponent(value) => exponent = Some(value),
                    _ => {}
                }
            }
            match (modulus, exponent) {
                (Some(n), Some(e)) => rsa_spki(&n, &e),
                _ => Err("the RSA public key lacks CKA_MODULUS or CKA_PUBLIC_EXPONENT".into()),
            }
        }
        Some(other) => Err(format!(
            "unsupported key type {other} (ECDSA P-256/P-384/P-521 and RSA only)"
        )),
        None => Err("the private key has no CKA_KEY_TYPE".into()),
    };
    Ok(Some(match result {
        Ok((spki, algorithm)) => (spki, Ok(algorithm)),
        Err(why) => (Vec::new(), Err(why)),
    }))
}

fn ec_spki(params: &[u8], point: &[u8]) -> Result<(Vec<u8>, SignatureAlgorithm), String> {
    let curve = ObjectIdentifier::from_der(params)
        .map_err(|e| format!("CKA_EC_PARAMS is not a named curve: {e}"))?;
    let algorithm = match curve {
        OID_P256 => SignatureAlgorithm::EcdsaP256Sha256,
        OID_P384 => SignatureAlgorithm::EcdsaP384Sha384,
        OID_P521 => SignatureAlgorithm::EcdsaP521Sha512,
        other => return Err(format!("unsupported curve {other}")),
    };
    // CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 §2.3.3); a few modules
    // return the bare point.
    let point = match der::asn1::OctetString::from_der(point) {
        Ok(octets) => octets.as_bytes().to_vec(),
        Err(_) => point.to_vec(),
    };
    let spki = der_util::spki(OID_EC_PUBLIC_KEY, Some(params), &point)?;
    Ok((spki, algorithm))
}

fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<(Vec<u8>, SignatureAlgorithm), String> {
    let public_key = der_util::integer_pair(modulus, exponent)?;
    // rsaEncryption carries NULL parameters (RFC 8017 App. C).
    let spki = der_util::spki(OID_RSA_ENCRYPTION, Some(&[0x05, 0x00]), &public_key)?;
    Ok((spki, SignatureAlgorithm::RsaPkcs1Sha256))
}

/// A [`Signer`] whose key is in the token.
pub struct Pkcs11Signer {
    token: Arc<Pkcs11Token>,
    label: String,
    spki_der: Vec<u8>,
    algorithm: SignatureAlgorithm,
    timeout: Duration,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("token", &self.token.config.token_label)
            .field("key", &self.label)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// The same signer with another limit on each signature (default [`SIGN_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The token the key is in.
    pub fn token(&self) -> &Arc<Pkcs11Token> {
        &self.token
    }

    /// Signs on the calling thread (blocking): what [`Signer::sign`] runs on the blocking pool.
    pub fn sign_blocking(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let (data, ecdsa) = self.prepare(message)?;
        sign_with(&self.token, &self.label, &data, ecdsa)
    }

    /// What goes to the token: the digest for ECDSA (CKM_ECDSA signs a hash), the message for
    /// RSA (CKM_SHA256_RSA_PKCS hashes itself); and whether the result is ECDSA.
    fn prepare(&self, message: &[u8]) -> Result<(Vec<u8>, bool), SignerError> {
        Ok(match self.algorithm {
            SignatureAlgorithm::EcdsaP256Sha256 => (hash(&digest::SHA256, message), true),
            SignatureAlgorithm::EcdsaP384Sha384 => (hash(&digest::SHA384, message), true),
            SignatureAlgorithm::EcdsaP521Sha512 => (hash(&digest::SHA512, message), true),
            SignatureAlgorithm::RsaPkcs1Sha256 => (message.to_vec(), false),
            SignatureAlgorithm::Ed25519 => {
                return Err(SignerError("Ed25519 PKCS#11 keys are not supported".into()));
            }
        })
    }
}

fn hash(algorithm: &'static digest::Algorithm, message: &[u8]) -> Vec<u8> {
    digest::digest(algorithm, message).as_ref().to_vec()
}

fn sign_with(
    token: &Pkcs11Token,
    label: &str,
    data: &[u8],
    ecdsa: bool,
) -> Result<Vec<u8>, SignerError> {
    let raw = token
        .with_session(Some(label), |session, cached| {
            let key = match cached {
                Some(key) => key,
                None => match private_key(session, label)? {
                    Some(key) => key,
                    // The key vanished (token swapped?): the handle lookup fails like a lost
                    // object, so the caller reconnects and retries once.
                    None => {
                        return Err(CkError::Pkcs11(
                            RvError::KeyHandleInvalid,
                            cryptoki::context::Function::FindObjects,
                        ));
                    }
                },
            };
            let mechanism = if ecdsa {
                Mechanism::Ecdsa
            } else {
                Mechanism::Sha256RsaPkcs
            };
            Ok((session.sign(&mechanism, key, data)?, Some(key)))
        })
        .map_err(|e| {
            let detail = match e {
                CaError::InvalidCa(detail) => detail,
                other => other.to_string(),
            };
            SignerError(format!("PKCS#11 key {label:?}: {detail}"))
        })?;
    if ecdsa {
        der_util::ecdsa_raw_to_der(&raw)
            .map_err(|e| SignerError(format!("PKCS#11 key {label:?}: {e}")))
    } else {
        Ok(raw)
    }
}

impl Signer for Pkcs11Signer {
    fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        let prepared = self.prepare(message);
        let token = Arc::clone(&self.token);
        let label = self.label.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let (data, ecdsa) = prepared?;
            let task_label = label.clone();
            let task =
                tokio::task::spawn_blocking(move || sign_with(&token, &task_label, &data, ecdsa));
            match tokio::time::timeout(timeout, task).await {
                Ok(Ok(result)) => result,
                Ok(Err(join)) => Err(SignerError(format!(
                    "PKCS#11 key {label:?}: the signing task failed: {join}"
                ))),
                Err(_) => Err(SignerError(format!(
                    "PKCS#11 key {label:?}: no signature from the token within {timeout:?}"
                ))),
            }
        })
    }
}

/// The `pkcs11ca` issuing key as `fulcio serve` loads it: the signer for `key_label`, and the
/// chain — from `chain_pem` (issuing certificate first, root last; upstream's
/// `--aws-hsm-root-ca-path`) when given, else the token certificate with CKA_ID `caroot_id`
/// followed by its issuers found among the token's certificates. The pair is checked like a
/// file CA's (§6: the issuing certificate's key is the signer's, the chain verifies).
pub fn load_ca(
    config: &Pkcs11Config,
    key_label: &str,
    caroot_id: &[u8],
    chain_pem: Option<&Path>,
) -> Result<IssuingKey, CaError> {
    let token = Pkcs11Token::open(config)?;
    let signer = token.signer(key_label)?;
    let chain = match chain_pem {
        Some(path) => read_pem_chain(path)?,
        None => token_chain(&token, caroot_id)?,
    };
    IssuingKey::new(Arc::new(signer), chain).map_err(|e| match e {
        CaError::InvalidCa(detail) => invalid(format!(
            "PKCS#11 key {key_label:?} with certificate {}: {detail}",
            match chain_pem {
                Some(path) => path.display().to_string(),
                None => format!("id {}", show_id(caroot_id)),
            }
        )),
        other => other,
    })
}

/// The certificate with CKA_ID `id` followed by its issuers among the token's certificates,
/// matched by name, up to a self-issued one.
fn token_chain(token: &Pkcs11Token, id: &[u8]) -> Result<Vec<Vec<u8>>, CaError> {
    let first = token.find_certificate(id)?.ok_or_else(|| {
        invalid(format!(
            "PKCS#11 token {:?} has no certificate with id {} (--hsm-caroot-id)",
            token.config.token_label,
            show_id(id)
        ))
    })?;
    let names = |der: &[u8]| -> Result<(Vec<u8>, Vec<u8>), CaError> {
        let certificate = x509_cert::Certificate::from_der(der).map_err(|e| {
            invalid(format!(
                "a certificate in PKCS#11 token {:?} does not parse: {e}",
                token.config.token_label
            ))
        })?;
        let tbs = &certificate.tbs_certificate();
        let encode = |e: der::Error| CaError::Encoding(e.to_string());
        Ok((
            tbs.subject().to_der().map_err(encode)?,
            tbs.issuer().to_der().map_err(encode)?,
        ))
    };
    let mut chain = vec![first];
    let mut others: Option<Vec<Vec<u8>>> = None;
    // A chain longer than this is a loop of certificates naming each other.
    while chain.len() < 8 {
        let Some(last) = chain.last() else { break };
        let (subject, issuer) = names(last)?;
        if subject == issuer {
            break;
        }
        let candidates = match &others {
            Some(list) => list,
            None => others.insert(token.certificates()?),
        };
        let mut next = None;
        for candidate in candidates.iter() {
            if chain.contains(candidate) {
                continue;
            }
            if names(candidate)?.0 == issuer {
                next = Some(candidate.clone());
                break;
            }
        }
        match next {
            Some(certificate) => chain.push(certificate),
            // The issuer is not in the token: the chain ends here and validation decides.
            None => break,
        }
    }
    Ok(chain)
}

/// Every PEM block of `path` as a DER certificate, in file order.
fn read_pem_chain(path: &Path) -> Result<Vec<Vec<u8>>, CaError> {
    let text = std::fs::read(path).map_err(|source| CaError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let blocks = ::pem::parse_many(&text)
        .map_err(|e| invalid(format!("{}: PEM decoding failed: {e}", path.display())))?;
    if blocks.is_empty() {
        return Err(invalid(format!(
            "{}: no certificates found",
            path.display()
        )));
    }
    Ok(blocks.into_iter().map(|b| b.into_contents()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_match_case_insensitively_and_the_pin_falls_back_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c.json");
        std::fs::write(
            &config,
            r#"{"path": "/m.so", "TOKENLABEL": "t", "Pin": "1234"}"#,
        )
        .unwrap();
        let loaded = Pkcs11Config::load(&config, None).unwrap();
        assert_eq!(loaded.module_path, PathBuf::from("/m.so"));
        assert_eq!(loaded.token_label, "t");
        assert_eq!(loaded.pin.as_str(), "1234");
        assert!(!format!("{loaded:?}").contains("1234"));

        std::fs::write(&config, r#"{"Path": "/m.so", "TokenLabel": "t"}"#).unwrap();
        let pin = dir.path().join("pin");
        std::fs::write(&pin, "9876\n").unwrap();
        assert_eq!(
            Pkcs11Config::load(&config, Some(&pin))
                .unwrap()
                .pin
                .as_str(),
            "9876"
        );
        std::fs::write(&config, r#"{"Path": "/m.so", "SlotNumber": 0, "Pin": "1"}"#).unwrap();
        let error = Pkcs11Config::load(&config, None).unwrap_err().to_string();
        assert!(error.contains("TokenLabel"), "{error}");
        std::fs::write(&config, r#"{"TokenLabel": "t", "Pin": "1"}"#).unwrap();
        let error = Pkcs11Config::load(&config, None).unwrap_err().to_string();
        assert!(
            error.contains("Path") && error.contains("c.json"),
            "{error}"
        );
        std::fs::write(&config, "not json").unwrap();
        let error = Pkcs11Config::load(&config, None).unwrap_err().to_string();
        assert!(error.contains("c.json"), "{error}");
    }

    #[test]
    fn missing_config_file_is_named() {
        let error = Pkcs11Config::load(Path::new("/nonexistent/crypto11.conf"), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/crypto11.conf"), "{error}");
    }
}
