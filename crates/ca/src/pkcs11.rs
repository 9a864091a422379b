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
//! (Contract stub; the implementation replaces the bodies.)

use std::{path::Path, path::PathBuf, sync::Arc};

use zeroize::Zeroizing;

use crate::{CaError, IssuingKey, KeyKind, SignFuture, SignatureAlgorithm, Signer};

/// The environment variable that supplies the user PIN when the config has none.
pub const PIN_ENV: &str = "FULCIO_PKCS11_PIN";

/// Upstream's default `--hsm-key-label`.
pub const DEFAULT_KEY_LABEL: &str = "PKCS11CA";

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
    pub fn load(path: &Path, pin_file: Option<&Path>) -> Result<Self, CaError> {
        let _ = (path, pin_file);
        unimplemented!("pkcs11: Pkcs11Config::load")
    }
}

/// An open token: the loaded module, the slot whose token has the configured label, and a
/// pool of logged-in sessions that is rebuilt after the token comes back.
pub struct Pkcs11Token {
    _private: (),
}

impl std::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Token").finish_non_exhaustive()
    }
}

impl Pkcs11Token {
    /// Loads the module, finds the token by label and logs in. Errors say which step failed:
    /// a missing module file, no token with that label, a wrong PIN (CKR_PIN_INCORRECT).
    pub fn open(config: &Pkcs11Config) -> Result<Arc<Self>, CaError> {
        let _ = config;
        unimplemented!("pkcs11: Pkcs11Token::open")
    }

    /// A signer for the private key labelled `key_label` (its public half, from the matching
    /// public-key object, gives the SPKI). Unknown label → error naming it.
    pub fn signer(self: &Arc<Self>, key_label: &str) -> Result<Pkcs11Signer, CaError> {
        let _ = key_label;
        unimplemented!("pkcs11: Pkcs11Token::signer")
    }

    /// The DER of the certificate object whose CKA_ID is `id`, if any.
    pub fn find_certificate(&self, id: &[u8]) -> Result<Option<Vec<u8>>, CaError> {
        let _ = id;
        unimplemented!("pkcs11: Pkcs11Token::find_certificate")
    }

    /// Every certificate object in the token (DER), for building a chain by subject/issuer.
    pub fn certificates(&self) -> Result<Vec<Vec<u8>>, CaError> {
        unimplemented!("pkcs11: Pkcs11Token::certificates")
    }

    /// Stores `der` as a token certificate object (CKO_CERTIFICATE, CKC_X_509, CKA_TOKEN)
    /// with CKA_ID `id` and CKA_LABEL `label`; refuses if a certificate with that id exists.
    pub fn store_certificate(&self, id: &[u8], label: &str, der: &[u8]) -> Result<(), CaError> {
        let _ = (id, label, der);
        unimplemented!("pkcs11: Pkcs11Token::store_certificate")
    }

    /// Generates a key pair of `kind` (EcdsaP256, EcdsaP384, Rsa2048/3072/4096) in the token,
    /// private key sensitive and non-extractable, both halves labelled `label` with CKA_ID
    /// `id`. Refuses if a private key with that label exists.
    pub fn generate_key_pair(&self, label: &str, id: &[u8], kind: KeyKind) -> Result<(), CaError> {
        let _ = (label, id, kind);
        unimplemented!("pkcs11: Pkcs11Token::generate_key_pair")
    }
}

/// A [`Signer`] whose key is in the token.
pub struct Pkcs11Signer {
    _private: (),
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer").finish_non_exhaustive()
    }
}

impl Signer for Pkcs11Signer {
    fn public_key_der(&self) -> &[u8] {
        unimplemented!("pkcs11: Pkcs11Signer::public_key_der")
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        unimplemented!("pkcs11: Pkcs11Signer::algorithm")
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        let _ = message;
        unimplemented!("pkcs11: Pkcs11Signer::sign")
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
    let _ = (config, key_label, caroot_id, chain_pem);
    unimplemented!("pkcs11: load_ca")
}
